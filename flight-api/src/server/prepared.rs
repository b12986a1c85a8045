//! Prepared-statement handles of the Flight SQL gateway. The gateway keeps no per-client state,
//! so a handle carries everything needed to run the statement: its SQL and, once the client has
//! bound them (`DoPut`), the parameter values as one Arrow row.
//!
//! Layout: a handle without parameters is the SQL text itself; a bound handle is
//! `MAGIC`, the SQL length (u32, big endian), the SQL, then the parameter row as an Arrow IPC
//! stream.

use std::io::Cursor;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use tonic::Status;

use super::plain_types::plain_type;

/// Starts a bound handle; SQL text cannot start with a NUL byte.
const MAGIC: &[u8] = b"\0lake-bound-1\0";

/// The SQL of a statement ticket or of an unbound handle (the text itself).
#[allow(clippy::result_large_err)]
pub fn sql_text(handle: &[u8]) -> Result<String, Status> {
    String::from_utf8(handle.to_vec())
        .map_err(|_| Status::invalid_argument("the statement handle is not UTF-8 SQL"))
}

/// A statement and, once bound, its parameter values.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    pub sql: String,
    /// One row, one column per parameter (`$1`, `$2`, … in order).
    pub parameters: Option<RecordBatch>,
}

impl PreparedStatement {
    pub fn unbound(sql: String) -> Self {
        Self {
            sql,
            parameters: None,
        }
    }

    #[allow(clippy::result_large_err)]
    pub fn decode(handle: &[u8]) -> Result<Self, Status> {
        let Some(rest) = handle.strip_prefix(MAGIC) else {
            return Ok(Self::unbound(sql_text(handle)?));
        };
        let broken = || Status::invalid_argument("the prepared statement handle is damaged");
        let (length, rest) = rest.split_first_chunk::<4>().ok_or_else(broken)?;
        let length = u32::from_be_bytes(*length) as usize;
        if rest.len() < length {
            return Err(broken());
        }
        let (sql, ipc) = rest.split_at(length);
        let sql = String::from_utf8(sql.to_vec()).map_err(|_| broken())?;
        let mut reader = StreamReader::try_new(Cursor::new(ipc), None).map_err(|_| broken())?;
        let parameters = reader.next().transpose().map_err(|_| broken())?;
        Ok(Self { sql, parameters })
    }

    #[allow(clippy::result_large_err)]
    pub fn encode(&self) -> Result<Vec<u8>, Status> {
        let Some(parameters) = &self.parameters else {
            return Ok(self.sql.clone().into_bytes());
        };
        let mut ipc = Vec::new();
        let encode_error = |e: datafusion::arrow::error::ArrowError| {
            Status::internal(format!("cannot encode the parameters: {e}"))
        };
        let mut writer =
            StreamWriter::try_new(&mut ipc, &parameters.schema()).map_err(encode_error)?;
        writer.write(parameters).map_err(encode_error)?;
        writer.finish().map_err(encode_error)?;
        drop(writer);
        let length = u32::try_from(self.sql.len())
            .map_err(|_| Status::invalid_argument("the statement is longer than 4 GiB"))?;
        let mut handle = Vec::with_capacity(MAGIC.len() + 4 + self.sql.len() + ipc.len());
        handle.extend_from_slice(MAGIC);
        handle.extend_from_slice(&length.to_be_bytes());
        handle.extend_from_slice(self.sql.as_bytes());
        handle.extend_from_slice(&ipc);
        Ok(handle)
    }

    /// Binds `batches` (what the client sent with `DoPut`): exactly one row.
    #[allow(clippy::result_large_err)]
    pub fn bind(self, batches: &[RecordBatch]) -> Result<Self, Status> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let row = batches.iter().find(|b| b.num_rows() > 0);
        match (rows, row) {
            (1, Some(row)) => Ok(Self {
                parameters: Some(row.clone()),
                ..self
            }),
            (0, _) => Ok(Self {
                parameters: None,
                ..self
            }),
            _ => Err(Status::invalid_argument(format!(
                "bind one row of parameters to a query, not {rows}"
            ))),
        }
    }

    /// The bound values, in parameter order, for DataFusion to run `plan` with: each cast to
    /// the type the plan infers for its parameter when it infers one. Clients are shown plain
    /// types (a string parameter compared with a `Utf8View` column is offered as `Utf8`, see
    /// [`parameter_schema`]) and bind what they were shown.
    #[allow(clippy::result_large_err)]
    pub fn values_for(&self, plan: &LogicalPlan) -> Result<Option<ParamValues>, Status> {
        let Some(row) = &self.parameters else {
            return Ok(None);
        };
        let planned = plan
            .get_parameter_types()
            .map_err(|e| Status::invalid_argument(format!("{e}")))?;
        let values = row
            .columns()
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let name = format!("${}", i + 1);
                let value = ScalarValue::try_from_array(column, 0)
                    .map_err(|e| Status::invalid_argument(format!("parameter {name}: {e}")))?;
                match planned.get(&name) {
                    Some(Some(wanted)) if *wanted != value.data_type() => {
                        value.cast_to(wanted).map_err(|e| {
                            Status::invalid_argument(format!(
                                "parameter {name} must be a {wanted}: {e}"
                            ))
                        })
                    }
                    _ => Ok(value),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ParamValues::from(values)))
    }
}

/// `sql` with JDBC and ODBC's `?` parameters numbered as DataFusion's `$1`, `$2`, … in order of
/// appearance (a `?` inside a string, a quoted name or a comment is left alone). Mixing `?` with
/// `$n` is refused: which value goes where would be ambiguous.
#[allow(clippy::result_large_err)]
pub fn numbered_placeholders(sql: &str) -> Result<String, Status> {
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Status::invalid_argument(format!("{e}")))?;
    let offsets = ByteOffsets::of(sql);
    let mut question_marks = Vec::new();
    let mut dollars = false;
    for token in &tokens {
        match &token.token {
            Token::Placeholder(p) if p == "?" => {
                let start = offsets.of_location(token.span.start.line, token.span.start.column);
                question_marks.push(start.ok_or_else(|| {
                    Status::internal(format!(
                        "no position for the parameter at {:?}",
                        token.span.start
                    ))
                })?);
            }
            Token::Placeholder(p) if p.starts_with('$') => dollars = true,
            _ => {}
        }
    }
    if question_marks.is_empty() {
        return Ok(sql.to_string());
    }
    if dollars {
        return Err(Status::invalid_argument(
            "use either ? or $1, $2, … parameters in one statement, not both",
        ));
    }
    let mut numbered = String::with_capacity(sql.len() + question_marks.len() * 2);
    let mut copied = 0;
    for (index, position) in question_marks.into_iter().enumerate() {
        numbered.push_str(&sql[copied..position]);
        numbered.push_str(&format!("${}", index + 1));
        copied = position + 1;
    }
    numbered.push_str(&sql[copied..]);
    Ok(numbered)
}

/// Byte offsets of the tokenizer's 1-based (line, column in characters) locations.
struct ByteOffsets<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> ByteOffsets<'a> {
    fn of(sql: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { sql, line_starts }
    }

    fn of_location(&self, line: u64, column: u64) -> Option<usize> {
        let line_start = *self
            .line_starts
            .get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let column = usize::try_from(column).ok()?.checked_sub(1)?;
        self.sql[line_start..]
            .char_indices()
            .nth(column)
            .map(|(i, _)| line_start + i)
    }
}

/// The parameters a plan expects, as the schema a client binds: `$1`, `$2`, … in order, typed
/// when DataFusion could infer the type (else `Null`: any value is accepted and cast), as the
/// plain type a client can bind ([`super::plain_types`]).
#[allow(clippy::result_large_err)]
pub fn parameter_schema(plan: &LogicalPlan) -> Result<Schema, Status> {
    let types = plan
        .get_parameter_types()
        .map_err(|e| Status::invalid_argument(format!("{e}")))?;
    let mut parameters: Vec<(usize, String, DataType)> = types
        .into_iter()
        .map(|(name, data_type)| {
            let position = name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    Status::invalid_argument(format!(
                        "parameter {name}: use positional parameters $1, $2, … or ?"
                    ))
                })?;
            let served = data_type.as_ref().map_or(DataType::Null, plain_type);
            Ok((position, name, served))
        })
        .collect::<Result<_, Status>>()?;
    parameters.sort_by_key(|(position, _, _)| *position);
    Ok(Schema::new(
        parameters
            .into_iter()
            .map(|(_, name, data_type)| Field::new(name, data_type, true))
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};

    use super::*;

    fn row() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("$1", DataType::Int64, true),
            Field::new("$2", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![42])),
                Arc::new(StringArray::from(vec!["France"])),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn an_unbound_handle_is_the_sql_text() {
        let statement = PreparedStatement::unbound("SELECT 1".into());
        assert_eq!(statement.encode().expect("encode"), b"SELECT 1");
        let decoded = PreparedStatement::decode(b"SELECT 1").expect("decode");
        assert_eq!(decoded.sql, "SELECT 1");
        assert!(decoded.parameters.is_none());
    }

    #[tokio::test]
    async fn a_bound_handle_round_trips_sql_and_values_cast_as_the_plan_expects() {
        let sql = "SELECT * FROM t WHERE a = $1 AND b = $2";
        let bound = PreparedStatement::unbound(sql.into())
            .bind(&[row()])
            .expect("bind");
        let decoded = PreparedStatement::decode(&bound.encode().expect("encode")).expect("decode");
        assert_eq!(decoded.sql, sql);

        // `a` is an Int32 and `b` a Utf8View column: the client bound an Int64 and a Utf8.
        let ctx = datafusion::prelude::SessionContext::new();
        let table = Schema::new(vec![
            Field::new("a", DataType::Int32, false),
            Field::new("b", DataType::Utf8View, false),
        ]);
        ctx.register_batch("t", RecordBatch::new_empty(Arc::new(table)))
            .expect("register");
        let plan = ctx.sql(sql).await.expect("plan").into_unoptimized_plan();
        let Some(ParamValues::List(values)) = decoded.values_for(&plan).expect("values") else {
            panic!("positional values expected");
        };
        let values: Vec<ScalarValue> = values.into_iter().map(|v| v.value).collect();
        assert_eq!(
            values,
            vec![
                ScalarValue::Int32(Some(42)),
                ScalarValue::Utf8View(Some("France".into()))
            ]
        );
        // What the client is shown to bind: plain types.
        let shown = parameter_schema(&plan).expect("parameters");
        assert_eq!(shown.field(0).data_type(), &DataType::Int32);
        assert_eq!(shown.field(1).data_type(), &DataType::Utf8);
    }

    #[test]
    fn question_marks_are_numbered_in_order_outside_strings_names_and_comments() {
        let sql = "SELECT \"a?\", '?' AS q -- why?\nFROM t /* ? */ WHERE a = ? AND b IN (?, ?)";
        assert_eq!(
            numbered_placeholders(sql).expect("numbered"),
            "SELECT \"a?\", '?' AS q -- why?\nFROM t /* ? */ WHERE a = $1 AND b IN ($2, $3)"
        );
        // Characters wider than a byte before a parameter, on a later line.
        assert_eq!(
            numbered_placeholders("SELECT 'é'\nWHERE pays = ? AND produit = 'Clé USB' OR x = ?")
                .expect("numbered"),
            "SELECT 'é'\nWHERE pays = $1 AND produit = 'Clé USB' OR x = $2"
        );
    }

    #[test]
    fn statements_without_question_marks_are_unchanged_and_mixing_is_refused() {
        for sql in ["SELECT 1", "SELECT $1 + $2", "SELECT 'what?'"] {
            assert_eq!(numbered_placeholders(sql).expect("unchanged"), sql);
        }
        let mixed = numbered_placeholders("SELECT $1 + ?");
        assert!(mixed.is_err_and(|e| e.message().contains("not both")));
    }

    #[test]
    fn binding_two_rows_or_a_damaged_handle_is_refused() {
        let two = datafusion::arrow::compute::concat_batches(&row().schema(), &[row(), row()])
            .expect("concat");
        let refused = PreparedStatement::unbound("SELECT $1".into()).bind(&[two]);
        assert!(refused.is_err_and(|e| e.message().contains("not 2")));
        let mut damaged = MAGIC.to_vec();
        damaged.extend_from_slice(&[0, 0, 0, 99]);
        assert!(PreparedStatement::decode(&damaged).is_err());
    }
}
