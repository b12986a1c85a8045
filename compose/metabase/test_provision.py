"""The provisioning logic of provision.py, on an in-memory stand-in for Metabase's API (Metabase
cannot run here: no image registry, no jar on Maven Central). What the questions compute is
checked on a real MongoDB-protocol server by flight-api/tests/metabase.rs."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

import provision

JSON = dict[str, Any]


class FakeMetabase:
    """Metabase's state as its API shows it: databases, cards, dashboards, and the calls made."""

    def __init__(self, fresh: bool = True) -> None:
        self.fresh = fresh
        self.databases: dict[int, JSON] = {}
        self.cards: dict[int, JSON] = {}
        self.dashboards: dict[int, JSON] = {}
        self.calls: list[tuple[str, str]] = []
        self.next_id = 1

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def get(self, path: str) -> Any:
        self.calls.append(("GET", path))
        if path == "/api/session/properties":
            return {"setup-token": "t0k3n" if self.fresh else None}
        if path == "/api/database":
            return {"data": list(self.databases.values())}
        if path.startswith("/api/search?"):
            query = urllib.parse.parse_qs(path.split("?", 1)[1])
            model, q = query["models"][0], query["q"][0]
            pool = self.cards if model == "card" else self.dashboards
            return {
                "data": [
                    {"model": model, **item}
                    for item in pool.values()
                    if q.lower() in item["name"].lower()
                ]
            }
        raise AssertionError(f"unexpected GET {path}")

    def post(self, path: str, body: JSON) -> Any:
        self.calls.append(("POST", path))
        if path == "/api/setup":
            assert body["token"] == "t0k3n"
            self.fresh = False
            return {"id": "session-1"}
        if path == "/api/session":
            return {"id": "session-2"}
        if path.endswith("/sync_schema"):
            return {"status": "ok"}
        pools = {
            "/api/database": self.databases,
            "/api/card": self.cards,
            "/api/dashboard": self.dashboards,
        }
        item_id = self._new_id()
        pools[path][item_id] = {"id": item_id, **body}
        return {"id": item_id}

    def put(self, path: str, body: JSON) -> Any:
        self.calls.append(("PUT", path))
        kind, item_id = path.removeprefix("/api/").split("/")
        pool = {"database": self.databases, "card": self.cards}.get(
            kind, self.dashboards
        )
        pool[int(item_id)].update(body)
        return pool[int(item_id)]


def test_a_card_is_a_native_question_on_the_view_named_after_its_table() -> None:
    spec = provision.load_spec()
    card = spec["cards"][0]
    payload = provision.card_payload(card, 7)
    query = payload["dataset_query"]
    assert query["type"] == "native" and query["database"] == 7
    assert query["native"]["collection"] == card["collection"]
    assert "__" not in card["collection"], "a view's name, not a versioned collection"
    assert json.loads(query["native"]["query"]) == card["pipeline"]
    assert payload["display"] == card["display"]


def test_a_fresh_metabase_is_set_up_in_french_then_provisioned() -> None:
    metabase = FakeMetabase(fresh=True)
    spec = provision.load_spec()
    session = provision.log_in(
        metabase, provision.Admin("a@b.c", "secret"), "Lac e-commerce"
    )
    assert session == "session-1"
    summary = provision.provision(metabase, spec, "mongodb://mongodb:27017/lake")

    (database,) = metabase.databases.values()
    assert database["engine"] == "mongo"
    assert database["details"]["conn-uri"] == "mongodb://mongodb:27017/lake"
    assert (
        "POST",
        f"/api/database/{summary.database_id}/sync_schema",
    ) in metabase.calls
    names = [card["name"] for card in spec["cards"]]
    assert sorted(c["name"] for c in metabase.cards.values()) == sorted(names)
    assert summary.created == names and summary.updated == []
    (dashboard,) = metabase.dashboards.values()
    placed = dashboard["dashcards"]
    assert [d["card_id"] for d in placed] == [
        next(i for i, c in metabase.cards.items() if c["name"] == n) for n in names
    ]
    assert all(d["col"] + d["size_x"] <= 24 for d in placed)


def test_running_it_again_updates_and_duplicates_nothing() -> None:
    metabase = FakeMetabase(fresh=False)
    spec = provision.load_spec()
    assert provision.log_in(metabase, provision.Admin("a@b.c", "s"), "x") == "session-2"
    first = provision.provision(metabase, spec, "mongodb://m:27017/lake")
    spec["cards"][0]["display"] = "bar"
    second = provision.provision(metabase, spec, "mongodb://other:27017/lake")

    assert len(metabase.databases) == 1 and len(metabase.dashboards) == 1
    assert len(metabase.cards) == len(spec["cards"])
    assert second.created == [] and len(second.updated) == len(spec["cards"])
    assert (second.database_id, second.dashboard_id) == (
        first.database_id,
        first.dashboard_id,
    )
    (database,) = metabase.databases.values()
    assert database["details"]["conn-uri"] == "mongodb://other:27017/lake"
    changed = next(
        c for c in metabase.cards.values() if c["name"] == spec["cards"][0]["name"]
    )
    assert changed["display"] == "bar"


def test_a_metabase_that_never_gets_healthy_is_an_error_naming_why() -> None:
    class Starting:
        def get(self, path: str) -> Any:
            raise provision.ProvisionError(f"GET {path}: connection refused")

        def post(self, path: str, body: JSON) -> Any:
            raise AssertionError

        def put(self, path: str, body: JSON) -> Any:
            raise AssertionError

    with pytest.raises(provision.ProvisionError, match="connection refused"):
        provision.wait_healthy(Starting(), timeout=0.0, poll=0.0)


def test_no_password_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MB_ADMIN_PASSWORD", raising=False)
    with pytest.raises(SystemExit) as exit_status:
        provision.main(["--url", "http://127.0.0.1:9"])
    assert exit_status.value.code == 2
