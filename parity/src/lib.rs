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

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{Column, exec_err};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::cast as cast_expr;
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

/// The hash of one row that the checksum sums.
fn row_hash(row: &[Cell]) -> u64 {
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

/// Compares two tables read by DataFusion (`left` the reference), in bounded memory: both are
/// sorted by the same key (DataFusion's external sort, which spills past the memory pool of
/// their session), then walked side by side one batch at a time. The key is every column in
/// the order of their names, floats rounded to 9 significant digits, so that rows equal within
/// the tolerance meet.
///
/// Returns the reference's digest when they agree, the [`Difference`] when they do not, and
/// an error when a table cannot be read or sorted (e.g. past the session's memory pool).
pub async fn compare_frames(
    left: DataFrame,
    right: DataFrame,
    tolerance: f64,
) -> DfResult<Result<Digest, Difference>> {
    let left_columns = sorted_names(&left);
    let right_columns = sorted_names(&right);
    // An empty table read back may come without columns.
    let columns_known = !left_columns.is_empty() && !right_columns.is_empty();
    if columns_known && left_columns != right_columns {
        return Ok(Err(Difference::Columns {
            left: left_columns,
            right: right_columns,
        }));
    }
    let left_count = left.clone().count().await?;
    let right_count = right.clone().count().await?;
    if left_count != right_count {
        return Ok(Err(Difference::RowCount {
            left: left_count,
            right: right_count,
        }));
    }
    let mut left_rows = SortedRows::open(left, &left_columns).await?;
    let mut right_rows = SortedRows::open(right, &right_columns).await?;
    let (mut rows, mut checksum, mut differing) = (0, 0u64, 0);
    let mut first = Vec::new();
    loop {
        let (a, b) = match (left_rows.next().await?, right_rows.next().await?) {
            (Ok(Some(a)), Ok(Some(b))) => (a, b),
            (Ok(None), Ok(None)) => break,
            (Err(unreadable), _) | (_, Err(unreadable)) => return Ok(Err(unreadable)),
            // Both were counted first: a table written to meanwhile.
            _ => return exec_err!("a table changed while it was compared"),
        };
        rows += 1;
        checksum = checksum.wrapping_add(row_hash(&a));
        let equal = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same(x, y, tolerance));
        if !equal {
            differing += 1;
            if first.len() < SHOWN {
                first.push((line(&a), line(&b)));
            }
        }
    }
    if differing > 0 {
        return Ok(Err(Difference::Rows {
            columns: left_columns,
            differing,
            first,
        }));
    }
    Ok(Ok(Digest { rows, checksum }))
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

/// The rows of a frame in the order of the comparison key, as cells, one batch in memory.
struct SortedRows {
    stream: SendableRecordBatchStream,
    batch: std::vec::IntoIter<Vec<Cell>>,
}

impl SortedRows {
    async fn open(frame: DataFrame, columns: &[String]) -> DfResult<Self> {
        let round = ScalarUDF::from(SignificantDigits::new());
        let mut selected = Vec::with_capacity(columns.len());
        let mut keys = Vec::with_capacity(columns.len());
        for name in columns {
            let column = Expr::Column(Column::new_unqualified(name));
            let data_type = frame
                .schema()
                .field_with_unqualified_name(name)?
                .data_type()
                .clone();
            let key = match data_type {
                DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                    round.call(vec![cast_expr(column.clone(), DataType::Float64)])
                }
                _ => column.clone(),
            };
            selected.push(column);
            keys.push(key.sort(true, true));
        }
        let frame = if columns.is_empty() {
            frame
        } else {
            frame.select(selected)?.sort(keys)?
        };
        Ok(Self {
            stream: frame.execute_stream().await?,
            batch: Vec::new().into_iter(),
        })
    }

    /// The next row; the outer error is a failure to read or sort, the inner one a column
    /// that cannot be normalised.
    async fn next(&mut self) -> DfResult<Result<Option<Vec<Cell>>, Difference>> {
        loop {
            if let Some(row) = self.batch.next() {
                return Ok(Ok(Some(row)));
            }
            match self.stream.next().await {
                None => return Ok(Ok(None)),
                Some(batch) => match rows(&[batch?]) {
                    Ok(rows) => self.batch = rows.rows.into_iter(),
                    Err(unreadable) => return Ok(Err(unreadable)),
                },
            }
        }
    }
}

/// `parity_significant(x)`: a float rounded to 9 significant digits (0 near zero), the sort key
/// of float columns, as [`key`] rounds them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SignificantDigits {
    signature: Signature,
}

impl SignificantDigits {
    fn new() -> Self {
        Self {
            signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SignificantDigits {
    fn name(&self) -> &str {
        "parity_significant"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let [value] = args.args.as_slice() else {
            return exec_err!("parity_significant takes one argument");
        };
        let values = value.to_array(args.number_rows)?;
        let rounded: Float64Array = values
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|v| rounded(v).parse::<f64>().unwrap_or(v)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(rounded)))
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
