//! `lake run`: generate when the default sources are empty (or with --generate), then ingest,
//! Silver, Gold and ML (each skipped when already published from the same inputs), and the
//! headline KPIs. Nothing to do when no file was new and every layer was up to date.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use lake_core::Layer;
use lake_core::session::source_entities;
use serde_json::json;

use super::generate::generate;
use super::layers::{build_layer, ingest, layer_section, settings};
use super::ml::{ml, ml_up_to_date};
use crate::args::{GenerateArgs, LakeArgs, RunArgs};
use crate::exit::{Outcome, usage};
use crate::lake_access::open;
use crate::output::print_batches;
use crate::report::{self, say};

/// Fails with a usage error when `--sources` is not the default folder, holds no CSV source and
/// `--generate` was not given: a typo in a production path must not yield generated figures.
/// Checked before the command takes the lake's lease, so that it writes nothing.
pub(crate) fn check_sources(args: &RunArgs) -> Result<()> {
    let sources = &args.settings.sources;
    let default_folder = sources.as_path() == Path::new(crate::args::DEFAULT_SOURCES);
    if default_folder || args.generate || !source_entities(sources).is_empty() {
        return Ok(());
    }
    if !sources.is_dir() {
        usage!(
            "the sources folder {} does not exist (only the default folder {} is filled with \
             generated data when empty; --generate fills another one)",
            sources.display(),
            crate::args::DEFAULT_SOURCES
        );
    }
    usage!(
        "the sources folder {} holds no clients*.csv or achats*.csv file (--generate fills it \
         with generated data)",
        sources.display()
    )
}

pub(crate) async fn run(lake: &LakeArgs, args: &RunArgs) -> Result<Outcome> {
    let total = Instant::now();
    check_sources(args)?;
    let sources = &args.settings.sources;
    let found = source_entities(sources);
    if found.is_empty() {
        say!(
            "== generate: no sources in {}, generating SF {} (seed {})",
            sources.display(),
            args.scale,
            args.seed
        );
        generate(&GenerateArgs {
            scale: args.scale,
            seed: args.seed,
            as_of: "2026-01-01".into(),
            out: sources.clone(),
            defect_rate: None,
            defects: Vec::new(),
            churn_signal: lake_generator::ChurnSignal::default(),
        })?;
        report::section(
            "generated",
            json!({ "folder": sources.display().to_string(), "scale": args.scale, "seed": args.seed }),
        );
    }
    let session = open(lake).await?;
    report::section("lake", json!(session.lake.root()));
    report::section("engine", json!(session.engine.to_string()));
    say!("== lake {} on {}", session.lake.root(), session.engine);
    say!("== ingest {}", sources.display());
    let ingested = ingest(&session, sources).await?;
    let settings = settings(&args.settings)?;
    // A layer already published from the same inputs and settings is not built again.
    let mut changed = false;
    for layer in [Layer::Silver, Layer::Gold] {
        let current = if args.force || changed {
            None
        } else {
            session.current_if_up_to_date(layer, &settings).await?
        };
        match current {
            Some(run) => {
                say!(
                    "== {}: up to date (run {}, from the same inputs, settings and SQL; --force \
                     builds it again)",
                    layer.name(),
                    run.run_id
                );
                report::section(layer.name(), layer_section(&run, "up_to_date", 0.0));
            }
            None => {
                match layer {
                    Layer::Silver => say!("== silver (as_of {})", settings.as_of),
                    _ => say!("== {}", layer.name()),
                }
                build_layer(&session, layer, &settings, &[]).await?;
                changed = true;
            }
        }
    }
    if args.no_ml {
        say!("== ml: skipped (--no-ml)");
        report::section("ml", json!({ "status": "skipped" }));
    } else if !changed && !args.force && ml_up_to_date(&session, &args.ml).await? {
        say!("== ml: up to date (trained on the current Gold with the same settings)");
        if let Some(run) = lake_core::publish::current(&session.lake, Layer::Ml).await? {
            report::section("ml", layer_section(&run, "up_to_date", 0.0));
        }
    } else {
        say!("== ml");
        ml(&session, &args.ml).await?;
        changed = true;
    }
    let (kpis, segments) = session.summary().await?;
    if report::is_json() {
        report::section("kpis", report::rows(&kpis)?);
        report::section("largest_segments", report::rows(&segments)?);
    } else {
        println!("== KPIs");
        print_batches(&kpis, crate::args::Format::Table)?;
        println!("== largest RFM segments");
        print_batches(&segments, crate::args::Format::Table)?;
    }
    let spilled = session.spilled();
    report::section("spilled_bytes", json!(spilled.bytes));
    say!(
        "lake run: done in {:.2} s{}",
        total.elapsed().as_secs_f64(),
        if spilled.files > 0 {
            format!(", spilled {spilled}")
        } else {
            String::new()
        }
    );
    Ok(if changed || ingested == Outcome::Done {
        Outcome::Done
    } else {
        Outcome::NothingToDo
    })
}
