"""Inbox working hours (GET …/inboxes) as `business_hours.set` events.

The fixture `api_inboxes.json` has Chatwoot's inbox shape (see its `_source`): inbox 2 in
Europe/Berlin with hours that differ per day, Sunday closed and Saturday open all day;
inbox 3 with working hours disabled.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from deskpulse.connectors.chatwoot import (
    ChatwootOptions,
    MappingError,
    map_api_conversation,
    map_inbox_working_hours,
)
from deskpulse.connectors.chatwoot_backfill import ChatwootClient, backfill
from deskpulse.events.contract import BusinessHoursSet
from deskpulse.events.store import Store
from deskpulse.facts.business_hours import Schedule
from tests.connectors.test_chatwoot_backfill import TOKEN, Stub, chatwoot, fixture
from tests.factories import row_of

__all__ = ["chatwoot"]  # the stub-server fixture, used by name

AT = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


def inboxes() -> list[dict[str, Any]]:
    payload: list[dict[str, Any]] = fixture("api_inboxes.json")["payload"]
    return payload


def test_documented_inbox_becomes_a_schedule() -> None:
    [event] = map_inbox_working_hours(inboxes()[0], account_id=1, at=AT)
    assert event["type"] == "business_hours.set"
    assert event["occurred_at"] == "2026-11-22T05:00:00+00:00"
    assert event["timezone"] == "Europe/Berlin"
    assert event["holidays"] == []
    # Monday first; day_of_week 0 (Sunday) is closed all day, so there is no "sun".
    assert event["intervals"] == [
        {"day": "mon", "start": "10:05", "end": "18:00"},
        {"day": "tue", "start": "09:00", "end": "17:30"},
        {"day": "wed", "start": "09:00", "end": "17:30"},
        {"day": "thu", "start": "08:30", "end": "12:00"},
        {"day": "fri", "start": "09:00", "end": "16:00"},
        # open_all_day (stored 00:00-23:59 by Chatwoot): the whole day.
        {"day": "sat", "start": "00:00", "end": "24:00"},
    ]
    BusinessHoursSet.model_validate(event)  # a contract event
    schedule = Schedule.build(
        event["timezone"], [(i["day"], i["start"], i["end"]) for i in event["intervals"]]
    )
    assert schedule.week[6] == ()  # Sunday closed


def test_inbox_id_matches_the_conversations() -> None:
    [event] = map_inbox_working_hours(inboxes()[0], account_id=1, at=AT)
    conversation = fixture("api_conversations_page_1.json")["data"]["payload"][0]
    events = map_api_conversation(conversation, [], options=ChatwootOptions(account_id=1))
    created = next(e for e in events if e["type"] == "conversation.created")
    assert event["inbox_id"] == created["inbox_id"] == "chatwoot:1:inbox:2"


def test_working_hours_disabled_gives_nothing() -> None:
    assert map_inbox_working_hours(inboxes()[1], account_id=1, at=AT) == []
    older = {k: v for k, v in inboxes()[0].items() if k != "working_hours_enabled"}
    assert map_inbox_working_hours(older, account_id=1, at=AT) == []


def test_event_id_follows_the_schedule_not_the_time() -> None:
    inbox = inboxes()[0]
    [first] = map_inbox_working_hours(inbox, account_id=1, at=AT)
    [later] = map_inbox_working_hours(inbox, account_id=1, at=datetime(2027, 1, 1, tzinfo=UTC))
    assert first["id"] == later["id"]
    assert first["id"].startswith("chatwoot:1:inbox:2:hours:")
    changed = copy.deepcopy(inbox)
    changed["working_hours"][1]["close_hour"] = 19
    [other] = map_inbox_working_hours(changed, account_id=1, at=AT)
    assert other["id"] != first["id"]
    [elsewhere] = map_inbox_working_hours(inbox, account_id=9, at=AT)
    assert elsewhere["id"] != first["id"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda i: i.update(working_hours=None), "working_hours"),
        (lambda i: i.update(timezone="Mars/Olympus"), "timezone"),
        (lambda i: i.update(timezone=None), "timezone"),
        (lambda i: i.update(id=None), "id"),
        (lambda i: i["working_hours"][1].update(day_of_week=7), "working_hours.1.day_of_week"),
        (lambda i: i["working_hours"][2].update(day_of_week=1), "working_hours.2.day_of_week"),
        (lambda i: i["working_hours"][1].update(open_hour=None), "working_hours.1.open_hour"),
        (lambda i: i["working_hours"][1].update(close_minutes=60), "working_hours.1.close_minutes"),
        (lambda i: i["working_hours"][1].update(close_hour=10), "working_hours.1.close_hour"),
        (lambda i: i["working_hours"].__setitem__(3, "thursday"), "working_hours.3"),
        (
            lambda i: [
                h.update(closed_all_day=True, open_all_day=False) for h in i["working_hours"]
            ],
            "working_hours",
        ),
    ],
)
def test_bad_shapes_name_the_field(edit: Any, field: str) -> None:
    inbox = copy.deepcopy(inboxes()[0])
    edit(inbox)
    with pytest.raises(MappingError) as raised:
        map_inbox_working_hours(inbox, account_id=1, at=AT)
    assert raised.value.field == field


def test_backfill_stores_the_schedule_and_business_time(duckdb_store: Store, chatwoot: str) -> None:
    client = ChatwootClient(chatwoot, TOKEN, 1)
    options = ChatwootOptions(account_id=1)
    result = backfill(duckdb_store, client, options=options, progress=False, now=AT)
    assert (result.inboxes, result.schedules, result.rejected) == (2, 1, 0)
    assert not result.problems
    assert sum("/inboxes" in r for r in Stub.requests) == 1
    # c7 (inbox 2) on Monday 2026-03-02: the customer writes 09:01 UTC, Mary answers
    # 09:10 UTC. Inbox 2 opens Mondays 10:05 Berlin = 09:05 UTC (CET, +1), so 5 business
    # minutes out of 9 calendar minutes.
    c7 = row_of(duckdb_store, "conversation_facts", conversation_id="chatwoot:1:2:7")
    assert c7["first_response_seconds"] == 540
    assert c7["first_response_business_seconds"] == 300
    # c8: customer 09:10:10, bot 09:10:40 UTC, all inside the opening hours.
    c8 = row_of(duckdb_store, "conversation_facts", conversation_id="chatwoot:1:2:8")
    assert c8["first_response_seconds"] == c8["first_response_business_seconds"] == 30

    later = datetime(2026, 12, 1, tzinfo=UTC)
    again = backfill(duckdb_store, client, options=options, progress=False, now=later)
    assert again.accepted == 0  # the same schedule, a later backfill: stored once
