//! `lake compare OTHER`: whether another build of the lake holds the same tables as this one's
//! published layers (crate lake-parity). OTHER is another lake (its published runs are read) or
//! a plain folder of `<layer>/<table>/*.parquet`, the layout other engines write in the
//! benchmarks.

use anyhow::{Context, Result, bail};
use std::sync::Arc;

use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext};
use lake_core::memory::{self, SpillCounter};
use lake_core::publish;
use lake_core::{Lake, Layer};
use lake_parity::{Difference, compare_frames};

use crate::args::{CompareArgs, LakeArgs};
use crate::exit::UsageError;
use crate::lake_access::{lake_options, open_lake};
use crate::progress::group_digits;
use crate::report::{self, say};
use serde_json::json;

/// Sorted runs one merge pass of `lake compare` reads at once.
const SPILL_MERGE_FAN_IN: usize = 8;
/// Rows per batch of `lake compare`'s sorts (DataFusion's default is 8 192).
const BATCH_ROWS: usize = 2048;

pub async fn run(lake_args: &LakeArgs, args: &CompareArgs) -> Result<()> {
    let reference = open_lake(lake_args).await?;
    let options = lake_options(lake_args)?;
    let other = Lake::open(&args.other, &options.s3)
        .with_context(|| format!("cannot open {}", args.other))?;
    // Both sides are sorted in this process, spilling past --memory-limit.
    let spilled = Arc::new(SpillCounter::default());
    let runtime = memory::runtime_builder(&options.memory, spilled.clone())?.build_arc()?;
    // The merge of a sort's spilled runs takes as many runs as the pool can hold, which starved
    // the other side's sort in small pools: a bounded fan-in (merged in several passes past it)
    // and small batches leave it its share.
    runtime
        .disk_manager
        .set_max_spill_merge_fan_in(SPILL_MERGE_FAN_IN);
    // One partition per side: two sorts share the pool, not four (both sides are read at once).
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_batch_size(BATCH_ROWS);
    let ctx = lake_core::catalog::local_reader_with_runtime(&[&reference, &other], config, runtime);
    let layers: Vec<Layer> = args
        .layers
        .iter()
        .map(|name| match name.as_str() {
            "silver" => Ok(Layer::Silver),
            "gold" => Ok(Layer::Gold),
            "ml" => Ok(Layer::Ml),
            other => Err(UsageError(format!("--layer {other:?}: use silver, gold or ml")).into()),
        })
        .collect::<Result<_>>()?;

    let mut failures = Vec::new();
    // Each table's verdict, for the JSON report.
    let mut verdicts = Vec::new();
    let (mut considered, mut compared) = (0, 0);
    for layer in layers {
        let Some(manifest) = publish::current(&reference, layer).await? else {
            bail!(
                "{} has no published {} layer to compare: run `lake run` first",
                reference.root(),
                layer.name()
            );
        };
        // The other side's published layer, or `None` for a plain folder.
        let other_manifest = publish::current(&other, layer).await?;
        for (table, published) in &manifest.tables {
            if args.skip.iter().any(|s| s == table) {
                continue;
            }
            considered += 1;
            let name = format!("{}.{table}", layer.root().replace('/', "."));
            let other_path = match &other_manifest {
                Some(m) => match m.tables.get(table) {
                    Some(t) => t.path.clone(),
                    None => {
                        say!("{name:<34} missing in {}", args.other);
                        failures.push(format!("{name}: missing"));
                        verdicts.push(json!({ "table": name, "status": "missing" }));
                        continue;
                    }
                },
                None => format!("{}/{table}/", layer.root()),
            };
            let left = read(&ctx, &reference.url(&published.path)).await;
            let right = read(&ctx, &other.url(&other_path)).await;
            let (left, right) = match (left, right) {
                (Ok(l), Ok(r)) => (l, r),
                (Err(e), _) => return Err(e.context(format!("reading {name} of this lake"))),
                (_, Err(e)) => {
                    say!("{name:<34} unreadable in {}: {e:#}", args.other);
                    failures.push(format!("{name}: unreadable"));
                    verdicts.push(json!({
                        "table": name, "status": "unreadable", "error": format!("{e:#}"),
                    }));
                    continue;
                }
            };
            compared += 1;
            let outcome = compare_frames(left, right, args.tolerance)
                .await
                .map_err(lake_core::error::query_error)
                .with_context(|| format!("comparing {name}"))?;
            match outcome {
                Ok(digest) => {
                    say!(
                        "{name:<34} {:>12} rows  checksum {:016x}  same",
                        group_digits(digest.rows as u64),
                        digest.checksum
                    );
                    verdicts.push(json!({
                        "table": name,
                        "status": "same",
                        "rows": digest.rows,
                        "checksum": format!("{:016x}", digest.checksum),
                    }));
                }
                Err(difference) => {
                    say!("{name:<34} DIFFERS: {difference}");
                    failures.push(format!("{name}: {}", summary(&difference)));
                    verdicts.push(json!({
                        "table": name,
                        "status": "differs",
                        "difference": difference.to_string(),
                    }));
                }
            }
        }
    }
    report::section("other", json!(args.other));
    report::section("tables", json!(verdicts));
    if !failures.is_empty() {
        bail!(
            "{} of {} tables differ from {}:\n  {}",
            failures.len(),
            considered,
            args.other,
            failures.join("\n  ")
        );
    }
    say!("{compared} tables: the same rows in {}", args.other);
    let spilled = spilled.read();
    if spilled.files > 0 {
        eprintln!("lake compare: spilled {spilled} to disk (--memory-limit was reached)");
    }
    Ok(())
}

fn summary(difference: &Difference) -> String {
    match difference {
        Difference::Rows { differing, .. } => format!("{differing} rows differ"),
        other => other.to_string(),
    }
}

async fn read(ctx: &SessionContext, url: &str) -> Result<DataFrame> {
    ctx.read_parquet(url, ParquetReadOptions::default())
        .await
        .with_context(|| format!("no Parquet at {url}"))
}
