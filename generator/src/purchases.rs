//! The purchases pass, in bounded memory. Purchases are drawn independently (a client by purchase
//! share, then a day in their timeline, an hour, a product and an amount) and staged in scratch
//! files of [`BUCKET_DAYS`] days each, as fixed-size records. Each bucket is then read back
//! alone, sorted by time (ids follow time, as an order system would assign them), given its
//! defects and written: memory holds one bucket, about 1/73 of the purchases.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use crate::calendar::{Cumulative, WINDOW_DAYS};
use crate::clients::Buyers;
use crate::defects::Defect;
use crate::reference::Product;
use crate::selection::Selection;
use crate::writer::{CsvOut, TimestampFormatter, format_cents};
use crate::{GenerateError, RawRow, Setting, names, rng_stream, target_count};

/// The columns of `achats.csv`, in order.
pub const HEADER: [&str; 5] = ["id_achat", "id_client", "date_achat", "montant", "produit"];

/// Days of purchases per scratch file: 73 files over the two-year window.
const BUCKET_DAYS: usize = 10;
/// Purchases are drawn in this many slices, in parallel, each from its own random stream and
/// into its own scratch files. The count is fixed so that the output does not depend on the
/// machine's cores.
const DRAW_SLICES: usize = 4;
/// Bytes of one staged purchase.
const RECORD_BYTES: usize = 16;

/// A purchase as drawn: its second in the window, its client (0-based), its amount in cents, its
/// product, and whether it may carry defect A14 (see [`Buyers::a14_registration`]).
#[derive(Debug, Clone, Copy)]
struct Drawn {
    second: u32,
    client: u32,
    cents: u32,
    product: u16,
    a14_eligible: bool,
}

impl Drawn {
    fn encode(&self) -> [u8; RECORD_BYTES] {
        let mut bytes = [0u8; RECORD_BYTES];
        bytes[0..4].copy_from_slice(&self.second.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.client.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.cents.to_le_bytes());
        bytes[12..14].copy_from_slice(&self.product.to_le_bytes());
        bytes[14] = u8::from(self.a14_eligible);
        bytes
    }

    fn decode(bytes: &[u8]) -> Self {
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        Self {
            second: word(0),
            client: word(4),
            cents: word(8),
            product: u16::from_le_bytes([bytes[12], bytes[13]]),
            a14_eligible: bytes[14] != 0,
        }
    }
}

/// The scratch files, one per [`BUCKET_DAYS`] days of the window.
struct Buckets {
    paths: Vec<PathBuf>,
    writers: Vec<BufWriter<File>>,
    rows: Vec<usize>,
}

impl Buckets {
    fn create(scratch: &Path, slice: usize) -> Result<Self, GenerateError> {
        let count = WINDOW_DAYS.div_ceil(BUCKET_DAYS);
        let paths: Vec<PathBuf> = (0..count)
            .map(|b| scratch.join(format!("achats-{slice}-{b:03}.bin")))
            .collect();
        let writers = paths
            .iter()
            .map(|path| {
                File::create(path)
                    .map(|f| BufWriter::with_capacity(64 << 10, f))
                    .map_err(|source| io_error(path, source))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            paths,
            writers,
            rows: vec![0; count],
        })
    }

    fn push(&mut self, day: usize, drawn: &Drawn) -> Result<(), GenerateError> {
        let b = (day / BUCKET_DAYS).min(self.writers.len() - 1);
        self.rows[b] += 1;
        self.writers[b]
            .write_all(&drawn.encode())
            .map_err(|source| io_error(&self.paths[b], source))
    }

    /// Closes the files and returns, in time order, each one's path and row count.
    fn finish(self) -> Result<Vec<(PathBuf, usize)>, GenerateError> {
        for (mut w, path) in self.writers.into_iter().zip(&self.paths) {
            w.flush().map_err(|source| io_error(path, source))?;
        }
        Ok(self.paths.into_iter().zip(self.rows).collect())
    }
}

/// Reads back one bucket of every slice, in slice order, removing the files.
fn read_bucket(parts: &[(PathBuf, usize)]) -> Result<Vec<Drawn>, GenerateError> {
    let rows = parts.iter().map(|(_, rows)| rows).sum::<usize>();
    let mut drawn = Vec::with_capacity(rows);
    let mut bytes = Vec::new();
    for (path, rows) in parts {
        bytes.clear();
        bytes.reserve(rows * RECORD_BYTES);
        let file = File::open(path).map_err(|source| io_error(path, source))?;
        BufReader::new(file)
            .read_to_end(&mut bytes)
            .map_err(|source| io_error(path, source))?;
        std::fs::remove_file(path).map_err(|source| io_error(path, source))?;
        drawn.extend(bytes.chunks_exact(RECORD_BYTES).map(Drawn::decode));
    }
    Ok(drawn)
}

/// One slice of the purchases drawn and staged: its buckets' files and row counts, and how many
/// of its purchases may carry defect A14.
struct Slice {
    buckets: Vec<(PathBuf, usize)>,
    eligible_for_a14: u64,
}

fn draw_slice(
    sampler: &PurchaseSampler,
    buyers: &Buyers,
    slice: usize,
    rows: usize,
    scratch: &Path,
) -> Result<Slice, GenerateError> {
    let seed = sampler.setting.config.seed;
    let mut rng = rng_stream(seed, crate::STREAM_PURCHASES + slice as u64);
    let mut buckets = Buckets::create(scratch, slice)?;
    let mut eligible_for_a14 = 0u64;
    for _ in 0..rows {
        let (day, drawn) = sampler.draw(&mut rng, buyers);
        eligible_for_a14 += u64::from(drawn.a14_eligible);
        buckets.push(day, &drawn)?;
    }
    Ok(Slice {
        buckets: buckets.finish()?,
        eligible_for_a14,
    })
}

/// Draws `n` purchases in [`DRAW_SLICES`] parallel slices.
fn draw_all(
    setting: &Setting,
    buyers: &Buyers,
    n: usize,
    scratch: &Path,
) -> Result<Vec<Slice>, GenerateError> {
    let sampler = PurchaseSampler::new(setting);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..DRAW_SLICES)
            .map(|slice| {
                let rows = n / DRAW_SLICES + usize::from(slice < n % DRAW_SLICES);
                let sampler = &sampler;
                scope.spawn(move || draw_slice(sampler, buyers, slice, rows, scratch))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn io_error(path: &Path, source: std::io::Error) -> GenerateError {
    GenerateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The outcome of the purchases pass.
pub(crate) struct PurchasesWritten {
    pub rows: u64,
    pub counts: BTreeMap<Defect, u64>,
}

/// Draws `n` purchases of `buyers` and writes `achats.csv` into `out_dir`, staging in `scratch`.
pub(crate) fn write(
    setting: &Setting,
    buyers: &Buyers,
    n: usize,
    out_dir: &Path,
    scratch: &Path,
) -> Result<PurchasesWritten, GenerateError> {
    let config = setting.config;
    let slices = draw_all(setting, buyers, n, scratch)?;
    let eligible_for_a14 = slices.iter().map(|s| s.eligible_for_a14).sum();

    // A14 (a purchase moved before its client's registration) needs a client with a readable
    // registration late enough in the window; the other defects take any of the other rows.
    let a14_target = target_count(&config.rates, Defect::A14, n);
    let mut a14 = Selection::new([(Defect::A14, a14_target)], eligible_for_a14);
    let a14_count: u64 = a14.counts().map(|(_, k)| k).sum();
    let mut others = Selection::new(
        Defect::ACHATS
            .into_iter()
            .filter(|d| *d != Defect::A14)
            .map(|d| (d, target_count(&config.rates, d, n))),
        n as u64 - a14_count,
    );
    let counts = a14.counts().chain(others.counts()).collect();

    let mut defect_rng = rng_stream(config.seed, crate::STREAM_PURCHASE_DEFECTS);
    let mut out = CsvOut::create(&out_dir.join("achats.csv"), Some(&HEADER))?;
    let mut added = CsvOut::create(&scratch.join("achats.added.csv"), None)?;
    let mut row = RowWriter::new(setting, buyers);
    let mut id = 0u64;
    let bucket_count = slices.first().map_or(0, |s| s.buckets.len());
    for b in 0..bucket_count {
        let parts: Vec<(PathBuf, usize)> = slices
            .iter()
            .filter_map(|s| s.buckets.get(b).cloned())
            .collect();
        let mut bucket = read_bucket(&parts)?;
        // Stable: purchases of the same second keep the order of their slice, then of their draw.
        bucket.sort_by_key(|p| p.second);
        for drawn in bucket {
            id += 1;
            let defect = drawn
                .a14_eligible
                .then(|| a14.next_row(&mut defect_rng))
                .flatten()
                .or_else(|| others.next_row(&mut defect_rng));
            row.write(&mut out, &mut added, &mut defect_rng, id, &drawn, defect)?;
        }
    }
    Ok(PurchasesWritten {
        rows: out.finish(added)?,
        counts,
    })
}

/// Draws one purchase at a time.
struct PurchaseSampler<'a> {
    setting: &'a Setting<'a>,
    /// Cheaper products sell more often.
    products: Cumulative,
    price_noise: LogNormal<f64>,
}

impl<'a> PurchaseSampler<'a> {
    fn new(setting: &'a Setting<'a>) -> Self {
        Self {
            setting,
            products: Cumulative::new(
                setting
                    .products
                    .iter()
                    .map(|p| 1.0 / p.prix_reference.sqrt()),
            ),
            price_noise: LogNormal::new(0.0, 0.25).unwrap_or_else(|_| crate::unit_lognormal()),
        }
    }

    /// A purchase and its day in the window.
    fn draw(&self, rng: &mut ChaCha8Rng, buyers: &Buyers) -> (usize, Drawn) {
        let calendar = &self.setting.calendar;
        let client = buyers.pick(rng);
        let (timeline, a14_eligible) = buyers.timeline(client);
        let day = match timeline {
            Some(timeline) => timeline.sample_day(rng, calendar),
            None => WINDOW_DAYS - 1,
        };
        let hour = calendar
            .hours
            .find(rng.random::<f64>() * calendar.hours.total());
        let second_of_hour = rng.random_range(0..3600);
        let product = self
            .products
            .find(rng.random::<f64>() * self.products.total());
        let quantity = match rng.random::<f64>() {
            x if x < 0.80 => 1.0,
            x if x < 0.95 => 2.0,
            _ => 3.0,
        };
        let euros = (self.setting.products[product].prix_reference
            * self.price_noise.sample(rng)
            * quantity)
            .clamp(1.0, 5_000.0);
        let drawn = Drawn {
            second: (day * 86_400 + hour * 3_600 + second_of_hour) as u32,
            client: client as u32,
            cents: (euros * 100.0).round() as u32,
            product: product as u16,
            a14_eligible,
        };
        (day, drawn)
    }
}

/// A purchase as written: time in seconds since the epoch (naive, read as UTC), amount in cents.
#[derive(Debug, Clone, Copy)]
struct Purchase {
    id_client: u64,
    at: i64,
    cents: i64,
    product: usize,
}

/// Formats purchase rows, clean or with their defect.
struct RowWriter<'a> {
    setting: &'a Setting<'a>,
    buyers: &'a Buyers,
    first_second: i64,
    as_of_second: i64,
    id: itoa::Buffer,
    client: itoa::Buffer,
    money: itoa::Buffer,
    amount: Vec<u8>,
    timestamp: TimestampFormatter,
}

impl<'a> RowWriter<'a> {
    fn new(setting: &'a Setting<'a>, buyers: &'a Buyers) -> Self {
        Self {
            setting,
            buyers,
            first_second: setting
                .calendar
                .first_day
                .and_time(NaiveTime::MIN)
                .and_utc()
                .timestamp(),
            as_of_second: setting.config.as_of.and_utc().timestamp(),
            id: itoa::Buffer::new(),
            client: itoa::Buffer::new(),
            money: itoa::Buffer::new(),
            amount: Vec::with_capacity(16),
            timestamp: TimestampFormatter::new(),
        }
    }

    fn write(
        &mut self,
        out: &mut CsvOut,
        added: &mut CsvOut,
        rng: &mut ChaCha8Rng,
        id: u64,
        drawn: &Drawn,
        defect: Option<Defect>,
    ) -> Result<(), GenerateError> {
        let p = Purchase {
            id_client: drawn.client as u64 + 1,
            at: self.first_second + drawn.second as i64,
            cents: drawn.cents as i64,
            product: drawn.product as usize,
        };
        let Some(d) = defect else {
            return self.write_clean(out, id, &p);
        };
        let raw = purchase_raw(id, &p, &self.setting.products);
        match d {
            // A duplicate (A1) or a second version (A2) is added; the original stays as is.
            Defect::A1 | Defect::A2 => {
                self.write_clean(out, id, &p)?;
                added.write(self.with_defect(rng, d, raw, &p))
            }
            _ => out.write(self.with_defect(rng, d, raw, &p)),
        }
    }

    fn write_clean(
        &mut self,
        out: &mut CsvOut,
        id: u64,
        p: &Purchase,
    ) -> Result<(), GenerateError> {
        format_cents(p.cents, &mut self.money, &mut self.amount);
        out.write([
            self.id.format(id).as_bytes(),
            self.client.format(p.id_client).as_bytes(),
            self.timestamp.format(p.at),
            &self.amount,
            self.setting.products[p.product].produit.as_bytes(),
        ])
    }

    /// The text of a purchase row once defect `d` is applied (for A1 and A2, the row added).
    fn with_defect(
        &self,
        rng: &mut ChaCha8Rng,
        d: Defect,
        mut raw: RawRow,
        p: &Purchase,
    ) -> RawRow {
        let products = &self.setting.products;
        match d {
            Defect::A2 => {
                let other = (p.cents + rng.random_range(100..5_000)).clamp(100, 500_000);
                let other = if other == p.cents { other - 1 } else { other };
                raw[3] = fmt_cents(other);
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
            Defect::A9 => {
                raw[2] = fmt_ts(self.as_of_second + rng.random_range(86_400..30 * 86_400))
            }
            Defect::A10 => {
                let clients = self.buyers.len() as u64;
                raw[1] = (clients + 1 + rng.random_range(0..clients.max(1))).to_string()
            }
            Defect::A11 => raw[4] = ["", "   "][rng.random_range(0..2)].to_string(),
            Defect::A12 => raw[4] = names::spread_case(rng, &products[p.product].produit),
            Defect::A12HorsCatalogue => {
                raw[4] =
                    names::NEW_PRODUCTS[rng.random_range(0..names::NEW_PRODUCTS.len())].to_string()
            }
            Defect::A13 => {
                raw[0] = ["", "ACH-12", "12.5", "-7", "  "][rng.random_range(0..5)].to_string()
            }
            Defect::A14 => {
                // Selected only for clients with a registration (see `Buyers`).
                if let Some(registration) = self.buyers.a14_registration((p.id_client - 1) as usize)
                {
                    let day = registration - Duration::days(rng.random_range(1..=30));
                    let second_of_day = p.at.rem_euclid(86_400);
                    raw[2] =
                        fmt_ts(day.and_time(NaiveTime::MIN).and_utc().timestamp() + second_of_day);
                }
            }
            // A1 adds the row unchanged; the clients' defects never reach here.
            _ => {}
        }
        raw
    }
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

fn purchase_raw(id: u64, p: &Purchase, products: &[Product]) -> RawRow {
    [
        id.to_string(),
        p.id_client.to_string(),
        fmt_ts(p.at),
        fmt_cents(p.cents),
        products[p.product].produit.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_purchase_reads_back_as_written() {
        let drawn = Drawn {
            second: 63_071_999,
            client: u32::MAX - 1,
            cents: 500_000,
            product: 1_234,
            a14_eligible: true,
        };
        let back = Drawn::decode(&drawn.encode());
        assert_eq!(
            (
                back.second,
                back.client,
                back.cents,
                back.product,
                back.a14_eligible
            ),
            (63_071_999, u32::MAX - 1, 500_000, 1_234, true)
        );
    }
}
