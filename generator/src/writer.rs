//! Writing the CSV files: typed rows are formatted without allocation, altered rows are written
//! as their raw text, and rows that defects add are kept in a side file copied after the others.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::DateTime;

use crate::GenerateError;

const BUFFER_BYTES: usize = 1 << 20;

fn io_error(path: &Path, source: std::io::Error) -> GenerateError {
    GenerateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn csv_error(path: &Path, e: csv::Error) -> GenerateError {
    io_error(path, std::io::Error::other(e))
}

/// One CSV file being written, counting its data rows.
pub(crate) struct CsvOut {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    rows: u64,
}

impl CsvOut {
    /// Creates (or truncates) the file; `header`, when given, is its first line.
    pub(crate) fn create(path: &Path, header: Option<&[&str]>) -> Result<Self, GenerateError> {
        let file = File::create(path).map_err(|e| io_error(path, e))?;
        let mut writer =
            csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(BUFFER_BYTES, file));
        if let Some(header) = header {
            writer
                .write_record(header)
                .map_err(|e| csv_error(path, e))?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            writer,
            rows: 0,
        })
    }

    /// Writes one data row.
    pub(crate) fn write<I, T>(&mut self, record: I) -> Result<(), GenerateError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.rows += 1;
        self.writer
            .write_record(record)
            .map_err(|e| csv_error(&self.path, e))
    }

    fn flush(&mut self) -> Result<(), GenerateError> {
        self.writer.flush().map_err(|e| io_error(&self.path, e))
    }

    /// Copies the rows of `added` (a file written without a header) after this file's rows,
    /// removes it, flushes this file and returns its number of data rows.
    pub(crate) fn finish(mut self, mut added: CsvOut) -> Result<u64, GenerateError> {
        added.flush()?;
        let CsvOut {
            path: added_path,
            writer: added_writer,
            rows: added_rows,
        } = added;
        drop(added_writer);
        self.flush()?;
        let mut inner = self
            .writer
            .into_inner()
            .map_err(|e| io_error(&self.path, e.into_error()))?;
        let mut file = File::open(&added_path).map_err(|e| io_error(&added_path, e))?;
        std::io::copy(&mut file, &mut inner).map_err(|e| io_error(&self.path, e))?;
        inner.flush().map_err(|e| io_error(&self.path, e))?;
        std::fs::remove_file(&added_path).map_err(|e| io_error(&added_path, e))?;
        Ok(self.rows + added_rows)
    }
}

/// Formats `YYYY-MM-DD HH:MM:SS` for seconds since the epoch, caching the date part.
pub(crate) struct TimestampFormatter {
    day: i64,
    text: [u8; 19],
}

impl TimestampFormatter {
    pub(crate) fn new() -> Self {
        Self {
            day: i64::MIN,
            text: *b"0000-00-00 00:00:00",
        }
    }

    pub(crate) fn format(&mut self, at: i64) -> &[u8] {
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

/// Writes `cents` as euros with two decimals (`-12.05`) into `out`.
pub(crate) fn format_cents(cents: i64, buf: &mut itoa::Buffer, out: &mut Vec<u8>) {
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
