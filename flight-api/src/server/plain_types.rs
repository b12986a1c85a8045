//! What Flight SQL clients are served: Arrow's plain string and binary types, never
//! DataFusion's view types.
//!
//! DataFusion reads Parquet strings as `Utf8View` (and binaries as `BinaryView`), and the lake's
//! files carry that type in their embedded Arrow schema. Python's ADBC reads view arrays, but
//! the Flight SQL JDBC driver (Arrow Java 18) does not: it has no accessor for them and maps no
//! SQL type to them, so `DatabaseMetaData.getColumns` and every query with a text column fail
//! in BI tools. The gateway therefore ends every query with a cast of view columns to their
//! plain types, and lists table schemas the same way. The cast copies string bytes once per
//! result batch; the plans below it keep the faster view arrays.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::{Column, Result};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, cast};

/// The type a client is served for `data_type`: view types become their plain counterparts,
/// inside lists, structs and maps too; other types are unchanged.
pub fn plain_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::ListView(item) | DataType::List(item) => DataType::List(plain_field(item)),
        DataType::LargeListView(item) | DataType::LargeList(item) => {
            DataType::LargeList(plain_field(item))
        }
        DataType::FixedSizeList(item, size) => DataType::FixedSizeList(plain_field(item), *size),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(plain_field).collect()),
        DataType::Map(entries, sorted) => DataType::Map(plain_field(entries), *sorted),
        other => other.clone(),
    }
}

fn plain_field(field: &FieldRef) -> FieldRef {
    Arc::new(
        field
            .as_ref()
            .clone()
            .with_data_type(plain_type(field.data_type())),
    )
}

/// `schema` as clients are served it (see [`plain_type`]), metadata kept.
pub fn plain_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| plain_field(field).as_ref().clone())
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `df` with every column whose type has a view in it cast to its plain type, names and
/// qualifiers kept; `df` itself when it has none.
pub fn with_plain_types(df: DataFrame) -> Result<DataFrame> {
    let needs_cast = |field: &Field| plain_type(field.data_type()) != *field.data_type();
    if !df.schema().fields().iter().any(|field| needs_cast(field)) {
        return Ok(df);
    }
    let columns: Vec<Expr> = df
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            if needs_cast(field) {
                cast(column, plain_type(field.data_type()))
                    .alias_qualified(qualifier.cloned(), field.name())
            } else {
                column
            }
        })
        .collect();
    df.select(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    use datafusion::arrow::array::{RecordBatch, StringViewArray};
    use datafusion::prelude::SessionContext;

    #[test]
    fn view_types_become_plain_at_every_depth() {
        let nested = DataType::Struct(
            vec![
                Field::new("nom", DataType::Utf8View, true),
                Field::new(
                    "codes",
                    DataType::new_list(DataType::BinaryView, true),
                    true,
                ),
                Field::new("age", DataType::Int32, false),
            ]
            .into(),
        );
        let expected = DataType::Struct(
            vec![
                Field::new("nom", DataType::Utf8, true),
                Field::new("codes", DataType::new_list(DataType::Binary, true), true),
                Field::new("age", DataType::Int32, false),
            ]
            .into(),
        );
        assert_eq!(plain_type(&nested), expected);
        assert_eq!(plain_type(&DataType::Float64), DataType::Float64);
    }

    #[tokio::test]
    async fn a_query_over_view_columns_is_served_plain_with_the_same_values() {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "pays",
            DataType::Utf8View,
            true,
        )]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(StringViewArray::from(vec![
                Some("France"),
                None,
                Some("Un nom de pays bien plus long que douze octets"),
            ]))],
        )
        .expect("batch");
        ctx.register_batch("t", batch).expect("register");

        let df = ctx
            .sql("SELECT t.pays, 1 AS un FROM t")
            .await
            .expect("plan");
        let served = with_plain_types(df).expect("cast");
        let fields = served.schema().fields();
        assert_eq!(fields[0].name(), "pays");
        assert_eq!(fields[0].data_type(), &DataType::Utf8);
        assert_eq!(fields[1].data_type(), &DataType::Int64);

        let rows = served.collect().await.expect("run");
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&rows)
            .expect("format")
            .to_string();
        assert!(text.contains("| France "), "{text}");
        assert!(text.contains("bien plus long que douze octets"), "{text}");
        assert_eq!(rows[0].column(0).null_count(), 1);
    }
}
