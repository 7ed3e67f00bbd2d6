"""A conversation's timeline: which events start and stop each clock, read from the facts.

Two hand-built conversations (DuckDB and PostgreSQL):
- "inv" (a human conversation): customer 09:01, Alice assigned 09:02 and replies 09:04,
  resolved 09:10, reopened 09:20, resolved again 09:30, 300 s of talk logged, two CSAT
  answers (the later one, 2, counts). Carol is @mentioned; Bob writes the note.
- "bot" (an AI handoff): customer 10:40, the AI answers 10:40:30, hands off to team
  billing at 10:42 (Bob was assigned at 10:41), Bob replies 10:50. Never resolved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deskpulse.analysis.timeline import Clock, ConversationDetail, conversation_detail
from deskpulse.events.store import Store
from deskpulse.metrics.query import NotVisibleError, Viewer
from deskpulse.names import agent_names
from tests.factories import Events, ingest_and_build, row_of

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEAM = Viewer()


def scenario() -> Events:
    f = Events(start=START)
    f.agent("alice", teams=["t1"]).agent("bob", teams=["t1"]).agent("carol", teams=["t1"])
    f.agent("ai-1", kind="ai")
    inv = f.conversation("inv", customer="u1", inquiry="billing", at=0)  # ev-5
    inv.customer(at=1, text="My invoice is wrong")  # ev-6
    inv.note("bob", mentions=["carol"], at=2, text="carol, can you check?")  # ev-7
    inv.assign("alice", team="t1", at=2)  # ev-8
    inv.reply("alice", at=4, ai_assist="draft_edited", text="Sorry about that")  # ev-9
    inv.resolve(at=10, by="alice")  # ev-10
    inv.reopen(at=20)  # ev-11
    inv.customer(at=20.5)  # ev-12
    inv.reply("alice", at=22)  # ev-13
    inv.resolve(at=30, by="alice")  # ev-14
    inv.work("alice", seconds=300, kind="talk", at=31)  # ev-15
    inv.survey("csat", 4, at=35)  # ev-16
    inv.survey("csat", 2, at=40, comment="slow")  # ev-17

    bot = f.conversation("bot", customer="u2", inquiry="billing", at=100)  # ev-18
    bot.customer(at=100)  # ev-19
    bot.ai_reply("ai-1", at=100.5)  # ev-20
    bot.assign("bob", team="billing", at=101)  # ev-21
    bot.escalate(from_agent="ai-1", to_team="billing", reason="billing_question", at=102)  # ev-22
    bot.reply("bob", at=110)  # ev-23
    return f


@pytest.fixture
def built(store: Store) -> Store:
    ingest_and_build(store, scenario().events)
    return store


def clocks_of(detail: ConversationDetail) -> dict[str, Clock]:
    return {clock.key: clock for clock in detail.clocks}


def marks_of(detail: ConversationDetail) -> dict[str, list[str]]:
    return {event.event_id: event.marks for event in detail.events if event.marks}


def test_events_are_the_conversations_own_in_order(built: Store) -> None:
    detail = conversation_detail(built, "inv", TEAM)
    f = scenario()
    expected = [e["id"] for e in f.events if e.get("conversation_id") == "inv"]
    assert [e.event_id for e in detail.events] == expected  # no agent.upserted, no "bot"
    assert [e.occurred_at for e in detail.events] == sorted(e.occurred_at for e in detail.events)
    assert detail.events[0].occurred_at == f.at(0)
    assert all(e.occurred_at.tzinfo is not None for e in detail.events)
    assert [e.summary for e in detail.events] == [
        "Conversation created on chat (inbox web), inquiry billing",
        "Customer wrote",
        "Internal note by bob mentioning carol",
        "Assigned to alice (team t1)",
        "alice replied (AI draft, edited)",
        "Status → resolved by alice",
        "Status → open (reopened)",
        "Customer wrote",
        "alice replied",
        "Status → resolved by alice",
        "Work logged: 300 s talk",
        "CSAT 4/5",
        "CSAT 2/5",
    ]
    by_id = {e.event_id: e for e in detail.events}
    assert [by_id[i].actor for i in ("ev-6", "ev-7", "ev-9", "ev-11", "ev-15", "ev-17")] == [
        "customer",
        "bob",
        "alice",
        "system",
        "alice",
        "customer",
    ]
    assert by_id["ev-6"].text == "My invoice is wrong"
    assert by_id["ev-17"].text == "slow"
    assert by_id["ev-7"].details == {
        "message_id": "m-2",
        "direction": "note",
        "author_kind": "agent",
        "agent_id": "bob",
        "mentions": ["carol"],
    }
    assert by_id["ev-15"].details == {"agent_id": "alice", "seconds": 300.0, "kind": "talk"}


def test_first_response_is_stopped_by_the_reply_the_facts_name(built: Store) -> None:
    f = scenario()
    detail = conversation_detail(built, "inv", TEAM)
    clock = clocks_of(detail)["first_response"]
    # The customer's first message at 09:01, Alice's reply at 09:04.
    assert clock.seconds == 180.0
    assert (clock.started_at, clock.stopped_at) == (f.at(1), f.at(4))
    assert (clock.started_by, clock.stopped_by) == ("ev-6", "ev-9")
    assert "customer's message" in clock.note
    marks = marks_of(detail)
    assert "starts first response" in marks["ev-6"]
    assert "stops first response" in marks["ev-9"]
    # Alice's second reply and the second customer message stop and start nothing.
    assert "ev-12" not in marks
    assert "ev-13" not in marks


def test_first_human_response_starts_at_the_ai_handoff(built: Store) -> None:
    f = scenario()
    detail = conversation_detail(built, "bot", TEAM)
    clocks = clocks_of(detail)
    anyone = clocks["first_response"]
    assert (anyone.seconds, anyone.started_by, anyone.stopped_by) == (30.0, "ev-19", "ev-20")
    human = clocks["first_human_response"]
    # Bot time excluded: from the handoff at 10:42 to Bob's reply at 10:50.
    assert human.seconds == 480.0
    assert (human.started_at, human.stopped_at) == (f.at(102), f.at(110))
    assert (human.started_by, human.stopped_by) == ("ev-22", "ev-23")
    assert "AI handoff" in human.note
    marks = marks_of(detail)
    assert "starts first human response" in marks["ev-22"]
    assert "stops first human response" in marks["ev-23"]
    escalation = next(e for e in detail.events if e.event_id == "ev-22")
    assert escalation.summary == "Escalated from ai-1 to team billing: billing_question"
    assert escalation.actor == "ai-1"
    assert next(e for e in detail.events if e.event_id == "ev-20").summary == (
        "ai-1 replied (AI agent)"
    )


def test_full_resolution_stops_at_the_last_resolution_after_a_reopen(built: Store) -> None:
    f = scenario()
    detail = conversation_detail(built, "inv", TEAM)
    clocks = clocks_of(detail)
    first, full = clocks["first_resolution"], clocks["full_resolution"]
    assert (first.seconds, first.started_by, first.stopped_by) == (600.0, "ev-5", "ev-10")
    assert (full.seconds, full.started_by, full.stopped_by) == (1800.0, "ev-5", "ev-14")
    assert full.stopped_at == f.at(30)
    assert "reopened once" in full.note
    marks = marks_of(detail)
    assert marks["ev-10"] == ["stops first resolution"]
    assert marks["ev-14"] == ["stops full resolution"]
    assert "ev-11" not in marks  # the reopen itself stops nothing


def test_each_agent_has_their_own_first_response_clock(built: Store) -> None:
    f = scenario()
    inv = clocks_of(conversation_detail(built, "inv", TEAM))
    alice = inv["agent_first_response:alice"]
    # The customer waited from 09:01, but Alice was assigned only at 09:02: 120 s.
    assert alice.seconds == 120.0
    assert (alice.started_by, alice.stopped_by) == ("ev-8", "ev-9")
    assert alice.started_at == f.at(2)
    assert "assignment" in alice.note
    carol = inv["agent_first_response:carol"]  # only mentioned
    assert (carol.seconds, carol.started_by, carol.stopped_by) == (None, None, None)
    assert "carol sent no public reply" in carol.note
    assert "agent_first_response:bob" not in inv  # wrote a note: no agent row

    bot = conversation_detail(built, "bot", TEAM)
    clocks = clocks_of(bot)
    # Bob was assigned at 10:41, before the handoff at 10:42: the handoff starts his clock.
    assert clocks["agent_first_response:bob"].seconds == 480.0
    assert clocks["agent_first_response:bob"].started_by == "ev-22"
    assert clocks["agent_first_response:ai-1"].seconds == 30.0
    assert clocks["agent_first_response:ai-1"].started_by == "ev-19"
    assert "starts first response by bob" in marks_of(bot)["ev-22"]


def test_the_csat_answer_that_counted_is_marked(built: Store) -> None:
    f = scenario()
    detail = conversation_detail(built, "inv", TEAM)
    csat = clocks_of(detail)["csat"]
    assert (csat.stopped_by, csat.stopped_at) == ("ev-17", f.at(40))
    assert csat.seconds is None
    assert "2/5" in csat.note
    marks = marks_of(detail)
    assert marks["ev-17"] == ["counted CSAT"]
    assert "ev-16" not in marks  # the earlier answer was replaced


def test_handle_time_says_how_it_was_measured(built: Store) -> None:
    logged = clocks_of(conversation_detail(built, "inv", TEAM))["handle_time"]
    assert logged.seconds == 300.0
    assert logged.note == "sum of 1 work.logged entry"
    estimated = clocks_of(conversation_detail(built, "bot", TEAM))["handle_time"]
    # The AI's reply 30 s after the customer, Bob's 570 s after the AI's: both under the cap.
    assert estimated.seconds == 600.0
    assert "estimated from reply gaps, capped at 15 min" in estimated.note


def test_clocks_equal_the_facts(built: Store) -> None:
    columns = {
        "first_response": "first_response_seconds",
        "first_human_response": "first_human_response_seconds",
        "first_resolution": "first_resolution_seconds",
        "full_resolution": "full_resolution_seconds",
        "handle_time": "handle_seconds",
    }
    for conversation_id in ("inv", "bot"):
        detail = conversation_detail(built, conversation_id, TEAM)
        row = row_of(built, "conversation_facts", conversation_id=conversation_id)
        clocks = clocks_of(detail)
        for key, column in columns.items():
            assert clocks[key].seconds == row[column], (conversation_id, key)
            assert detail.facts[column] == row[column]
        assert detail.facts["created_at"] == row["created_at"].replace(tzinfo=UTC)
        for agent in detail.agents:
            agent_row = row_of(
                built,
                "agent_conversation_facts",
                conversation_id=conversation_id,
                agent_id=agent["agent_id"],
            )
            clock = clocks[f"agent_first_response:{agent['agent_id']}"]
            assert clock.seconds == agent_row["agent_first_response_seconds"]
    bot = clocks_of(conversation_detail(built, "bot", TEAM))
    assert bot["full_resolution"].seconds is None
    assert bot["full_resolution"].note == "no sample: never resolved"
    assert bot["csat"].stopped_by is None


def test_a_clock_no_event_explains_is_not_guessed(built: Store) -> None:
    # The facts are the truth the page shows: if they name an instant no event has,
    # the clock keeps the facts' number and says it found no starting event.
    built.execute(
        "UPDATE conversation_facts SET first_response_seconds = 170 WHERE conversation_id = 'inv'"
    )
    clock = clocks_of(conversation_detail(built, "inv", TEAM))["first_response"]
    assert clock.seconds == 170.0
    assert clock.started_by is None
    assert clock.stopped_by == "ev-9"
    assert "no event at that instant could start it" in clock.note


def test_agents_see_only_conversations_they_took_part_in(built: Store) -> None:
    alice = conversation_detail(built, "inv", Viewer(agent_id="alice"))
    assert [row["agent_id"] for row in alice.agents] == ["alice"]
    assert "agent_first_response:carol" not in clocks_of(alice)
    assert clocks_of(alice)["first_response"].seconds == 180.0
    # Carol was only mentioned: the conversation is hers to open, with her row only.
    carol = conversation_detail(built, "inv", Viewer(agent_id="carol"))
    assert [row["agent_id"] for row in carol.agents] == ["carol"]
    everyone = conversation_detail(built, "inv", TEAM)
    assert [row["agent_id"] for row in everyone.agents] == ["alice", "carol"]
    with pytest.raises(NotVisibleError):
        conversation_detail(built, "bot", Viewer(agent_id="alice"))  # Bob's and the AI's
    with pytest.raises(NotVisibleError):
        conversation_detail(built, "inv", Viewer(agent_id="bob"))  # a note is no row
    with pytest.raises(NotVisibleError):
        conversation_detail(built, "nope", TEAM)


def test_facts_are_aware_utc_and_plain(built: Store) -> None:
    detail = conversation_detail(built, "inv", TEAM)
    facts: dict[str, Any] = detail.facts
    assert facts["conversation_id"] == "inv"
    assert facts["first_response_at"] == scenario().at(4)
    assert facts["first_response_at"].tzinfo is not None
    assert facts["reopens"] == 1
    assert facts["csat_score"] == 2
    assert detail.agents[0]["first_reply_at"] == scenario().at(4)


def test_nothing_to_show_before_facts_exist(store: Store) -> None:
    with pytest.raises(NotVisibleError):
        conversation_detail(store, "inv", TEAM)


def test_a_page_reads_agents_by_name_and_inquiries_and_reasons_as_words(built: Store) -> None:
    names = agent_names(built)
    inv = conversation_detail(built, "inv", TEAM, names)
    summaries = [e.summary for e in inv.events]
    assert summaries[:6] == [
        "Conversation created on chat (inbox web), inquiry Billing",
        "Customer wrote",
        "Internal note by Bob mentioning Carol",
        "Assigned to Alice (team t1)",
        "Alice replied (AI draft, edited)",
        "Status → resolved by Alice",
    ]
    assert clocks_of(inv)["agent_first_response:alice"].label == "First response by Alice"
    assert "Alice's public reply" in clocks_of(inv)["first_response"].note
    bot = conversation_detail(built, "bot", TEAM, names)
    assert [e.summary for e in bot.events if e.type == "conversation.escalated"] == [
        "Escalated from Ai-1 to team billing: Billing question"
    ]
    # The ids stay where a program reads them.
    assert {e.actor for e in inv.events} >= {"alice", "bob"}


def test_an_agent_never_named_shows_their_id(built: Store) -> None:
    detail = conversation_detail(built, "inv", TEAM, {"bob": "Bob Stone"})
    summaries = [e.summary for e in detail.events]
    assert "Internal note by Bob Stone mentioning carol" in summaries
    assert "Assigned to alice (team t1)" in summaries
