//! `lake status`: Bronze's files and each layer's published run.

use anyhow::Result;
use lake_core::Layer;

use crate::args::LakeArgs;
use crate::lake_access::lake_options;
use crate::progress::group_digits;

pub(crate) async fn status(lake: &LakeArgs) -> Result<()> {
    let options = lake_options(lake)?;
    let store = lake_core::Lake::open(&options.location, &options.s3)?;
    if store.is_s3() {
        store.probe().await?;
    }
    let bronze = lake_core::ingest::BronzeManifest::load(&store).await?;
    println!("lake {}", store.root());
    println!("bronze: {} file(s)", bronze.files.len());
    for f in &bronze.files {
        println!(
            "  {:<8} {:<32} {:>12} rows  sha256 {}",
            f.entity.name(),
            f.source_name,
            group_digits(f.rows),
            &f.sha256[..12]
        );
    }
    for layer in [Layer::Silver, Layer::Gold, Layer::Ml] {
        match lake_core::publish::current(&store, layer).await? {
            None => println!("{}: not published", layer.name()),
            Some(m) => {
                println!(
                    "{}: run {} (as_of {}, engine {}, finished {})",
                    layer.name(),
                    m.run_id,
                    m.as_of,
                    m.engine,
                    m.finished_at
                );
                for (table, t) in &m.tables {
                    println!("  {:<24} {:>12} rows", table, group_digits(t.rows));
                }
            }
        }
    }
    Ok(())
}
