//! Writing the CSV files: typed rows are formatted without allocation, altered rows are written
//! as their raw text, appended rows come last.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use chrono::DateTime;

use crate::reference::{Country, Product};
use crate::{Client, GenerateError, Purchase, RawRow};

const BUFFER_BYTES: usize = 1 << 20;

fn open(path: &Path) -> Result<csv::Writer<BufWriter<File>>, GenerateError> {
    let file = File::create(path).map_err(|source| GenerateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(BUFFER_BYTES, file)))
}

fn io_error(path: &Path, e: csv::Error) -> GenerateError {
    GenerateError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    }
}

/// Writes the appended rows (duplicates, newer versions, bad ids) after the others and flushes.
fn finish(
    mut w: csv::Writer<BufWriter<File>>,
    path: &Path,
    appended: &[RawRow],
) -> Result<(), GenerateError> {
    for raw in appended {
        w.write_record(raw).map_err(|e| io_error(path, e))?;
    }
    w.flush().map_err(|source| GenerateError::Io {
        path: path.to_path_buf(),
        source,
    })
}

pub fn write_clients(
    path: &Path,
    clients: &[Client],
    countries: &[Country],
    altered: &BTreeMap<usize, RawRow>,
    appended: &[RawRow],
) -> Result<u64, GenerateError> {
    let mut w = open(path)?;
    let err = |e| io_error(path, e);
    w.write_record(["id_client", "nom", "email", "date_inscription", "pays"])
        .map_err(err)?;
    let mut id = itoa::Buffer::new();
    for (i, c) in clients.iter().enumerate() {
        if let Some(raw) = altered.get(&i) {
            w.write_record(raw).map_err(err)?;
            continue;
        }
        let date = c.inscription.format("%Y-%m-%d").to_string();
        w.write_record([
            id.format(i as u64 + 1).as_bytes(),
            c.nom.as_bytes(),
            c.email.as_bytes(),
            date.as_bytes(),
            countries[c.country].pays.as_bytes(),
        ])
        .map_err(err)?;
    }
    finish(w, path, appended)?;
    Ok((clients.len() + appended.len()) as u64)
}

/// Formats `YYYY-MM-DD HH:MM:SS` for seconds since the epoch, caching the date part.
struct TimestampFormatter {
    day: i64,
    text: [u8; 19],
}

impl TimestampFormatter {
    fn new() -> Self {
        Self {
            day: i64::MIN,
            text: *b"0000-00-00 00:00:00",
        }
    }

    fn format(&mut self, at: i64) -> &[u8] {
        let day = at.div_euclid(86_400);
        if day != self.day {
            self.day = day;
            let date = DateTime::from_timestamp(day * 86_400, 0)
                .map(|t| t.naive_utc().format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            self.text[..10].copy_from_slice(date.as_bytes().get(..10).unwrap_or(b"0000-00-00"));
        }
        let second = at.rem_euclid(86_400);
        for (pos, value) in [
            (11, second / 3600),
            (14, second / 60 % 60),
            (17, second % 60),
        ] {
            self.text[pos] = b'0' + (value / 10) as u8;
            self.text[pos + 1] = b'0' + (value % 10) as u8;
        }
        &self.text
    }
}

fn format_cents(cents: i64, buf: &mut itoa::Buffer, out: &mut Vec<u8>) {
    out.clear();
    if cents < 0 {
        out.push(b'-');
    }
    let c = cents.unsigned_abs();
    out.extend_from_slice(buf.format(c / 100).as_bytes());
    out.push(b'.');
    out.push(b'0' + (c % 100 / 10) as u8);
    out.push(b'0' + (c % 10) as u8);
}

pub fn write_purchases(
    path: &Path,
    purchases: &[Purchase],
    products: &[Product],
    altered: &BTreeMap<usize, RawRow>,
    appended: &[RawRow],
) -> Result<u64, GenerateError> {
    let mut w = open(path)?;
    let err = |e| io_error(path, e);
    w.write_record(["id_achat", "id_client", "date_achat", "montant", "produit"])
        .map_err(err)?;
    let (mut id, mut client, mut money) = (
        itoa::Buffer::new(),
        itoa::Buffer::new(),
        itoa::Buffer::new(),
    );
    let mut amount = Vec::with_capacity(16);
    let mut timestamp = TimestampFormatter::new();
    for (i, p) in purchases.iter().enumerate() {
        if let Some(raw) = altered.get(&i) {
            w.write_record(raw).map_err(err)?;
            continue;
        }
        format_cents(p.cents, &mut money, &mut amount);
        w.write_record([
            id.format(i as u64 + 1).as_bytes(),
            client.format(p.id_client).as_bytes(),
            timestamp.format(p.at),
            &amount,
            products[p.product].produit.as_bytes(),
        ])
        .map_err(err)?;
    }
    finish(w, path, appended)?;
    Ok((purchases.len() + appended.len()) as u64)
}
