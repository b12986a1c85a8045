"""Provisions Metabase with the lake's MongoDB and its dashboard, through Metabase's API.

Metabase's open-source edition has no import of exported dashboards (serialization is an
Enterprise feature), so the dashboard lives in `dashboard.json`, next to this file, and this
script makes Metabase match it: the first admin account (on a fresh Metabase), the MongoDB
database, one native MongoDB question per card and the dashboard placing them. Run it again
after editing `dashboard.json`: questions and the dashboard are found by name and updated, not
duplicated.

Each question reads the view named after a served table (`fact_ca_mois`), which `lake mongo
load` points at the version being served: saved questions survive every load.

    python compose/metabase/provision.py --url http://localhost:3000 \\
        --mongo-uri mongodb://mongodb:27017/lake

Standard library only: it runs in any Python 3.11 (compose runs it in the flows image).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SPEC = Path(__file__).with_name("dashboard.json")
JSON = dict[str, Any]


class ProvisionError(Exception):
    """A Metabase call that failed, named with what it was for."""


class Api(Protocol):
    """The three verbs of Metabase's JSON API this script uses."""

    def get(self, path: str) -> Any: ...
    def post(self, path: str, body: JSON) -> Any: ...
    def put(self, path: str, body: JSON) -> Any: ...


@dataclass
class HttpApi:
    """Metabase's API over HTTP, with the session token once logged in."""

    url: str
    session: str | None = None
    timeout: float = 30.0

    def _call(self, method: str, path: str, body: JSON | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url.rstrip("/") + path, data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        if self.session:
            request.add_header("X-Metabase-Session", self.session)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:500]
            raise ProvisionError(f"{method} {path}: HTTP {e.code}: {detail}") from e
        except (urllib.error.URLError, OSError) as e:
            raise ProvisionError(f"{method} {path}: {e}") from e
        return json.loads(text) if text.strip() else None

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def post(self, path: str, body: JSON) -> Any:
        return self._call("POST", path, body)

    def put(self, path: str, body: JSON) -> Any:
        return self._call("PUT", path, body)


@dataclass(frozen=True)
class Admin:
    email: str
    password: str


def load_spec(path: Path = SPEC) -> JSON:
    spec: JSON = json.loads(path.read_text(encoding="utf-8"))
    return spec


def database_payload(spec: JSON, mongo_uri: str) -> JSON:
    """The MongoDB database as Metabase's `POST /api/database` takes it."""
    return {
        "engine": "mongo",
        "name": spec["database"]["name"],
        "details": {"use-conn-uri": True, "conn-uri": mongo_uri},
        "is_full_sync": True,
    }


def card_payload(card: JSON, database_id: int) -> JSON:
    """One card of the spec as a native MongoDB question (`POST /api/card`)."""
    return {
        "name": card["name"],
        "description": card.get("description"),
        "display": card["display"],
        "visualization_settings": card.get("visualization_settings", {}),
        "collection_id": None,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {
                "collection": card["collection"],
                "query": json.dumps(card["pipeline"], ensure_ascii=False),
                "template-tags": {},
            },
        },
    }


def dashcards_payload(spec: JSON, card_ids: dict[str, int]) -> list[JSON]:
    """The dashboard's cards for `PUT /api/dashboard/:id`: all of them, placed as the spec says
    (negative ids: new dashcards, replacing the ones there before)."""
    return [
        {
            "id": -(index + 1),
            "card_id": card_ids[card["name"]],
            **{key: card["layout"][key] for key in ("row", "col", "size_x", "size_y")},
            "parameter_mappings": [],
            "visualization_settings": {},
        }
        for index, card in enumerate(spec["cards"])
    ]


def items(listing: Any) -> list[JSON]:
    """A Metabase listing: a list, or (newer versions) an object whose `data` is the list."""
    if isinstance(listing, dict):
        data = listing.get("data", [])
        return data if isinstance(data, list) else []
    return listing if isinstance(listing, list) else []


def find_named(listing: Any, name: str, model: str | None = None) -> JSON | None:
    """The first live item of `listing` called `name` (of search model `model`, if given)."""
    for item in items(listing):
        if item.get("name") != name or item.get("archived"):
            continue
        if model is not None and item.get("model", model) != model:
            continue
        return item
    return None


def wait_healthy(api: Api, timeout: float, poll: float = 2.0) -> None:
    """Waits until `/api/health` says ok (Metabase takes a minute or two to start)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            health = api.get("/api/health")
            if isinstance(health, dict) and health.get("status") == "ok":
                return
            last = f"status {health}"
        except ProvisionError as e:
            last = str(e)
        if time.monotonic() >= deadline:
            raise ProvisionError(f"Metabase not healthy after {timeout:.0f} s ({last})")
        time.sleep(poll)


def log_in(api: Api, admin: Admin, site_name: str) -> str:
    """Sets Metabase up with `admin` when it is fresh, else logs in; returns the session id."""
    properties = api.get("/api/session/properties") or {}
    token = properties.get("setup-token")
    if token and not properties.get("has-user-setup"):
        answer = api.post(
            "/api/setup",
            {
                "token": token,
                "user": {
                    "email": admin.email,
                    "password": admin.password,
                    "first_name": "Admin",
                    "last_name": "Lac",
                    "site_name": site_name,
                },
                "prefs": {
                    "site_name": site_name,
                    "site_locale": "fr",
                    "allow_tracking": False,
                },
            },
        )
    else:
        answer = api.post(
            "/api/session", {"username": admin.email, "password": admin.password}
        )
    session = (answer or {}).get("id")
    if not session:
        raise ProvisionError(f"no session in Metabase's answer: {answer}")
    return str(session)


@dataclass
class Summary:
    database_id: int
    created: list[str]
    updated: list[str]
    dashboard_id: int

    def __str__(self) -> str:
        return (
            f"database {self.database_id}; questions created {self.created or '-'}, "
            f"updated {self.updated or '-'}; dashboard {self.dashboard_id}"
        )


def provision(api: Api, spec: JSON, mongo_uri: str) -> Summary:
    """Makes the logged-in Metabase match `spec`: database, questions, dashboard."""
    created: list[str] = []
    updated: list[str] = []

    database = database_payload(spec, mongo_uri)
    existing = find_named(api.get("/api/database"), database["name"])
    if existing is None:
        database_id = int(api.post("/api/database", database)["id"])
    else:
        database_id = int(existing["id"])
        api.put(f"/api/database/{database_id}", database)
    api.post(f"/api/database/{database_id}/sync_schema", {})

    card_ids: dict[str, int] = {}
    for card in spec["cards"]:
        payload = card_payload(card, database_id)
        query = urllib.parse.urlencode({"models": "card", "q": card["name"]})
        found = find_named(api.get(f"/api/search?{query}"), card["name"], "card")
        if found is None:
            card_ids[card["name"]] = int(api.post("/api/card", payload)["id"])
            created.append(card["name"])
        else:
            card_ids[card["name"]] = int(found["id"])
            api.put(f"/api/card/{found['id']}", payload)
            updated.append(card["name"])

    board = spec["dashboard"]
    query = urllib.parse.urlencode({"models": "dashboard", "q": board["name"]})
    found = find_named(api.get(f"/api/search?{query}"), board["name"], "dashboard")
    if found is None:
        dashboard_id = int(
            api.post(
                "/api/dashboard",
                {
                    "name": board["name"],
                    "description": board.get("description"),
                    "collection_id": None,
                },
            )["id"]
        )
    else:
        dashboard_id = int(found["id"])
    api.put(
        f"/api/dashboard/{dashboard_id}",
        {
            "description": board.get("description"),
            "dashcards": dashcards_payload(spec, card_ids),
        },
    )
    return Summary(database_id, created, updated, dashboard_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Provision Metabase with the lake's MongoDB and dashboard "
        "(compose/metabase/dashboard.json).",
        epilog="The admin password is read from --password-file, else MB_ADMIN_PASSWORD.",
    )
    parser.add_argument(
        "--url", default=os.environ.get("MB_URL", "http://localhost:3000")
    )
    parser.add_argument(
        "--mongo-uri",
        default=os.environ.get("METABASE_MONGO_URI", "mongodb://mongodb:27017/lake"),
        help="as Metabase reaches MongoDB, with the database (default: %(default)s)",
    )
    parser.add_argument(
        "--email", default=os.environ.get("MB_ADMIN_EMAIL", "admin@lake.local")
    )
    parser.add_argument("--password-file", type=Path)
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument(
        "--wait",
        type=float,
        default=300.0,
        help="seconds to wait for Metabase to be healthy (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.password_file is not None:
        password = args.password_file.read_text(encoding="utf-8").strip()
    else:
        password = os.environ.get("MB_ADMIN_PASSWORD", "")
    if not password:
        parser.error("no admin password: --password-file or MB_ADMIN_PASSWORD")

    spec = load_spec(args.spec)
    api = HttpApi(args.url)
    try:
        wait_healthy(api, args.wait)
        api.session = log_in(
            api, Admin(args.email, password), spec["dashboard"]["name"]
        )
        summary = provision(api, spec, args.mongo_uri)
    except ProvisionError as e:
        print(f"metabase: {e}", file=sys.stderr)
        return 1
    print(f"metabase: {summary}; open {args.url}/dashboard/{summary.dashboard_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
