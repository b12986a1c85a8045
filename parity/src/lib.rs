//! Did two engines build the same table? The benchmarks run the same Silver and Gold on
//! several engines and compare each table with the reference engine's:
//!
//! - the same columns (by name, in any order) and the same number of rows;
//! - the same rows in any order: every cell equal, but floating-point cells, which may differ in
//!   their last bits with the order a sum was taken in, within a relative tolerance (1e-9 by
//!   default; values within 1e-12 of zero compare absolutely). Integers compare by value whatever
//!   their width, decimals exactly by their digits, dates and timestamps at the microsecond
//!   whatever their unit;
//! - a digest for the reports: the row count and an order-independent checksum (the wrapping sum
//!   of a hash per row, floats rounded to 9 significant digits first, so engines that agree
//!   within the tolerance almost always print the same checksum).
//!
//! A mismatch names the first differing rows, side by side.

#![warn(missing_docs)]

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type, TimeUnit, UInt64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::Column;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{DataFrame, SessionContext};
use futures::StreamExt;

/// The default relative tolerance on floating-point cells.
pub const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Below this, floats compare absolutely (a relative error around 0 means nothing).
const ABSOLUTE_FLOOR: f64 = 1e-12;
/// Differing rows a mismatch shows.
const SHOWN: usize = 5;

/// One cell, normalised across engines.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A NULL of any type.
    Null,
    /// Any integer type, widened.
    Int(i128),
    /// `Float32` or `Float64`, compared within [`RELATIVE_TOLERANCE`].
    Float(f64),
    /// Decimals (exact digits), text, dates, timestamps, booleans.
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => write!(f, "NULL"),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Float(v) => write!(f, "{v}"),
            Cell::Text(v) => write!(f, "{v}"),
        }
    }
}

/// What a report keeps of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    /// Its number of rows.
    pub rows: usize,
    /// A hash of its rows that does not depend on their order.
    pub checksum: u64,
}

/// Why two tables are not the same.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Difference {
    /// They do not have the same column names.
    #[error("the columns differ: {left:?} / {right:?}")]
    Columns {
        /// The left table's columns, sorted.
        left: Vec<String>,
        /// The right table's columns, sorted.
        right: Vec<String>,
    },
    /// They do not have the same number of rows.
    #[error("{left} rows / {right} rows")]
    RowCount {
        /// Rows of the left table.
        left: usize,
        /// Rows of the right table.
        right: usize,
    },
    /// Same columns and row count, but some rows differ once both sides are sorted.
    #[error(
        "{differing} rows differ; first ones (columns {columns:?}):{}",
        show(first)
    )]
    Rows {
        /// The columns, in the order the rows show them.
        columns: Vec<String>,
        /// How many rows differ.
        differing: usize,
        /// The first differing rows, left then right, as text.
        first: Vec<(String, String)>,
    },
    /// A column has a type or value that cannot be normalised.
    #[error("a column cannot be read: {0}")]
    Unreadable(String),
}

fn show(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(l, r)| format!("\n  {l}\n  {r}"))
        .collect()
}

impl From<ArrowError> for Difference {
    fn from(e: ArrowError) -> Self {
        Difference::Unreadable(e.to_string())
    }
}

/// The rows of a table, cells in the order of its sorted column names.
#[derive(Debug)]
pub struct Rows {
    /// The column names, sorted.
    pub columns: Vec<String>,
    /// The rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// Reads batches into rows of normalised cells.
pub fn rows(batches: &[RecordBatch]) -> Result<Rows, Difference> {
    let Some(first) = batches.first() else {
        return Ok(Rows {
            columns: Vec::new(),
            rows: Vec::new(),
        });
    };
    let schema = first.schema();
    let mut order: Vec<usize> = (0..schema.fields().len()).collect();
    order.sort_by(|a, b| schema.field(*a).name().cmp(schema.field(*b).name()));
    let columns = order
        .iter()
        .map(|i| schema.field(*i).name().clone())
        .collect();
    let mut rows = Vec::new();
    for batch in batches {
        let cells: Vec<Vec<Cell>> = order
            .iter()
            .map(|i| cells(batch.column(*i)))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(cells.iter().map(|column| column[row].clone()).collect());
        }
    }
    Ok(Rows { columns, rows })
}

/// One column as cells.
fn cells(array: &ArrayRef) -> Result<Vec<Cell>, Difference> {
    let n = array.len();
    let nulls = |mut cells: Vec<Cell>| {
        for (i, cell) in cells.iter_mut().enumerate() {
            if array.is_null(i) {
                *cell = Cell::Null;
            }
        }
        cells
    };
    let cells = match array.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            let wide = cast(array, &DataType::Int64)?;
            let values = wide.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            (0..n)
                .map(|i| Cell::Int(i128::from(values.value(i))))
                .collect()
        }
        DataType::UInt64 => {
            let values = array.as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
            (0..n)
                .map(|i| Cell::Int(i128::from(values.value(i))))
                .collect()
        }
        DataType::Float64 => {
            let values = array.as_primitive::<Float64Type>();
            (0..n).map(|i| Cell::Float(values.value(i))).collect()
        }
        DataType::Float32 => {
            let values = array.as_primitive::<Float32Type>();
            (0..n)
                .map(|i| Cell::Float(f64::from(values.value(i))))
                .collect()
        }
        other => {
            // Timestamps at the microsecond whatever their unit; dates as days.
            let normal = match other {
                DataType::Timestamp(_, zone) => cast(
                    array,
                    &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
                )?,
                DataType::Date64 => cast(array, &DataType::Date32)?,
                _ => array.clone(),
            };
            let formatter = ArrayFormatter::try_new(normal.as_ref(), &FormatOptions::default())?;
            (0..n)
                .map(|i| Cell::Text(formatter.value(i).to_string()))
                .collect()
        }
    };
    Ok(nulls(cells))
}

/// A float rounded to 9 significant digits, as the text the sort and the checksum use.
fn rounded(v: f64) -> String {
    if v.abs() < ABSOLUTE_FLOOR {
        return "0".into();
    }
    format!("{v:.8e}")
}

/// Sorting key of a cell: rows equal within the tolerance sort next to each other.
fn key(cell: &Cell) -> (u8, String, i128) {
    match cell {
        Cell::Null => (0, String::new(), 0),
        Cell::Int(v) => (1, String::new(), *v),
        Cell::Float(v) => (2, rounded(*v), 0),
        Cell::Text(v) => (3, v.clone(), 0),
    }
}

/// The hash of one row (its cells in the order of the sorted column names) that the checksum
/// sums.
fn row_hash<'a>(row: impl IntoIterator<Item = &'a Cell>) -> u64 {
    let mut hasher = DefaultHasher::new();
    for cell in row {
        key(cell).hash(&mut hasher);
    }
    hasher.finish()
}

fn same(a: &Cell, b: &Cell, tolerance: f64) -> bool {
    match (a, b) {
        (Cell::Float(x), Cell::Float(y)) => {
            x == y
                || (x.is_nan() && y.is_nan())
                || (x - y).abs() <= tolerance * x.abs().max(y.abs())
                || (x.abs() < ABSOLUTE_FLOOR && y.abs() < ABSOLUTE_FLOOR)
        }
        _ => a == b,
    }
}

/// The digest of one table's rows.
pub fn digest(rows: &Rows) -> Digest {
    let checksum = rows
        .rows
        .iter()
        .fold(0u64, |sum, row| sum.wrapping_add(row_hash(row)));
    Digest {
        rows: rows.rows.len(),
        checksum,
    }
}

/// Compares a table built by another engine (`right`) with the reference (`left`), both in
/// memory; returns the reference's digest when they agree. See [`compare_frames`].
pub async fn compare(
    left: &[RecordBatch],
    right: &[RecordBatch],
    tolerance: f64,
) -> Result<Digest, Difference> {
    let ctx = SessionContext::new();
    let frame = |batches: &[RecordBatch]| -> DfResult<DataFrame> {
        let Some(first) = batches.first() else {
            return ctx.read_empty();
        };
        let table = MemTable::try_new(first.schema(), vec![batches.to_vec()])?;
        ctx.read_table(Arc::new(table))
    };
    let unreadable = |e: DataFusionError| Difference::Unreadable(e.to_string());
    let (left, right) = (
        frame(left).map_err(unreadable)?,
        frame(right).map_err(unreadable)?,
    );
    compare_frames(left, right, tolerance)
        .await
        .map_err(unreadable)?
}

/// Compares two tables read by DataFusion (`left` the reference), in bounded memory.
///
/// Each row gets its hash (the one the checksum sums, floats rounded to 9 significant digits);
/// both tables are sorted by that one 64-bit key (DataFusion's external sort, which spills past
/// the memory pool of their session) and walked side by side one batch at a time, like a merge
/// join. Sorting by every column instead made DataFusion's merge of its sorted runs hold every
/// buffered row a second time in its row format: at SF 10 that merge was refused by a 1 GiB
/// pool. A row whose hash has no partner on the other side (a real difference, or floats equal
/// within the tolerance that round apart) is set aside; at the end the rows set aside on each
/// side are sorted by value and paired, and a pair equal within the tolerance is no difference.
///
/// Returns the reference's digest when they agree, the [`Difference`] when they do not, and
/// an error when a table cannot be read or sorted (e.g. past the session's memory pool).
pub async fn compare_frames(
    left: DataFrame,
    right: DataFrame,
    tolerance: f64,
) -> DfResult<Result<Digest, Difference>> {
    match walk(left, right, tolerance).await {
        Ok(digest) => Ok(Ok(digest)),
        Err(Failure::Differs(difference)) => Ok(Err(difference)),
        Err(Failure::Query(error)) => Err(error),
    }
}

/// Why [`walk`] stopped: a difference, or a table that could not be read.
enum Failure {
    Differs(Difference),
    Query(DataFusionError),
}

impl From<DataFusionError> for Failure {
    fn from(e: DataFusionError) -> Self {
        Failure::Query(e)
    }
}

impl From<Difference> for Failure {
    fn from(d: Difference) -> Self {
        Failure::Differs(d)
    }
}

async fn walk(left: DataFrame, right: DataFrame, tolerance: f64) -> Result<Digest, Failure> {
    let left_columns = sorted_names(&left);
    let right_columns = sorted_names(&right);
    // An empty table read back may come without columns.
    let columns_known = !left_columns.is_empty() && !right_columns.is_empty();
    if columns_known && left_columns != right_columns {
        return Err(Difference::Columns {
            left: left_columns,
            right: right_columns,
        }
        .into());
    }
    let left_count = left.clone().count().await?;
    let right_count = right.clone().count().await?;
    if left_count != right_count {
        return Err(Difference::RowCount {
            left: left_count,
            right: right_count,
        }
        .into());
    }
    if left_count == 0 || left_columns.is_empty() {
        return Ok(Digest {
            rows: left_count,
            checksum: 0,
        });
    }
    let mut left_rows = HashedRows::open(left, &left_columns).await?;
    let mut right_rows = HashedRows::open(right, &right_columns).await?;
    let mut unmatched = Unmatched::default();
    let (mut rows, mut checksum) = (0, 0u64);
    let mut a = left_rows.next().await?;
    let mut b = right_rows.next().await?;
    loop {
        match (a.take(), b.take()) {
            (None, None) => break,
            (Some(x), None) => {
                (rows, checksum) = (rows + 1, checksum.wrapping_add(x.hash));
                unmatched.left(x.cells);
                a = left_rows.next().await?;
            }
            (None, Some(y)) => {
                unmatched.right(y.cells);
                b = right_rows.next().await?;
            }
            (Some(x), Some(y)) if x.hash < y.hash => {
                (rows, checksum) = (rows + 1, checksum.wrapping_add(x.hash));
                unmatched.left(x.cells);
                (a, b) = (left_rows.next().await?, Some(y));
            }
            (Some(x), Some(y)) if x.hash > y.hash => {
                unmatched.right(y.cells);
                (a, b) = (Some(x), right_rows.next().await?);
            }
            (Some(x), Some(y)) => {
                (rows, checksum) = (rows + 1, checksum.wrapping_add(x.hash));
                // The same hash: the same values once rounded, so almost always the same row;
                // a hash collision, or floats that round alike but differ by more than the
                // tolerance, are set aside with the rest.
                if !same_row(&x.cells, &y.cells, tolerance) {
                    unmatched.left(x.cells);
                    unmatched.right(y.cells);
                }
                (a, b) = (left_rows.next().await?, right_rows.next().await?);
            }
        }
    }
    if rows != left_count {
        // Both were counted first: a table written to meanwhile.
        return Err(Failure::Query(DataFusionError::Execution(
            "a table changed while it was compared".into(),
        )));
    }
    match unmatched.pair(tolerance, left_columns) {
        None => Ok(Digest { rows, checksum }),
        Some(difference) => Err(difference.into()),
    }
}

/// Whether two rows are equal, floats within `tolerance`.
fn same_row(a: &[Cell], b: &[Cell], tolerance: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, tolerance))
}

/// Rows set aside as each side met them (the first [`UNMATCHED_KEPT`]; the rest are counted).
#[derive(Default)]
struct Unmatched {
    left: Vec<Vec<Cell>>,
    right: Vec<Vec<Cell>>,
    left_total: usize,
    right_total: usize,
}

/// Rows set aside that are kept, per side, to be paired within the tolerance and shown.
const UNMATCHED_KEPT: usize = 10_000;

impl Unmatched {
    fn left(&mut self, row: Vec<Cell>) {
        self.left_total += 1;
        if self.left.len() < UNMATCHED_KEPT {
            self.left.push(row);
        }
    }

    fn right(&mut self, row: Vec<Cell>) {
        self.right_total += 1;
        if self.right.len() < UNMATCHED_KEPT {
            self.right.push(row);
        }
    }

    /// Pairs the rows set aside on each side in the order of their values: a pair equal
    /// within the tolerance is no difference. `None` when every row found its equal.
    fn pair(mut self, tolerance: f64, columns: Vec<String>) -> Option<Difference> {
        if self.left_total == 0 && self.right_total == 0 {
            return None;
        }
        let row_key = |row: &Vec<Cell>| row.iter().map(key).collect::<Vec<_>>();
        self.left.sort_by_cached_key(row_key);
        self.right.sort_by_cached_key(row_key);
        let mut first = Vec::new();
        let mut equal = 0;
        for (a, b) in self.left.iter().zip(&self.right) {
            if same_row(a, b, tolerance) {
                equal += 1;
            } else if first.len() < SHOWN {
                first.push((line(a), line(b)));
            }
        }
        let differing = self.left_total.max(self.right_total) - equal;
        (differing > 0).then_some(Difference::Rows {
            columns,
            differing,
            first,
        })
    }
}

/// A row as the text a mismatch shows.
fn line(row: &[Cell]) -> String {
    row.iter()
        .map(Cell::to_string)
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A frame's column names, sorted.
fn sorted_names(frame: &DataFrame) -> Vec<String> {
    let mut names: Vec<String> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    names.sort();
    names
}

/// A row read by [`HashedRows`]: its cells in the order of the sorted column names, and its hash.
struct HashedRow {
    hash: u64,
    cells: Vec<Cell>,
}

/// The rows of a frame in the order of their hash, one batch in memory.
struct HashedRows {
    stream: SendableRecordBatchStream,
    batch: std::vec::IntoIter<HashedRow>,
}

/// The column that carries each row's hash through the sort.
const HASH_COLUMN: &str = "__parity_row_hash";

impl HashedRows {
    async fn open(frame: DataFrame, columns: &[String]) -> DfResult<Self> {
        let hash = ScalarUDF::from(RowHash::new());
        let selected: Vec<Expr> = columns
            .iter()
            .map(|name| Expr::Column(Column::new_unqualified(name)))
            .collect();
        let mut with_hash = selected.clone();
        with_hash.push(hash.call(selected).alias(HASH_COLUMN));
        let frame = frame.select(with_hash)?.sort(vec![
            Expr::Column(Column::new_unqualified(HASH_COLUMN)).sort(true, true),
        ])?;
        Ok(Self {
            stream: frame.execute_stream().await?,
            batch: Vec::new().into_iter(),
        })
    }

    /// The next row; the error is a failure to read or sort, or a column that cannot be
    /// normalised.
    async fn next(&mut self) -> Result<Option<HashedRow>, Failure> {
        loop {
            if let Some(row) = self.batch.next() {
                return Ok(Some(row));
            }
            let Some(batch) = self.stream.next().await else {
                return Ok(None);
            };
            self.batch = hashed_rows(&batch?)?.into_iter();
        }
    }
}

/// A sorted batch's rows: every column but the last as cells, the last as the hash.
fn hashed_rows(batch: &RecordBatch) -> Result<Vec<HashedRow>, Failure> {
    let Some((hashes, values)) = batch.columns().split_last() else {
        return Ok(Vec::new());
    };
    let Some(hashes) = hashes.as_primitive_opt::<UInt64Type>() else {
        return Err(DataFusionError::Internal(format!("{HASH_COLUMN} is not a UInt64")).into());
    };
    let columns: Vec<Vec<Cell>> = values.iter().map(cells).collect::<Result<_, _>>()?;
    Ok((0..batch.num_rows())
        .map(|row| HashedRow {
            hash: hashes.value(row),
            cells: columns.iter().map(|column| column[row].clone()).collect(),
        })
        .collect())
}

/// `__parity_row_hash(a, b, …)`: the hash of each row of its arguments, normalised as cells
/// (the hash the checksum sums and the comparison sorts by).
#[derive(Debug, PartialEq, Eq, Hash)]
struct RowHash {
    signature: Signature,
}

impl RowHash {
    fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        "parity_row_hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::UInt64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let columns: Vec<Vec<Cell>> = args
            .args
            .iter()
            .map(|value| {
                let array = value.to_array(args.number_rows)?;
                cells(&array).map_err(|unreadable| {
                    DataFusionError::Execution(format!("a column cannot be read: {unreadable}"))
                })
            })
            .collect::<DfResult<_>>()?;
        let hashes: UInt64Array = (0..args.number_rows)
            .map(|row| row_hash(columns.iter().map(|column| &column[row])))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(hashes)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
        TimestampMicrosecondArray, TimestampNanosecondArray,
    };
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::execution::memory_pool::FairSpillPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::SessionConfig;

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let schema = Schema::new(
            columns
                .iter()
                .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(
            Arc::new(schema),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .expect("a batch")
    }

    fn reference() -> RecordBatch {
        batch(vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2, 3]))),
            (
                "pays",
                Arc::new(StringArray::from(vec![
                    Some("France"),
                    None,
                    Some("Italie"),
                ])),
            ),
            (
                "ca",
                Arc::new(Float64Array::from(vec![0.1 + 0.2, 1e6, 0.0])),
            ),
            (
                "montant",
                Arc::new(
                    Decimal128Array::from(vec![1050, 20, 999])
                        .with_precision_and_scale(12, 2)
                        .expect("decimal"),
                ),
            ),
            (
                "date_achat",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    0, 1_000_000, 2_000_000,
                ])),
            ),
        ])
    }

    #[tokio::test]
    async fn another_order_width_unit_and_last_bits_are_the_same_table() {
        // Rows reversed, columns reordered, id as INT, timestamps in nanoseconds, sums a few
        // ulps apart, split in two batches.
        let other = [
            batch(vec![
                (
                    "date_achat",
                    Arc::new(TimestampNanosecondArray::from(vec![
                        2_000_000_000,
                        1_000_000_000,
                    ])),
                ),
                (
                    "montant",
                    Arc::new(
                        Decimal128Array::from(vec![999, 20])
                            .with_precision_and_scale(12, 2)
                            .expect("decimal"),
                    ),
                ),
                (
                    "ca",
                    Arc::new(Float64Array::from(vec![1e-15, 1e6 * (1.0 + 1e-12)])),
                ),
                (
                    "pays",
                    Arc::new(StringArray::from(vec![Some("Italie"), None])),
                ),
                ("id", Arc::new(Int32Array::from(vec![3, 2]))),
            ]),
            batch(vec![
                (
                    "date_achat",
                    Arc::new(TimestampNanosecondArray::from(vec![0])),
                ),
                (
                    "montant",
                    Arc::new(
                        Decimal128Array::from(vec![1050])
                            .with_precision_and_scale(12, 2)
                            .expect("decimal"),
                    ),
                ),
                ("ca", Arc::new(Float64Array::from(vec![0.3]))),
                ("pays", Arc::new(StringArray::from(vec![Some("France")]))),
                ("id", Arc::new(Int32Array::from(vec![1]))),
            ]),
        ];
        let digest = compare(&[reference()], &other, RELATIVE_TOLERANCE)
            .await
            .expect("the same table");
        assert_eq!(digest.rows, 3);
        let again = compare(&other, &[reference()], RELATIVE_TOLERANCE)
            .await
            .expect("symmetric");
        assert_eq!(digest, again);
    }

    #[tokio::test]
    async fn a_different_cell_is_shown_with_its_row() {
        let mut changed = reference().columns().to_vec();
        changed[3] = Arc::new(
            Decimal128Array::from(vec![1050, 21, 999])
                .with_precision_and_scale(12, 2)
                .expect("decimal"),
        );
        let changed = RecordBatch::try_new(reference().schema(), changed).expect("batch");
        let difference = compare(&[reference()], &[changed], RELATIVE_TOLERANCE)
            .await
            .expect_err("a decimal is exact");
        let text = difference.to_string();
        assert!(text.starts_with("1 rows differ"), "{text}");
        assert!(text.contains("0.20") && text.contains("0.21"), "{text}");
    }

    #[tokio::test]
    async fn floats_beyond_the_tolerance_counts_and_columns_differ() {
        let columns = reference().columns().to_vec();
        let mut far = columns.clone();
        far[2] = Arc::new(Float64Array::from(vec![0.3, 1e6 * (1.0 + 1e-8), 0.0]));
        let far = RecordBatch::try_new(reference().schema(), far).expect("batch");
        assert!(matches!(
            compare(&[reference()], &[far], RELATIVE_TOLERANCE).await,
            Err(Difference::Rows { differing: 1, .. })
        ));
        let shorter = reference().slice(0, 2);
        assert_eq!(
            compare(&[reference()], &[shorter], RELATIVE_TOLERANCE).await,
            Err(Difference::RowCount { left: 3, right: 2 })
        );
        let renamed = batch(vec![(
            "identifiant",
            Arc::new(Int64Array::from(vec![1, 2, 3])),
        )]);
        assert!(matches!(
            compare(&[reference()], &[renamed], RELATIVE_TOLERANCE).await,
            Err(Difference::Columns { .. })
        ));
    }

    #[tokio::test]
    async fn floats_within_the_tolerance_that_round_apart_are_the_same() {
        // 1.00000000499 and 1.00000000501 round to different 9-digit keys (so their rows hash
        // apart) but differ by 2e-11: the rows set aside are paired and found equal.
        let one = |x: f64| batch(vec![("ca", Arc::new(Float64Array::from(vec![x, 7.0])))]);
        let digest = compare(&[one(1.000_000_004_99)], &[one(1.000_000_005_01)], 1e-9)
            .await
            .expect("within the tolerance");
        assert_eq!(digest.rows, 2);
        assert!(matches!(
            compare(&[one(1.000_000_004_99)], &[one(1.000_000_005_01)], 1e-12).await,
            Err(Difference::Rows { differing: 1, .. })
        ));
    }

    #[tokio::test]
    async fn a_duplicate_in_place_of_another_row_is_one_difference() {
        let ids = |v: Vec<i64>| batch(vec![("id", Arc::new(Int64Array::from(v)))]);
        let difference = compare(&[ids(vec![1, 1, 2, 3])], &[ids(vec![3, 1, 2, 2])], 1e-9)
            .await
            .expect_err("1 twice on the left, 2 twice on the right");
        assert!(
            matches!(&difference, Difference::Rows { differing: 1, first, .. }
                if first == &[("1".to_string(), "2".to_string())]),
            "{difference}"
        );
    }

    /// Rows `range` of a table of four 40-character strings, in batches of 8 192 rows each
    /// built apart (a slice would carry, and be charged for, the whole buffers).
    fn wide_batches(range: impl Iterator<Item = usize> + Clone) -> Vec<RecordBatch> {
        let rows: Vec<usize> = range.collect();
        rows.chunks(8192)
            .map(|chunk| {
                let column = |seed: usize| -> ArrayRef {
                    Arc::new(StringArray::from_iter_values(
                        chunk
                            .iter()
                            .map(|i| format!("{:040}", (i * 7919 + seed) % 1_000_003)),
                    ))
                };
                batch(vec![
                    ("a", column(1)),
                    ("b", column(2)),
                    ("c", column(3)),
                    ("d", column(4)),
                ])
            })
            .collect()
    }

    #[tokio::test]
    async fn wide_tables_are_compared_in_a_pool_smaller_than_one_of_them() {
        // 200 000 rows of 160 bytes, 32 MB a side, in a 32 MiB pool whose sorts keep 1 MiB for
        // their merges: both sorts spill, and the walk still meets every row. (The refusal this
        // design avoids needs a pool far larger than a sort's merge reservation: it is measured
        // at SF 10 in the README, not reproduced here.)
        let table = wide_batches(0..200_000);
        let other = wide_batches((0..200_000).rev());
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(32 * 1024 * 1024)))
            .build_arc()
            .expect("a runtime");
        let config = SessionConfig::new()
            .with_target_partitions(1)
            .with_sort_spill_reservation_bytes(1024 * 1024);
        let ctx = SessionContext::new_with_config_rt(config, runtime.clone());
        let frame = |batches: &[RecordBatch]| {
            let table =
                MemTable::try_new(batches[0].schema(), vec![batches.to_vec()]).expect("table");
            ctx.read_table(Arc::new(table)).expect("frame")
        };
        let digest = compare_frames(frame(&table), frame(&other), RELATIVE_TOLERANCE)
            .await
            .expect("sorted within the pool")
            .expect("the same rows");
        assert_eq!(digest.rows, 200_000);
        assert_eq!(digest.checksum, digest_of(&table));
    }

    fn digest_of(batches: &[RecordBatch]) -> u64 {
        digest(&rows(batches).expect("rows")).checksum
    }

    #[test]
    fn the_digest_ignores_row_order_but_not_content() {
        let rows_of = |b: RecordBatch| rows(&[b]).expect("rows");
        let forward = digest(&rows_of(reference()));
        let reversed = {
            let r = reference();
            let indices = datafusion::arrow::array::UInt32Array::from(vec![2, 1, 0]);
            datafusion::arrow::compute::take_record_batch(&r, &indices).expect("take")
        };
        assert_eq!(digest(&rows_of(reversed)), forward);
        assert_ne!(digest(&rows_of(reference().slice(0, 2))), forward);
    }
}
