//! Deterministic e-commerce data: `clients.csv` and `achats.csv` with the brief's columns, the
//! defects of the data contract injected at known rates on distinct rows, and a manifest with the
//! exact count of each defect and the Silver outcome it implies.
//!
//! The same `(scale, seed, as_of, rates)` always gives byte-identical files.

pub mod calendar;
pub mod churn;
pub mod defects;
mod names;
pub mod reference;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};

use calendar::{Calendar, Cumulative, WINDOW_DAYS};
use churn::BuyerTimeline;
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

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("unknown defect id {0:?} (expected C1…C8, A1…A14 or a split id such as C5_invalide)")]
    UnknownDefect(String),
    #[error("bad defect rate {0:?}: expected ID=RATE with RATE between 0 and 0.05, e.g. A4=0.01")]
    BadDefectRate(String),
    #[error("scale must be a positive number (got {0})")]
    BadScale(f64),
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

/// A client as generated, before any defect.
#[derive(Debug, Clone)]
struct Client {
    nom: String,
    email: String,
    inscription: NaiveDate,
    country: usize,
}

/// A purchase as generated: time in seconds since the epoch (naive, read as UTC), amount in cents.
#[derive(Debug, Clone, Copy)]
struct Purchase {
    id_client: u64,
    at: i64,
    cents: i64,
    product: usize,
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
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let countries = reference::countries();
    let products = reference::products();
    let calendar = Calendar::ending_before(config.as_of.date());

    let n_clients = ((CLIENTS_PER_SCALE * config.scale).round() as usize).max(10);
    let n_achats = ((ACHATS_PER_SCALE * config.scale).round() as usize).max(100);

    let clients = make_clients(&mut rng, n_clients, &calendar, countries.len());
    let purchases = make_purchases(
        &mut rng,
        &clients,
        n_achats,
        &calendar,
        &products,
        config.churn,
    );

    let mut counts = BTreeMap::new();
    let client_rows = defects_on_clients(
        &mut rng,
        &clients,
        &countries,
        &config.rates,
        &calendar,
        &mut counts,
    );
    let achat_rows = defects_on_purchases(
        &mut rng,
        &purchases,
        &clients,
        &client_rows.invalid_dates,
        &products,
        &config.rates,
        &calendar,
        config.as_of,
        &mut counts,
    );

    std::fs::create_dir_all(&config.out_dir).map_err(|source| GenerateError::Io {
        path: config.out_dir.clone(),
        source,
    })?;
    let clients_path = config.out_dir.join("clients.csv");
    let achats_path = config.out_dir.join("achats.csv");
    let n_client_rows = writer::write_clients(
        &clients_path,
        &clients,
        &countries,
        &client_rows.altered,
        &client_rows.appended,
    )?;
    let n_achat_rows = writer::write_purchases(
        &achats_path,
        &purchases,
        &products,
        &achat_rows.altered,
        &achat_rows.appended,
    )?;

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

fn make_clients(
    rng: &mut ChaCha8Rng,
    n: usize,
    calendar: &Calendar,
    n_countries: usize,
) -> Vec<Client> {
    // France dominates, then the neighbours, then a long tail.
    let country_weights = Cumulative::new(
        (0..n_countries).map(|i| if i == 0 { 8.0 } else { 1.0 / (i as f64).sqrt() }),
    );
    // Registrations over the window and the year before it, more of them recently.
    let span = WINDOW_DAYS as i64 + 365;
    let first = calendar.first_day - Duration::days(365);
    (0..n)
        .map(|i| {
            let id = i as u64 + 1;
            let (prenom, nom) = names::pick(rng);
            let recent: f64 = rng.random::<f64>().sqrt();
            let inscription = first + Duration::days((recent * (span - 1) as f64) as i64);
            Client {
                nom: format!("{} {}", prenom.display, nom.display),
                email: format!(
                    "{}.{}{}@{}",
                    prenom.ascii,
                    nom.ascii,
                    id,
                    names::DOMAINS[rng.random_range(0..names::DOMAINS.len())]
                ),
                inscription,
                country: country_weights.find(rng.random::<f64>() * country_weights.total()),
            }
        })
        .collect()
}

fn make_purchases(
    rng: &mut ChaCha8Rng,
    clients: &[Client],
    n: usize,
    calendar: &Calendar,
    products: &[reference::Product],
    churn: ChurnSignal,
) -> Vec<Purchase> {
    // Heavy-tailed activity: 15 % of clients never buy, the others with a log-normal intensity
    // (one shared rate when there is no churn signal), over the days they are active.
    let activity = LogNormal::new(0.0, 1.1).unwrap_or_else(|_| unreachable_lognormal());
    let timelines: Vec<Option<(BuyerTimeline, f64)>> = clients
        .iter()
        .map(|c| {
            if rng.random::<f64>() < 0.15 {
                return None;
            }
            let first = calendar.index_of(c.inscription.max(calendar.first_day));
            let timeline = BuyerTimeline::new(rng, churn, first, WINDOW_DAYS);
            let rate = match churn {
                ChurnSignal::Decline => activity.sample(rng),
                ChurnSignal::Absent => 1.0,
            };
            Some((timeline, rate))
        })
        .collect();
    let client_weights = Cumulative::new(timelines.iter().map(|t| match t {
        None => 0.0,
        Some((timeline, rate)) => rate * timeline.active_share(calendar),
    }));
    // Cheaper products sell more often.
    let product_weights = Cumulative::new(products.iter().map(|p| 1.0 / p.prix_reference.sqrt()));
    let price_noise = LogNormal::new(0.0, 0.25).unwrap_or_else(|_| unreachable_lognormal());
    let first_second = calendar
        .first_day
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();

    let mut purchases: Vec<Purchase> = (0..n)
        .map(|_| {
            let client = client_weights.find(rng.random::<f64>() * client_weights.total());
            let day = match &timelines[client] {
                Some((timeline, _)) => timeline.sample_day(rng, calendar),
                None => WINDOW_DAYS - 1,
            };
            let hour = calendar
                .hours
                .find(rng.random::<f64>() * calendar.hours.total());
            let second_of_hour = rng.random_range(0..3600);
            let product = product_weights.find(rng.random::<f64>() * product_weights.total());
            let quantity = match rng.random::<f64>() {
                x if x < 0.80 => 1.0,
                x if x < 0.95 => 2.0,
                _ => 3.0,
            };
            let euros = (products[product].prix_reference * price_noise.sample(rng) * quantity)
                .clamp(1.0, 5_000.0);
            Purchase {
                id_client: client as u64 + 1,
                at: first_second + day as i64 * 86_400 + hour as i64 * 3_600 + second_of_hour,
                cents: (euros * 100.0).round() as i64,
                product,
            }
        })
        .collect();
    // Ids follow time, as an order system would assign them.
    purchases.sort_by_key(|p| p.at);
    purchases
}

fn unreachable_lognormal() -> LogNormal<f64> {
    // The parameters above are constants known to be valid; this keeps the code panic-free.
    LogNormal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!("LogNormal(0, 1) is valid"))
}

/// Picks `k` distinct row indices not yet used and accepted by `eligible`.
fn pick_rows(
    rng: &mut ChaCha8Rng,
    used: &mut [bool],
    k: u64,
    eligible: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let n = used.len();
    let mut picked = Vec::with_capacity(k as usize);
    let mut attempts = 0usize;
    while (picked.len() as u64) < k && attempts < n.saturating_mul(20) {
        attempts += 1;
        let i = rng.random_range(0..n);
        if !used[i] && eligible(i) {
            used[i] = true;
            picked.push(i);
        }
    }
    picked
}

fn target_count(rates: &DefectRates, d: Defect, rows: usize) -> u64 {
    (rates.rate(d) * rows as f64).round() as u64
}

struct ClientDefects {
    altered: BTreeMap<usize, RawRow>,
    /// Rows appended after the generated ones, in order.
    appended: Vec<RawRow>,
    /// Clients (0-based) whose `date_inscription` was made unreadable.
    invalid_dates: Vec<bool>,
}

fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn client_raw(id: u64, c: &Client, countries: &[reference::Country]) -> RawRow {
    [
        id.to_string(),
        c.nom.clone(),
        c.email.clone(),
        fmt_date(c.inscription),
        countries[c.country].pays.clone(),
    ]
}

fn defects_on_clients(
    rng: &mut ChaCha8Rng,
    clients: &[Client],
    countries: &[reference::Country],
    rates: &DefectRates,
    calendar: &Calendar,
    counts: &mut BTreeMap<Defect, u64>,
) -> ClientDefects {
    let n = clients.len();
    let mut used = vec![false; n];
    let mut altered = BTreeMap::new();
    let mut appended = Vec::new();
    let mut invalid_dates = vec![false; n];
    for d in Defect::CLIENTS {
        let k = target_count(rates, d, n);
        let rows = if d == Defect::C8 {
            Vec::new()
        } else {
            pick_rows(rng, &mut used, k, |_| true)
        };
        let mut done = rows.len() as u64;
        for i in rows {
            let c = &clients[i];
            let mut raw = client_raw(i as u64 + 1, c, countries);
            match d {
                Defect::C1 => appended.push(raw),
                Defect::C2 => {
                    let (prenom, nom) = names::pick(rng);
                    raw[1] = format!("{} {}", prenom.display, nom.display);
                    raw[2] = format!(
                        "{}.{}{}@nouveau-{}",
                        prenom.ascii,
                        nom.ascii,
                        i + 1,
                        "mail.fr"
                    );
                    appended.push(raw);
                }
                Defect::C3 => {
                    raw[2] = names::shout_email(rng, &c.email);
                    altered.insert(i, raw);
                }
                Defect::C4 => {
                    raw[2] = names::break_email(rng, &c.email);
                    altered.insert(i, raw);
                }
                Defect::C5 => {
                    raw[3] = match rng.random_range(0..3) {
                        0 => c.inscription.format("%d/%m/%Y").to_string(),
                        1 => c.inscription.format("%Y/%m/%d").to_string(),
                        _ => c
                            .inscription
                            .and_time(NaiveTime::MIN)
                            .and_utc()
                            .timestamp()
                            .to_string(),
                    };
                    altered.insert(i, raw);
                }
                Defect::C5Invalide => {
                    raw[3] = ["31/02/2024", "2024-13-01", "inconnue", "00/00/0000"]
                        [rng.random_range(0..4)]
                    .to_string();
                    invalid_dates[i] = true;
                    altered.insert(i, raw);
                }
                Defect::C6 => {
                    raw[4] = names::country_variant(rng, &countries[c.country]);
                    altered.insert(i, raw);
                }
                Defect::C6Inconnu => {
                    raw[4] = ["Atlantide", "Narnia", "XX", "Wakanda"][rng.random_range(0..4)]
                        .to_string();
                    altered.insert(i, raw);
                }
                Defect::C7 => {
                    raw[1] = names::spread_spaces(rng, &c.nom);
                    altered.insert(i, raw);
                }
                _ => {}
            }
        }
        if d == Defect::C8 {
            for _ in 0..k {
                let c = &clients[rng.random_range(0..n)];
                let mut raw = client_raw(0, c, countries);
                raw[0] =
                    ["", "abc", "12.5", "-4", "ID-77", "  "][rng.random_range(0..6)].to_string();
                raw[3] = fmt_date(calendar.first_day);
                appended.push(raw);
            }
            done = k;
        }
        counts.insert(d, done);
    }
    ClientDefects {
        altered,
        appended,
        invalid_dates,
    }
}

struct PurchaseDefects {
    altered: BTreeMap<usize, RawRow>,
    appended: Vec<RawRow>,
}

fn fmt_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

fn fmt_ts(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn purchase_raw(id: u64, p: &Purchase, products: &[reference::Product]) -> RawRow {
    [
        id.to_string(),
        p.id_client.to_string(),
        fmt_ts(p.at),
        fmt_cents(p.cents),
        products[p.product].produit.clone(),
    ]
}

#[allow(clippy::too_many_arguments)]
fn defects_on_purchases(
    rng: &mut ChaCha8Rng,
    purchases: &[Purchase],
    clients: &[Client],
    invalid_dates: &[bool],
    products: &[reference::Product],
    rates: &DefectRates,
    calendar: &Calendar,
    as_of: NaiveDateTime,
    counts: &mut BTreeMap<Defect, u64>,
) -> PurchaseDefects {
    let n = purchases.len();
    let mut used = vec![false; n];
    let mut altered = BTreeMap::new();
    let mut appended = Vec::new();
    let as_of_second = as_of.and_utc().timestamp();
    let a14_floor = calendar.first_day + Duration::days(31);
    for d in Defect::ACHATS {
        let k = target_count(rates, d, n);
        let rows = if d == Defect::A14 {
            // A purchase moved before its client's registration: the client must have a readable
            // registration date late enough for the moved date to stay in the window.
            pick_rows(rng, &mut used, k, |i| {
                let c = (purchases[i].id_client - 1) as usize;
                !invalid_dates[c] && clients[c].inscription >= a14_floor
            })
        } else {
            pick_rows(rng, &mut used, k, |_| true)
        };
        counts.insert(d, rows.len() as u64);
        for i in rows {
            let p = &purchases[i];
            let mut raw = purchase_raw(i as u64 + 1, p, products);
            match d {
                Defect::A1 => {
                    appended.push(raw);
                    continue;
                }
                Defect::A2 => {
                    let other = (p.cents + rng.random_range(100..5_000)).clamp(100, 500_000);
                    let other = if other == p.cents { other - 1 } else { other };
                    raw[3] = fmt_cents(other);
                    appended.push(raw);
                    continue;
                }
                Defect::A3 => raw[3] = names::amount_variant(rng, p.cents),
                Defect::A4 => {
                    raw[3] = ["N/A", "abc", "12.50.3", "douze", "1 234,50"][rng.random_range(0..5)]
                        .to_string()
                }
                Defect::A5 => {
                    raw[3] = if rng.random_bool(0.3) {
                        "0.00".to_string()
                    } else {
                        fmt_cents(-p.cents)
                    }
                }
                Defect::A6 => raw[3] = fmt_cents(rng.random_range(1_000_001..5_000_000)),
                Defect::A7 => raw[2] = names::timestamp_variant(rng, p.at),
                Defect::A8 => {
                    raw[2] = [
                        "2024-13-45 10:00:00",
                        "hier",
                        "25/25/2025 25:61",
                        "0000-00-00 00:00:00",
                    ][rng.random_range(0..4)]
                    .to_string()
                }
                Defect::A9 => raw[2] = fmt_ts(as_of_second + rng.random_range(86_400..30 * 86_400)),
                Defect::A10 => {
                    raw[1] = (clients.len() as u64 + 1 + rng.random_range(0..clients.len() as u64))
                        .to_string()
                }
                Defect::A11 => raw[4] = ["", "   "][rng.random_range(0..2)].to_string(),
                Defect::A12 => raw[4] = names::spread_case(rng, &products[p.product].produit),
                Defect::A12HorsCatalogue => {
                    raw[4] = names::NEW_PRODUCTS[rng.random_range(0..names::NEW_PRODUCTS.len())]
                        .to_string()
                }
                Defect::A13 => {
                    raw[0] = ["", "ACH-12", "12.5", "-7", "  "][rng.random_range(0..5)].to_string()
                }
                Defect::A14 => {
                    let c = &clients[(p.id_client - 1) as usize];
                    let day = c.inscription - Duration::days(rng.random_range(1..=30));
                    let second_of_day = p.at.rem_euclid(86_400);
                    raw[2] =
                        fmt_ts(day.and_time(NaiveTime::MIN).and_utc().timestamp() + second_of_day);
                }
                _ => {}
            }
            altered.insert(i, raw);
        }
    }
    // The calendar guarantees legitimate dates stay before as_of; keep the year check honest.
    debug_assert!(calendar.day(WINDOW_DAYS - 1).year() <= as_of.year());
    PurchaseDefects { altered, appended }
}

#[cfg(test)]
mod tests;
