"""Column-wise validation and the import driver."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from deskpulse import clock
from deskpulse.events.bulk import (
    FAST_TYPES,
    ImportSummary,
    ValidatedBatch,
    import_sources,
    validate_batch,
)
from deskpulse.events.columns import EVENT_SCHEMA, event_to_row
from deskpulse.events.contract import EVENT_MODELS, SOURCE_TYPES, _Event, parse_event
from deskpulse.events.reader import RawBatch, read_batches
from deskpulse.events.store import Store

NOW = clock.now()
WHEN = "2025-06-01T10:00:00.250+02:00"

VALID: dict[str, dict[str, Any]] = {
    "agent.upserted": {
        "agent_id": "a1",
        "name": "Ada",
        "email": "ada@example.com",
        "kind": "ai",
        "team_ids": ["t1", "t2"],
        "active": False,
    },
    "conversation.created": {
        "conversation_id": "c1",
        "channel": "email",
        "inbox_id": "i1",
        "customer_id": "u1",
        "inquiry": "billing",
        "priority": "high",
        "customer_tier": "pro",
        "language": "de",
        "subject": 'Rechnung "März" \\ offen',
    },
    "conversation.updated": {"conversation_id": "c1", "priority": "low"},
    "conversation.assigned": {"conversation_id": "c1", "agent_id": None, "team_id": "t1"},
    "message.created": {
        "message_id": "m1",
        "conversation_id": "c1",
        "direction": "outbound",
        "author_kind": "agent",
        "agent_id": "a1",
        "ai_assist": "draft_edited",
        "text": "Hallo 👋\nwe are on it",
    },
    "conversation.status_changed": {"conversation_id": "c1", "status": "resolved"},
    "conversation.escalated": {
        "conversation_id": "c1",
        "from_agent_id": "bot",
        "to_team_id": "t1",
        "reason": "asked for a human",
    },
    "work.logged": {"conversation_id": "c1", "agent_id": "a1", "seconds": 90.5, "kind": "talk"},
    "survey.responded": {"conversation_id": "c1", "survey": "nps", "score": 0, "comment": "meh"},
    "cost.recorded": {
        "conversation_id": "c1",
        "amount": "0.0123",
        "currency": "USD",
        "kind": "inference",
        "tokens": 1200,
    },
    "experiment.exposed": {"customer_id": "u1", "experiment": "greeting", "variant": "b"},
    "business_hours.set": {
        "inbox_id": "*",
        "timezone": "Europe/Berlin",
        "intervals": [
            {"day": "mon", "start": "09:00", "end": "12:00"},
            {"day": "mon", "start": "13:00", "end": "17:30"},
        ],
        "holidays": ["2025-12-25"],
    },
}


def make(event_type: str, number: int = 1, /, **changes: Any) -> dict[str, Any]:
    """A valid event of the type, with `changes`; a change to _DROP removes the field."""
    event = {
        "id": f"{event_type}-{number}",
        "type": event_type,
        "occurred_at": WHEN,
        **VALID[event_type],
    }
    event.update(changes)
    return {k: v for k, v in event.items() if v is not _DROP}


_DROP = object()


def batch_of(*records: Any) -> RawBatch:
    """A batch as the reader would produce it from JSON Lines (1-based positions)."""
    texts = [r if isinstance(r, str) else orjson.dumps(r).decode() for r in records]
    return RawBatch(
        texts=pa.chunked_array([pa.array(texts, pa.large_string())]),
        positions=pa.chunked_array([pa.array(range(1, len(texts) + 1), pa.int64())]),
    )


def check(*records: Any, currency: str = "USD") -> ValidatedBatch:
    return validate_batch(batch_of(*records), currency=currency, now=NOW, source="test.jsonl")


def reference_row(record: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_event(record)
    assert isinstance(parsed, _Event), parsed
    return event_to_row(parsed)


# -- accepted rows ------------------------------------------------------------------------


def test_examples_cover_every_type() -> None:
    assert set(VALID) == set(SOURCE_TYPES)


def test_a_retraction_cannot_be_imported() -> None:
    # Only an owner retracts (deskpulse retract, the API): a file cannot carry one in.
    tombstone = {
        "id": "r1",
        "type": "event.retracted",
        "occurred_at": WHEN,
        "event_id": "e1",
        "reason": "test survey",
        "retracted_by": "olivia@example.com",
    }
    result = check(tombstone)
    assert result.table.num_rows == 0
    [refused] = result.rejected
    assert refused.field == "type"
    assert "a source cannot send it" in refused.reason


def test_fast_types_name_the_contract_fields() -> None:
    # A field added to the contract must be added to the fast path too.
    for kind, fields in FAST_TYPES.items():
        model_fields = set(EVENT_MODELS[kind].model_fields) - {"id", "type", "occurred_at"}
        assert set(fields) == model_fields, kind


@pytest.mark.parametrize("kind", sorted(VALID))
def test_accepted_row_equals_the_contract_row(kind: str) -> None:
    record = make(kind)
    result = check(record)
    assert result.rejected == []
    assert result.table.schema == EVENT_SCHEMA
    assert result.table.to_pylist() == [reference_row(record)]
    assert result.positions == [1]
    # The common types never need the contract path; business_hours.set always does.
    assert result.slow == (1 if kind == "business_hours.set" else 0)


def test_row_values_are_normalised_like_the_contract() -> None:
    rows = check(
        make("cost.recorded", amount=1.5),
        make("message.created", 2, author_kind="ai", agent_id="bot", ai_assist="draft_as_is"),
        make("agent.upserted", 3, kind=_DROP, team_ids=_DROP, active=_DROP),
    ).table.to_pylist()
    assert rows[0]["occurred_at"] == datetime(2025, 6, 1, 8, 0, 0, 250000)
    assert str(rows[0]["amount"]) == "1.500000"
    assert rows[1]["ai_assist"] is None  # only human public replies carry it
    assert (rows[2]["kind"], rows[2]["team_ids"], rows[2]["active"]) == ("human", [], True)


def test_rows_come_back_in_file_order() -> None:
    records = [make(kind, n) for n, kind in enumerate(sorted(VALID) * 3)]
    result = check(*records)
    assert [r["id"] for r in result.table.to_pylist()] == [r["id"] for r in records]
    assert result.positions == list(range(1, len(records) + 1))


# -- one rejection per rule ---------------------------------------------------------------

REJECTIONS: list[tuple[str, Any, str | None, str]] = [
    ("unknown type", make("work.logged", type="work.deleted"), "type", "unknown event type"),
    ("missing type", make("work.logged", type=_DROP), "type", "is required"),
    ("missing field", make("conversation.created", channel=_DROP), "channel", "is required"),
    ("string wanted", make("work.logged", agent_id=7), "agent_id", "string"),
    ("integer wanted", make("survey.responded", score=4.0), "score", "integer"),
    ("integer not string", make("survey.responded", score="4"), "score", "integer"),
    ("number wanted", make("work.logged", seconds="90"), "seconds", "number"),
    ("bool wanted", make("agent.upserted", active="yes"), "active", "boolean"),
    ("list of strings", make("agent.upserted", team_ids=["t1", 2]), "team_ids.1", "string"),
    ("list wanted", make("message.created", mentions="a1"), "mentions", "list"),
    ("enum", make("conversation.created", channel="fax"), "channel", "'chat'"),
    ("survey range", make("survey.responded", survey="csat", score=6), "score", "from 1 to 5"),
    (
        "naive time",
        make("work.logged", occurred_at="2025-06-01T10:00:00"),
        "occurred_at",
        "timezone|RFC 3339",
    ),
    ("epoch time", make("work.logged", occurred_at=1748772000), "occurred_at", "RFC 3339"),
    (
        "future",
        make("work.logged", occurred_at=(NOW + timedelta(hours=25)).isoformat()),
        "occurred_at",
        "is more than 24 hours in the future",
    ),
    (
        "inbound from agent",
        make("message.created", direction="inbound"),
        "direction",
        "inbound messages come from the customer",
    ),
    ("agent_id for agents", make("message.created", agent_id=_DROP), "agent_id", "is required"),
    ("nothing to update", make("conversation.updated", priority=_DROP), None, "needs at least one"),
    (
        "no experiment subject",
        make("experiment.exposed", customer_id=_DROP),
        "conversation_id",
        "one of conversation_id or customer_id",
    ),
    (
        "other currency",
        make("cost.recorded", currency="EUR"),
        "currency",
        "EUR is not this install's currency (USD)",
    ),
    ("negative amount", make("cost.recorded", amount="-1"), "amount", "greater than or equal"),
    ("seconds range", make("work.logged", seconds=86_401), "seconds", "less than or equal"),
    ("empty id", make("work.logged", id=""), "id", "at least 1 character"),
    ("explicit null default", make("message.created", mentions=None), "mentions", "list"),
    ("malformed JSON", '{"id": "x", "type": "work.logged",', None, "malformed JSON: "),
    ("not an object", "[1, 2]", None, "event must be a JSON object"),
    ("NaN", '{"id": "x", "type": "survey.responded", "score": NaN}', None, "malformed JSON: "),
    (
        "trailing comma",
        orjson.dumps(make("work.logged")).decode()[:-1] + ",}",
        None,
        "malformed JSON: ",
    ),
]


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [pytest.param(r, f, why, id=name) for name, r, f, why in REJECTIONS],
)
def test_rejection_names_the_field(record: Any, field: str | None, reason: str) -> None:
    result = check(make("work.logged", 100), record, make("work.logged", 101))
    assert [r["id"] for r in result.table.to_pylist()] == ["work.logged-100", "work.logged-101"]
    assert len(result.rejected) == 1
    refused = result.rejected[0]
    assert (refused.source, refused.position, refused.field) == ("test.jsonl", 2, field)
    # "a|b": either wording (pydantic's own, or the contract's stricter RFC 3339 check).
    assert any(option in refused.reason for option in reason.split("|")), refused.reason
    text = record if isinstance(record, str) else orjson.dumps(record).decode()
    assert refused.raw == text
    if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"]:
        assert refused.event_id == record["id"]
    if isinstance(record, dict) and isinstance(record.get("type"), str):
        assert refused.type == record["type"]


def test_currency_reason_is_the_ingest_one() -> None:
    refused = check(make("cost.recorded", currency="USD"), currency="EUR").rejected
    assert [(r.field, r.reason) for r in refused] == [
        ("currency", "USD is not this install's currency (EUR)")
    ]


def test_repeated_key_follows_the_contract_reader() -> None:
    # orjson (and so the contract) keeps the last of a repeated key.
    text = orjson.dumps(make("survey.responded", score=9)).decode()[:-1] + ',"score":3}'
    result = check(text)
    assert result.table.to_pylist()[0]["score"] == 3


# -- reading + validating together --------------------------------------------------------


def test_malformed_line_in_the_middle_keeps_its_neighbours(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = [orjson.dumps(make("work.logged", n)) for n in (1, 2, 3)]
    path.write_bytes(good[0] + b"\n" + good[1] + b"\n{oops\n\n" + good[2] + b"\n")
    results = [
        validate_batch(b, currency="USD", now=NOW, source="mixed.jsonl") for b in read_batches(path)
    ]
    assert [r["id"] for v in results for r in v.table.to_pylist()] == [
        "work.logged-1",
        "work.logged-2",
        "work.logged-3",
    ]
    assert [v.positions for v in results] == [[1, 2, 5]]
    refused = [r for v in results for r in v.rejected]
    assert [(r.position, r.field, r.raw) for r in refused] == [(3, None, "{oops")]
    assert refused[0].reason.startswith("malformed JSON: ")


def test_batches_of_three_validate_like_one_batch(tmp_path: Path) -> None:
    records = [make(kind, n) for n, kind in enumerate(sorted(VALID))]
    records.insert(4, make("work.logged", 99, seconds=-1))
    path = tmp_path / "all.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records))

    def validated(size: int) -> tuple[list[dict[str, Any]], list[int], list[tuple[Any, ...]]]:
        rows: list[dict[str, Any]] = []
        positions: list[int] = []
        refused: list[tuple[Any, ...]] = []
        for raw in read_batches(path, batch_size=size):
            result = validate_batch(raw, currency="USD", now=NOW, source="all.jsonl")
            rows += result.table.to_pylist()
            positions += result.positions
            refused += [(r.position, r.field, r.reason) for r in result.rejected]
        return rows, positions, refused

    one = validated(100_000)
    assert validated(3) == one
    assert len(one[0]) == 12
    assert one[2] == [(5, "seconds", "Input should be greater than or equal to 0")]


# -- the import driver --------------------------------------------------------------------


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_bytes(
        b"".join((r.encode() if isinstance(r, str) else orjson.dumps(r)) + b"\n" for r in records)
    )
    return path


def test_import_twice_counts_duplicates(store: Store, tmp_path: Path) -> None:
    records = [make(kind, n) for n, kind in enumerate(sorted(VALID) * 5)]
    path = write_jsonl(tmp_path / "events.jsonl", records)
    first = import_sources(store, [path], batch_size=7)
    second = import_sources(store, [path], batch_size=7)
    assert (first.read, first.accepted, first.duplicates, first.rejected) == (60, 60, 0, 0)
    assert (second.read, second.accepted, second.duplicates, second.rejected) == (60, 0, 60, 0)
    assert store.count("events") == 60
    dirty = store.execute("SELECT count(DISTINCT conversation_id) FROM dirty_conversations")
    assert dirty[0][0] == 1  # every example is about conversation c1


def test_import_keeps_rejections_with_source_and_position(store: Store, tmp_path: Path) -> None:
    records: list[Any] = [
        make("work.logged", 1),
        make("survey.responded", 2, score=11),
        "not json",
        make("cost.recorded", 4, currency="EUR"),
        make("work.logged", 1),  # repeated id in the same file: a duplicate
    ]
    path = write_jsonl(tmp_path / "mixed.jsonl", records)
    stdin = io.BytesIO(gzip.compress(orjson.dumps([make("work.logged", 9, seconds="x")])))
    progress: list[int] = []
    summary = import_sources(store, [path, stdin], progress=progress.append)
    assert isinstance(summary, ImportSummary)
    assert (summary.read, summary.accepted, summary.duplicates, summary.rejected) == (6, 1, 1, 4)
    assert [(s.source, s.read, s.accepted, s.duplicates, s.rejected) for s in summary.sources] == [
        ("mixed.jsonl", 5, 1, 1, 3),
        ("stdin", 1, 0, 0, 1),
    ]
    assert summary.rejected_by_field() == Counter(
        {"score": 1, None: 1, "currency": 1, "seconds": 1}
    )
    assert summary.rejections[("currency", "EUR is not this install's currency (USD)")] == 1
    assert sum(progress) == path.stat().st_size + len(stdin.getvalue())
    kept = sorted(
        (r["source"], r["position"], r["event_id"], r["type"], r["field"]) for r in store.rejected()
    )
    assert kept == [
        ("mixed.jsonl", 2, "survey.responded-2", "survey.responded", "score"),
        ("mixed.jsonl", 3, None, None, None),
        ("mixed.jsonl", 4, "cost.recorded-4", "cost.recorded", "currency"),
        ("stdin", 0, "work.logged-9", "work.logged", "seconds"),
    ]
    reasons = {r["position"]: r["reason"] for r in store.rejected() if r["source"] == "mixed.jsonl"}
    assert reasons[2] == "nps scores run from 0 to 10"
    assert reasons[3].startswith("malformed JSON: ")
    raw = {r["position"]: r["raw"] for r in store.rejected()}
    assert raw[3] == "not json"


def test_import_stores_what_came_before_a_failure(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [make("work.logged", n) for n in range(10)])

    class BoomError(Exception):
        pass

    calls = 0

    def progress(_: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise BoomError

    with pytest.raises(BoomError):
        import_sources(store, [path], batch_size=3, progress=progress)
    assert store.count("events") == 6
