//! The Python twins of the parsing rules (`benches/engines/contract_rules.py`, which Spark, DuckDB
//! and the pandas baseline use in the engines benchmark) give the same answer as the Rust rules on
//! every tricky input below: each contract format, each rejected shape, edges of ranges, white
//! space and non-ASCII digits. Both sides print one line per input, compared line by line.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use lake_udfs::parse;

const INPUTS: &[&str] = &[
    // Timestamps and dates in every accepted format, with surrounding white space.
    "2024-03-15 14:05:09",
    "2024-03-15T14:05:09",
    "15/03/2024 14:05",
    "2024-03-15",
    "2024/03/15",
    "15/03/2024",
    "1710511509",
    "1710460800",
    " 2024-03-15 14:05:09\t",
    "  2024-03-15 ",
    // Impossible or malformed dates and times.
    "2024-02-30",
    "2024-02-29",
    "2023-02-29",
    "31/04/2024",
    "2024-13-01",
    "2024-03-15 25:00:00",
    "2024-03-15 23:60:00",
    "2024-03-15 14:05",
    "2024-02-30T10:00:00",
    "32/01/2024 10:00",
    "15/03/2024 14:05:09",
    "2024-03-15T14:05:09Z",
    "2024-3-15",
    "15-03-2024",
    "12345",
    "123456789",
    "99999999999",
    "999999999999",
    "-1710460800",
    "１７１０４６０８００",
    "hier",
    // Amounts.
    "12.50",
    "12,50",
    "12,50 €",
    "12,50€",
    "€12.50",
    "€ 12.50",
    " 12.5 ",
    "12",
    "0.00",
    "-3,5",
    "+7.01",
    "0012.30",
    "12.345",
    "12.344",
    "-0.005",
    "9.999",
    "9999999999.99",
    "9999999999.995",
    "12345678901.00",
    "€",
    "12.50.1",
    "1 234,50",
    "12,",
    ",5",
    "12.5x",
    "€12.50€",
    "--5",
    "12 50",
    "١٢٫٥",
    // Identifiers.
    "42",
    " 42 ",
    "007",
    "-1",
    "1.0",
    "9223372036854775807",
    "9223372036854775808",
    "00000000000000000000001",
    // E-mail addresses (already normalised) and names with white space.
    "a@b.co",
    "jean.dupont@exemple.fr",
    "élodie@exemple.fr",
    "a@x.b.",
    "a@.b",
    "a@b.",
    "a b@c.d",
    "a@b",
    "@b.c",
    "a@@b.c",
    "  Jean   Dupont ",
    "Jean\tDupont",
    "",
    "   ",
];

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "NULL".to_string(), |v| v.to_string())
}

/// One line per input: every rule's answer, `|`-separated, as the Python side prints it.
fn rust_lines() -> Vec<String> {
    INPUTS
        .iter()
        .map(|raw| {
            [
                optional(parse::parse_timestamp(raw).map(|t| t.format("%Y-%m-%d %H:%M:%S"))),
                optional(parse::parse_date(raw)),
                optional(parse::parse_amount_cents(raw)),
                optional(parse::parse_id(raw)),
                parse::squash_spaces(raw),
                parse::is_valid_email(raw).to_string(),
                parse::is_canonical_date(raw).to_string(),
                parse::is_canonical_timestamp(raw).to_string(),
                parse::is_canonical_amount(raw).to_string(),
            ]
            .join("|")
        })
        .collect()
}

const PYTHON: &str = r#"
import json, sys
import pyarrow as pa
import contract_rules as r

values = pa.array(json.load(sys.stdin), pa.string())
def text(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if hasattr(v, "strftime") and hasattr(v, "hour"):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)
columns = [
    r.parse_timestamp_multi(values),
    r.parse_date_multi(values),
    r.parse_amount_cents(values),
    r.parse_id(values),
    r.squash_spaces(values),
    r.is_valid_email(values),
    r.is_canonical_date(values),
    r.is_canonical_timestamp(values),
    r.is_canonical_amount(values),
]
for row in zip(*(c.to_pylist() for c in columns)):
    print("|".join(text(v) for v in row))
"#;

#[test]
fn python_rules_answer_like_the_rust_rules() {
    let python = lake_testkit::venv_python();
    let engines = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/engines");
    let mut child = Command::new(python)
        .args(["-c", PYTHON])
        .env("PYTHONPATH", &engines)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    let inputs = serde_json::to_vec(INPUTS).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&inputs)
        .expect("write the inputs");
    let output = child.wait_with_output().expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let python_lines: Vec<&str> = stdout.lines().collect();
    let rust = rust_lines();
    assert_eq!(python_lines.len(), rust.len(), "{stdout}");
    let differing: Vec<String> = INPUTS
        .iter()
        .zip(rust.iter().zip(&python_lines))
        .filter(|(_, (r, p))| r.as_str() != **p)
        .map(|(input, (r, p))| format!("{input:?}\n  rust:   {r}\n  python: {p}"))
        .collect();
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
