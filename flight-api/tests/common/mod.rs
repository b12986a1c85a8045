//! Lakes built from the golden fixtures or generated data (Silver, Gold and ML published), and
//! the `lake-api` binary started over one on free loopback ports.

#![allow(dead_code)]

pub mod contract;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::NaiveDate;
use lake_core::{EngineKind, LakeOptions, LakeSession, RunSettings};

pub fn golden_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/golden")
}

/// A DataFusion session on an existing lake folder.
pub async fn session_on(lake: &Path) -> LakeSession {
    let mut options = LakeOptions::local(lake.to_string_lossy().into_owned());
    options.engine = EngineKind::DataFusion;
    options.partitions = 2;
    LakeSession::open(&options).await.expect("session")
}

/// Ingests `sources` into `dir/lake` and publishes Silver, Gold and ML (DataFusion engine).
async fn publish_all(dir: &Path, sources: &Path, settings: &RunSettings) -> PathBuf {
    let lake = dir.join("lake");
    let session = session_on(&lake).await;
    session.ingest(sources, |_| {}).await.expect("ingest");
    session.run_silver(settings, |_| {}).await.expect("silver");
    session.run_gold(settings, |_| {}).await.expect("gold");
    lake_ml::run_ml(&session, &lake_ml::MlConfig::default(), |_| {})
        .await
        .expect("ml");
    lake
}

/// Builds Silver, Gold and ML of the golden fixtures into `dir/lake`; returns the lake path.
pub async fn golden_lake(dir: &Path) -> PathBuf {
    let sources = dir.join("sources");
    std::fs::create_dir_all(&sources).expect("sources folder");
    for name in ["clients.csv", "achats.csv", "achats_2025-07.csv"] {
        std::fs::copy(golden_fixtures().join(name), sources.join(name)).expect("copy fixture");
    }
    let as_of = NaiveDate::from_ymd_opt(2025, 7, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("as_of");
    let mut settings = RunSettings::new(as_of);
    // 10 of 24 purchase rows are quarantined on purpose: lift the blocking threshold.
    settings.seuil_quarantaine = 0.5;
    publish_all(dir, &sources, &settings).await
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
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `grpc://127.0.0.1:PORT`
    pub flight: String,
}

impl Api {
    pub fn start(lake: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lake-api"))
            .args(["--lake", &lake.to_string_lossy(), "--bind", "127.0.0.1:0"])
            .args(["--flight-bind", "127.0.0.1:0", "--workers", "2"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lake-api starts");
        let stdout = child.stdout.take().expect("stdout");
        // The first two lines name the addresses; the process exits (EOF) if it cannot start.
        let mut lines = BufReader::new(stdout).lines();
        let mut next = |prefix: &str| {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("lake-api exited before printing {prefix:?}"))
                .expect("read stdout");
            line.trim()
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
                .to_string()
        };
        let base = format!("http://{}", next("listening on http://"));
        let flight = format!("grpc://{}", next("flight sql on grpc://"));
        Self {
            child,
            base,
            flight,
        }
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
pub async fn mongo_load(lake: &Path, url: &str) -> lake_api::mongo::load::LoadOutcome {
    let store = lake_core::Lake::open(&lake.to_string_lossy(), &Default::default()).expect("lake");
    let db = lake_api::mongo::connect(url, "lake")
        .await
        .expect("mongo url");
    lake_api::mongo::load::load(&store, &db, Default::default(), |_| {})
        .await
        .expect("mongo load")
}
