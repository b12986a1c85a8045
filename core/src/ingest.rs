//! `lake ingest`: local CSV files → `sources/` (raw copy) → `bronze/` (Parquet, every value kept
//! as text, plus the source file name and line number of each row).
//!
//! Idempotent and incremental: the Bronze manifest records each file's SHA-256, so an unchanged
//! file is skipped and a new one is ingested alone. A file re-delivered under the same name with
//! new content replaces its previous version. Bronze readers see only the files listed in the
//! manifest, which is rewritten last: a refused or interrupted file is never visible.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::clock::now;
use crate::error::{LakeError, Result};
use crate::storage::Lake;

/// Key of the Bronze manifest.
pub const BRONZE_MANIFEST: &str = "bronze/_manifest.json";
/// Rows per Parquet row group / Arrow batch written to Bronze.
const BATCH_ROWS: usize = 64 * 1024;

/// Bronze metadata columns added to every row.
pub const COL_FILE: &str = "_fichier";
pub const COL_LINE: &str = "_ligne";
pub const COL_ERROR: &str = "_erreur";

/// A source entity of the contract and its required columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Clients,
    Achats,
}

impl Entity {
    pub const ALL: [Entity; 2] = [Entity::Clients, Entity::Achats];

    pub fn name(self) -> &'static str {
        match self {
            Entity::Clients => "clients",
            Entity::Achats => "achats",
        }
    }

    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            Entity::Clients => &["id_client", "nom", "email", "date_inscription", "pays"],
            Entity::Achats => &["id_achat", "id_client", "date_achat", "montant", "produit"],
        }
    }

    /// The entity of a source file, from its name (`clients*.csv`, `achats*.csv`).
    pub fn of_file(name: &str) -> Option<Entity> {
        let lower = name.to_lowercase();
        if !lower.ends_with(".csv") {
            return None;
        }
        Entity::ALL
            .into_iter()
            .find(|e| lower.starts_with(e.name()))
    }

    /// The schema every Bronze reader uses: required columns, then the metadata columns.
    /// Extra columns stay in the files but are not read.
    pub fn bronze_schema(self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .required_columns()
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect();
        fields.extend(metadata_fields());
        Arc::new(Schema::new(fields))
    }
}

fn metadata_fields() -> [Field; 3] {
    [
        Field::new(COL_FILE, DataType::Utf8, false),
        Field::new(COL_LINE, DataType::Int64, false),
        Field::new(COL_ERROR, DataType::Utf8, true),
    ]
}

/// One ingested source file, as recorded in the Bronze manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BronzeFile {
    pub entity: Entity,
    pub source_name: String,
    pub sha256: String,
    pub bytes: u64,
    pub rows: u64,
    /// Rows whose field count differs from the header's (kept, flagged in `_erreur`).
    pub malformed_rows: u64,
    pub extra_columns: Vec<String>,
    pub source_key: String,
    pub bronze_key: String,
    pub ingested_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BronzeManifest {
    pub files: Vec<BronzeFile>,
    pub updated_at: String,
}

impl BronzeManifest {
    pub async fn load(lake: &Lake) -> Result<Self> {
        Ok(lake.get_json(BRONZE_MANIFEST).await?.unwrap_or_default())
    }

    pub fn files_of(&self, entity: Entity) -> impl Iterator<Item = &BronzeFile> {
        self.files.iter().filter(move |f| f.entity == entity)
    }
}

/// What one `ingest` did, file by file.
#[derive(Debug, Default)]
pub struct IngestReport {
    pub ingested: Vec<BronzeFile>,
    /// Files whose content was already in Bronze.
    pub unchanged: Vec<String>,
    /// Files refused, with the reason (nothing of them entered Bronze).
    pub refused: Vec<LakeError>,
    /// Files that are not `clients*.csv` or `achats*.csv`.
    pub ignored: Vec<String>,
    /// Warnings about accepted files (extra columns, malformed rows, no rows).
    pub warnings: Vec<String>,
}

/// Ingests every `clients*.csv` and `achats*.csv` of `source_dir`, in name order.
pub async fn ingest_folder(
    lake: &Lake,
    source_dir: &Path,
    mut on_file: impl FnMut(&str),
) -> Result<IngestReport> {
    let entries = std::fs::read_dir(source_dir).map_err(|source| LakeError::Io {
        path: source_dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();

    let mut manifest = BronzeManifest::load(lake).await?;
    let mut report = IngestReport::default();
    let mut replaced_keys = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(entity) = Entity::of_file(&name) else {
            report.ignored.push(name);
            continue;
        };
        on_file(&name);
        let (sha256, bytes) = hash_file(&path)?;
        if let Some(known) = manifest.files.iter().find(|f| f.sha256 == sha256) {
            report.unchanged.push(if known.source_name == name {
                name
            } else {
                format!("{name} (same content as {})", known.source_name)
            });
            continue;
        }
        match ingest_file(lake, &path, &name, entity, &sha256, bytes).await {
            Ok(file) => {
                if !file.extra_columns.is_empty() {
                    report.warnings.push(format!(
                        "{name}: extra column(s) {} kept in Bronze, ignored by Silver",
                        file.extra_columns.join(", ")
                    ));
                }
                if file.malformed_rows > 0 {
                    report.warnings.push(format!(
                        "{name}: {} row(s) with a wrong number of fields, kept and flagged (Silver quarantines them as ligne_malformee)",
                        file.malformed_rows
                    ));
                }
                if file.rows == 0 {
                    report
                        .warnings
                        .push(format!("{name}: header only, no data rows"));
                }
                if let Some(old) = manifest.files.iter().position(|f| f.source_name == name) {
                    replaced_keys.push(manifest.files.remove(old).bronze_key);
                }
                manifest.files.push(file.clone());
                report.ingested.push(file);
            }
            Err(e) => report.refused.push(e),
        }
    }
    if !report.ingested.is_empty() {
        manifest.updated_at = now();
        lake.put_json(BRONZE_MANIFEST, &manifest).await?;
        for key in replaced_keys {
            lake.delete(&key).await?;
        }
    }
    Ok(report)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LakeError + '_ {
    move |source| LakeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io_err(path))?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    let digest = hasher.finalize();
    Ok((digest.iter().map(|b| format!("{b:02x}")).collect(), total))
}

async fn ingest_file(
    lake: &Lake,
    path: &Path,
    name: &str,
    entity: Entity,
    sha256: &str,
    bytes: u64,
) -> Result<BronzeFile> {
    let refuse = |reason: String| LakeError::RefusedFile {
        file: name.to_string(),
        reason,
    };
    if bytes == 0 {
        return Err(refuse("empty file: expected a header row".into()));
    }
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let bronze_key = format!("bronze/{}/{stem}-{}.parquet", entity.name(), &sha256[..12]);
    let source_key = format!("sources/{}/{name}", entity.name());

    let result = convert_to_bronze(lake, path, name, entity, &bronze_key).await;
    let (rows, malformed_rows, extra_columns) = match result {
        Ok(counts) => counts,
        Err(e) => {
            // Never leave a refused file's Parquet behind (it is not in the manifest anyway).
            let _ = lake.delete(&bronze_key).await;
            return Err(e);
        }
    };
    upload_raw(lake, path, &source_key).await?;
    Ok(BronzeFile {
        entity,
        source_name: name.to_string(),
        sha256: sha256.to_string(),
        bytes,
        rows,
        malformed_rows,
        extra_columns,
        source_key,
        bronze_key,
        ingested_at: now(),
    })
}

async fn upload_raw(lake: &Lake, path: &Path, key: &str) -> Result<()> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut writer = lake.writer(key);
    let mut buf = vec![0u8; 4 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        writer
            .write_all(&buf[..n])
            .await
            .map_err(|e| upload_error(lake, key, e))?;
    }
    writer
        .shutdown()
        .await
        .map_err(|e| upload_error(lake, key, e))?;
    Ok(())
}

fn upload_error(lake: &Lake, key: &str, e: std::io::Error) -> LakeError {
    lake.storage_error(
        key,
        object_store::Error::Generic {
            store: "lake",
            source: Box::new(e),
        },
    )
}

/// Column layout of one source file: where each Bronze column comes from.
struct Layout {
    /// For each required column, its position in the file.
    required: Vec<usize>,
    /// Extra columns: (name, position in the file).
    extra: Vec<(String, usize)>,
    header_len: usize,
}

fn read_layout(header: &csv::ByteRecord, entity: Entity) -> std::result::Result<Layout, String> {
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let text = std::str::from_utf8(raw)
            .map_err(|_| format!("header column {} is not valid UTF-8", i + 1))?;
        let name = text.trim().to_lowercase();
        if names.contains(&name) {
            return Err(format!("column {name:?} appears twice in the header"));
        }
        names.push(name);
    }
    let mut required = Vec::new();
    for col in entity.required_columns() {
        match names.iter().position(|n| n == col) {
            Some(i) => required.push(i),
            None => {
                return Err(format!(
                    "missing required column {col:?} (header has: {})",
                    names.join(", ")
                ));
            }
        }
    }
    let extra = names
        .iter()
        .enumerate()
        .filter(|(i, n)| !required.contains(i) && !n.is_empty() && !n.starts_with('_'))
        .map(|(i, n)| (n.clone(), i))
        .collect();
    Ok(Layout {
        required,
        extra,
        header_len: names.len(),
    })
}

struct BatchBuilder {
    columns: Vec<StringBuilder>,
    file: StringBuilder,
    line: Int64Builder,
    error: StringBuilder,
    rows: usize,
}

impl BatchBuilder {
    fn new(n_columns: usize) -> Self {
        Self {
            columns: (0..n_columns)
                .map(|_| StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16))
                .collect(),
            file: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16),
            line: Int64Builder::with_capacity(BATCH_ROWS),
            error: StringBuilder::with_capacity(BATCH_ROWS, 0),
            rows: 0,
        }
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        arrays.push(Arc::new(self.file.finish()));
        arrays.push(Arc::new(self.line.finish()));
        arrays.push(Arc::new(self.error.finish()));
        self.rows = 0;
        Ok(RecordBatch::try_new(schema.clone(), arrays)
            .map_err(datafusion::error::DataFusionError::from)?)
    }
}

/// Reads the CSV and writes its Bronze Parquet; returns (rows, malformed rows, extra columns).
async fn convert_to_bronze(
    lake: &Lake,
    path: &Path,
    name: &str,
    entity: Entity,
    bronze_key: &str,
) -> Result<(u64, u64, Vec<String>)> {
    let refuse = |reason: String| LakeError::RefusedFile {
        file: name.to_string(),
        reason,
    };
    let mut lines = LineCounter::open(path)?;
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|e| refuse(format!("cannot read the header: {e}")))?
        .clone();
    let layout = read_layout(&header, entity).map_err(refuse)?;
    lines
        .advance(reader.position().byte())
        .map_err(io_err(path))?;

    let mut fields: Vec<Field> = entity
        .required_columns()
        .iter()
        .map(|c| Field::new(*c, DataType::Utf8, true))
        .collect();
    fields.extend(
        layout
            .extra
            .iter()
            .map(|(n, _)| Field::new(n, DataType::Utf8, true)),
    );
    fields.extend(metadata_fields());
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let positions: Vec<usize> = layout
        .required
        .iter()
        .copied()
        .chain(layout.extra.iter().map(|(_, i)| *i))
        .collect();

    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(BATCH_ROWS * 4))
        .build();
    let mut writer =
        AsyncArrowWriter::try_new(lake.writer(bronze_key), schema.clone(), Some(props))
            .map_err(|e| refuse(format!("cannot start the Bronze file: {e}")))?;

    let mut batch = BatchBuilder::new(positions.len());
    let mut record = csv::ByteRecord::new();
    let (mut rows, mut malformed) = (0u64, 0u64);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(refuse(format!("unreadable CSV at line {line}: {e}")));
            }
        }
        let line = lines
            .first_line_of(&record, reader.position().byte())
            .map_err(io_err(path))?;
        for (b, &pos) in batch.columns.iter_mut().zip(&positions) {
            match record.get(pos) {
                None | Some(b"") => b.append_null(),
                Some(raw) => match std::str::from_utf8(raw) {
                    Ok(text) => b.append_value(text),
                    Err(_) => {
                        return Err(refuse(format!(
                            "not valid UTF-8 at line {line}: re-encode the file as UTF-8"
                        )));
                    }
                },
            }
        }
        batch.file.append_value(name);
        batch.line.append_value(line as i64);
        if record.len() == layout.header_len {
            batch.error.append_null();
        } else {
            malformed += 1;
            batch.error.append_value(format!(
                "{} champ(s) au lieu de {}",
                record.len(),
                layout.header_len
            ));
        }
        batch.rows += 1;
        rows += 1;
        if batch.rows == BATCH_ROWS {
            let b = batch.finish(&schema)?;
            writer
                .write(&b)
                .await
                .map_err(|e| refuse(format!("cannot write Bronze: {e}")))?;
        }
    }
    if batch.rows > 0 || rows == 0 {
        let b = batch.finish(&schema)?;
        writer
            .write(&b)
            .await
            .map_err(|e| refuse(format!("cannot write Bronze: {e}")))?;
    }
    writer.close().await.map_err(|e| {
        refuse(format!(
            "cannot finish the Bronze file {}: {e}",
            lake.url(bronze_key)
        ))
    })?;
    let extra = layout.extra.into_iter().map(|(n, _)| n).collect();
    Ok((rows, malformed, extra))
}

/// The line a text editor shows for each row of a CSV file (header = line 1).
///
/// The csv reader's record positions are where its scan started, before the blank lines it
/// skips and, in a CRLF file, before the `\n` left over from the previous row's `\r\n` (it ends
/// a row at its `\r`): rows after a blank line, and every row of a Windows export, came out one
/// line short or more. This reads the same file alongside, up to where the reader stopped after
/// each row, counting line breaks: the row ends on the last line read (one before, when the
/// reader stopped just past a `\n`), and starts as many lines earlier as its fields hold line
/// breaks.
struct LineCounter {
    file: BufReader<File>,
    /// Bytes read so far, the line breaks among them, and the last of them.
    offset: u64,
    breaks: u64,
    last: u8,
}

impl LineCounter {
    fn open(path: &Path) -> Result<Self> {
        Ok(Self {
            file: BufReader::with_capacity(1 << 20, File::open(path).map_err(io_err(path))?),
            offset: 0,
            breaks: 0,
            last: 0,
        })
    }

    /// Counts the line breaks up to byte `end`, where the csv reader stands.
    fn advance(&mut self, end: u64) -> std::io::Result<()> {
        use std::io::BufRead;
        while self.offset < end {
            let chunk = self.file.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let wanted = usize::try_from(end - self.offset).unwrap_or(usize::MAX);
            let taken = &chunk[..chunk.len().min(wanted)];
            self.breaks += memchr::memchr_iter(b'\n', taken).count() as u64;
            self.last = taken.last().copied().unwrap_or(self.last);
            let n = taken.len();
            self.file.consume(n);
            self.offset += n as u64;
        }
        Ok(())
    }

    /// The first line of `record`, which the csv reader read up to byte `end`.
    fn first_line_of(&mut self, record: &csv::ByteRecord, end: u64) -> std::io::Result<u64> {
        // A record starts no earlier than the line where the previous one (or the header)
        // ended.
        let earliest = 1 + self.breaks;
        self.advance(end)?;
        let last_line = 1 + self.breaks - u64::from(self.last == b'\n');
        let inner_breaks = memchr::memchr_iter(b'\n', record.as_slice()).count() as u64;
        // A quote left open at the end of the file makes its final `\n` part of the record,
        // counted above as a break inside it and as its terminator: the bound corrects that.
        Ok(last_line.saturating_sub(inner_breaks).max(earliest))
    }
}

/// Bronze files per entity, for registering the Bronze tables.
pub fn bronze_urls(lake: &Lake, manifest: &BronzeManifest) -> BTreeMap<Entity, Vec<String>> {
    let mut urls: BTreeMap<Entity, Vec<String>> = BTreeMap::new();
    for f in &manifest.files {
        urls.entry(f.entity)
            .or_default()
            .push(lake.url(&f.bronze_key));
    }
    urls
}
