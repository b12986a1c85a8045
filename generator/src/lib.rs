//! Deterministic e-commerce data: `clients.csv` and `achats.csv` with the brief's columns, the
//! defects of the data contract injected at known rates on distinct rows, and a manifest with the
//! exact count of each defect and the Silver outcome it implies.
//!
//! The same `(scale, seed, as_of, rates)` always gives byte-identical files.
//!
//! Generation streams: clients are written as they are drawn, purchases are staged in scratch
//! files of ten days each and written one such bucket at a time, and defect rows are chosen in
//! one pass by exact sequential sampling ([`selection`]). Memory holds a few bytes per client and
//! one bucket of purchases, whatever the scale (about 0.4 GB at SF 100).

pub mod calendar;
pub mod churn;
mod clients;
pub mod defects;
mod names;
mod purchases;
pub mod reference;
mod selection;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::LogNormal;
use serde::{Deserialize, Serialize};

use calendar::Calendar;
pub use churn::ChurnSignal;
pub use defects::{DEFAULT_DEFECT_RATE, Defect, DefectRates};

/// Clients at scale factor 1.
pub const CLIENTS_PER_SCALE: f64 = 100_000.0;
/// Purchases at scale factor 1.
pub const ACHATS_PER_SCALE: f64 = 1_000_000.0;
/// Amounts above this are aberrant (contract A6); the generator's legitimate amounts stay in
/// [1, 5 000].
pub const SEUIL_MONTANT_ABERRANT: f64 = 10_000.0;
/// File name of the manifest written beside the CSVs.
pub const MANIFEST_FILE: &str = "generation_manifest.json";
/// Largest scale factor: client ids are 32-bit in the generator's scratch records.
pub const MAX_SCALE: f64 = 10_000.0;

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("unknown defect id {0:?} (expected C1…C8, A1…A14 or a split id such as C5_invalide)")]
    UnknownDefect(String),
    #[error("bad defect rate {0:?}: expected ID=RATE with RATE between 0 and 0.05, e.g. A4=0.01")]
    BadDefectRate(String),
    #[error("scale must be a positive number (got {0})")]
    BadScale(f64),
    #[error("scale {0} is too large: the generator goes up to {MAX_SCALE}")]
    ScaleTooLarge(f64),
    #[error("the defect rates of {entity} add up to {total:.3}: keep them under 0.5")]
    TooManyDefects { entity: &'static str, total: f64 },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the manifest: {0}")]
    Manifest(#[from] serde_json::Error),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    pub scale: f64,
    pub seed: u64,
    /// Reference time: every legitimate purchase happens before it; A9 rows after it.
    pub as_of: NaiveDateTime,
    pub rates: DefectRates,
    /// How buyers churn (see [`churn`]): the signal a churn model can learn, or none.
    pub churn: ChurnSignal,
    pub out_dir: PathBuf,
}

impl GenerateConfig {
    pub fn default_as_of() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap_or_default()
            .and_time(NaiveTime::MIN)
    }
}

/// Counts and parameters of one generation, written as [`MANIFEST_FILE`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub generator: String,
    pub scale: f64,
    pub seed: u64,
    pub as_of: String,
    pub seuil_montant_aberrant: f64,
    /// The churn behaviour planted in the purchases ([`churn`]).
    #[serde(default)]
    pub churn_signal: ChurnSignal,
    /// Rows written per file (data rows, header excluded).
    pub files: BTreeMap<String, u64>,
    /// Exact number of rows touched (or added) by each defect.
    pub defects: BTreeMap<String, u64>,
    /// What Silver must produce from these files.
    pub expected: ExpectedSilver,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExpectedSilver {
    pub clients: u64,
    pub achats: u64,
    /// Quarantined rows per reason.
    pub quarantine: BTreeMap<String, u64>,
}

impl Manifest {
    pub fn defect(&self, d: Defect) -> u64 {
        self.defects.get(d.id()).copied().unwrap_or(0)
    }

    pub fn read(path: &Path) -> Result<Self, GenerateError> {
        let text = std::fs::read_to_string(path).map_err(|source| GenerateError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// Raw text of a row that a defect altered; written instead of the typed values.
type RawRow = [String; 5];

/// Generates the files and returns the manifest (also written beside them).
pub fn generate(config: &GenerateConfig) -> Result<Manifest, GenerateError> {
    if !(config.scale.is_finite() && config.scale > 0.0) {
        return Err(GenerateError::BadScale(config.scale));
    }
    for (entity, ids) in [
        ("clients", &Defect::CLIENTS[..]),
        ("achats", &Defect::ACHATS[..]),
    ] {
        let total = config.rates.total(ids);
        if total >= 0.5 {
            return Err(GenerateError::TooManyDefects { entity, total });
        }
    }
    if config.scale > MAX_SCALE {
        return Err(GenerateError::ScaleTooLarge(config.scale));
    }
    let setting = Setting {
        config,
        countries: reference::countries(),
        products: reference::products(),
        calendar: Calendar::ending_before(config.as_of.date()),
    };
    let n_clients = ((CLIENTS_PER_SCALE * config.scale).round() as usize).max(10);
    let n_achats = ((ACHATS_PER_SCALE * config.scale).round() as usize).max(100);

    std::fs::create_dir_all(&config.out_dir).map_err(|source| GenerateError::Io {
        path: config.out_dir.clone(),
        source,
    })?;
    // Scratch space beside the output (same disk, removed when dropped, also on error).
    let scratch = tempfile::Builder::new()
        .prefix(".lake-generate-")
        .tempdir_in(&config.out_dir)
        .map_err(|source| GenerateError::Io {
            path: config.out_dir.clone(),
            source,
        })?;
    // Both files are written in the scratch folder and moved into place once complete, so an
    // interrupted generation never leaves a truncated source file to be ingested.
    let staged = scratch.path();
    let clients = clients::write(&setting, n_clients, staged, staged)?;
    let achats = purchases::write(&setting, &clients.buyers, n_achats, staged, staged)?;
    for file in ["clients.csv", "achats.csv"] {
        let target = config.out_dir.join(file);
        std::fs::rename(staged.join(file), &target).map_err(|source| GenerateError::Io {
            path: target,
            source,
        })?;
    }
    let (n_client_rows, n_achat_rows) = (clients.rows, achats.rows);
    let counts: BTreeMap<Defect, u64> = clients.counts.into_iter().chain(achats.counts).collect();

    let count = |d: Defect| counts.get(&d).copied().unwrap_or(0);
    let quarantine: BTreeMap<String, u64> = [
        ("id_client_invalide", count(Defect::C8)),
        ("montant_invalide", count(Defect::A4)),
        ("montant_non_positif", count(Defect::A5)),
        ("montant_aberrant", count(Defect::A6)),
        ("date_invalide", count(Defect::A8)),
        ("date_future", count(Defect::A9)),
        ("client_inconnu", count(Defect::A10)),
        ("produit_manquant", count(Defect::A11)),
        ("id_achat_invalide", count(Defect::A13)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let quarantined_achats: u64 = quarantine
        .iter()
        .filter(|(k, _)| k.as_str() != "id_client_invalide")
        .map(|(_, v)| v)
        .sum();
    let manifest = Manifest {
        generator: format!("lake-generator {}", env!("CARGO_PKG_VERSION")),
        scale: config.scale,
        seed: config.seed,
        as_of: config.as_of.format("%Y-%m-%d %H:%M:%S").to_string(),
        seuil_montant_aberrant: SEUIL_MONTANT_ABERRANT,
        churn_signal: config.churn,
        files: BTreeMap::from([
            ("clients.csv".to_string(), n_client_rows),
            ("achats.csv".to_string(), n_achat_rows),
        ]),
        defects: counts
            .iter()
            .map(|(d, n)| (d.id().to_string(), *n))
            .collect(),
        expected: ExpectedSilver {
            clients: n_clients as u64,
            achats: n_achats as u64 - quarantined_achats,
            quarantine,
        },
    };
    let manifest_path = config.out_dir.join(MANIFEST_FILE);
    let text = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(&manifest_path, text + "\n").map_err(|source| GenerateError::Io {
        path: manifest_path,
        source,
    })?;
    Ok(manifest)
}

/// The fixed inputs of one generation.
pub(crate) struct Setting<'a> {
    pub config: &'a GenerateConfig,
    pub countries: Vec<reference::Country>,
    pub products: Vec<reference::Product>,
    pub calendar: Calendar,
}

/// Independent random streams of one seed, one per concern, so that each pass draws the same
/// values whatever the others do.
/// [`STREAM_PURCHASES`] is the first of the purchase slices' streams (see `purchases`).
const STREAM_CLIENTS: u64 = 1;
const STREAM_CLIENT_DEFECTS: u64 = 2;
const STREAM_PURCHASE_DEFECTS: u64 = 3;
const STREAM_PURCHASES: u64 = 16;

fn rng_stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

fn unit_lognormal() -> LogNormal<f64> {
    // The parameters used are constants known to be valid; this keeps the code panic-free.
    LogNormal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!("LogNormal(0, 1) is valid"))
}

/// Rows a defect should touch among `rows`.
fn target_count(rates: &DefectRates, d: Defect, rows: usize) -> u64 {
    (rates.rate(d) * rows as f64).round() as u64
}

fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests;
