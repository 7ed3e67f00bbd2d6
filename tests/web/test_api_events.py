"""POST /api/v1/events: batches, partial acceptance, duplicates, formats, durability."""

from __future__ import annotations

import gzip
import logging
from typing import Any

import orjson
import pytest

from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.web.api import core as api_module
from deskpulse.web.runtime import using_store
from tests.web.web_helpers import Api, created

pytestmark = pytest.mark.django_db


def test_good_batch_is_accepted_and_stored(api: Api, api_store: Store) -> None:
    response = api.post_events([created("e1", "c1"), created("e2", "c2")])
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert api_store.count("events") == 2


def test_facts_are_brought_up_to_date(api: Api, api_store: Store) -> None:
    assert api.post_events([created("e1", "c1")]).status_code == 200
    assert facts_exist(api_store)
    assert api_store.count("dirty_conversations") == 0


def test_bad_events_are_rejected_and_the_rest_accepted(api: Api, api_store: Store) -> None:
    batch: list[Any] = [
        created("e1", "c1"),
        created("e2", "c2", channel="pigeon"),
        {"id": "e3", "type": "conversation.teleported", "occurred_at": "2026-03-02T10:00:00Z"},
        created("e4", "c4", occurred_at="2026-03-02T10:00:00"),  # no offset
        "not an object",
        created("e6", "c6"),
    ]
    response = api.post_events(batch)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 0
    rejected = {r["index"]: r for r in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4]
    assert rejected[1]["field"] == "channel"
    assert rejected[1]["id"] == "e2"
    assert rejected[2]["field"] == "type"
    assert rejected[3]["field"] == "occurred_at"
    assert rejected[4]["id"] is None
    assert all(r["reason"] for r in body["rejected"])
    assert api_store.count("events") == 2
    # Refused events are kept, with their reason, for an admin to look at.
    kept = {r["position"]: r for r in api_store.rejected()}
    assert sorted(kept) == [1, 2, 3, 4]
    assert kept[1]["field"] == "channel"
    assert kept[1]["source"].startswith("api:")


def test_resending_counts_duplicates(api: Api, api_store: Store) -> None:
    first = api.post_events([created("e1", "c1"), created("e2", "c2")]).json()
    second = api.post_events([created("e2", "c2"), created("e3", "c3"), created("e3", "c3")])
    assert first == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert second.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert api_store.count("events") == 3


def test_gzip_body(api: Api, api_store: Store) -> None:
    response = api.post_events([created("e1"), created("e2", "c2")], compress=True)
    assert response.status_code == 200
    assert response.json()["accepted"] == 2


def test_gzip_json_lines_body(api: Api) -> None:
    response = api.post_events([created("e1"), created("e2", "c2")], lines=True, compress=True)
    assert response.json()["accepted"] == 2


def test_gzip_with_several_members(api: Api) -> None:
    body = gzip.compress(orjson.dumps(created("e1")) + b"\n") + gzip.compress(
        orjson.dumps(created("e2", "c2")) + b"\n"
    )
    response = api.post_events(
        body, content_type="application/x-ndjson", headers={"Content-Encoding": "gzip"}
    )
    assert response.json()["accepted"] == 2


@pytest.mark.parametrize(
    "content_type", ["application/x-ndjson", "application/jsonl", "application/json-lines"]
)
def test_json_lines_body(api: Api, content_type: str) -> None:
    body = b"\n".join(orjson.dumps(created(f"e{i}", f"c{i}")) for i in range(3))
    response = api.post_events(body, content_type=content_type)
    assert response.status_code == 200
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}


def test_malformed_json_line_is_rejected_alone(api: Api, api_store: Store) -> None:
    lines = [
        orjson.dumps(created("e1", "c1")),
        b"",  # blank lines are skipped and do not count as events
        b'{"id": "e2", "type": "conversation.created",',
        orjson.dumps(created("e3", "c3", channel="fax")),
        orjson.dumps(created("e4", "c4")) + b"\r",
    ]
    response = api.post_events(b"\n".join(lines), content_type="application/x-ndjson")
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, None), (2, "channel")]
    assert "not valid JSON" in body["rejected"][0]["reason"]
    assert api_store.count("events") == 2
    kept = {r["position"]: r for r in api_store.rejected()}
    assert sorted(kept) == [1, 2]
    # The line is kept verbatim, so an admin sees exactly what was sent.
    assert kept[1]["raw"] == '{"id": "e2", "type": "conversation.created",'
    assert "not valid JSON" in kept[1]["reason"]


def test_charset_parameter_is_fine(api: Api) -> None:
    response = api.post_events(
        orjson.dumps([created("e1")]), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 200


def test_empty_array_and_empty_lines(api: Api) -> None:
    assert api.post_events([]).json() == {"accepted": 0, "duplicates": 0, "rejected": []}
    empty_lines = api.post_events(b"\n\n", content_type="application/x-ndjson")
    assert empty_lines.json() == {"accepted": 0, "duplicates": 0, "rejected": []}


def test_exactly_the_limit_is_accepted(api: Api, api_store: Store) -> None:
    batch = [created(f"e{i}", f"c{i % 50}") for i in range(10_000)]
    response = api.post_events(batch, compress=True)
    assert response.status_code == 200
    assert response.json()["accepted"] == 10_000


def test_failed_facts_refresh_does_not_fail_the_request(
    api: Api, api_store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(store: Store) -> None:
        raise RuntimeError("facts are broken")

    monkeypatch.setattr(api_module, "refresh_facts", broken)
    with caplog.at_level(logging.ERROR, logger="deskpulse.web.api"):
        response = api.post_events([created("e1")])
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert api_store.count("events") == 1
    assert "facts refresh after ingest failed" in caplog.text
    # The conversation stays marked for the next refresh.
    assert api_store.count("dirty_conversations") == 1


def test_ingest_on_every_backend(api: Api, store: Store) -> None:
    with using_store(store):
        first = api.post_events(
            [created("e1", "c1"), created("e1", "c1"), created("x", "c2", channel="?")]
        )
        again = api.post_events([created("e1", "c1")], lines=True, compress=True)
        health = api.get("/api/v1/health").json()
    assert first.json()["accepted"] == 1
    assert first.json()["duplicates"] == 1
    assert [r["index"] for r in first.json()["rejected"]] == [2]
    assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert health == {"ok": True, "events": 1, "backend": store.backend, "quarantined": 0}


@pytest.mark.parametrize(
    "bad",
    [
        {"type": ["conversation.created"]},  # unhashable type
        {"type": {"name": "x"}},
        {"occurred_at": "0001-01-01T00:00:00+14:00"},  # before year 1 in UTC
    ],
)
def test_values_that_trip_validation_are_rejected_not_500(
    api: Api, api_store: Store, bad: dict[str, Any]
) -> None:
    response = api.post_events(
        [created("e1", "c1"), created("e2", "c2", **bad), created("e3", "c3")]
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1]
    assert api_store.count("events") == 2
    assert [r["position"] for r in api_store.rejected()] == [1]


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00Z", "0002-06-01T00:00:00Z"])
def test_events_before_the_earliest_time_are_refused_and_facts_keep_updating(
    api: Api, api_store: Store, occurred_at: str
) -> None:
    # Once a year-0001 event got in, every refresh failed and new conversations never
    # appeared although ingest still answered "accepted".
    response = api.post_events([created("old", "c-old", occurred_at=occurred_at), created("e1")])
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    [refused] = body["rejected"]
    assert (refused["index"], refused["id"], refused["field"]) == (0, "old", "occurred_at")
    assert "before 2000-01-01T00:00:00Z" in refused["reason"]
    assert api.post_events([created("e2", "c2")]).json()["accepted"] == 1
    listed = api_store.execute("SELECT conversation_id FROM conversation_facts ORDER BY 1")
    assert listed == [("c1",), ("c2",)]
    assert api_store.count("dirty_conversations") == 0
