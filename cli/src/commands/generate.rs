//! `lake generate`: a synthetic dataset with its manifest.

use std::time::Instant;

use anyhow::Result;
use lake_core::session::parse_as_of;
use lake_generator::{DefectRates, GenerateConfig};

use crate::args::GenerateArgs;
use crate::progress::group_digits;

pub(crate) fn generate(args: &GenerateArgs) -> Result<lake_generator::Manifest> {
    let mut rates = DefectRates::default();
    if let Some(rate) = args.defect_rate {
        rates.default = rate;
    }
    for spec in &args.defects {
        rates.set_from_str(spec)?;
    }
    let config = GenerateConfig {
        scale: args.scale,
        seed: args.seed,
        as_of: parse_as_of(&args.as_of)?,
        rates,
        churn: args.churn_signal,
        out_dir: args.out.clone(),
    };
    let clock = Instant::now();
    let manifest = lake_generator::generate(&config)?;
    let seconds = clock.elapsed().as_secs_f64();
    let purchases = manifest.files.get("achats.csv").copied().unwrap_or(0);
    let clients = manifest.files.get("clients.csv").copied().unwrap_or(0);
    let defects: u64 = manifest.defects.values().sum();
    crate::report::say!(
        "generated {} clients and {} purchases ({} defect rows) in {}: {:.2} s, {} purchase rows/s",
        group_digits(clients),
        group_digits(purchases),
        group_digits(defects),
        args.out.display(),
        seconds,
        group_digits((purchases as f64 / seconds.max(1e-9)) as u64)
    );
    Ok(manifest)
}
