"""The dashboard in a real browser: Streamlit served as a user runs it, Debian's Chromium driven
by Playwright (headless). Every page opens without a Streamlit exception or error element, and a
screenshot of each is saved (into $LAKE_TEST_ARTIFACTS, default a temporary folder). With the
page left open: the API stopped shows the French message, the API started again brings the
figures back, and a newly published Gold appears, all without reloading the page."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Api, publish_golden, start_api
from lake_dashboard.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SETTLED,
    free_port,
    serve_dashboard,
    wait_until,
)

DASHBOARD = Path(__file__).resolve().parents[1]
PAGES = sorted(p.stem for p in (DASHBOARD / "views").glob("*.py"))
NBSP = "\u00a0"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def artifacts() -> Path:
    folder = Path(
        os.environ.get("LAKE_TEST_ARTIFACTS", "/tmp/lake-dashboard-screenshots")
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settled(page: object) -> None:
    page.wait_for_function(SETTLED, timeout=30_000)  # type: ignore[attr-defined]


def texts(page: object, selector: str) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all(selector)]  # type: ignore[attr-defined]


def test_every_page_in_a_real_browser(browser: object, golden_api: Api) -> None:
    process, url = serve_dashboard(golden_api.url)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    try:
        for name in PAGES:
            page.goto(f"{url}/" if name == "accueil" else f"{url}/{name}")
            settled(page)
            assert not texts(page, '[data-testid="stException"]'), name
            errors = texts(page, '[data-testid="stAlertContentError"]')
            assert not errors, (name, errors)
            page.screenshot(path=str(artifacts() / f"{name}.png"), full_page=True)
        page.goto(f"{url}/")
        settled(page)
        values = texts(page, '[data-testid="stMetricValue"]')
        assert f"810,00{NBSP}€" in values, values
    finally:
        page.close()
        process.terminate()
        process.wait(timeout=10)


def test_a_page_url_opened_first_gets_the_whole_app(
    browser: object, golden_api: Api
) -> None:
    # A bookmark of a page, opened on a dashboard that just started: the page comes with the
    # app's navigation and layout (a `pages/` folder would have Streamlit run the page alone).
    process, url = serve_dashboard(golden_api.url)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    try:
        page.goto(f"{url}/rfm")
        settled(page)
        links = texts(page, '[data-testid="stSidebarNavLink"]')
        # Each link reads "<icon name>\n\n<title>".
        assert any(link.endswith("Accueil – KPIs globaux") for link in links), links
        assert "Segmentation RFM" in texts(page, "h1")
    finally:
        page.close()
        process.terminate()
        process.wait(timeout=10)


def test_the_open_page_follows_the_api_and_new_gold(
    browser: object, tmp_path: Path
) -> None:
    publish_golden(tmp_path)
    port = free_port()
    api = start_api(tmp_path / "lake", f"127.0.0.1:{port}")
    process, url = serve_dashboard(api.url)
    page = browser.new_page()  # type: ignore[attr-defined]

    def home_shows(text: str) -> bool:
        return any(text in v for v in texts(page, '[data-testid="stMetricValue"]'))

    try:
        page.goto(f"{url}/")
        settled(page)
        wait_until("the figures", 30, lambda: home_shows(f"810,00{NBSP}€"))
        api.stop()
        wait_until(
            "the French message",
            30,
            lambda: any(
                "ne répond pas" in t
                for t in texts(page, '[data-testid="stAlertContentError"]')
            ),
        )
        api = start_api(tmp_path / "lake", f"127.0.0.1:{port}")
        wait_until("the figures back", 30, lambda: home_shows(f"810,00{NBSP}€"))
        publish_golden(
            tmp_path,
            {
                "achats_2025-06-bis.csv": "id_achat,id_client,date_achat,montant,produit\n"
                "900,1,2025-06-20 10:00:00,90.00,Livre\n"
            },
        )
        wait_until("the new Gold", 30, lambda: home_shows(f"900,00{NBSP}€"))
    finally:
        page.close()
        api.stop()
        process.terminate()
        process.wait(timeout=10)
