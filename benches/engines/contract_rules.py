"""The data contract's parsing rules as vectorised Arrow functions, for the Python engines.

These are the Python twins of the lake's Rust UDFs (`udfs/src/parse.rs`): the same names, the same
rules, the same result types. Spark calls them as Arrow UDFs, DuckDB as Arrow scalar functions,
and the pandas baseline on its columns. Each takes and returns a `pyarrow.Array`, and works with
`pyarrow.compute` kernels only (no Python loop per value), so the comparison measures the engines
rather than the interpreter.

Where Arrow's `strptime` would roll an impossible date over (2024-02-30 → 2024-03-01), a parsed
value counts only if it formats back to the text it came from, which the fixed digit shapes make
exact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

AMOUNT_TYPE = pa.decimal128(12, 2)
TIMESTAMP_TYPE = pa.timestamp("us")
# Epoch seconds are read with 9 to 11 digits (1973 … 5138), as in the Rust rules.
EPOCH = r"^[0-9]{9,11}$"
# An amount: one optional sign, digits, at most one separator followed by digits.
AMOUNT = r"^(?P<sign>[+-]?)(?P<units>[0-9]+)(?:[.,](?P<fraction>[0-9]+))?$"
# Unicode's White_Space (Rust's `char::is_whitespace`, the Rust regex crate's `\s`) as RE2
# spells it: RE2's `\s` is ASCII only, so the vertical tab, NEL and the separators (`\pZ`:
# no-break and other spaces) are added to it.
SPACE = r"\s\x0B\x{85}\pZ"
WHITE_SPACE = rf"[{SPACE}]+"
# The contract's `^[^@\s]+@[^@\s]+\.[^@\s]+$`, with Unicode's white space.
EMAIL = rf"^[^@{SPACE}]+@[^@{SPACE}]+\.[^@{SPACE}]+$"
# The largest amount DECIMAL(12, 2) holds, in cents.
MAX_CENTS = 999_999_999_999


def _text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values


def _shaped(text: pa.Array, shape: str, fmt: str) -> pa.Array:
    """Timestamps of the values of `text` that have the digit `shape` and are real dates."""
    matches = pc.match_substring_regex(text, shape)
    candidates = pc.if_else(matches, text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(candidates, format=fmt, unit="us", error_is_null=True)
    # Seconds unit: at microseconds, %S would print a fraction.
    seconds = pc.cast(parsed, pa.timestamp("s"))
    round_trip = pc.equal(pc.strftime(seconds, format=fmt), candidates)
    return pc.if_else(round_trip, parsed, pa.scalar(None, TIMESTAMP_TYPE))


def _epoch(text: pa.Array) -> pa.Array:
    digits = pc.if_else(
        pc.match_substring_regex(text, EPOCH), text, pa.scalar(None, pa.string())
    )
    seconds = pc.cast(digits, pa.int64())
    return pc.cast(pc.multiply(seconds, 1_000_000), TIMESTAMP_TYPE)


def parse_timestamp_multi(values: pa.Array) -> pa.Array:
    """TIMESTAMP from `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM:SS`, `DD/MM/YYYY HH:MM`,
    `YYYY-MM-DD` (midnight) or epoch seconds (UTC wall clock); NULL otherwise."""
    text = pc.utf8_trim_whitespace(_text(values))
    return pc.coalesce(
        _shaped(text, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "%Y-%m-%d %H:%M:%S"),
        _shaped(text, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", "%Y-%m-%dT%H:%M:%S"),
        _shaped(text, r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$", "%d/%m/%Y %H:%M"),
        _shaped(text, r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
        _epoch(text),
    )


def parse_date_multi(values: pa.Array) -> pa.Array:
    """DATE from `YYYY-MM-DD`, `DD/MM/YYYY`, `YYYY/MM/DD` or epoch seconds (UTC); NULL otherwise."""
    text = pc.utf8_trim_whitespace(_text(values))
    stamps = pc.coalesce(
        _shaped(text, r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
        _shaped(text, r"^\d{2}/\d{2}/\d{4}$", "%d/%m/%Y"),
        _shaped(text, r"^\d{4}/\d{2}/\d{2}$", "%Y/%m/%d"),
        _epoch(text),
    )
    return pc.cast(pc.floor_temporal(stamps, unit="day"), pa.date32())


def parse_amount(values: pa.Array) -> pa.Array:
    """DECIMAL(12, 2) from `12.50`, `12,50`, `12,50 €`, `€12.50`, ` 12.5 `, `-3`: one optional
    euro sign before or after, half away from zero to the cent; NULL otherwise or beyond 10
    integer digits."""
    return cents_to_decimal(parse_amount_cents(values), AMOUNT_TYPE)


def parse_amount_cents(values: pa.Array) -> pa.Array:
    """The amounts of `parse_amount` as whole cents (int64)."""
    text = pc.utf8_trim_whitespace(_text(values))
    # One euro sign, before (then spaces after it) or else after (then spaces before it).
    prefixed = pc.starts_with(text, "€")
    text = pc.if_else(
        prefixed,
        pc.utf8_ltrim_whitespace(pc.utf8_slice_codeunits(text, 1)),
        pc.utf8_rtrim_whitespace(pc.replace_substring_regex(text, "€$", "")),
    )
    parts = pc.extract_regex(text, AMOUNT)
    sign, units, fraction = (pc.struct_field(parts, i) for i in range(3))
    units = pc.utf8_ltrim(units, "0")
    fits = pc.less_equal(pc.utf8_length(units), 10)
    units = pc.if_else(fits, units, pa.scalar(None, pa.string()))
    whole = pc.cast(pc.if_else(pc.equal(units, ""), "0", units), pa.int64())
    # The first three decimals, zero-padded: two make the cents, the third rounds.
    thousandths = pc.cast(
        pc.utf8_slice_codeunits(pc.utf8_rpad(pc.coalesce(fraction, ""), 3, "0"), 0, 3),
        pa.int64(),
    )
    hundredths = pc.divide(thousandths, 10)  # integer division
    rounds_up = pc.greater_equal(
        pc.subtract(thousandths, pc.multiply(hundredths, 10)), 5
    )
    cents = pc.add(
        pc.add(pc.multiply(whole, 100), hundredths), pc.cast(rounds_up, pa.int64())
    )
    cents = pc.if_else(
        pc.less_equal(cents, MAX_CENTS), cents, pa.scalar(None, pa.int64())
    )
    return pc.if_else(pc.equal(sign, "-"), pc.negate(cents), cents)


def cents_to_decimal(cents: pa.Array, decimal_type: pa.DataType) -> pa.Array:
    """Decimals of scale 2 whose unscaled values are `cents` (int64, nulls allowed)."""
    cents = cents.combine_chunks() if isinstance(cents, pa.ChunkedArray) else cents
    low = cents.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    words = np.empty((len(low), 2), dtype=np.int64)
    words[:, 0] = low
    words[:, 1] = low >> 63  # the sign extended into the high 64 bits of the int128
    validity = cents.buffers()[0] if cents.null_count else None
    if validity is not None and cents.offset:
        validity = pc.is_valid(cents).buffers()[1]
    return pa.Array.from_buffers(
        AMOUNT_TYPE,
        len(low),
        [validity, pa.py_buffer(words.tobytes())],
        cents.null_count,
    )


def parse_id(values: pa.Array) -> pa.Array:
    """BIGINT from ASCII digits (surrounding spaces allowed) that fit; NULL otherwise."""
    text = pc.utf8_trim_whitespace(_text(values))
    digits = pc.utf8_ltrim(
        pc.if_else(
            pc.match_substring_regex(text, r"^[0-9]+$"),
            text,
            pa.scalar(None, pa.string()),
        ),
        "0",
    )
    digits = pc.if_else(pc.equal(digits, ""), "0", digits)
    # 19 digits may overflow BIGINT: compare their text with its largest value.
    fits = pc.or_(
        pc.less(pc.utf8_length(digits), 19),
        pc.and_(
            pc.equal(pc.utf8_length(digits), 19),
            pc.less_equal(digits, "9223372036854775807"),
        ),
    )
    return pc.cast(pc.if_else(fits, digits, pa.scalar(None, pa.string())), pa.int64())


def squash_spaces(values: pa.Array) -> pa.Array:
    """Trimmed, with every inner run of (Unicode) white space made one space."""
    text = _text(values)
    return pc.utf8_trim(pc.replace_substring_regex(text, WHITE_SPACE, " "), " ")


def is_valid_email(values: pa.Array) -> pa.Array:
    """The contract's e-mail rule `^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$` (on a normalised address)."""
    return pc.match_substring_regex(_text(values), EMAIL)


def is_canonical_date(values: pa.Array) -> pa.Array:
    return pc.match_substring_regex(_text(values), r"^\d{4}-\d{2}-\d{2}$")


def is_canonical_timestamp(values: pa.Array) -> pa.Array:
    return pc.match_substring_regex(
        _text(values), r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
    )


def is_canonical_amount(values: pa.Array) -> pa.Array:
    return pc.match_substring_regex(_text(values), r"^[0-9]+\.[0-9]{2}$")


# Every rule by its SQL name, with its result type.
RULES: dict[str, tuple[Callable[[pa.Array], pa.Array], pa.DataType]] = {
    "parse_timestamp_multi": (parse_timestamp_multi, TIMESTAMP_TYPE),
    "parse_date_multi": (parse_date_multi, pa.date32()),
    "parse_amount": (parse_amount, AMOUNT_TYPE),
    "parse_id": (parse_id, pa.int64()),
    "squash_spaces": (squash_spaces, pa.string()),
    "is_valid_email": (is_valid_email, pa.bool_()),
    "is_canonical_date": (is_canonical_date, pa.bool_()),
    "is_canonical_timestamp": (is_canonical_timestamp, pa.bool_()),
    "is_canonical_amount": (is_canonical_amount, pa.bool_()),
}
