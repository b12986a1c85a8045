"""French formatting, on hand-written examples."""

from __future__ import annotations

from lake_dashboard import fr

NNBSP = "\u202f"  # thousands
NBSP = "\u00a0"  # before € and %


def test_money_numbers_and_shares() -> None:
    assert fr.euros(1234.56) == f"1{NNBSP}234,56{NBSP}€"
    assert fr.euros(9995744.51) == f"9{NNBSP}995{NNBSP}744,51{NBSP}€"
    assert fr.euros(0) == f"0,00{NBSP}€"
    assert fr.nombre(98400) == f"98{NNBSP}400"
    assert fr.nombre(0.42504, 3) == "0,425"
    assert fr.valeur(90.0) == "90"
    assert fr.valeur(0.37624) == "0,376"
    assert fr.valeur(12000.5) == f"12{NNBSP}000,5"
    assert fr.pourcentage(0.4216) == f"42,2{NBSP}%"
    assert fr.variation(0.042) == f"+4,2{NBSP}%"
    assert fr.variation(-0.1) == f"-10,0{NBSP}%"
    for missing in (None, float("nan")):
        assert fr.euros(missing) == fr.MISSING
        assert fr.pourcentage(missing) == fr.MISSING


def test_dates() -> None:
    assert fr.date("2026-03-12") == "12 mars 2026"
    assert fr.date("2025-08-01T10:00:00") == "1er août 2025"
    assert fr.mois("2024-12-01") == "décembre 2024"
    assert (
        fr.horodatage("2026-11-30T23:35:03.669Z") == "30 novembre 2026 à 23:35:03 UTC"
    )
    assert fr.jour_semaine(1) == "lundi"
    assert fr.jour_semaine(7) == "dimanche"
    assert fr.date(None) == fr.MISSING
