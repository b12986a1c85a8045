"""French formatting of numbers, money, shares and dates: `1 234,56 €`, `+4,2 %`, `12 mars 2026`.

Thousands are grouped with a narrow no-break space (U+202F) as French typography does; the
decimal separator is a comma. `None` (a figure without a base) prints as an em dash.
"""

from __future__ import annotations

import datetime as dt
import math

MISSING = "—"
THIN_SPACE = "\u202f"
MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def nombre(value: float | None, decimales: int = 0) -> str:
    """`1234567.891, 2` → `1 234 567,89`."""
    if _missing(value):
        return MISSING
    text = f"{value:,.{decimales}f}"
    return text.replace(",", THIN_SPACE).replace(".", ",")


def valeur(value: float | None, decimales: int = 3) -> str:
    """A figure of any size, without useless decimals: `90.0` → `90`, `0.3762` → `0,376`."""
    if _missing(value):
        return MISSING
    text = nombre(value, decimales)
    return text.rstrip("0").rstrip(",") if "," in text else text


def euros(value: float | None, decimales: int = 2) -> str:
    """`1234.56` → `1 234,56 €`."""
    if _missing(value):
        return MISSING
    return f"{nombre(value, decimales)}\u00a0€"


def pourcentage(part: float | None, decimales: int = 1) -> str:
    """A share in [0, 1]: `0.4215` → `42,2 %`."""
    if _missing(part):
        return MISSING
    return f"{nombre(100 * part, decimales)}\u00a0%"  # type: ignore[operator]


def variation(part: float | None, decimales: int = 1) -> str:
    """A growth as a signed share: `0.042` → `+4,2 %`, `-0.1` → `-10,0 %`."""
    if _missing(part):
        return MISSING
    sign = "+" if part >= 0 else "-"  # type: ignore[operator]
    return f"{sign}{pourcentage(abs(part), decimales)}"  # type: ignore[arg-type]


def _as_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])


def date(value: str | dt.date | None) -> str:
    """`2026-03-12` → `12 mars 2026` (the 1st as `1er`)."""
    if value is None or value == "":
        return MISSING
    day = _as_date(value)
    jour = "1er" if day.day == 1 else str(day.day)
    return f"{jour} {MOIS[day.month - 1]} {day.year}"


def mois(value: str | dt.date | None) -> str:
    """The month of a date: `2026-03-01` → `mars 2026`."""
    if value is None or value == "":
        return MISSING
    day = _as_date(value)
    return f"{MOIS[day.month - 1]} {day.year}"


def horodatage(value: str | None) -> str:
    """An ISO timestamp (UTC) → `12 mars 2026 à 14:05:09 UTC`."""
    if not value:
        return MISSING
    stamp = dt.datetime.fromisoformat(value)
    return f"{date(stamp.date())} à {stamp:%H:%M:%S} UTC"


def jour_semaine(numero: int) -> str:
    """1 = lundi … 7 = dimanche."""
    return JOURS[numero - 1]
