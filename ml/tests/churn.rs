//! The ML stage on generated data: with the generator's planted churn signal the model beats
//! recency alone out of time; with no signal it claims none; every buyer gets a segment and a
//! score in [0, 1]; the tables are published under gold/ml/ with a manifest.

use chrono::NaiveDateTime;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use lake_core::{EngineKind, LakeOptions, LakeSession, Layer, RunSettings, publish};
use lake_generator::{ChurnSignal, DefectRates, GenerateConfig};
use lake_ml::stage::{ChurnReport, NotBuilt};
use lake_ml::{MlConfig, run_ml};

/// A lake built from generated data, Silver and Gold published (DataFusion engine: the stage
/// is the same on every engine, and this keeps the test quick).
async fn generated_lake(
    dir: &tempfile::TempDir,
    scale: f64,
    churn: ChurnSignal,
) -> (LakeSession, NaiveDateTime) {
    let sources = dir.path().join("sources");
    let config = GenerateConfig {
        scale,
        seed: 42,
        as_of: GenerateConfig::default_as_of(),
        rates: DefectRates::default(),
        churn,
        out_dir: sources.clone(),
    };
    lake_generator::generate(&config).expect("generate");
    let mut options = LakeOptions::local(dir.path().join("lake").to_string_lossy().into_owned());
    options.engine = EngineKind::DataFusion;
    options.partitions = Some(2);
    let session = LakeSession::open(&options).await.expect("session");
    session.ingest(&sources, |_| {}).await.expect("ingest");
    let settings = RunSettings::new(config.as_of);
    session.run_silver(&settings, |_| {}).await.expect("silver");
    session
        .run_gold(&settings, &[], |_| {})
        .await
        .expect("gold");
    (session, config.as_of)
}

async fn count(session: &LakeSession, sql: &str) -> i64 {
    let batches: Vec<RecordBatch> = session.query(sql).await.expect(sql);
    let column = batches[0].column(0).as_primitive::<Int64Type>();
    assert_eq!(column.len(), 1, "{sql}");
    column.value(0)
}

fn trained(report: &Result<ChurnReport, NotBuilt>) -> &ChurnReport {
    report
        .as_ref()
        .unwrap_or_else(|reason| panic!("no churn model: {reason}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_churn_is_found_and_every_buyer_is_scored() {
    let dir = tempfile::tempdir().expect("tmp");
    let (session, _) = generated_lake(&dir, 0.1, ChurnSignal::Decline).await;
    let (manifest, summary) = run_ml(&session, &MlConfig::default(), |_| {})
        .await
        .expect("ml stage");

    let churn = trained(&summary.churn);
    // The stated margin: at least 0.01 of ROC-AUC over days-since-last-purchase alone, out of
    // time (trained at ref_date - 180 days, judged at ref_date - 90 days).
    assert!(
        churn.model.roc_auc >= churn.baseline.roc_auc + 0.01,
        "model {:?} vs recency alone {:?}",
        churn.model,
        churn.baseline
    );
    assert!(churn.model.pr_auc > churn.model.positive_share);

    // Every buyer of Gold has one score in [0, 1], one risk band and one segment.
    let buyers = count(&session, "SELECT COUNT(*) FROM gold.dim_rfm").await;
    assert_eq!(summary.buyers as i64, buyers);
    assert_eq!(
        count(
            &session,
            "SELECT COUNT(*) FROM gold.dim_rfm r \
             JOIN gold.scores_churn s ON s.id_client = r.id_client \
             WHERE s.score_churn BETWEEN 0 AND 1 AND s.risque IN ('faible', 'moyen', 'élevé')"
        )
        .await,
        buyers
    );
    assert_eq!(
        count(&session, "SELECT COUNT(*) FROM gold.scores_churn").await,
        buyers
    );
    assert_eq!(
        count(
            &session,
            "SELECT COUNT(*) FROM gold.dim_rfm r \
             JOIN gold.segments_ml s ON s.id_client = r.id_client \
             JOIN gold.segments_profils p ON p.segment_ml = s.segment_ml AND p.libelle = s.libelle"
        )
        .await,
        buyers
    );
    assert_eq!(
        count(
            &session,
            "SELECT SUM(nb_clients) FROM gold.segments_profils"
        )
        .await,
        buyers
    );
    // The report counts the buyers of each risk band as the scores table holds them.
    for (band, indicateur) in [
        ("faible", "clients_risque_faible"),
        ("moyen", "clients_risque_moyen"),
        ("élevé", "clients_risque_eleve"),
    ] {
        assert_eq!(
            count(
                &session,
                &format!(
                    "SELECT CAST(valeur AS BIGINT) FROM gold.model_report \
                     WHERE modele = 'churn' AND indicateur = '{indicateur}'"
                )
            )
            .await,
            count(
                &session,
                &format!("SELECT COUNT(*) FROM gold.scores_churn WHERE risque = '{band}'")
            )
            .await,
            "{band}"
        );
    }
    let k = summary.segmentation.as_ref().expect("segmented").k;
    assert!((3..=8).contains(&k));
    assert_eq!(
        count(&session, "SELECT COUNT(*) FROM gold.segments_profils").await,
        k as i64
    );

    // Published like a layer: the pointer names this run, the run reads the current Gold.
    let current = publish::current(&session.lake, Layer::Ml)
        .await
        .expect("read pointer")
        .expect("ml published");
    assert_eq!(current.run_id, manifest.run_id);
    let gold = publish::current(&session.lake, Layer::Gold)
        .await
        .expect("read pointer")
        .expect("gold published");
    assert_eq!(current.inputs[0].version, gold.run_id);
    let tables: Vec<&str> = current.tables.keys().map(String::as_str).collect();
    assert_eq!(
        tables,
        [
            "model_report",
            "scores_churn",
            "segments_ml",
            "segments_profils"
        ]
    );
    assert!(
        current.tables["scores_churn"]
            .path
            .starts_with("gold/ml/runs/")
    );
    assert_eq!(current.tables["scores_churn"].rows, buyers as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_signal_the_model_claims_none() {
    let dir = tempfile::tempdir().expect("tmp");
    let (session, _) = generated_lake(&dir, 0.1, ChurnSignal::Absent).await;
    // Everyone buys at one rate: the past says nothing about the next days. A 30-day horizon
    // gives about a fifth of buyers without a purchase, enough for a precise AUC.
    let config = MlConfig {
        horizon_days: 30,
        ..MlConfig::default()
    };
    let (_, summary) = run_ml(&session, &config, |_| {}).await.expect("ml stage");
    let churn = trained(&summary.churn);
    assert!(churn.evaluation_clients > 5_000);
    assert!(churn.model.positive_share > 0.1, "{:?}", churn.model);
    assert!(
        (churn.model.roc_auc - 0.5).abs() < 0.03,
        "ROC-AUC {} on data without a signal",
        churn.model.roc_auc
    );
}
