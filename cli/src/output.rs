//! Printing query results as a table, CSV or JSON.

use std::io::Write;

use anyhow::{Context, Result};
use datafusion::arrow::array::RecordBatch;

use crate::args::Format;

pub fn print_batches(batches: &[RecordBatch], format: Format) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Table => {
            let table = datafusion::arrow::util::pretty::pretty_format_batches(batches)
                .context("cannot format the result")?;
            writeln!(out, "{table}")?;
        }
        Format::Csv => {
            let mut writer = arrow_csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for batch in batches {
                writer.write(batch).context("cannot write CSV")?;
            }
        }
        Format::Json => {
            let mut writer = arrow_json::ArrayWriter::new(&mut out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            writer.write_batches(&refs).context("cannot write JSON")?;
            writer.finish().context("cannot write JSON")?;
            writeln!(out)?;
        }
    }
    Ok(())
}
