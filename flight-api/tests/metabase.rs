//! The Metabase dashboard (`compose/metabase/dashboard.json`), checked without Metabase (which
//! cannot run here): its layout fits Metabase's 24-column grid, each card reads a served table
//! with pipeline stages both MongoDB 8 and FerretDB run, and each card's pipeline, run on the
//! golden fixtures loaded into a real MongoDB-protocol server (FerretDB), gives the hand-worked
//! figures and every column its chart names.

mod common;

use common::{FerretDb, golden_lake, mongo_load, served_pointer};
use futures::TryStreamExt;
use lake_core::serving::ServingCatalogue;
use mongodb::bson::{Bson, Document};
use serde_json::Value;

/// Metabase's dashboard grid is 24 columns wide.
const GRID_COLUMNS: u64 = 24;
/// The aggregation stages the loader's subset allows (README: what MongoDB 8 and FerretDB 1.24
/// both support).
const STAGES: [&str; 11] = [
    "$match",
    "$group",
    "$sort",
    "$project",
    "$limit",
    "$skip",
    "$count",
    "$unwind",
    "$addFields",
    "$set",
    "$unset",
];

fn spec() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../compose/metabase/dashboard.json");
    let text = std::fs::read_to_string(&path).expect("compose/metabase/dashboard.json");
    serde_json::from_str(&text).expect("dashboard.json is JSON")
}

fn cards(spec: &Value) -> &Vec<Value> {
    spec["cards"].as_array().expect("cards")
}

fn text<'a>(card: &'a Value, key: &str) -> &'a str {
    card[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} of {card}"))
}

#[test]
fn the_dashboard_fits_the_grid_and_reads_served_tables_with_portable_stages() {
    let spec = spec();
    let catalogue = ServingCatalogue::embedded().expect("catalogue");
    let cards = cards(&spec);
    assert!(!cards.is_empty());
    let mut names = std::collections::BTreeSet::new();
    let mut cells = std::collections::BTreeMap::new();
    for card in cards {
        let name = text(card, "name");
        assert!(names.insert(name), "card {name} appears twice");
        assert!(
            ["line", "bar", "row", "pie", "table", "scalar", "area"]
                .contains(&text(card, "display")),
            "{name}: display"
        );
        let collection = text(card, "collection");
        assert!(
            catalogue.get(collection).is_some(),
            "{name}: {collection} is not a served Gold table (its view would not exist)"
        );
        for stage in card["pipeline"].as_array().expect("pipeline") {
            let stage = stage.as_object().expect("a stage is an object");
            assert_eq!(stage.len(), 1, "{name}: one operator per stage");
            let operator = stage.keys().next().map(String::as_str).unwrap_or("");
            assert!(
                STAGES.contains(&operator),
                "{name}: {operator} is not run by both MongoDB 8 and FerretDB 1.24"
            );
        }
        let layout = &card["layout"];
        let at = |key: &str| {
            layout[key]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: {key}"))
        };
        let (row, col, width, height) = (at("row"), at("col"), at("size_x"), at("size_y"));
        assert!(
            width > 0 && height > 0 && col + width <= GRID_COLUMNS,
            "{name}: {layout}"
        );
        for r in row..row + height {
            for c in col..col + width {
                if let Some(other) = cells.insert((r, c), name) {
                    panic!("{name} overlaps {other} at row {r}, column {c}");
                }
            }
        }
    }
}

/// The figures worked out by hand from the golden fixtures (core/tests/golden.rs): per card, its
/// rows as (label, value) pairs in order, or a check of its own.
fn hand_worked(name: &str, rows: &[Document]) {
    let number = |d: &Document, key: &str| match d.get(key) {
        Some(Bson::Double(v)) => *v,
        Some(Bson::Int32(v)) => f64::from(*v),
        Some(Bson::Int64(v)) => *v as f64,
        other => panic!("{name}: {key} is {other:?}"),
    };
    let label = |d: &Document, key: &str| d.get_str(key).map(str::to_string).unwrap_or_default();
    match name {
        "CA par mois" => {
            let got: Vec<(String, f64)> = rows
                .iter()
                .map(|d| (label(d, "mois"), number(d, "ca")))
                .collect();
            let want = [
                ("2025-03-01", 320.0),
                ("2025-04-01", 150.0),
                ("2025-05-01", 70.0),
                ("2025-06-01", 270.0),
            ]
            .map(|(m, ca)| (m.to_string(), ca));
            assert_eq!(got, want, "{name}");
        }
        "CA par pays" => {
            let ca: Vec<f64> = rows.iter().map(|d| number(d, "ca")).collect();
            assert!(ca.windows(2).all(|w| w[0] >= w[1]), "{name}: {ca:?}");
            assert_eq!(ca.iter().sum::<f64>(), 810.0, "{name}: total");
            let france = rows
                .iter()
                .find(|d| label(d, "pays") == "France")
                .expect("France");
            assert_eq!(number(france, "ca"), 350.0, "{name}: France");
        }
        "Segments RFM" => {
            let got: Vec<(String, f64, f64)> = rows
                .iter()
                .map(|d| {
                    (
                        label(d, "segment"),
                        number(d, "nb_clients"),
                        number(d, "ca"),
                    )
                })
                .collect();
            // c2 c5 c8 | c1 c4 | c6 | c3 (gold_rfm); "À" sorts after "N" byte-wise.
            let want = [
                ("En hibernation", 3.0, 120.0),
                ("Fidèles", 2.0, 400.0),
                ("Nouveaux", 1.0, 80.0),
                ("À risque", 1.0, 210.0),
            ]
            .map(|(s, n, ca)| (s.to_string(), n, ca));
            assert_eq!(got, want, "{name}");
        }
        other => panic!("card {other} has no hand-worked figures in this test: add them"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_card_gives_the_hand_worked_figures_on_the_loaded_golden_lake() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let ferret = FerretDb::start(dir.path());
    mongo_load(&lake, &ferret.url()).await;
    let db = flight_api::mongo::connect(&ferret.url(), "lake")
        .await
        .expect("db");
    // FerretDB has no views: the collection a view named after the table would show.
    let pointer = served_pointer(&db).await;

    let spec = spec();
    for card in cards(&spec) {
        let name = text(card, "name");
        let collection = &pointer.collections[text(card, "collection")];
        let pipeline: Vec<Document> = card["pipeline"]
            .as_array()
            .expect("pipeline")
            .iter()
            .map(|stage| mongodb::bson::to_document(stage).expect("a stage is a document"))
            .collect();
        let rows: Vec<Document> = db
            .collection::<Document>(collection)
            .aggregate(pipeline)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!rows.is_empty(), "{name}: no rows");

        // Every column the chart names is in every row.
        let settings = &card["visualization_settings"];
        let mut columns: Vec<&str> = ["graph.dimensions", "graph.metrics"]
            .iter()
            .flat_map(|k| settings[*k].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        columns.extend(
            ["pie.dimension", "pie.metric"]
                .iter()
                .filter_map(|k| settings[*k].as_str()),
        );
        assert!(!columns.is_empty(), "{name}: the chart names no column");
        for row in &rows {
            for column in &columns {
                assert!(
                    row.contains_key(column),
                    "{name}: {column} missing in {row}"
                );
            }
        }
        hand_worked(name, &rows);
    }
}
