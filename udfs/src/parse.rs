//! Pure parsing rules of the data contract, independent of any engine.
//!
//! Every function takes the raw text of one CSV field and returns `None` when the text cannot be
//! read under the contract's rules. The UDFs in [`crate::functions`] only map these over Arrow
//! arrays, so the rules are unit-tested here on plain strings.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

/// Epoch seconds are accepted with 9 to 11 digits (1973-03-03 … 5138-11-16): shorter digit runs
/// such as `2024` are far more likely to be a typo than a 1970 timestamp.
const EPOCH_DIGITS: std::ops::RangeInclusive<usize> = 9..=11;

/// Largest integer part that fits DECIMAL(12, 2): ten digits.
const AMOUNT_MAX_INTEGER_DIGITS: usize = 10;

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks `s` against a shape where `d` stands for one ASCII digit and any other byte for itself.
fn has_shape(s: &str, shape: &str) -> bool {
    s.len() == shape.len()
        && s.bytes().zip(shape.bytes()).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            other => c == other,
        })
}

/// The number written by the ASCII digits `s[range]` (the caller checked they are digits).
fn digits(s: &[u8], range: std::ops::Range<usize>) -> u32 {
    s[range].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

/// A date and time from fixed digit positions (year, month, day, hour, minute, second), with
/// chrono checking the calendar: faster than a format string, and as strict for fixed shapes.
fn fixed_datetime(
    s: &[u8],
    [year, month, day]: [std::ops::Range<usize>; 3],
    time: Option<[std::ops::Range<usize>; 3]>,
) -> Option<NaiveDateTime> {
    let year = i32::try_from(digits(s, year)).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(s, month), digits(s, day))?;
    match time {
        None => Some(date.and_time(NaiveTime::MIN)),
        Some([hour, minute, second]) => {
            date.and_hms_opt(digits(s, hour), digits(s, minute), digits(s, second))
        }
    }
}

fn epoch_seconds(s: &str) -> Option<NaiveDateTime> {
    if !EPOCH_DIGITS.contains(&s.len()) || !all_digits(s) {
        return None;
    }
    let secs: i64 = s.parse().ok()?;
    DateTime::from_timestamp(secs, 0).map(|utc| utc.naive_utc())
}

/// A calendar date: `YYYY-MM-DD` (canonical), `DD/MM/YYYY`, `YYYY/MM/DD`, or epoch seconds (UTC).
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    let b = s.as_bytes();
    if has_shape(s, "dddd-dd-dd") || has_shape(s, "dddd/dd/dd") {
        fixed_datetime(b, [0..4, 5..7, 8..10], None).map(|t| t.date())
    } else if has_shape(s, "dd/dd/dddd") {
        fixed_datetime(b, [6..10, 3..5, 0..2], None).map(|t| t.date())
    } else {
        epoch_seconds(s).map(|ts| ts.date())
    }
}

/// True when `raw`, trimmed, is already in the canonical `YYYY-MM-DD` form.
pub fn is_canonical_date(raw: &str) -> bool {
    has_shape(raw, "dddd-dd-dd")
}

/// A timestamp without time zone: `YYYY-MM-DD HH:MM:SS` (canonical), `YYYY-MM-DDTHH:MM:SS`,
/// `DD/MM/YYYY HH:MM`, `YYYY-MM-DD` (midnight), or epoch seconds read as UTC.
pub fn parse_timestamp(raw: &str) -> Option<NaiveDateTime> {
    let s = raw.trim();
    let b = s.as_bytes();
    if has_shape(s, "dddd-dd-dd dd:dd:dd") || has_shape(s, "dddd-dd-ddTdd:dd:dd") {
        fixed_datetime(b, [0..4, 5..7, 8..10], Some([11..13, 14..16, 17..19]))
    } else if has_shape(s, "dd/dd/dddd dd:dd") {
        // No seconds: the empty range 16..16 reads as 0.
        fixed_datetime(b, [6..10, 3..5, 0..2], Some([11..13, 14..16, 16..16]))
    } else if has_shape(s, "dddd-dd-dd") {
        fixed_datetime(b, [0..4, 5..7, 8..10], None)
    } else {
        epoch_seconds(s)
    }
}

/// True when `raw` is already in the canonical `YYYY-MM-DD HH:MM:SS` form.
pub fn is_canonical_timestamp(raw: &str) -> bool {
    has_shape(raw, "dddd-dd-dd dd:dd:dd")
}

/// An amount in cents, for DECIMAL(12, 2): `12.50`, `12,50`, `12,50 €`, `€12.50`, ` 12.5 `, `-3`.
///
/// One optional euro sign before or after the number (spaces allowed around it), one optional
/// sign, digits, and at most one decimal separator (`.` or `,`). More than two decimals are rounded
/// half away from zero to the cent. `None` for anything else, and for values that do not fit
/// DECIMAL(12, 2) (more than ten integer digits).
pub fn parse_amount_cents(raw: &str) -> Option<i128> {
    let mut s = raw.trim();
    if let Some(rest) = s.strip_prefix('€') {
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_suffix('€') {
        s = rest.trim_end();
    }
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match unsigned.find(['.', ',']) {
        Some(i) => (&unsigned[..i], &unsigned[i + 1..]),
        None => (unsigned, ""),
    };
    let has_separator = int_part.len() != unsigned.len();
    if !all_digits(int_part) || (has_separator && !all_digits(frac_part)) {
        return None;
    }
    let int_digits = int_part.trim_start_matches('0');
    if int_digits.len() > AMOUNT_MAX_INTEGER_DIGITS {
        return None;
    }
    let units: i128 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let frac = frac_part.as_bytes();
    let digit = |i: usize| frac.get(i).map_or(0, |b| i128::from(b - b'0'));
    let mut cents = units * 100 + digit(0) * 10 + digit(1);
    if digit(2) >= 5 {
        cents += 1;
    }
    if cents > 999_999_999_999 {
        return None;
    }
    Some(if negative { -cents } else { cents })
}

/// True when `raw` is already in the canonical form of an amount: digits, a dot, two decimals.
pub fn is_canonical_amount(raw: &str) -> bool {
    match raw.split_once('.') {
        Some((int_part, frac)) => all_digits(int_part) && frac.len() == 2 && all_digits(frac),
        None => false,
    }
}

/// The contract's email rule, `^[^@\s]+@[^@\s]+\.[^@\s]+$`, on an already normalised address.
pub fn is_valid_email(s: &str) -> bool {
    if s.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    // A dot with at least one character on each side, anywhere in the domain.
    domain
        .char_indices()
        .any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len())
}

/// Trims and collapses every inner run of white space into a single space.
pub fn squash_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// An identifier: a non-negative integer written with ASCII digits only (surrounding spaces
/// allowed), that fits a BIGINT.
pub fn parse_id(raw: &str) -> Option<i64> {
    let s = raw.trim();
    if !all_digits(s) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn ts(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        date(y, m, d)
            .and_hms_opt(h, mi, s)
            .expect("valid test time")
    }

    #[test]
    fn dates_in_every_contract_format() {
        assert_eq!(parse_date("2024-03-15"), Some(date(2024, 3, 15)));
        assert_eq!(parse_date("15/03/2024"), Some(date(2024, 3, 15)));
        assert_eq!(parse_date("2024/03/15"), Some(date(2024, 3, 15)));
        // 1710460800 = 2024-03-15T00:00:00Z; 1710547199 = 2024-03-15T23:59:59Z.
        assert_eq!(parse_date("1710460800"), Some(date(2024, 3, 15)));
        assert_eq!(parse_date("1710547199"), Some(date(2024, 3, 15)));
        assert_eq!(parse_date("  2024-03-15 "), Some(date(2024, 3, 15)));
    }

    #[test]
    fn dates_rejected() {
        for bad in [
            "",
            "   ",
            "2024-02-30",
            "31/04/2024",
            "2024-3-15",
            "15-03-2024",
            "2024",
            "hier",
            "2024-03-15 10:00:00",
            "１７１０４６０８００",
            "99999999999999999999",
            "-1710460800",
            "2024-13-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?} should not parse");
        }
    }

    #[test]
    fn canonical_date_shape() {
        assert!(is_canonical_date("2024-03-15"));
        assert!(!is_canonical_date("15/03/2024"));
        assert!(!is_canonical_date(" 2024-03-15"));
    }

    #[test]
    fn timestamps_in_every_contract_format() {
        let expected = Some(ts(2024, 3, 15, 14, 5, 9));
        assert_eq!(parse_timestamp("2024-03-15 14:05:09"), expected);
        assert_eq!(parse_timestamp("2024-03-15T14:05:09"), expected);
        assert_eq!(
            parse_timestamp("15/03/2024 14:05"),
            Some(ts(2024, 3, 15, 14, 5, 0))
        );
        assert_eq!(
            parse_timestamp("2024-03-15"),
            Some(ts(2024, 3, 15, 0, 0, 0))
        );
        // 1710511509 = 2024-03-15T14:05:09Z, read as UTC wall-clock time.
        assert_eq!(parse_timestamp("1710511509"), expected);
        assert_eq!(parse_timestamp(" 2024-03-15 14:05:09\t"), expected);
    }

    #[test]
    fn timestamps_rejected() {
        for bad in [
            "",
            "2024-03-15 25:00:00",
            "2024-03-15 14:05",
            "2024-02-30T10:00:00",
            "32/01/2024 10:00",
            "15/03/2024 14:05:09",
            "demain",
            "2024-03-15T14:05:09Z",
            "12345",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?} should not parse");
        }
        assert!(is_canonical_timestamp("2024-03-15 14:05:09"));
        assert!(!is_canonical_timestamp("2024-03-15T14:05:09"));
    }

    #[test]
    fn amounts_in_every_contract_format() {
        assert_eq!(parse_amount_cents("12.50"), Some(1250));
        assert_eq!(parse_amount_cents("12,50"), Some(1250));
        assert_eq!(parse_amount_cents("12,50 €"), Some(1250));
        assert_eq!(parse_amount_cents("12,50€"), Some(1250));
        assert_eq!(parse_amount_cents("€12.50"), Some(1250));
        assert_eq!(parse_amount_cents("€ 12.50"), Some(1250));
        assert_eq!(parse_amount_cents(" 12.5 "), Some(1250));
        assert_eq!(parse_amount_cents("12"), Some(1200));
        assert_eq!(parse_amount_cents("0.00"), Some(0));
        assert_eq!(parse_amount_cents("-3,5"), Some(-350));
        assert_eq!(parse_amount_cents("+7.01"), Some(701));
        assert_eq!(parse_amount_cents("0012.30"), Some(1230));
    }

    #[test]
    fn amounts_rounded_to_the_cent() {
        assert_eq!(parse_amount_cents("12.345"), Some(1235));
        assert_eq!(parse_amount_cents("12.344"), Some(1234));
        assert_eq!(parse_amount_cents("-0.005"), Some(-1));
        assert_eq!(parse_amount_cents("9.999"), Some(1000));
    }

    #[test]
    fn amounts_rejected() {
        for bad in [
            "",
            "€",
            "abc",
            "12.50.1",
            "1 234,50",
            "12,",
            ",5",
            "12.5x",
            "€12.50€",
            "--5",
            "douze",
            "12 50",
            "١٢٫٥",
            // Eleven integer digits: beyond DECIMAL(12, 2).
            "12345678901.00",
            "99999999999999999999999999999999999999999",
        ] {
            assert_eq!(parse_amount_cents(bad), None, "{bad:?} should not parse");
        }
        // The largest value that fits.
        assert_eq!(parse_amount_cents("9999999999.99"), Some(999_999_999_999));
        assert_eq!(parse_amount_cents("9999999999.995"), None);
    }

    #[test]
    fn canonical_amount_shape() {
        assert!(is_canonical_amount("12.50"));
        assert!(!is_canonical_amount("12.5"));
        assert!(!is_canonical_amount("12,50"));
        assert!(!is_canonical_amount("-12.50"));
    }

    #[test]
    fn email_rule() {
        assert!(is_valid_email("a@b.co"));
        assert!(is_valid_email("jean.dupont@exemple.fr"));
        assert!(is_valid_email("élodie@exemple.fr"));
        assert!(is_valid_email("a@x.b."));
        for bad in [
            "",
            "a@b",
            "@b.fr",
            "a@.fr",
            "a@b.",
            "a@@b.fr",
            "a@b@c.fr",
            "a b@c.fr",
            "jean.dupont.exemple.fr",
        ] {
            assert!(!is_valid_email(bad), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn spaces_squashed() {
        assert_eq!(squash_spaces("  Jean   Dupont "), "Jean Dupont");
        assert_eq!(squash_spaces("Zoé\t\tMartin"), "Zoé Martin");
        assert_eq!(squash_spaces("   "), "");
        assert_eq!(squash_spaces("Casque audio"), "Casque audio");
    }

    #[test]
    fn identifiers() {
        assert_eq!(parse_id("42"), Some(42));
        assert_eq!(parse_id(" 42 "), Some(42));
        assert_eq!(parse_id("9223372036854775807"), Some(i64::MAX));
        for bad in ["", "abc", "4.2", "-1", "+4", "9223372036854775808", "4 2"] {
            assert_eq!(parse_id(bad), None, "{bad:?} should be invalid");
        }
    }
}
