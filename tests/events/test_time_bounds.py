"""The lower bound on timestamps (DESKPULSE_EARLIEST_EVENT), on both validation paths.

A year-0001 "zero date" used to be accepted, and from then on every facts refresh failed;
a year-0002 one made the next import take 18 s and a gigabyte. Both paths now refuse
anything before the install's earliest time, naming `occurred_at` and the bound.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from deskpulse import clock
from deskpulse.events.bulk import RawBatch, validate_batch
from deskpulse.events.contract import Rejection, parse_event
from deskpulse.events.ingest import ingest_objects
from deskpulse.events.store import open_store
from deskpulse.settings import (
    EARLIEST_EVENT_VARIABLE,
    SettingError,
    Settings,
    load_settings,
)

DEFAULT_REASON = (
    "is before 2000-01-01T00:00:00Z, the earliest time this install accepts "
    "(DESKPULSE_EARLIEST_EVENT)"
)


def created(event_id: str, occurred_at: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "conversation.created",
        "occurred_at": occurred_at,
        "conversation_id": f"c-{event_id}",
        "channel": "chat",
        "inbox_id": "web",
        "customer_id": "u1",
    }


def bulk(*events: dict[str, Any], earliest: datetime | None = None) -> Any:
    texts = [orjson.dumps(e).decode() for e in events]
    batch = RawBatch(
        texts=pa.chunked_array([pa.array(texts, pa.large_string())]),
        positions=pa.chunked_array([pa.array(range(len(texts)), pa.int64())]),
    )
    return validate_batch(
        batch, currency="USD", now=clock.now(), source="test.jsonl", earliest=earliest
    )


TOO_EARLY = [
    "0001-01-01T00:00:00Z",  # the zero date that stopped the facts
    "0002-06-01T00:00:00Z",  # the one that made an import take 18 s
    "1970-01-01T00:00:00Z",  # an epoch of 0
    "1999-12-31T23:59:59.999999Z",
    "2000-01-01T00:59:59+01:00",  # 1999-12-31T23:59:59Z
]
ON_TIME = ["2000-01-01T00:00:00Z", "1999-12-31T19:00:00-05:00", "2026-03-02T10:00:00Z"]


@pytest.mark.parametrize("occurred_at", TOO_EARLY)
def test_the_contract_refuses_times_before_the_bound(occurred_at: str) -> None:
    refused = parse_event(created("e1", occurred_at))
    assert isinstance(refused, Rejection)
    assert (refused.field, refused.reason) == ("occurred_at", DEFAULT_REASON)


@pytest.mark.parametrize("occurred_at", ON_TIME)
def test_the_bound_itself_and_later_times_are_accepted(occurred_at: str) -> None:
    assert not isinstance(parse_event(created("e1", occurred_at)), Rejection)
    assert bulk(created("e1", occurred_at)).rejected == []


@pytest.mark.parametrize("occurred_at", TOO_EARLY)
def test_the_bulk_path_refuses_them_with_the_same_reason(occurred_at: str) -> None:
    result = bulk(created("good", "2026-03-02T10:00:00Z"), created("old", occurred_at))
    assert result.table.column("id").to_pylist() == ["good"]
    [refused] = result.rejected
    assert (refused.event_id, refused.field, refused.reason) == (
        "old",
        "occurred_at",
        DEFAULT_REASON,
    )


def test_a_configured_bound_is_held_by_both_paths() -> None:
    earliest = datetime(2024, 1, 1, tzinfo=UTC)
    old = created("old", "2023-12-31T12:00:00Z")
    reason = (
        "is before 2024-01-01T00:00:00Z, the earliest time this install accepts "
        "(DESKPULSE_EARLIEST_EVENT)"
    )
    refused = parse_event(old, earliest=earliest)
    assert isinstance(refused, Rejection)
    assert refused.reason == reason
    assert [r.reason for r in bulk(old, earliest=earliest).rejected] == [reason]
    # Without the setting the default bound applies, and 2023 is fine.
    assert not isinstance(parse_event(old), Rejection)
    assert bulk(old).rejected == []


def test_the_environment_sets_the_bound(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(EARLIEST_EVENT_VARIABLE, "2020-06-01")
    assert load_settings(tmp_path).earliest_event == datetime(2020, 6, 1, tzinfo=UTC)
    refused = parse_event(created("e1", "2020-05-31T23:00:00Z"))
    assert isinstance(refused, Rejection)
    assert "before 2020-06-01T00:00:00Z" in refused.reason
    monkeypatch.setenv(EARLIEST_EVENT_VARIABLE, "2020-06-01T00:00:00+02:00")
    assert load_settings(tmp_path).earliest_event == datetime(2020, 5, 31, 22, tzinfo=UTC)


@pytest.mark.parametrize("value", ["last year", "2020-06-01T00:00:00", "2020-13-01"])
def test_a_bad_bound_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.setenv(EARLIEST_EVENT_VARIABLE, value)
    with pytest.raises(SettingError, match=EARLIEST_EVENT_VARIABLE):
        load_settings(tmp_path)


def test_holidays_before_the_bound_are_refused() -> None:
    event = {
        "id": "bh",
        "type": "business_hours.set",
        "occurred_at": "2026-03-02T10:00:00Z",
        "inbox_id": "web",
        "timezone": "UTC",
        "intervals": [{"day": "mon", "start": "09:00", "end": "17:00"}],
        "holidays": ["2026-12-25", "0001-01-01"],
    }
    refused = parse_event(event)
    assert isinstance(refused, Rejection)
    assert refused.field == "holidays"
    assert "0001-01-01 is before 2000-01-01" in refused.reason
    [bulk_refused] = bulk(event).rejected
    assert (bulk_refused.field, bulk_refused.reason) == (refused.field, refused.reason)
    event["holidays"] = ["2026-12-25"]
    assert not isinstance(parse_event(event), Rejection)


def test_ingest_holds_the_store_settings_bound(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, earliest_event=datetime(2026, 1, 1, tzinfo=UTC))
    store = open_store(settings)
    try:
        result = ingest_objects(
            store,
            [created("old", "2025-12-31T00:00:00Z"), created("new", "2026-01-02T00:00:00Z")],
            "test",
        )
        assert (result.accepted, [r.field for r in result.rejected]) == (1, ["occurred_at"])
        assert "before 2026-01-01T00:00:00Z" in result.rejected[0].reason
        assert [r["event_id"] for r in store.rejected()] == ["old"]
    finally:
        store.close()
