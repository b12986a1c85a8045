//! Query-string parameters, checked one by one so that a bad value gets a 400 naming it, and an
//! unknown parameter is refused rather than silently ignored.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::ApiError;

/// Default page size of the listing endpoints.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page a client may ask for.
pub const MAX_LIMIT: usize = 500;

pub struct Params {
    values: BTreeMap<String, String>,
    read: BTreeSet<String>,
}

impl Params {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Self {
            values,
            read: BTreeSet::new(),
        }
    }

    /// The trimmed value of `name`; an empty value is refused (absent and empty differ).
    fn raw(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        self.read.insert(name.to_string());
        match self.values.get(name).map(|v| v.trim()) {
            None => Ok(None),
            Some("") => Err(ApiError::bad(
                name,
                "empty value: give a value or leave it out",
            )),
            Some(v) => Ok(Some(v.to_string())),
        }
    }

    pub fn text(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        self.raw(name)
    }

    /// Whether the parameter was given (without reading its value).
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn int(&mut self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.raw(name)? else {
            return Ok(None);
        };
        let value: i64 = raw
            .parse()
            .map_err(|_| ApiError::bad(name, format!("{raw:?} is not an integer")))?;
        if value < min || value > max {
            return Err(ApiError::bad(
                name,
                format!("{value} is outside {min}..={max}"),
            ));
        }
        Ok(Some(value))
    }

    pub fn float(&mut self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ApiError> {
        let Some(raw) = self.raw(name)? else {
            return Ok(None);
        };
        let value: f64 = raw
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| ApiError::bad(name, format!("{raw:?} is not a number")))?;
        if value < min || value > max {
            return Err(ApiError::bad(
                name,
                format!("{value} is outside [{min}, {max}]"),
            ));
        }
        Ok(Some(value))
    }

    pub fn date(&mut self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        let Some(raw) = self.raw(name)? else {
            return Ok(None);
        };
        NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::bad(name, format!("{raw:?} is not a date (YYYY-MM-DD)")))
    }

    /// One of `allowed`, or `default` when absent.
    pub fn choice(
        &mut self,
        name: &str,
        allowed: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, ApiError> {
        let Some(raw) = self.raw(name)? else {
            return Ok(default);
        };
        allowed.iter().copied().find(|a| *a == raw).ok_or_else(|| {
            ApiError::bad(
                name,
                format!("{raw:?} is not one of {}", allowed.join(", ")),
            )
        })
    }

    /// `limit` within 1..=MAX_LIMIT (default DEFAULT_LIMIT).
    pub fn limit(&mut self) -> Result<usize, ApiError> {
        Ok(self
            .int("limit", 1, MAX_LIMIT as i64)?
            .map_or(DEFAULT_LIMIT, |l| l as usize))
    }

    /// `offset` ≥ 0 (default 0).
    pub fn offset(&mut self) -> Result<usize, ApiError> {
        Ok(self.int("offset", 0, 10_000_000)?.map_or(0, |o| o as usize))
    }

    /// Fails on a parameter no reader asked for.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.values.keys().find(|k| !self.read.contains(*k)) {
            None => Ok(()),
            Some(unknown) => {
                let known: Vec<&str> = self.read.iter().map(String::as_str).collect();
                Err(ApiError::bad(
                    unknown,
                    if known.is_empty() {
                        "this endpoint takes no parameter".to_string()
                    } else {
                        format!("unknown parameter (known: {})", known.join(", "))
                    },
                ))
            }
        }
    }
}

/// A purchase timestamp as the API prints it (`2025-03-01T10:00:00`).
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// An amount with at most two decimals, in cents: `12.5` → 1250.
pub fn parse_cents(text: &str) -> Option<i128> {
    let (units, decimals) = text.split_once('.').unwrap_or((text, ""));
    if decimals.len() > 2 || !decimals.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let negative = units.starts_with('-');
    let units: i128 = units.trim_start_matches('-').parse().ok()?;
    let decimals: i128 = format!("{decimals:0<2}").parse().ok()?;
    let cents = units * 100 + decimals;
    Some(if negative { -cents } else { cents })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let mut p = params(&[("limit", "9999"), ("debut", "2025-13-01")]);
        let e = p.limit().expect_err("above the cap");
        assert!(e.to_string().starts_with("parameter limit:"), "{e}");
        let e = p.date("debut").expect_err("no 13th month");
        assert!(e.to_string().contains("debut"), "{e}");
    }

    #[test]
    fn unknown_parameters_are_refused() {
        let mut p = params(&[("pays", "France"), ("tri", "x")]);
        assert_eq!(p.text("pays").ok().flatten().as_deref(), Some("France"));
        let e = p.finish().expect_err("tri is unknown");
        assert!(e.to_string().contains("parameter tri"), "{e}");
        assert!(e.to_string().contains("known: pays"), "{e}");
    }

    #[test]
    fn an_empty_value_is_refused_not_ignored() {
        let mut p = params(&[("fin", " ")]);
        let e = p.date("fin").expect_err("empty");
        assert!(e.to_string().contains("parameter fin: empty value"), "{e}");
    }

    #[test]
    fn cents_and_timestamps() {
        assert_eq!(parse_cents("12.5"), Some(1250));
        assert_eq!(parse_cents("12"), Some(1200));
        assert_eq!(parse_cents("0.07"), Some(7));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(parse_cents("abc"), None);
        assert!(parse_timestamp("2025-03-01T10:00:00").is_some());
        assert!(parse_timestamp("2025-03-01 10:00").is_none());
    }
}
