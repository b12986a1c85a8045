//! Helpers shared by the integration tests: a temporary lake on Ballista standalone, and query
//! results read back as text.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use lake_core::{EngineKind, LakeOptions, LakeSession, RunSettings};

pub fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub struct TestLake {
    pub dir: tempfile::TempDir,
    pub session: LakeSession,
}

impl TestLake {
    pub async fn open() -> Self {
        Self::open_on(EngineKind::Standalone).await
    }

    pub async fn open_on(engine: EngineKind) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut options =
            LakeOptions::local(dir.path().join("lake").to_string_lossy().into_owned());
        options.engine = engine;
        options.partitions = Some(2);
        let session = LakeSession::open(&options)
            .await
            .expect("lake session opens");
        Self { dir, session }
    }

    pub fn sources(&self) -> PathBuf {
        self.dir.path().join("sources")
    }

    /// Copies fixture files into this lake's source folder.
    pub fn add_sources(&self, fixture_dir: &Path, names: &[&str]) {
        std::fs::create_dir_all(self.sources()).expect("sources folder");
        for name in names {
            std::fs::copy(fixture_dir.join(name), self.sources().join(name)).expect("copy fixture");
        }
    }

    /// Ingest, Silver and Gold with the given settings.
    pub async fn run_all(&self, settings: &RunSettings) {
        let report = self
            .session
            .ingest(&self.sources(), |_| {})
            .await
            .expect("ingest");
        assert!(report.refused.is_empty(), "refused: {:?}", report.refused);
        self.session
            .run_silver(settings, |_| {})
            .await
            .expect("silver");
        self.session
            .run_gold(settings, &[], |_| {})
            .await
            .expect("gold");
    }

    /// Every row of a query, each cell as text (NULL as "NULL").
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let batches = self
            .session
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let options = FormatOptions::default().with_null("NULL");
        let mut out = Vec::new();
        for batch in &batches {
            let columns: Vec<ArrayFormatter> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
                .collect();
            for row in 0..batch.num_rows() {
                out.push(columns.iter().map(|c| c.value(row).to_string()).collect());
            }
        }
        out
    }

    /// The single value of a one-row, one-column query.
    pub async fn value(&self, sql: &str) -> String {
        let rows = self.rows(sql).await;
        assert_eq!(rows.len(), 1, "{sql} returned {} rows", rows.len());
        rows[0][0].clone()
    }

    pub async fn number(&self, sql: &str) -> f64 {
        let text = self.value(sql).await;
        text.parse()
            .unwrap_or_else(|_| panic!("{sql} gave {text:?}, not a number"))
    }
}

pub fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-9 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, expected {expected}"
    );
}
