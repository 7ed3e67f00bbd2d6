"""One conversation whose facts cannot be computed never stops the others.

The planted failure is a realistic one that every validation lets through: two costs of
almost a trillion each on one conversation. Each is a valid cost.recorded, but their sum
does not fit the facts' DECIMAL(18, 6) cost column, and before quarantine that stopped
every refresh of every conversation (DuckDB: ConversionException; PostgreSQL: numeric
field overflow). The correcting event is a retraction of one of the two costs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from deskpulse.events.columns import rows_to_table
from deskpulse.events.retraction import retract_event
from deskpulse.events.store import Store
from deskpulse.facts import build
from deskpulse.facts.quarantine import is_data_error, quarantined
from tests.factories import Events, ingest, refresh

HUGE = "999999999999.5"  # valid alone (12 digits, 6 places); two of them overflow


def conversations(store: Store) -> list[str]:
    return [
        r[0] for r in store.execute("SELECT conversation_id FROM conversation_facts ORDER BY 1")
    ]


def overflowing(f: Events, conversation_id: str, customer: str) -> list[str]:
    """A conversation whose costs add up beyond the cost column; the costs' event ids."""
    c = f.conversation(conversation_id, customer=customer, at=0).customer(at=1)
    c.reply("alice", at=2)
    c.cost(HUGE, at=3)
    first = f.events[-1]["id"]
    c.cost(HUGE, at=4)
    return [first, f.events[-1]["id"]]


def test_the_rest_keep_updating_and_the_culprit_recovers(store: Store) -> None:
    f = Events()
    f.agent("alice")
    costs = overflowing(f, "c-bad", "u-bad")
    f.conversation("c-good", customer="u1", at=0).customer(at=1).reply("alice", at=2)
    ingest(store, f.events)

    summary = refresh(store)
    assert summary.quarantined == 1
    assert conversations(store) == ["c-good"]
    [held] = quarantined(store)
    assert held["conversation_id"] == "c-bad"
    assert held["reason"].startswith("its facts cannot be computed: ")
    assert "DECIMAL" in held["error"] or "numeric field overflow" in held["error"]
    assert store.count("dirty_conversations") == 0
    assert store.count("agent_conversation_facts") == 1  # c-good's, none for c-bad

    # Later events keep flowing in; the quarantined conversation is not retried, even
    # when another conversation of the same customer is recomputed.
    g = Events(f.start)
    g._event_seq = 100
    g.conversation("c-later", customer="u2", at=10).customer(at=11)
    g.conversation("c-sibling", customer="u-bad", at=20).customer(at=21)
    ingest(store, g.events)
    assert refresh(store).quarantined == 0
    assert conversations(store) == ["c-good", "c-later", "c-sibling"]
    assert [r["conversation_id"] for r in quarantined(store)] == ["c-bad"]
    assert quarantined(store)[0]["last_seen_at"] == held["last_seen_at"]

    # The correcting event: one of the two costs was booked twice.
    retract_event(store, costs[1], reason="booked twice", retracted_by="olivia@example.com")
    assert refresh(store).quarantined == 0
    assert conversations(store) == ["c-bad", "c-good", "c-later", "c-sibling"]
    assert quarantined(store) == []
    [cost] = store.execute(
        "SELECT cost_amount FROM conversation_facts WHERE conversation_id = 'c-bad'"
    )[0]
    assert Decimal(cost) == Decimal(HUGE)


def test_an_event_that_does_not_fix_it_keeps_it_quarantined(store: Store) -> None:
    f = Events()
    f.agent("alice")
    overflowing(f, "c-bad", "u-bad")
    ingest(store, f.events)
    refresh(store)
    first = quarantined(store)[0]
    f.on("c-bad", customer="u-bad").customer(at=30)  # retried, fails again
    ingest(store, f.events[-1:])
    assert refresh(store).quarantined == 1
    again = quarantined(store)[0]
    assert again["first_seen_at"] == first["first_seen_at"]
    assert again["last_seen_at"] >= first["last_seen_at"]
    assert conversations(store) == []
    # A full rebuild retries it too, and finds it still failing.
    assert refresh(store, full=True).quarantined == 1
    assert [r["conversation_id"] for r in quarantined(store)] == ["c-bad"]


def test_several_culprits_among_many_are_found(store: Store) -> None:
    f = Events()
    f.agent("alice")
    for n in range(40):
        f.conversation(f"c-{n:02d}", customer=f"u{n}", at=n).customer(at=n + 1)
    overflowing(f, "c-bad-1", "x1")
    overflowing(f, "c-bad-2", "x2")
    ingest(store, f.events)
    assert refresh(store).quarantined == 2
    assert [r["conversation_id"] for r in quarantined(store)] == ["c-bad-1", "c-bad-2"]
    assert len(conversations(store)) == 40


def _stored_before_the_bound(store: Store, event: dict[str, Any]) -> None:
    """Store a row as an older version (with no lower bound) would have."""
    row: dict[str, Any] = dict.fromkeys(pa.schema(rows_to_table([]).schema).names)
    row.update(event)
    store.append(rows_to_table([row]))


def test_events_stored_before_the_bound_existed_are_quarantined(store: Store) -> None:
    f = Events()
    f.conversation("c-good", customer="u1", at=0).customer(at=1)
    ingest(store, f.events)
    _stored_before_the_bound(
        store,
        {
            "id": "zero-date",
            "type": "message.created",
            "occurred_at": datetime(1, 1, 1),
            "conversation_id": "c-good",
            "message_id": "m-zero",
            "direction": "inbound",
            "author_kind": "customer",
        },
    )
    g = Events(f.start)
    g._event_seq = 50
    g.conversation("c-new", customer="u2", at=5).customer(at=6)
    ingest(store, g.events)
    summary = refresh(store)
    assert summary.quarantined == 1
    assert conversations(store) == ["c-new"]
    [held] = quarantined(store)
    assert held["conversation_id"] == "c-good"
    assert "zero-date" in held["reason"]
    assert "0001-01-01 00:00:00, before 2000-01-01T00:00:00Z" in held["reason"]
    assert "DESKPULSE_EARLIEST_EVENT" in held["reason"]
    retract_event(store, "zero-date", reason="a zero date", retracted_by="olivia")
    refresh(store)
    assert conversations(store) == ["c-good", "c-new"]
    assert quarantined(store) == []


def test_a_failure_tied_to_no_conversation_still_fails_the_refresh(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = Events()
    f.conversation("c1", at=0).customer(at=1)
    ingest(store, f.events)

    def broken_schedule(_store: Store) -> None:
        raise OverflowError("date value out of range")  # whatever the conversations

    monkeypatch.setattr(build, "_write_intervals", broken_schedule)
    with pytest.raises(OverflowError):
        refresh(store)
    assert quarantined(store) == []
    assert store.count("dirty_conversations") == 1  # retried by the next refresh


def test_what_counts_as_a_data_error() -> None:
    import duckdb

    assert is_data_error(OverflowError("date value out of range"))
    assert is_data_error(duckdb.ConversionException("Casting value failed"))
    assert not is_data_error(duckdb.IOException("disk full"))
    assert not is_data_error(ConnectionError("server closed the connection"))
    psycopg = pytest.importorskip("psycopg")
    assert is_data_error(psycopg.errors.NumericValueOutOfRange("numeric field overflow"))
    assert not is_data_error(psycopg.OperationalError("server closed the connection"))
