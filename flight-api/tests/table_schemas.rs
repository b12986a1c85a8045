//! The API's row schemas (`contract/tables.json`, the `components` of `/openapi.json`) are the
//! real Arrow schemas of every served table, read from a lake published from generated data
//! (Silver, Gold and ML): a renamed column, a new one, a changed type or nullability fails here.
//!
//! When the change is intended, rewrite the file from the tables and commit it with the change,
//! since API clients read it:
//! `LAKE_UPDATE_CONTRACT=1 cargo test --workspace --test table_schemas`.

mod common;

use std::path::Path;

use datafusion::prelude::SessionContext;
use lake_core::serving::ServingCatalogue;
use lake_core::{Lake, Layer, catalog};

const CONTRACT: &str = "contract/tables.json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_row_schemas_are_those_of_the_published_tables() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake_path = common::generated_lake(dir.path(), 0.01).await;
    let lake = Lake::open(&lake_path.to_string_lossy(), &Default::default()).expect("lake");
    let ctx = SessionContext::new();
    catalog::create_schemas(&ctx).expect("schemas");
    for layer in [Layer::Silver, Layer::Gold, Layer::Ml] {
        catalog::register_layer(&ctx, &lake, layer)
            .await
            .expect("register")
            .unwrap_or_else(|| panic!("{} is published", layer.name()));
    }

    let catalogue = ServingCatalogue::embedded().expect("catalogue");
    let mut actual = serde_json::Map::new();
    for served in catalogue.tables() {
        let table = ctx
            .table(served.qualified_name())
            .await
            .unwrap_or_else(|e| panic!("{} is published: {e}", served.qualified_name()));
        let schema = table.schema().as_arrow().clone();
        actual.insert(
            served.table.clone(),
            flight_api::api::openapi::row_schema(&schema),
        );
    }
    let actual = serde_json::Value::Object(actual);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CONTRACT);
    if std::env::var_os("LAKE_UPDATE_CONTRACT").is_some() {
        let text = serde_json::to_string_pretty(&actual).expect("json") + "\n";
        std::fs::write(&path, text).expect("write the contract");
        return;
    }
    let documented: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("contract file"))
            .expect("contract is JSON");
    assert!(
        documented == actual,
        "the served tables' schemas differ from {CONTRACT}; if the change is intended, rerun with \
         LAKE_UPDATE_CONTRACT=1 and commit the file.\nPublished tables:\n{}",
        serde_json::to_string_pretty(&actual).unwrap_or_default()
    );
}
