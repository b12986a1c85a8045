//! `lake ingest`, `lake silver`, `lake gold`: one stage of the pipeline, with its settings.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDateTime, Timelike};
use lake_core::session::parse_as_of;
use lake_core::{LakeSession, Layer, RunSettings};

use crate::args::SettingsArgs;
use crate::progress::{StageProgress, group_digits};

/// The reference time of a run: given, else the generator's (from its manifest in the source
/// folder), else now (UTC, to the second).
fn resolve_as_of(given: Option<NaiveDateTime>, source_dir: &Path) -> Result<NaiveDateTime> {
    if let Some(as_of) = given {
        return Ok(as_of);
    }
    let manifest_path = source_dir.join(lake_generator::MANIFEST_FILE);
    if manifest_path.exists() {
        let manifest = lake_generator::Manifest::read(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        return Ok(parse_as_of(&manifest.as_of)?);
    }
    let now = chrono::Utc::now().naive_utc();
    Ok(now.with_nanosecond(0).unwrap_or(now))
}

pub(crate) fn settings(args: &SettingsArgs) -> Result<RunSettings> {
    let given = args.as_of.as_deref().map(parse_as_of).transpose()?;
    settings_from(args, given)
}

/// The settings of `lake gold`: as `settings`, but without `--as-of` the reference time is the
/// one the current Silver was built with, so that Gold's recency, retention and cohorts are
/// measured from the same instant as the Silver it reads (the sources folder may be another
/// one, or gone, by the time Gold is rebuilt).
pub(crate) async fn gold_settings(
    session: &LakeSession,
    args: &SettingsArgs,
) -> Result<RunSettings> {
    let mut given = args.as_of.as_deref().map(parse_as_of).transpose()?;
    if given.is_none()
        && let Some(silver) = lake_core::publish::current(&session.lake, Layer::Silver).await?
    {
        given =
            Some(parse_as_of(&silver.as_of).with_context(|| {
                format!("the as_of of the published Silver run {}", silver.run_id)
            })?);
    }
    settings_from(args, given)
}

/// The run settings with `given` as the reference time, or the one `resolve_as_of` finds.
fn settings_from(args: &SettingsArgs, given: Option<NaiveDateTime>) -> Result<RunSettings> {
    let mut settings = RunSettings::new(resolve_as_of(given, &args.sources)?);
    settings.seuil_montant_aberrant = args.seuil_montant_aberrant;
    settings.seuil_quarantaine = args.seuil_quarantaine;
    settings.seuil_completude = args.seuil_completude;
    settings.seuil_coherence = args.seuil_coherence;
    Ok(settings)
}

pub(crate) async fn ingest(session: &LakeSession, sources: &Path) -> Result<()> {
    let clock = Instant::now();
    let report = session
        .ingest(sources, |name| eprintln!("  ingesting {name}…"))
        .await
        .with_context(|| format!("cannot ingest {}", sources.display()))?;
    for file in &report.ingested {
        println!(
            "  {:<32} {:>12} rows  → {}",
            file.source_name,
            group_digits(file.rows),
            file.bronze_key
        );
    }
    for name in &report.unchanged {
        println!("  {name:<32} unchanged, skipped");
    }
    for name in &report.ignored {
        println!("  {name:<32} not a clients*/achats* CSV, ignored");
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    for refused in &report.refused {
        eprintln!("refused: {refused}");
    }
    println!(
        "ingest: {} file(s) ingested, {} unchanged, {} refused in {:.2} s",
        report.ingested.len(),
        report.unchanged.len(),
        report.refused.len(),
        clock.elapsed().as_secs_f64()
    );
    if !report.refused.is_empty() {
        bail!(
            "{} file(s) refused; nothing of them entered Bronze",
            report.refused.len()
        );
    }
    Ok(())
}

/// Builds and publishes one layer, with a progress line per model.
pub(crate) async fn build_layer(
    session: &LakeSession,
    layer: Layer,
    settings: &RunSettings,
) -> Result<()> {
    if matches!(layer, Layer::Silver | Layer::Gold)
        && let Some(sized) = session.fit_partitions_to_data().await?
    {
        println!(
            "{}: {} partitions per query, sized from {} purchases in Bronze (--partitions to choose)",
            layer.name(),
            sized.partitions,
            sized.purchases
        );
    }
    let progress = StageProgress::new(layer.name());
    let clock = Instant::now();
    let spilled_before = session.spilled();
    let result = match layer {
        Layer::Silver => session.run_silver(settings, |e| progress.on_event(e)).await,
        Layer::Gold => session.run_gold(settings, |e| progress.on_event(e)).await,
        Layer::Ml => bail!("the ML layer is built by `lake ml`, not by SQL models"),
    };
    progress.finish();
    let unchanged = match layer {
        Layer::Silver => "Silver and Gold are",
        Layer::Gold | Layer::Ml => "Gold is",
    };
    let manifest = result.with_context(|| {
        format!(
            "{} failed; the previously published {unchanged} unchanged",
            layer.name()
        )
    })?;
    println!(
        "{}: published run {} (as_of {}) in {:.2} s",
        layer.name(),
        manifest.run_id,
        manifest.as_of,
        clock.elapsed().as_secs_f64()
    );
    let spilled = session.spilled().since(spilled_before);
    if spilled.files > 0 {
        println!(
            "{}: spilled {spilled} to disk (the memory limit, --memory-limit, was reached)",
            layer.name()
        );
    }
    Ok(())
}
