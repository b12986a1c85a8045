//! Lakes built from the golden fixtures or generated data (Silver, Gold and ML published), and
//! the `lake-api` binary started over one on free loopback ports.

#![allow(dead_code)]

pub mod contract;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use lake_core::{EngineKind, LakeOptions, LakeSession, RunSettings};
use lake_testkit::golden;

pub fn golden_fixtures() -> PathBuf {
    golden::fixtures()
}

/// A DataFusion session on an existing lake folder.
pub async fn session_on(lake: &Path) -> LakeSession {
    let mut options = LakeOptions::local(lake.to_string_lossy().into_owned());
    options.engine = EngineKind::DataFusion;
    options.partitions = Some(2);
    LakeSession::open(&options).await.expect("session")
}

/// Ingests `sources` into `dir/lake` and publishes Silver, Gold and ML (DataFusion engine).
async fn publish_all(dir: &Path, sources: &Path, settings: &RunSettings) -> PathBuf {
    let lake = dir.join("lake");
    let session = session_on(&lake).await;
    session.ingest(sources, |_| {}).await.expect("ingest");
    session.run_silver(settings, |_| {}).await.expect("silver");
    session.run_gold(settings, &[], |_| {}).await.expect("gold");
    lake_ml::run_ml(&session, &lake_ml::MlConfig::default(), |_| {})
        .await
        .expect("ml");
    lake
}

/// Builds Silver, Gold and ML of the golden fixtures into `dir/lake`; returns the lake path.
pub async fn golden_lake(dir: &Path) -> PathBuf {
    let sources = dir.join("sources");
    std::fs::create_dir_all(&sources).expect("sources folder");
    for name in golden::FILES {
        std::fs::copy(golden::fixtures().join(name), sources.join(name)).expect("copy fixture");
    }
    publish_all(dir, &sources, &golden_settings()).await
}

/// The settings the golden figures were worked out with.
pub fn golden_settings() -> RunSettings {
    let as_of = lake_core::session::parse_as_of(golden::AS_OF).expect("as_of");
    let mut settings = RunSettings::new(as_of);
    settings.seuil_quarantaine = golden::SEUIL_QUARANTAINE;
    settings
}

/// Builds Silver, Gold and ML of hand-written sources into `dir/lake`, with the thresholds'
/// defaults and as_of 2026-01-01.
pub async fn lake_of_files(dir: &Path, clients_csv: &str, achats_csv: &str) -> PathBuf {
    let sources = dir.join("sources");
    std::fs::create_dir_all(&sources).expect("sources folder");
    std::fs::write(sources.join("clients.csv"), clients_csv).expect("clients.csv");
    std::fs::write(sources.join("achats.csv"), achats_csv).expect("achats.csv");
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("as_of");
    publish_all(dir, &sources, &RunSettings::new(as_of)).await
}

/// Builds Silver, Gold and ML of generated data (SF `scale`, seed 42) into `dir/lake`.
pub async fn generated_lake(dir: &Path, scale: f64) -> PathBuf {
    let sources = dir.join("sources");
    let config = lake_generator::GenerateConfig {
        scale,
        seed: 42,
        as_of: lake_generator::GenerateConfig::default_as_of(),
        rates: lake_generator::DefectRates::default(),
        churn: lake_generator::ChurnSignal::default(),
        out_dir: sources.clone(),
    };
    lake_generator::generate(&config).expect("generate");
    publish_all(dir, &sources, &RunSettings::new(config.as_of)).await
}

/// A running `lake-api` (HTTP and Flight SQL on free loopback ports), stopped on drop.
pub struct Api {
    _process: lake_testkit::ApiProcess,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `grpc://127.0.0.1:PORT`
    pub flight: String,
}

impl Api {
    pub fn start(lake: &Path, extra: &[&str]) -> Self {
        let lake = lake.to_string_lossy();
        let mut args = vec!["--lake", lake.as_ref(), "--bind", "127.0.0.1:0"];
        args.extend(["--flight-bind", "127.0.0.1:0", "--workers", "2"]);
        args.extend(extra);
        let process =
            lake_testkit::ApiProcess::start(Path::new(env!("CARGO_BIN_EXE_lake-api")), None, &args);
        let base = process.base.clone();
        let flight = process.flight.clone().expect("Flight SQL is on");
        Self {
            _process: process,
            base,
            flight,
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// GET `path`: status and parsed JSON body.
pub async fn get(api: &Api, path: &str) -> (u16, serde_json::Value) {
    get_with(api, path, &[]).await
}

pub async fn get_with(api: &Api, path: &str, headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut request = client().get(format!("{}{path}", api.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"));
    (status, body)
}

/// GET `path` from two APIs (the lake store's and MongoDB's): both answer 200 with the same
/// JSON body.
pub async fn same_answer(on_lake: &Api, on_mongo: &Api, path: &str) {
    let (lake_status, from_lake) = get(on_lake, path).await;
    let (mongo_status, from_mongo) = get(on_mongo, path).await;
    assert_eq!((lake_status, mongo_status), (200, 200), "{path}");
    assert_eq!(
        from_lake, from_mongo,
        "{path} differs between the lake and MongoDB"
    );
}

#[allow(unused_imports)]
pub use lake_testkit::{FerretDb, installed_tool, venv_python};

/// Loads the current Gold and ML of `lake` into database `lake` of `url`.
pub async fn mongo_load(lake: &Path, url: &str) -> flight_api::mongo::load::LoadOutcome {
    let store = lake_core::Lake::open(&lake.to_string_lossy(), &Default::default()).expect("lake");
    let db = flight_api::mongo::connect(url, "lake")
        .await
        .expect("mongo url");
    flight_api::mongo::load::load(&store, &db, Default::default(), |_| {})
        .await
        .expect("mongo load")
}

/// The pointer document the loader last wrote.
pub async fn served_pointer(db: &mongodb::Database) -> flight_api::mongo::layout::Pointer {
    db.collection::<flight_api::mongo::layout::Pointer>(
        flight_api::mongo::layout::POINTER_COLLECTION,
    )
    .find_one(mongodb::bson::doc! { "_id": flight_api::mongo::layout::POINTER_ID })
    .await
    .expect("pointer read")
    .expect("pointer")
}
