"""What every page shares: its frame (title, served version, French error messages) and the
watcher that redraws the page when a new version is served or the API comes back."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lake_dashboard import api, fr

# How often a page asks the API which version it serves.
WATCH_SECONDS = 1.0
RENDERED = "version_rendered"


def _current_version() -> str | None:
    try:
        return api.version_of(api.freshness())
    except api.ApiError:
        return None


@st.fragment(run_every=WATCH_SECONDS)
def _watch_version() -> None:
    """Reruns the whole page when the served version differs from the one it was drawn with
    (a new Gold or ML run, or the API back after an outage)."""
    if _current_version() != st.session_state.get(RENDERED):
        st.rerun(scope="app")


def page(title: str, body: Callable[[], None], caption: str | None = None) -> None:
    """Draws a page: its title, the version it shows, its body; an unreachable or failing API
    gives the French message instead of the body, never a traceback."""
    st.title(title)
    if caption:
        st.caption(caption)
    try:
        served = api.freshness()
        st.session_state[RENDERED] = api.version_of(served)
        st.caption(
            f"Version Gold {served.get('gold_version')} · données au "
            f"{fr.date(served.get('as_of'))} · publiée le "
            f"{fr.horodatage(served.get('gold_published_at'))}"
        )
        body()
    except api.ApiError as error:
        st.session_state[RENDERED] = None
        st.error(str(error), icon=":material/error:")
    _watch_version()


def table(rows: list[dict[str, object]]) -> None:
    """Rows already formatted in French, as a full-width table without an index."""
    st.dataframe(rows, hide_index=True, width="stretch")


def empty(message: str = "Aucune donnée pour cette sélection.") -> None:
    st.info(message, icon=":material/info:")
