"""Every page of the dashboard, run by Streamlit's AppTest against a real `lake-api` serving
the golden fixtures: no exception, no error, and the figures the golden tests work out by hand
(core/tests/golden.rs), formatted in French. Then the API stopped and started again, and a new
Gold published while the page is open."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import Api, publish_golden, start_api
from lake_dashboard.browser import free_port

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = sorted(p.name for p in (Path(APP).parent / "views").glob("*.py"))
NBSP = "\u00a0"
NNBSP = "\u202f"


def app(url: str, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(f"views/{page}")
        at.run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(autouse=True)
def api_url(monkeypatch: pytest.MonkeyPatch, golden_api: Api) -> str:
    monkeypatch.setenv("LAKE_API_URL", golden_api.url)
    return golden_api.url


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_error(page: str, api_url: str) -> None:
    at = app(api_url, page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title, f"{page} has no title"


def test_home_shows_the_hand_worked_kpis(api_url: str) -> None:
    shown = metrics(app(api_url))
    # clv_12m of the seven buyers (core/tests/golden.rs): CA × 365.25 / tenure, or × 12 under
    # a month of tenure.
    clv = [
        300.0 * 365.25 / 118.0,
        50.0 * 365.25 / 106.0,
        210.0 * 365.25 / 101.0,
        100.0 * 365.25 / 50.0,
        25.0 * 365.25 / 88.0,
        80.0 * 12.0,
        45.0 * 365.25 / 75.0,
    ]
    clv_text = f"{sum(clv) / 7:.2f}".replace(".", ",")
    assert shown == {
        "Chiffre d'affaires": f"810,00{NBSP}€",
        "Achats": "12",
        "Clients acheteurs": "7",
        "Clients inscrits": "8",
        "Panier moyen": f"67,50{NBSP}€",
        "CLV moyenne (12 mois)": f"{clv_text}{NBSP}€",
        # (2/3 + 0 + 1/2) / 3 over April, May and June.
        "Rétention moyenne (mois)": f"38,9{NBSP}%",
        # 2410 / (7 × 810).
        "Indice de Gini": "0,425",
    }


def test_analytics_and_client_pages_show_the_hand_worked_figures(api_url: str) -> None:
    assert metrics(app(api_url, "avancees.py")) == {
        "Indice de Gini": "0,425",
        # The top ⌈1.4⌉ = 2 buyers: (300 + 210) / 810.
        "CA des 20 % meilleurs clients": f"63,0{NBSP}%",
        # 4 buyers of 7 reach 80 % of the CA.
        "Part des clients faisant 80 % du CA": f"57,1{NBSP}%",
    }
    fiche = metrics(app(api_url, "fiche_client.py"))
    assert fiche["Pays"] == "France"
    assert fiche["CA total"] == f"300,00{NBSP}€"


def test_quality_rfm_and_clv_pages_show_the_hand_worked_figures(api_url: str) -> None:
    # core/tests/golden.rs: 11 client rows (8 kept, 1 quarantined), 24 purchase rows (12 kept,
    # 10 quarantined).
    at = app(api_url, "qualite.py")
    shown = metrics(at)
    assert (shown["Clients : lignes lues"], shown["Clients : lignes gardées"]) == (
        "11",
        "8",
    )
    assert (shown["Achats : lignes lues"], shown["Achats : lignes gardées"]) == (
        "24",
        "12",
    )
    assert shown["Clients en quarantaine"] == "1"
    assert shown["Achats en quarantaine"] == "10"
    quarantined = at.dataframe[-1].value
    assert list(quarantined["Ligne"])[:2] == [15, 16]
    assert list(quarantined["Raison"])[:2] == [
        "montant illisible",
        "montant nul ou négatif",
    ]
    assert list(quarantined["Fichier"])[-1] == "clients.csv"

    # En hibernation: c2 (50), c8 (45), c5 (25), largest amount first.
    at = app(api_url, "rfm.py")
    at.selectbox(key="segment_rfm").select("En hibernation").run()
    assert not at.exception
    buyers = at.dataframe[-1].value
    assert list(buyers["Client"]) == [2, 8, 5]
    assert list(buyers["Montant"]) == [
        f"50,00{NBSP}€",
        f"45,00{NBSP}€",
        f"25,00{NBSP}€",
    ]

    # Seven buyers, one per decile; the highest clv_12m is c6's 80 × 12.
    deciles = app(api_url, "clv.py").dataframe[0].value
    assert list(deciles["Décile"]) == [f"D{d}" for d in range(1, 8)]
    assert list(deciles["CLV max."])[-1] == f"960,00{NBSP}€"


def test_freshness_shows_the_last_measured_delays(
    api_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAKE_BENCH_RESULTS", str(tmp_path))
    at = app(api_url, "fraicheur.py")
    assert any("make bench-dashboard" in i.value for i in at.info)

    def spread(p50: float, p95: float) -> dict[str, float]:
        return {"p50": p50, "p95": p95, "min": p50, "max": p95}

    older = {"date": "2026-11-01", "rounds": 1, "refresh": [], "render": {}}
    (tmp_path / "refresh-dashboard-2026-11-01.json").write_text(json.dumps(older))
    newest = {
        "date": "2026-12-01",
        "rounds": 20,
        "refresh_scale": 0.1,
        "render_scale": 1,
        "refresh": [
            {
                "store": "mongodb",
                "load_s": spread(9.5, 10.0),
                "switch_to_api_s": spread(0.07, 0.12),
                "api_to_pixels_s": spread(0.78, 0.95),
                "switch_to_pixels_s": spread(0.855, 1.234),
            }
        ],
        "render": {"accueil": {"sidebar": spread(0.17, 0.2), "tab": spread(1.1, 1.2)}},
    }
    (tmp_path / "refresh-dashboard-2026-12-01.json").write_text(json.dumps(newest))
    at = app(api_url, "fraicheur.py")
    refresh = at.dataframe[0].value
    assert list(refresh["Magasin"]) == ["MongoDB"]
    assert list(refresh["Bascule → pixels (p50 / p95)"]) == [f"855 / 1{NNBSP}234 ms"]
    render = at.dataframe[1].value
    assert list(render["Depuis le menu (p50 / p95)"]) == ["0,17 / 0,20 s"]


def test_a_stopped_api_gives_a_french_message_and_the_page_recovers(
    monkeypatch: pytest.MonkeyPatch, golden_lake: Path
) -> None:
    port = free_port()
    monkeypatch.setenv("LAKE_API_URL", f"http://127.0.0.1:{port}")
    at = app("", None)
    assert not at.exception
    assert any("L'API du lac ne répond pas" in e.value for e in at.error), at.error
    for page in PAGES:
        at.switch_page(f"views/{page}")
        at.run()
        assert not at.exception, (page, at.exception)
        assert any("ne répond pas" in e.value for e in at.error), page
    api = start_api(golden_lake / "lake", f"127.0.0.1:{port}")
    try:
        at.switch_page("views/accueil.py")
        at.run()
        assert not at.error, [e.value for e in at.error]
        assert metrics(at)["Chiffre d'affaires"] == f"810,00{NBSP}€"
    finally:
        api.stop()


def test_a_new_gold_is_shown_without_a_restart(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    publish_golden(tmp_path)
    api = start_api(tmp_path / "lake")
    try:
        monkeypatch.setenv("LAKE_API_URL", api.url)
        at = app(api.url)
        assert metrics(at)["Chiffre d'affaires"] == f"810,00{NBSP}€"
        # One more purchase of 90.00 by client 1, before as_of: a new Gold of CA 900.00.
        publish_golden(
            tmp_path,
            {
                "achats_2025-06-bis.csv": "id_achat,id_client,date_achat,montant,produit\n"
                "900,1,2025-06-20 10:00:00,90.00,Livre\n"
            },
        )
        deadline = time.monotonic() + 30
        while True:
            at.run()
            if metrics(at)["Chiffre d'affaires"] == f"900,00{NBSP}€":
                break
            assert time.monotonic() < deadline, metrics(at)
            time.sleep(0.2)
        assert metrics(at)["Achats"] == "13"
    finally:
        api.stop()
