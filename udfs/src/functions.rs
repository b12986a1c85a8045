//! The Silver rules as DataFusion scalar UDFs.
//!
//! Each [`Rule`] maps one text column through one function of [`crate::parse`]. NULL in gives
//! NULL out; a value the rule cannot read gives NULL too, so SQL decides what a NULL means
//! (quarantine, validity failure) where the rest of the rule is written.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::cast::{as_large_string_array, as_string_array, as_string_view_array};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::parse;

/// Precision and scale of every amount in Silver.
pub const AMOUNT_PRECISION: u8 = 12;
/// Decimal places of an amount (`DECIMAL(12, 2)`).
pub const AMOUNT_SCALE: i8 = 2;

/// One Silver rule exposed to SQL under [`Rule::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `parse_date_multi(text) -> DATE`
    ParseDate,
    /// `parse_timestamp_multi(text) -> TIMESTAMP`
    ParseTimestamp,
    /// `parse_amount(text) -> DECIMAL(12, 2)`
    ParseAmount,
    /// `parse_id(text) -> BIGINT`
    ParseId,
    /// `is_valid_email(text) -> BOOLEAN`, on an already trimmed, lower-cased address
    IsValidEmail,
    /// `squash_spaces(text) -> TEXT`
    SquashSpaces,
    /// `is_canonical_date(text) -> BOOLEAN`
    IsCanonicalDate,
    /// `is_canonical_timestamp(text) -> BOOLEAN`
    IsCanonicalTimestamp,
    /// `is_canonical_amount(text) -> BOOLEAN`
    IsCanonicalAmount,
}

impl Rule {
    /// Every rule, in registration order.
    pub const ALL: [Rule; 9] = [
        Rule::ParseDate,
        Rule::ParseTimestamp,
        Rule::ParseAmount,
        Rule::ParseId,
        Rule::IsValidEmail,
        Rule::SquashSpaces,
        Rule::IsCanonicalDate,
        Rule::IsCanonicalTimestamp,
        Rule::IsCanonicalAmount,
    ];

    /// The name SQL calls it by.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ParseDate => "parse_date_multi",
            Rule::ParseTimestamp => "parse_timestamp_multi",
            Rule::ParseAmount => "parse_amount",
            Rule::ParseId => "parse_id",
            Rule::IsValidEmail => "is_valid_email",
            Rule::SquashSpaces => "squash_spaces",
            Rule::IsCanonicalDate => "is_canonical_date",
            Rule::IsCanonicalTimestamp => "is_canonical_timestamp",
            Rule::IsCanonicalAmount => "is_canonical_amount",
        }
    }

    /// The Arrow type it returns.
    pub fn return_type(self) -> DataType {
        match self {
            Rule::ParseDate => DataType::Date32,
            Rule::ParseTimestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Rule::ParseAmount => DataType::Decimal128(AMOUNT_PRECISION, AMOUNT_SCALE),
            Rule::ParseId => DataType::Int64,
            Rule::SquashSpaces => DataType::Utf8,
            Rule::IsValidEmail
            | Rule::IsCanonicalDate
            | Rule::IsCanonicalTimestamp
            | Rule::IsCanonicalAmount => DataType::Boolean,
        }
    }

    /// Applies the rule to every value of a text column.
    fn apply(self, values: TextValues<'_>) -> Result<ArrayRef> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let array: ArrayRef = match self {
            Rule::ParseDate => Arc::new(Date32Array::from_iter(values.map(|v| {
                v.and_then(parse::parse_date)
                    .and_then(|d| i32::try_from((d - epoch).num_days()).ok())
            }))),
            Rule::ParseTimestamp => {
                Arc::new(TimestampMicrosecondArray::from_iter(values.map(|v| {
                    v.and_then(parse::parse_timestamp)
                        .map(|t| t.and_utc().timestamp_micros())
                })))
            }
            Rule::ParseAmount => Arc::new(
                Decimal128Array::from_iter(values.map(|v| v.and_then(parse::parse_amount_cents)))
                    .with_precision_and_scale(AMOUNT_PRECISION, AMOUNT_SCALE)?,
            ),
            Rule::ParseId => Arc::new(Int64Array::from_iter(
                values.map(|v| v.and_then(parse::parse_id)),
            )),
            Rule::SquashSpaces => Arc::new(StringArray::from_iter(
                values.map(|v| v.map(parse::squash_spaces)),
            )),
            Rule::IsValidEmail => boolean(values, parse::is_valid_email),
            Rule::IsCanonicalDate => boolean(values, parse::is_canonical_date),
            Rule::IsCanonicalTimestamp => boolean(values, parse::is_canonical_timestamp),
            Rule::IsCanonicalAmount => boolean(values, parse::is_canonical_amount),
        };
        Ok(array)
    }
}

fn boolean(values: TextValues<'_>, test: fn(&str) -> bool) -> ArrayRef {
    Arc::new(BooleanArray::from_iter(values.map(|v| v.map(test))))
}

type TextValues<'a> = Box<dyn Iterator<Item = Option<&'a str>> + 'a>;

/// Iterates the values of any Arrow string array (Parquet reads give views, CSV reads plain).
fn text_values(array: &dyn Array) -> Result<TextValues<'_>> {
    Ok(match array.data_type() {
        DataType::Utf8 => Box::new(as_string_array(array)?.iter()),
        DataType::LargeUtf8 => Box::new(as_large_string_array(array)?.iter()),
        DataType::Utf8View => Box::new(as_string_view_array(array)?.iter()),
        DataType::Null => Box::new(std::iter::repeat_n(None, array.len())),
        other => return exec_err!("expected a text argument, got {other}"),
    })
}

/// The UDF wrapper around one [`Rule`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RuleUdf {
    rule: Rule,
    signature: Signature,
}

impl RuleUdf {
    /// The UDF of one rule.
    pub fn new(rule: Rule) -> Self {
        Self {
            rule,
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RuleUdf {
    fn name(&self) -> &str {
        self.rule.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.rule.return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!(
                "{} takes exactly one argument, got {}",
                self.rule.name(),
                args.args.len()
            );
        };
        let is_scalar = matches!(arg, ColumnarValue::Scalar(_));
        let input = arg.to_array(if is_scalar { 1 } else { args.number_rows })?;
        let output = self.rule.apply(text_values(input.as_ref())?)?;
        if is_scalar {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&output, 0)?,
            ))
        } else {
            Ok(ColumnarValue::Array(output))
        }
    }
}

/// `jours_entre(date_fin DATE, date_debut DATE) -> BIGINT`: whole days from `date_debut` to
/// `date_fin` (negative when `date_fin` comes first). Engines spell date differences
/// differently; this one name keeps the Gold SQL portable.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DaysBetween {
    signature: Signature,
}

impl Default for DaysBetween {
    fn default() -> Self {
        Self {
            signature: Signature::exact(
                vec![DataType::Date32, DataType::Date32],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for DaysBetween {
    fn name(&self) -> &str {
        "jours_entre"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [end, start] = args.args.as_slice() else {
            return exec_err!(
                "jours_entre takes two dates, got {} arguments",
                args.args.len()
            );
        };
        let rows = args.number_rows;
        let (end, start) = (end.to_array(rows)?, start.to_array(rows)?);
        let end = datafusion::common::cast::as_date32_array(&end)?;
        let start = datafusion::common::cast::as_date32_array(&start)?;
        let days: Int64Array = end
            .iter()
            .zip(start.iter())
            .map(|(e, s)| Some(i64::from(e?) - i64::from(s?)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(days)))
    }
}

/// Every UDF of the lake, ready to register on a session (client, scheduler and executors).
pub fn all_udfs() -> Vec<Arc<ScalarUDF>> {
    Rule::ALL
        .into_iter()
        .map(|rule| Arc::new(ScalarUDF::new_from_impl(RuleUdf::new(rule))))
        .chain([Arc::new(ScalarUDF::new_from_impl(DaysBetween::default()))])
        .collect()
}
