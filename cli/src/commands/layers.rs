//! `lake ingest`, `lake silver`, `lake gold`: one stage of the pipeline, with its settings.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDateTime, Timelike};
use lake_core::models::Materialized;
use lake_core::publish::LayerManifest;
use lake_core::session::parse_as_of;
use lake_core::{LakeSession, Layer, ModelEvent, RunSettings};
use serde_json::{Value, json};

use crate::args::SettingsArgs;
use crate::exit::Outcome;
use crate::progress::{StageProgress, group_digits};
use crate::report::{self, say};

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

/// Ingests the new or changed files of `sources`; nothing to do when there were none.
pub(crate) async fn ingest(session: &LakeSession, sources: &Path) -> Result<Outcome> {
    let clock = Instant::now();
    let report = session
        .ingest(sources, |name| eprintln!("  ingesting {name}…"))
        .await
        .with_context(|| format!("cannot ingest {}", sources.display()))?;
    report::section(
        "ingest",
        json!({
            "sources": sources.display().to_string(),
            "ingested": report.ingested.iter().map(|f| json!({
                "file": f.source_name,
                "entity": f.entity.name(),
                "rows": f.rows,
                "sha256": f.sha256,
                "bronze_key": f.bronze_key,
            })).collect::<Vec<_>>(),
            "unchanged": report.unchanged,
            "ignored": report.ignored,
            "refused": report.refused.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "warnings": report.warnings,
            "seconds": report::round_seconds(clock.elapsed().as_secs_f64()),
        }),
    );
    for file in &report.ingested {
        say!(
            "  {:<32} {:>12} rows  → {}",
            file.source_name,
            group_digits(file.rows),
            file.bronze_key
        );
    }
    for name in &report.unchanged {
        say!("  {name:<32} unchanged, skipped");
    }
    for name in &report.ignored {
        say!("  {name:<32} not a clients*/achats* CSV, ignored");
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    for refused in &report.refused {
        eprintln!("refused: {refused}");
    }
    say!(
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
    Ok(if report.ingested.is_empty() {
        Outcome::NothingToDo
    } else {
        Outcome::Done
    })
}

/// Builds and publishes one layer, with a progress line per model.
pub(crate) async fn build_layer(
    session: &LakeSession,
    layer: Layer,
    settings: &RunSettings,
    select: &[String],
) -> Result<()> {
    if matches!(layer, Layer::Silver | Layer::Gold)
        && let Some(sized) = session.fit_partitions_to_data().await?
    {
        say!(
            "{}: {} partitions per query, sized from {} purchases in Bronze (--partitions to choose)",
            layer.name(),
            sized.partitions,
            sized.purchases
        );
    }
    let progress = StageProgress::new(layer.name());
    let clock = Instant::now();
    let spilled_before = session.spilled();
    // The published tables this run computed, and those it carried from another run.
    let (mut rebuilt, mut carried) = (Vec::new(), Vec::new());
    let mut on_event = |event: ModelEvent<'_>| {
        match &event {
            ModelEvent::Finished { model, .. } if model.materialized == Materialized::Table => {
                rebuilt.push(model.table.clone())
            }
            ModelEvent::Carried { model, .. } => carried.push(model.table.clone()),
            _ => {}
        }
        progress.on_event(event)
    };
    let result = match layer {
        Layer::Silver => session.run_silver(settings, &mut on_event).await,
        Layer::Gold => session.run_gold(settings, select, &mut on_event).await,
        Layer::Ml => bail!("the ML layer is built by `lake ml`, not by SQL models"),
    };
    progress.finish();
    let unchanged = match layer {
        Layer::Silver => "Silver and Gold are",
        Layer::Gold | Layer::Ml => "Gold is",
    };
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(e) => {
            if let lake_core::LakeError::QualityGate { failures, report } = &e {
                report::section(
                    layer.name(),
                    json!({
                        "status": "quality_gate_failed",
                        "failed_checks": failures.lines().map(str::trim).collect::<Vec<_>>(),
                        "quality_report": report,
                    }),
                );
            }
            return Err(anyhow::Error::from(e).context(format!(
                "{} failed; the previously published {unchanged} unchanged",
                layer.name()
            )));
        }
    };
    let spilled = session.spilled().since(spilled_before);
    let mut section = layer_section(&manifest, "published", clock.elapsed().as_secs_f64());
    section["spilled_bytes"] = json!(spilled.bytes);
    section["rebuilt"] = json!(rebuilt);
    section["carried"] = json!(carried);
    if layer == Layer::Silver && report::is_json() {
        section["quality"] = quality_checks(session).await;
    }
    report::section(layer.name(), section);
    say!(
        "{}: published run {} (as_of {}) in {:.2} s",
        layer.name(),
        manifest.run_id,
        manifest.as_of,
        clock.elapsed().as_secs_f64()
    );
    if spilled.files > 0 {
        say!(
            "{}: spilled {spilled} to disk (the memory limit, --memory-limit, was reached)",
            layer.name()
        );
    }
    Ok(())
}

/// A layer's section of the JSON report: its published run (or the one found up to date).
pub(crate) fn layer_section(manifest: &LayerManifest, status: &str, seconds: f64) -> Value {
    json!({
        "status": status,
        "run_id": manifest.run_id,
        "as_of": manifest.as_of,
        "engine": manifest.engine,
        "finished_at": manifest.finished_at,
        "inputs": manifest.inputs.iter().map(|i| json!({"name": i.name, "version": i.version})).collect::<Vec<_>>(),
        "tables": manifest.tables.iter().map(|(name, t)| (name.clone(), json!({
            "rows": t.rows,
            "seconds": report::round_seconds(t.seconds),
        }))).collect::<serde_json::Map<_, _>>(),
        "seconds": report::round_seconds(seconds),
    })
}

/// Every check of the published Silver's quality report, as JSON rows (an error's text if it
/// cannot be read: the report is a convenience, the run is published).
async fn quality_checks(session: &LakeSession) -> Value {
    let rows = session
        .query(
            "SELECT \"table\", colonne, dimension, controle, observe, nb_echecs, pct_echecs, \
             seuil, bloquant, ok FROM silver.quality ORDER BY \"table\", dimension, controle",
        )
        .await
        .map_err(anyhow::Error::from)
        .and_then(|batches| report::rows(&batches));
    rows.unwrap_or_else(|e| json!({ "error": format!("{e:#}") }))
}
