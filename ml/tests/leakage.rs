//! The features at a cutoff read nothing at or after it: changing any purchase after the cutoff
//! changes no feature. Expected values are worked by hand from the rows below.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    Decimal128Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use lake_core::catalog;
use lake_core::models::SqlProject;
use lake_ml::features::{ClientFeatures, FeatureSource};

/// (id_achat, id_client, date_achat, montant in cents)
type Purchase = (i64, i64, &'static str, i128);

const BEFORE: [Purchase; 4] = [
    (1, 1, "2025-01-10 10:00:00", 5_000),
    (2, 1, "2025-05-15 12:00:00", 3_000),
    (3, 1, "2025-06-30 23:59:59", 2_000),
    (4, 2, "2024-12-01 09:00:00", 10_000),
];
const AFTER: [Purchase; 4] = [
    (5, 1, "2025-07-01 00:00:00", 99_900),
    (6, 1, "2025-08-01 10:00:00", 1_000),
    (7, 2, "2025-10-15 10:00:00", 500),
    (8, 3, "2025-07-15 10:00:00", 4_000),
];

fn cutoff() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 7, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid cutoff")
}

fn micros(text: &str) -> i64 {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .expect("valid timestamp")
        .and_utc()
        .timestamp_micros()
}

/// A session whose `gold.fact_achats` holds exactly `rows`.
fn session_with(rows: &[Purchase]) -> SessionContext {
    let mut state = SessionContext::new().state();
    lake_udfs::register_all(&mut state).expect("udfs");
    let ctx = SessionContext::new_with_state(state);
    catalog::create_schemas(&ctx).expect("schemas");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id_achat", DataType::Int64, false),
        Field::new("id_client", DataType::Int64, false),
        Field::new(
            "date_achat",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("montant", DataType::Decimal128(12, 2), false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| micros(r.2)),
            )),
            Arc::new(
                Decimal128Array::from_iter_values(rows.iter().map(|r| r.3))
                    .with_precision_and_scale(12, 2)
                    .expect("decimal type"),
            ),
        ],
    )
    .expect("batch");
    let table = MemTable::try_new(schema, vec![vec![batch]]).expect("table");
    ctx.register_table("gold.fact_achats", Arc::new(table))
        .expect("register");
    ctx
}

/// Features and churn labels (H = 90 days) at the cutoff, over exactly `rows`.
async fn features_and_labels(rows: &[Purchase]) -> (ClientFeatures, (Vec<i64>, Vec<bool>)) {
    let ctx = session_with(rows);
    let project = SqlProject::embedded().expect("sql project");
    let source = FeatureSource {
        ctx: &ctx,
        project: &project,
        job_timeout: None,
    };
    let features = source.features(cutoff()).await.expect("features");
    let labels = source.churn_labels(cutoff(), 90).await.expect("labels");
    (features, labels)
}

async fn features_of(rows: &[Purchase]) -> ClientFeatures {
    features_and_labels(rows).await.0
}

#[tokio::test]
async fn features_match_the_hand_worked_values() {
    let all: Vec<Purchase> = BEFORE.iter().chain(&AFTER).copied().collect();
    let f = features_of(&all).await;
    assert_eq!(f.ids, vec![1, 2], "client 3 bought only after the cutoff");
    // recence, frequence, montant, panier, anciennete, achats_90j, achats_90_180j.
    // Client 1: last purchase 2025-06-30 (1 day), first 2025-01-10 (172 days); since
    // 2025-04-02: 2 purchases; from 2025-01-02 to 2025-04-01: 1.
    // Client 2: one purchase on 2024-12-01, 212 days before.
    let expected = [
        [1.0, 3.0, 100.0, 100.0 / 3.0, 172.0, 2.0, 1.0],
        [212.0, 1.0, 100.0, 100.0, 212.0, 0.0, 0.0],
    ];
    for (i, row) in expected.iter().enumerate() {
        for (j, value) in row.iter().enumerate() {
            assert!(
                (f.values[[i, j]] - value).abs() < 1e-9,
                "client {} feature {j}: {} instead of {value}",
                f.ids[i],
                f.values[[i, j]]
            );
        }
    }
    // Client 1 buys on the cutoff itself (inside the 90 days): retained. Client 2's next
    // purchase is 106 days later: churned.
    let (_, labels) = features_and_labels(&all).await;
    assert_eq!(labels, (vec![1, 2], vec![false, true]));
}

#[tokio::test]
async fn changing_data_after_the_cutoff_changes_no_feature() {
    let original: Vec<Purchase> = BEFORE.iter().chain(&AFTER).copied().collect();
    // After the cutoff: one purchase removed, one amount changed, one date moved within the
    // future, new purchases for old and new clients.
    let altered: Vec<Purchase> = BEFORE
        .iter()
        .copied()
        .chain([
            (6, 1, "2025-08-01 10:00:00", 123_456),
            (7, 2, "2025-07-02 10:00:00", 500),
            (9, 2, "2025-07-01 00:00:00", 70_000),
            (10, 4, "2025-12-24 18:00:00", 1_000),
        ])
        .collect();
    assert_eq!(features_of(&original).await, features_of(&altered).await);

    // The check can fail: a change before the cutoff does show.
    let mut before_changed = original.clone();
    before_changed[1].3 = 3_100;
    assert_ne!(
        features_of(&original).await,
        features_of(&before_changed).await
    );
}
