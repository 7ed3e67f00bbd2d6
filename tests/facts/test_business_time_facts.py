"""Business-time twins of the duration facts, on DuckDB and PostgreSQL.

The timelines start Friday 2026-03-06 16:00 UTC; the schedules are Mon-Fri 09-17 UTC
unless a test says otherwise. Literals are hours worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskpulse.events.store import Store
from tests.factories import Events, Row, ingest, ingest_and_build, refresh, row_of

HOUR = 3600.0
FRIDAY_4PM = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
NINE_TO_FIVE = tuple((day, "09:00", "17:00") for day in ("mon", "tue", "wed", "thu", "fri"))
MONDAY_0930 = 30 + 65 * 60  # minutes after Friday 16:00: Friday 16:30 + 65 h
MONDAY_1030 = MONDAY_0930 + 60


def weekend_wait(inbox: str = "web", conversation: str = "c1") -> Events:
    """A customer writes Friday 16:30; Alice (assigned before) answers Monday 09:30 and
    resolves Monday 10:30."""
    f = Events(start=FRIDAY_4PM)
    f.agent("alice", name="Alice", teams=["t1"])
    c = f.conversation(conversation, inbox=inbox, at=30)
    c.assign("alice", at=20, team="t1")
    c.customer(at=30, text="where is my parcel?")
    c.reply("alice", at=MONDAY_0930)
    c.resolve(at=MONDAY_1030, by="alice")
    return f


def conv(store: Store, conversation_id: str = "c1") -> Row:
    return row_of(store, "conversation_facts", conversation_id=conversation_id)


def agent_conv(store: Store, conversation_id: str = "c1") -> Row:
    return row_of(
        store, "agent_conversation_facts", conversation_id=conversation_id, agent_id="alice"
    )


def assert_business(store: Store, conversation_id: str = "c1") -> None:
    row = conv(store, conversation_id)
    assert row["first_response_seconds"] == 65 * HOUR
    assert row["first_response_business_seconds"] == 1 * HOUR  # Fri 16:30-17, Mon 9-9:30
    assert row["first_human_response_business_seconds"] == 1 * HOUR
    assert row["first_resolution_seconds"] == 66 * HOUR
    assert row["first_resolution_business_seconds"] == 2 * HOUR  # + Mon 9:30-10:30
    assert row["full_resolution_business_seconds"] == 2 * HOUR
    agent = agent_conv(store, conversation_id)
    assert agent["agent_first_response_seconds"] == 65 * HOUR
    assert agent["agent_first_response_business_seconds"] == 1 * HOUR


def assert_calendar(store: Store, conversation_id: str = "c1") -> None:
    row = conv(store, conversation_id)
    for name in ("first_response", "first_human_response", "first_resolution", "full_resolution"):
        assert row[f"{name}_business_seconds"] == row[f"{name}_seconds"], name
    assert row["first_response_business_seconds"] == 65 * HOUR
    agent = agent_conv(store, conversation_id)
    assert agent["agent_first_response_business_seconds"] == 65 * HOUR


def test_weekend_is_not_business_time(store: Store) -> None:
    f = weekend_wait()
    f.business_hours("web", intervals=NINE_TO_FIVE, at=-60)
    ingest_and_build(store, f.events)
    assert_business(store)


def test_inbox_without_schedule_keeps_calendar_time(store: Store) -> None:
    f = weekend_wait(inbox="web")
    f.business_hours("email", intervals=NINE_TO_FIVE, at=-60)  # another inbox's hours
    ingest_and_build(store, f.events)
    assert_calendar(store)


def test_no_schedule_at_all_keeps_calendar_time(store: Store) -> None:
    ingest_and_build(store, weekend_wait().events)
    assert_calendar(store)


def test_default_schedule_applies_to_inboxes_without_their_own(store: Store) -> None:
    f = weekend_wait(inbox="web")
    c2 = f.conversation("c2", customer="u2", inbox="vip", at=30)
    c2.customer(at=30)
    c2.reply("alice", at=MONDAY_0930)
    f.business_hours("*", intervals=NINE_TO_FIVE, at=-60)
    # vip is open around the clock: its own schedule wins over the default.
    every_day = [(d, "00:00", "24:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    f.business_hours("vip", intervals=every_day, at=-60)
    ingest_and_build(store, f.events)
    assert_business(store, "c1")
    assert conv(store, "c2")["first_response_business_seconds"] == 65 * HOUR


def test_schedule_arriving_later_changes_twins_on_incremental_refresh(store: Store) -> None:
    f = weekend_wait()
    ingest_and_build(store, f.events)
    assert_calendar(store)

    stored = len(f.events)
    f.business_hours("web", intervals=NINE_TO_FIVE, at=MONDAY_1030 + 60)
    ingest(store, f.events[stored:])
    summary = refresh(store)
    assert summary.mode == "full"  # a schedule touches no conversation, yet all of them
    assert_business(store)
    assert refresh(store).mode == "up to date"

    # A newer schedule for the inbox replaces the older one.
    stored = len(f.events)
    every_day = [(d, "00:00", "24:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    f.business_hours("web", intervals=every_day, at=MONDAY_1030 + 120)
    ingest(store, f.events[stored:])
    assert refresh(store).mode == "full"
    assert_calendar(store)


def test_facts_from_an_older_version_are_rebuilt(store: Store) -> None:
    # An install upgraded from before the business-time twins has fact tables without
    # them: they must count as missing, so the next refresh rebuilds them in full.
    from deskpulse.facts.build import facts_exist, refresh_facts

    f = Events()
    f.conversation("c1", at=0).customer(at=0).reply("alice", at=5)
    ingest_and_build(store, f.events)
    store.execute("ALTER TABLE conversation_facts DROP COLUMN first_response_business_seconds")
    store.facts_ready = False
    assert not facts_exist(store)
    assert refresh_facts(store).mode == "full"
    assert facts_exist(store)
    assert row_of(store, "conversation_facts", conversation_id="c1")[
        "first_response_business_seconds"
    ] == pytest.approx(300.0)
