//! `lake status`: Bronze's files and each layer's published run.

use anyhow::Result;
use lake_core::Layer;

use crate::args::LakeArgs;
use crate::lake_access::lake_options;
use crate::progress::group_digits;
use crate::report::{self, say};
use serde_json::json;

use super::layers::layer_section;

pub(crate) async fn status(lake: &LakeArgs) -> Result<()> {
    let options = lake_options(lake)?;
    let store = lake_core::Lake::open(&options.location, &options.s3)?;
    if store.is_s3() {
        store.probe().await?;
    }
    let bronze = lake_core::ingest::BronzeManifest::load(&store).await?;
    report::section("lake", json!(store.root()));
    report::section(
        "bronze",
        json!({
            "files": bronze.files.iter().map(|f| json!({
                "entity": f.entity.name(),
                "file": f.source_name,
                "rows": f.rows,
                "sha256": f.sha256,
                "ingested_at": f.ingested_at,
            })).collect::<Vec<_>>(),
        }),
    );
    say!("lake {}", store.root());
    say!("bronze: {} file(s)", bronze.files.len());
    for f in &bronze.files {
        say!(
            "  {:<8} {:<32} {:>12} rows  sha256 {}",
            f.entity.name(),
            f.source_name,
            group_digits(f.rows),
            &f.sha256[..12]
        );
    }
    for layer in [Layer::Silver, Layer::Gold, Layer::Ml] {
        let current = lake_core::publish::current(&store, layer).await?;
        report::section(
            layer.name(),
            current.as_ref().map_or_else(
                || json!({ "status": "not_published" }),
                |m| layer_section(m, "published", 0.0),
            ),
        );
        match current {
            None => say!("{}: not published", layer.name()),
            Some(m) => {
                say!(
                    "{}: run {} (as_of {}, engine {}, finished {})",
                    layer.name(),
                    m.run_id,
                    m.as_of,
                    m.engine,
                    m.finished_at
                );
                for (table, t) in &m.tables {
                    say!("  {:<24} {:>12} rows", table, group_digits(t.rows));
                }
            }
        }
    }
    Ok(())
}
