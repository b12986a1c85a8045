//! `lake run`: generate when the default sources are empty, then ingest, Silver, Gold and ML
//! (each skipped when already published from the same inputs), and the headline KPIs.

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use lake_core::Layer;
use lake_core::session::source_entities;

use super::generate::generate;
use super::layers::{build_layer, ingest, settings};
use super::ml::{ml, ml_up_to_date};
use crate::args::{GenerateArgs, LakeArgs, RunArgs};
use crate::lake_access::open;
use crate::output::print_batches;

pub(crate) async fn run(lake: &LakeArgs, args: &RunArgs) -> Result<()> {
    let total = Instant::now();
    let sources = &args.settings.sources;
    let found = source_entities(sources);
    if found.is_empty() && sources.as_path() != Path::new(crate::args::DEFAULT_SOURCES) {
        if !sources.is_dir() {
            bail!(
                "the sources folder {} does not exist (only the default folder {} is filled \
                 with generated data when empty)",
                sources.display(),
                crate::args::DEFAULT_SOURCES
            );
        }
        bail!(
            "the sources folder {} holds no clients*.csv or achats*.csv file",
            sources.display()
        );
    }
    if found.is_empty() {
        println!(
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
    }
    let session = open(lake).await?;
    println!("== lake {} on {}", session.lake.root(), session.engine);
    println!("== ingest {}", sources.display());
    ingest(&session, sources).await?;
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
            Some(run) => println!(
                "== {}: up to date (run {}, from the same inputs, settings and SQL; --force builds \
                 it again)",
                layer.name(),
                run.run_id
            ),
            None => {
                match layer {
                    Layer::Silver => println!("== silver (as_of {})", settings.as_of),
                    _ => println!("== {}", layer.name()),
                }
                build_layer(&session, layer, &settings).await?;
                changed = true;
            }
        }
    }
    if args.no_ml {
        println!("== ml: skipped (--no-ml)");
    } else if !changed && !args.force && ml_up_to_date(&session, &args.ml).await? {
        println!("== ml: up to date (trained on the current Gold with the same settings)");
    } else {
        println!("== ml");
        ml(&session, &args.ml).await?;
    }
    let (kpis, segments) = session.summary().await?;
    println!("== KPIs");
    print_batches(&kpis, crate::args::Format::Table)?;
    println!("== largest RFM segments");
    print_batches(&segments, crate::args::Format::Table)?;
    let spilled = session.spilled();
    println!(
        "lake run: done in {:.2} s{}",
        total.elapsed().as_secs_f64(),
        if spilled.files > 0 {
            format!(", spilled {spilled}")
        } else {
            String::new()
        }
    );
    Ok(())
}
