"""The only way the dashboard reads data: the lake's HTTP API (`lake-api`).

Settings: `LAKE_API_URL` (default `http://127.0.0.1:8080`) and `LAKE_API_KEY` from the
environment, else from `.streamlit/secrets.toml` (never committed). Answers are cached per
served Gold and ML version (read from `/freshness` at each run of a page), so a newly published
version is never mixed with cached answers of the previous one. A failure is raised as
`ApiError` with a French message for the page to show; nothing failed is cached, so the page
recovers by itself once the API answers again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import requests
import streamlit as st

DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT_SECONDS = 10.0


class ApiError(Exception):
    """A failed call, with the message the page shows (in French) and the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Settings:
    url: str
    key: str | None


def _secret(name: str) -> str | None:
    try:
        value = st.secrets.get(name)
    except Exception:  # noqa: BLE001 - no secrets file is the usual case
        return None
    return None if value is None else str(value)


def settings() -> Settings:
    url = os.environ.get("LAKE_API_URL") or _secret("LAKE_API_URL") or DEFAULT_URL
    key = os.environ.get("LAKE_API_KEY") or _secret("LAKE_API_KEY")
    return Settings(url.rstrip("/"), key or None)


def _get(config: Settings, path: str, params: tuple[tuple[str, str], ...]) -> Any:
    headers = {"x-api-key": config.key} if config.key else {}
    url = f"{config.url}{path}"
    try:
        response = requests.get(
            url, params=dict(params), headers=headers, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise ApiError(
            f"L'API du lac ne répond pas ({config.url}) : vérifiez qu'elle tourne "
            "(`make run` ou `lake-api`). Cette page se mettra à jour d'elle-même dès "
            "qu'elle répondra."
        ) from error
    if response.status_code == 503:
        raise ApiError(
            "Aucune donnée n'est encore servie : publiez le lac (`lake run`) ou attendez "
            "que le serveur de données revienne. Cette page se mettra à jour d'elle-même.",
            503,
        )
    if response.status_code == 401:
        raise ApiError(
            "L'API refuse la clé : renseignez LAKE_API_KEY (environnement ou "
            ".streamlit/secrets.toml).",
            401,
        )
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise ApiError(
            f"L'API a répondu {response.status_code} à {path} : {message}",
            response.status_code,
        )
    try:
        return response.json()
    except ValueError as error:
        raise ApiError(f"L'API a renvoyé une réponse illisible pour {path}.") from error


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(
    config: Settings, version: str, path: str, params: tuple[tuple[str, str], ...]
) -> Any:
    # `version` is part of the key: a new Gold or ML version misses every older entry.
    return _get(config, path, params)


def freshness() -> dict[str, Any]:
    """What the API serves now (never cached)."""
    return _get(settings(), "/freshness", ())  # type: ignore[no-any-return]


def version_of(served: dict[str, Any]) -> str:
    return f"{served.get('gold_version')}/{served.get('ml_version')}"


def get(path: str, **params: object) -> Any:
    """`path` with its query parameters, from the cache of the version served now."""
    config = settings()
    version = version_of(freshness())
    query = tuple(sorted((k, str(v)) for k, v in params.items() if v is not None))
    return _cached(config, version, path, query)


def rows(path: str, **params: object) -> list[dict[str, Any]]:
    """The `data` list of a listing endpoint."""
    body = get(path, **params)
    return list(body.get("data", [])) if isinstance(body, dict) else []


def live(path: str, **params: object) -> Any:
    """An uncached call, for data that moves without a new Gold (real time)."""
    query = tuple(sorted((k, str(v)) for k, v in params.items() if v is not None))
    return _get(settings(), path, query)
