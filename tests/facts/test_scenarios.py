"""Hand-computed fact values for small timelines, on every storage backend.

Each test writes a timeline in minutes after `Events.start` and asserts literals worked
out by hand from ../shared/DESIGN.md ("Metric contract") and the column notes in facts/tables.py;
the comment beside a literal shows the arithmetic. Settings in effect: FCR window 7
days, survey window 14 days after resolution, handle-time estimate cap 900 s per reply.

`expect(row, {...})` checks several columns and reports every mismatch at once, so a
failure names each column where the builder and this reading of the spec differ.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from deskpulse.events.store import Store
from tests.factories import (
    MINUTES_PER_DAY,
    Events,
    Row,
    by_time,
    expect,
    facts,
    ingest,
    ingest_and_build,
    refresh,
    row_of,
    rows_of,
    scratch_store,
    snapshot,
)
from tests.factories import assert_same_facts as assert_same

DAY = MINUTES_PER_DAY


def conv(store: Store, conversation_id: str) -> Row:
    return row_of(store, "conversation_facts", conversation_id=conversation_id)


def agent_conv(store: Store, conversation_id: str, agent_id: str) -> Row:
    return row_of(
        store, "agent_conversation_facts", conversation_id=conversation_id, agent_id=agent_id
    )


def agent_ids(store: Store, conversation_id: str) -> list[str]:
    return [
        r["agent_id"]
        for r in rows_of(store, "agent_conversation_facts", conversation_id=conversation_id)
    ]


def team() -> Events:
    f = Events()
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    f.agent("bot", name="Bot", kind="ai", teams=["t1"])
    return f


# -- first response -----------------------------------------------------------------------


def test_plain_first_response(store: Store) -> None:
    f = team()
    c = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c.customer(at=0.5, text="my card was charged twice")
    c.reply("alice", at=3)
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "created_at": f.t(0),
            "channel": "chat",
            "inbox_id": "web",
            "customer_id": "u1",
            "inquiry": "billing",
            "first_message_at": f.t(0.5),
            "first_response_at": f.t(3),
            "first_response_seconds": 150.0,  # (3 - 0.5) min * 60
            # No escalation: the human clock starts where the first-response clock does.
            "first_human_response_at": f.t(3),
            "first_human_response_seconds": 150.0,
            "inbound_messages": 1,
            "replies": 1,
            "human_replies": 1,
            "ai_replies": 0,
            "turns": 1,
            "status": "open",  # no status change ever
            "reopens": 0,
            "first_resolved_at": None,
            "first_resolution_seconds": None,
            "full_resolved_at": None,
            "full_resolution_seconds": None,
            "fcr": None,  # null while not resolved
            "escalated": False,
            "escalated_at": None,
            "escalation_reason": None,
            "ai_involved": False,
            "ai_agent_id": None,
            "ai_handled": False,
            "csat_score": None,
            "nps_score": None,
            "ces_score": None,
            "cost_amount": None,  # null when no cost was recorded
            "assignee_id": None,
            "team_id": None,
            "handle_seconds": 150.0,  # estimate: reply 2.5 min after the message
            "handle_time_estimated": True,
            "last_event_at": f.t(3),
        },
    )
    expect(
        agent_conv(store, "c1", "alice"),
        {
            "handled": True,
            "was_assigned": False,
            "replies": 1,
            "replies_scratch": 1,
            "replies_as_is": 0,
            "replies_edited": 0,
            "first_reply_at": f.t(3),
            # never assigned: the clock starts at the oldest waiting message, 0.5
            "agent_first_response_seconds": 150.0,  # (3 - 0.5) * 60
            "mentions": 0,
            "first_mentioned_at": None,
            "created_at": f.t(0),
            "channel": "chat",
            "inquiry": "billing",
        },
    )
    # Only alice has a row: bob and bot neither replied, were assigned nor mentioned.
    assert agent_ids(store, "c1") == ["alice"]


def test_first_response_without_customer_message_counts_from_creation(store: Store) -> None:
    f = team()
    c = f.conversation("c1", channel="email", at=0)  # the agent writes first
    c.reply("alice", at=4)
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "first_message_at": None,
            "first_response_seconds": 240.0,  # from creation: 4 min * 60
            "turns": 0,  # no inbound run was answered
        },
    )
    expect(
        agent_conv(store, "c1", "alice"),
        {"handled": True, "agent_first_response_seconds": None},  # nobody was waiting
    )


def test_conversation_opened_by_a_reply_has_no_first_response(store: Store) -> None:
    # No customer message and the first reply at the creation instant: the reply opened
    # the conversation (a brand's tweet answering a post outside the export), nobody
    # waited: no value, not 0 s; a later follow-up is no response either.
    f = team()
    c = f.conversation("c1", channel="social", at=0)
    c.reply("alice", at=0)
    c.reply("alice", at=6, text="following up")
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "first_reply_at": f.t(0),
            "first_response_at": None,
            "first_response_seconds": None,
            "first_human_response_seconds": None,
            "replies": 2,
        },
    )
    expect(
        agent_conv(store, "c1", "alice"), {"handled": True, "agent_first_response_seconds": None}
    )


def test_first_response_ignores_replies_before_the_customer_wrote(store: Store) -> None:
    # tables.py: first_response_at is the "first public reply ... after the start", the
    # start being the first customer message when there is one. Agent first response:
    # "to the agent's first public reply after it" (after the clock start).
    f = team()
    c = f.conversation("c1", at=0)
    c.reply("alice", at=1)  # proactive message, nobody waiting
    c.customer(at=2)
    c.reply("alice", at=5)
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "first_message_at": f.t(2),
            "first_response_at": f.t(5),
            "first_response_seconds": 180.0,  # (5 - 2) * 60
        },
    )
    expect(
        agent_conv(store, "c1", "alice"),
        {
            "first_reply_at": f.t(1),
            # oldest waiting message 2 -> alice's first reply after it, at 5
            "agent_first_response_seconds": 180.0,  # (5 - 2) * 60
        },
    )


def test_durations_keep_fractions_of_a_second(store: Store) -> None:
    # tables.py: "Durations are seconds (float)". AI agents answer in under a second,
    # so truncating to whole seconds would erase exactly what the AI pages compare.
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0.01)  # 0.6 s after the start
    c.ai_reply("bot", at=0.035)  # 2.1 s after the start
    ingest_and_build(store, f.events)

    assert conv(store, "c1")["first_response_seconds"] == pytest.approx(1.5)  # 2.1 - 0.6
    assert agent_conv(store, "c1", "bot")["agent_first_response_seconds"] == pytest.approx(1.5)


def test_ai_reply_then_handoff_to_a_human(store: Store) -> None:
    f = team()
    c = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c.customer(at=0)
    c.ai_reply("bot", at=1)
    c.customer(at=3, text="I want a human")
    c.escalate(from_agent="bot", to_agent="alice", reason="customer_requested_human", at=4)
    c.assign("alice", team="t1", at=4)
    c.reply("alice", at=10)
    c.resolve(at=20, by="alice")
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "first_response_at": f.t(1),
            "first_response_seconds": 60.0,  # AI at 1 - customer at 0
            "first_human_response_at": f.t(10),
            "first_human_response_seconds": 360.0,  # (10 - escalation at 4) * 60
            "escalated": True,
            "escalated_at": f.t(4),
            "escalation_reason": "customer_requested_human",
            "ai_involved": True,
            "ai_agent_id": "bot",
            "ai_handled": False,  # a human replied too
            "ai_resolved": False,  # not AI-handled
            "replies": 2,
            "ai_replies": 1,
            "human_replies": 1,
            # runs of inbound messages answered by a public reply: [0] -> bot at 1,
            # [3] -> alice at 10 (the escalation is not a message)
            "turns": 2,
            "assignee_id": "alice",
            "team_id": "t1",
            # estimate, per public reply the time since the message it answers:
            # bot 1 - customer 0 = 60 s; alice 10 - customer 3 = 420 s (the escalation
            # at 4 is not a message)
            "handle_seconds": 480.0,
            "handle_time_estimated": True,
        },
    )
    expect(
        agent_conv(store, "c1", "bot"),
        {
            "handled": True,
            "replies": 1,
            "replies_scratch": 0,  # tables.py: AI replies are in none of the assist columns
            "agent_first_response_seconds": 60.0,  # customer 0 -> bot 1
        },
    )
    expect(
        agent_conv(store, "c1", "alice"),
        {
            "was_assigned": True,
            # later of (assignment 4, oldest unanswered customer message 3) = 4 -> 10
            "agent_first_response_seconds": 360.0,
        },
    )


def test_human_to_human_escalation_keeps_the_human_clock(store: Store) -> None:
    # Only an AI-to-human escalation moves the start of first human response; a tier-1
    # human handing over to tier 2 does not, even when an AI replied earlier.
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.ai_reply("bot", at=1)
    c.reply("alice", at=3)
    c.escalate(from_agent="alice", to_agent="bob", reason="tier2", at=5)
    c.reply("bob", at=10)
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "escalated": True,
            "escalation_reason": "tier2",
            "first_response_seconds": 60.0,  # bot at 1 - customer 0
            "first_human_response_at": f.t(3),  # alice, the first human reply
            "first_human_response_seconds": 180.0,  # (3 - 0) * 60
        },
    )


def test_ai_triage_escalation_without_ai_reply(store: Store) -> None:
    # The AI routes the conversation to a human without replying publicly itself: the
    # escalation is still AI-to-human (from_agent_id is an AI agent), so the human clock
    # starts there ("bot time excluded").
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.escalate(from_agent="bot", to_team="t1", reason="billing_dispute", at=3)
    c.reply("alice", at=10)
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "first_response_seconds": 600.0,  # alice at 10 - customer 0
            "first_human_response_seconds": 420.0,  # (10 - escalation 3) * 60
            "ai_involved": False,  # no AI public reply
            "escalated": True,
        },
    )


# -- agents per conversation --------------------------------------------------------------


def test_teammate_reply_counts_as_handled_for_both(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", team="t1", at=1)
    c.reply("bob", at=5)  # a teammate steps in
    c.customer(at=6)
    c.reply("alice", at=8)
    ingest_and_build(store, f.events)

    expect(
        agent_conv(store, "c1", "alice"),
        {
            "handled": True,
            "was_assigned": True,
            "replies": 1,
            "team_id": "t1",
            # later of (assignment 1, oldest still-unanswered message 6) -> reply at 8
            "agent_first_response_seconds": 120.0,  # (8 - 6) * 60
        },
    )
    expect(
        agent_conv(store, "c1", "bob"),
        {
            "handled": True,
            "was_assigned": False,
            "replies": 1,
            "team_id": "t1",
            # never assigned, oldest waiting message 0 -> reply at 5
            "agent_first_response_seconds": 300.0,  # 5 * 60
        },
    )
    expect(
        conv(store, "c1"),
        {"assignee_id": "alice", "first_response_seconds": 300.0},  # bob at 5 - 0
    )


def test_resolver_without_a_reply_has_handled_it(store: Store) -> None:
    # Issue 14: whoever resolves a ticket has handled it (ServiceNow resolvers send no
    # public reply in the export), bucketed by the resolution.
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=1)
    c.reply("alice", at=3)
    c.resolve(at=10, by="bob")
    ingest_and_build(store, f.events)

    expect(
        agent_conv(store, "c1", "bob"),
        {
            "handled": True,
            "handled_at": f.t(10),
            "replies": 0,
            "first_reply_at": None,
            "agent_first_response_seconds": None,
        },
    )
    expect(agent_conv(store, "c1", "alice"), {"handled": True, "handled_at": f.t(3)})


def test_unassigned_in_the_end(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", team="t1", at=1)
    c.assign(None, at=5)  # back to the queue
    ingest_and_build(store, f.events)

    expect(conv(store, "c1"), {"assignee_id": None, "team_id": "t1"})
    expect(
        agent_conv(store, "c1", "alice"),
        {"was_assigned": True, "handled": False, "agent_first_response_seconds": None},
    )


def test_follow_up_without_waiting_customer_has_no_agent_sample(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.assign("alice", team="t1", at=0)
    c.customer(at=1)
    c.reply("alice", at=3)
    c.reply("bob", at=20, text="following up")  # nobody is waiting
    ingest_and_build(store, f.events)

    expect(
        agent_conv(store, "c1", "alice"),
        # later of (assignment 0, oldest waiting message 1) -> reply at 3
        {"agent_first_response_seconds": 120.0},  # (3 - 1) * 60
    )
    expect(
        agent_conv(store, "c1", "bob"),
        {
            "handled": True,
            "first_reply_at": f.t(20),
            "agent_first_response_seconds": None,  # no customer message waiting
        },
    )
    expect(conv(store, "c1"), {"replies": 2, "turns": 1})


def test_agent_first_response_starts_at_assignment(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", at=10)
    c.reply("alice", at=15)
    ingest_and_build(store, f.events)

    # later of (assignment 10, oldest waiting message 0) = 10 -> reply at 15
    expect(agent_conv(store, "c1", "alice"), {"agent_first_response_seconds": 300.0})
    # the customer's own wait is unaffected by the assignment: 15 * 60
    expect(conv(store, "c1"), {"first_response_seconds": 900.0})


def test_assignment_arriving_with_the_reply_does_not_restart_the_clock(store: Store) -> None:
    # DESIGN.md: an assignment that arrives with the reply itself (one helpdesk update:
    # the agent took the conversation by answering it) does not restart the clock.
    # "Arrives with" = the same instant (a Zendesk audit stamps its events alike).
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", at=45)  # alice takes it by answering, in one update
    c.reply("alice", at=45)
    c2 = f.conversation("c2", at=0)
    c2.customer(at=0)
    c2.assign("bob", at=10)  # bob was assigned first ...
    c2.assign("bob", at=30)  # ... and re-assigned in the update carrying his reply
    c2.reply("bob", at=30)
    ingest_and_build(store, f.events)

    # oldest waiting message 0, no earlier assignment -> reply at 45: 45 * 60, not 0
    expect(agent_conv(store, "c1", "alice"), {"agent_first_response_seconds": 2700.0})
    expect(conv(store, "c1"), {"first_response_seconds": 2700.0})
    # later of (previous assignment 10, oldest waiting message 0) -> reply at 30
    expect(agent_conv(store, "c2", "bob"), {"agent_first_response_seconds": 1200.0})


def test_mentions_in_notes(store: Store) -> None:
    f = team()
    f.agent("carol", teams=["t2"])
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", at=1)
    c.reply("alice", at=2)
    c.note("alice", mentions=["bob"], at=4, text="@bob can you check?")
    c.note("alice", mentions=["bob"], at=6, text="@bob ping")
    c.note("carol", at=7, text="a note without mentions")
    ingest_and_build(store, f.events)

    expect(
        agent_conv(store, "c1", "bob"),
        {
            "mentions": 2,  # two notes mention bob
            "first_mentioned_at": f.t(4),
            "handled": False,  # notes are not public replies
            "was_assigned": False,
            "replies": 0,
            "first_reply_at": None,
            "agent_first_response_seconds": None,
        },
    )
    expect(agent_conv(store, "c1", "alice"), {"mentions": 0, "handled": True})
    # Rows exist for agents who replied, were assigned or were mentioned: carol only
    # wrote a note, so she has none.
    assert agent_ids(store, "c1") == ["alice", "bob"]
    expect(conv(store, "c1"), {"replies": 1, "turns": 1})  # notes are not replies


def test_mentions_count_notes_not_repeated_ids(store: Store) -> None:
    # My reading: "times the agent was @mentioned in notes" counts notes; an id repeated
    # inside one note's mentions list is still one mention.
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.note("alice", mentions=["bob", "bob"], at=1)
    c.note("alice", mentions=["bob", "carol"], at=2)
    ingest_and_build(store, f.events)

    expect(agent_conv(store, "c1", "bob"), {"mentions": 2})  # 1 per note, 2 notes
    expect(agent_conv(store, "c1", "carol"), {"mentions": 1, "first_mentioned_at": f.t(2)})


# -- resolution and FCR -------------------------------------------------------------------


def test_reopen_then_resolve_again(store: Store) -> None:
    f = team()
    c = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c.customer(at=0)
    c.assign("alice", team="t1", at=1)
    c.reply("alice", at=5)
    c.resolve(at=10, by="alice")
    c.reopen(at=30)
    c.resolve(at=50, by="alice")
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "first_resolved_at": f.t(10),
            "first_resolution_seconds": 600.0,  # 10 * 60
            "full_resolved_at": f.t(50),
            "full_resolution_seconds": 3000.0,  # 50 * 60
            "reopens": 1,
            "status": "resolved",
            "fcr": False,  # reopened
        },
    )
    resolutions = rows_of(store, "resolution_facts", conversation_id="c1")
    assert [(r["resolved_at"], r["next_change_at"]) for r in resolutions] == [
        (f.t(10), f.t(30)),  # followed by the reopen
        (f.t(50), None),  # nothing followed
    ]
    for r in resolutions:
        expect(
            r,
            {
                "channel": "chat",
                "inbox_id": "web",
                "inquiry": "billing",
                "team_id": "t1",
                "assignee_id": "alice",
            },
        )


def test_reopened_and_still_open(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.reply("alice", at=2)
    c.resolve(at=10)
    c.reopen(at=30)
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "first_resolution_seconds": 600.0,  # 10 * 60
            "full_resolved_at": None,  # its only resolved was followed by a reopen
            "full_resolution_seconds": None,
            "status": "open",
            "reopens": 1,
            "fcr": None,  # not resolved: null
        },
    )
    assert [r["next_change_at"] for r in facts(store, "resolution_facts")] == [f.t(30)]


def test_resolved_twice_in_a_row(store: Store) -> None:
    # resolution_facts holds "one row per `resolved` status change, with the time of the
    # next status change"; full resolution runs to "the last `resolved` not followed by
    # a reopen". A second `resolved` without a reopen between is not a reopen.
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).reply("alice", at=2)
    c.resolve(at=10, by="alice")
    c.resolve(at=20, by="alice")
    ingest_and_build(store, f.events)

    expect(
        conv(store, "c1"),
        {
            "reopens": 0,
            "first_resolution_seconds": 600.0,  # 10 * 60
            "full_resolved_at": f.t(20),  # the last resolved
            "full_resolution_seconds": 1200.0,  # 20 * 60
            "fcr": True,
        },
    )
    assert [(r["resolved_at"], r["next_change_at"]) for r in facts(store, "resolution_facts")] == [
        (f.t(10), f.t(20)),
        (f.t(20), None),
    ]


def test_fcr_and_the_returning_customer(store: Store) -> None:
    f = team()

    def resolved(conversation: str, customer: str, inquiry: str, at: float) -> None:
        c = f.conversation(conversation, customer=customer, inquiry=inquiry, at=at)
        c.customer(at=at)
        c.reply("alice", at=at + 2)
        c.resolve(at=at + 10)

    # u1 comes back on the same inquiry 3 days later: c1 was not a first-contact fix.
    resolved("c1", "u1", "billing", at=0)
    f.conversation("c2", customer="u1", inquiry="billing", at=3 * DAY).customer(at=3 * DAY)
    # u2 comes back on the same inquiry after 8 days: outside the 7-day window (8 days
    # after creation, 8 days - 10 min after resolution: outside either way).
    resolved("c3", "u2", "billing", at=0)
    resolved("c4", "u2", "billing", at=8 * DAY)
    # u3 comes back within 7 days, but about something else.
    resolved("c5", "u3", "billing", at=0)
    resolved("c6", "u3", "shipping", at=1 * DAY)
    # u4 is another customer with a billing question a day later: breaks no one's FCR.
    resolved("c7", "u4", "billing", at=1 * DAY)
    # u5 comes back within 7 days on a conversation re-labelled to the same inquiry
    # afterwards: the latest inquiry counts.
    resolved("c8", "u5", "billing", at=0)
    f.conversation("c9", customer="u5", inquiry="other", at=2 * DAY).update(
        inquiry="billing", at=2 * DAY + 5
    )
    ingest_and_build(store, f.events)

    fcr = {r["conversation_id"]: r["fcr"] for r in facts(store, "conversation_facts")}
    assert fcr == {
        "c1": False,  # same customer, same inquiry, 3 days later
        "c2": None,  # unresolved
        "c3": True,  # the return came after 8 days > 7
        "c4": True,
        "c5": True,  # the return was about shipping
        "c6": True,
        "c7": True,
        "c8": False,  # c9 is billing by its latest inquiry
        "c9": None,  # unresolved
    }


def test_fcr_window_follows_the_setting(store: Store, tmp_path: Path) -> None:
    f = team()
    c1 = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c1.customer(at=0).reply("alice", at=2).resolve(at=10)
    f.conversation("c2", customer="u1", inquiry="billing", at=3 * DAY).customer(at=3 * DAY)
    with scratch_store(store.backend, tmp_path / "w2", fcr_window_days=2) as narrow:
        ingest_and_build(narrow, f.events)
        assert conv(narrow, "c1")["fcr"] is True  # the return came after 3 days > 2


# -- surveys ------------------------------------------------------------------------------


def test_csat_latest_answer_within_window_wins(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).reply("alice", at=2).resolve(at=10)
    c.survey("csat", 2, at=20)
    c.survey("csat", 5, at=40)  # answered again: the latest wins
    d = f.conversation("c2", at=0)
    d.customer(at=0).reply("alice", at=2).resolve(at=10)
    d.survey("csat", 4, at=10 + DAY)  # 1 day after resolution
    d.survey("csat", 1, at=10 + 15 * DAY)  # 15 days after resolution: ignored (> 14)
    ingest_and_build(store, f.events)

    expect(conv(store, "c1"), {"csat_score": 5, "csat_at": f.t(40)})
    expect(conv(store, "c2"), {"csat_score": 4, "csat_at": f.t(10 + DAY)})
    # every handler gets the conversation's response
    expect(agent_conv(store, "c1", "alice"), {"csat_score": 5, "csat_at": f.t(40)})
    expect(agent_conv(store, "c2", "alice"), {"csat_score": 4, "csat_at": f.t(10 + DAY)})


def test_nps_scores_per_conversation(store: Store) -> None:
    f = team()
    scores = {"n1": 10, "n2": 9, "n3": 8, "n4": 6, "n5": 0}
    for index, (conversation, score) in enumerate(scores.items()):
        c = f.conversation(conversation, customer=f"u{index}", at=0)
        c.customer(at=0).reply("alice", at=2).resolve(at=10)
        c.survey("nps", score, at=20)
    f.conversation("n6", customer="u9", at=0).customer(at=0).survey("ces", 3, at=5)
    ingest_and_build(store, f.events)

    rows = facts(store, "conversation_facts")
    assert {r["conversation_id"]: r["nps_score"] for r in rows} == {**scores, "n6": None}
    assert {r["nps_at"] for r in rows} == {f.t(20), None}
    expect(conv(store, "n6"), {"ces_score": 3, "ces_at": f.t(5), "csat_score": None})
    # For the metric layer: promoters (10, 9) are 2/5 = 40 %, detractors (6, 0) 40 %,
    # 8 is passive; NPS = 40 - 40 = 0.
    answered = [r["nps_score"] for r in rows if r["nps_score"] is not None]
    promoters = sum(1 for s in answered if s >= 9)
    detractors = sum(1 for s in answered if s <= 6)
    assert 100 * (promoters - detractors) / len(answered) == 0.0

    # ... and the metric layer agrees (n counts the five answers).
    from deskpulse.metrics.query import Query, query

    q = Query.model_validate(
        {"metrics": ["nps"], "period": "custom", "from": f.at(0), "to": f.at(DAY)}
    )
    nps = query(store, q).single().metrics["nps"]
    assert (nps.value, nps.n) == (0.0, 5)  # 40 % - 40 %


# -- handle time, turns, AI, cost ---------------------------------------------------------


def test_handle_time_logged_and_estimated(store: Store) -> None:
    f = team()
    logged = f.conversation("c1", channel="voice", at=0)
    logged.customer(at=0).reply("alice", at=5)
    logged.work("alice", seconds=300, kind="talk", at=9)
    logged.work("alice", seconds=120, kind="wrap", at=12)
    estimated = f.conversation("c2", at=0)
    estimated.customer(at=0)
    estimated.reply("alice", at=5)  # 5 min after the message it answers: 300 s
    estimated.customer(at=10)
    estimated.reply("bob", at=40)  # 30 min = 1800 s, capped at 900 s
    ingest_and_build(store, f.events)

    # logged: 300 + 120 = 420 s, not estimated
    expect(conv(store, "c1"), {"handle_seconds": 420.0, "handle_time_estimated": False})
    expect(
        agent_conv(store, "c1", "alice"),
        {"handle_seconds": 420.0, "handle_time_estimated": False},
    )
    # estimated: 300 + 900 = 1200 s; each agent gets their own replies' share
    expect(conv(store, "c2"), {"handle_seconds": 1200.0, "handle_time_estimated": True})
    expect(
        agent_conv(store, "c2", "alice"),
        {"handle_seconds": 300.0, "handle_time_estimated": True},
    )
    expect(
        agent_conv(store, "c2", "bob"),
        {"handle_seconds": 900.0, "handle_time_estimated": True},
    )


def test_handle_time_cap_follows_the_setting(store: Store, tmp_path: Path) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).reply("alice", at=5)  # 300 s
    c.customer(at=10).reply("alice", at=40)  # 1800 s, capped at the setting: 600 s
    with scratch_store(
        store.backend, tmp_path / "cap", handle_time_estimate_cap_seconds=600
    ) as capped:
        ingest_and_build(capped, f.events)
        # 300 + min(1800, 600) = 900
        expect(conv(capped, "c1"), {"handle_seconds": 900.0, "handle_time_estimated": True})


def test_turns_count_answered_runs_of_customer_messages(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).customer(at=1).reply("alice", at=2)  # run 1, answered
    c.customer(at=3).reply("alice", at=4)  # run 2, answered
    c.note("alice", at=5)
    d = f.conversation("c2", at=0)
    d.customer(at=0).reply("alice", at=1).reply("bob", at=2)  # one run, two replies
    d.customer(at=3)  # unanswered run: not a turn
    ingest_and_build(store, f.events)

    expect(conv(store, "c1"), {"turns": 2, "inbound_messages": 3, "replies": 2})
    expect(conv(store, "c2"), {"turns": 1, "inbound_messages": 2, "replies": 2})


def test_ai_handled_and_ai_resolved(store: Store) -> None:
    f = team()
    # a1: the AI alone, resolved, never reopened.
    a1 = f.conversation("a1", at=0)
    a1.customer(at=0).ai_reply("bot", at=1).resolve(at=2, by="bot")
    # a2: the AI alone, resolved, reopened a day later, resolved again.
    a2 = f.conversation("a2", at=0)
    a2.customer(at=0).ai_reply("bot", at=1).resolve(at=2, by="bot")
    a2.reopen(at=2 + DAY).customer(at=2 + DAY).ai_reply("bot", at=3 + DAY)
    a2.resolve(at=4 + DAY, by="bot")
    # a3: the AI alone, reopened only after 8 days (outside the 7-day window).
    a3 = f.conversation("a3", at=0)
    a3.customer(at=0).ai_reply("bot", at=1).resolve(at=2, by="bot")
    a3.reopen(at=2 + 8 * DAY).ai_reply("bot", at=3 + 8 * DAY).resolve(at=4 + 8 * DAY)
    # a4: the AI alone, not resolved.
    a4 = f.conversation("a4", at=0)
    a4.customer(at=0).ai_reply("bot", at=1)
    ingest_and_build(store, f.events)

    ai = ("ai_involved", "ai_handled", "ai_resolved", "ai_agent_id")
    expect(conv(store, "a1"), dict(zip(ai, (True, True, True, "bot"), strict=True)))
    # reopened after 1 day < 7
    expect(conv(store, "a2"), dict(zip(ai, (True, True, False, "bot"), strict=True)))
    # reopened after 8 days > 7
    expect(conv(store, "a3"), dict(zip(ai, (True, True, True, "bot"), strict=True)))
    # AI-handled, not resolved
    expect(conv(store, "a4"), dict(zip(ai, (True, True, False, "bot"), strict=True)))
    expect(conv(store, "a2"), {"reopens": 1})
    expect(
        conv(store, "a1"),
        {"human_replies": 0, "first_human_response_at": None, "first_human_response_seconds": None},
    )


def test_ai_assist_split_of_human_replies(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).reply("alice", at=1, ai_assist="draft_as_is")
    c.customer(at=2).reply("alice", at=3, ai_assist="draft_edited")
    c.customer(at=4).reply("alice", at=5, ai_assist="draft_edited")
    c.customer(at=6).reply("alice", at=7, ai_assist="none")
    ingest_and_build(store, f.events)

    expect(
        agent_conv(store, "c1", "alice"),
        {"replies": 4, "replies_as_is": 1, "replies_edited": 2, "replies_scratch": 1},
    )
    # AI drafts sent by a human are not AI public replies
    expect(conv(store, "c1"), {"ai_involved": False, "ai_handled": False, "ai_replies": 0})


def test_cost_is_a_decimal_sum(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).ai_reply("bot", at=1)
    c.cost("0.12", kind="inference", tokens=900, at=1)
    c.cost("0.035", kind="tools", at=2)
    f.conversation("c2", at=0).customer(at=0)
    ingest_and_build(store, f.events)

    expect(conv(store, "c1"), {"cost_amount": Decimal("0.155")})  # 0.12 + 0.035
    expect(conv(store, "c2"), {"cost_amount": None})


def test_agents_latest_upsert_wins(store: Store) -> None:
    f = Events()
    f.agent("alice", name="Alice", teams=["t1"], at=0)
    f.agent("alice", name="Alice B", teams=["t1", "t2"], email="a@x.test", at=10)
    f.agent("bot", name="Bot", kind="ai", at=0)
    f.agent("bot", name="Bot", kind="ai", active=False, at=20)
    ingest_and_build(store, list(reversed(f.events)))

    rows = facts(store, "agents")
    assert [
        (r["agent_id"], r["name"], r["email"], r["kind"], r["team_ids"], r["active"]) for r in rows
    ] == [
        ("alice", "Alice B", "a@x.test", "human", ["t1", "t2"], True),
        ("bot", "Bot", None, "ai", [], False),
    ]


# -- arrival order, duplicates and incremental builds -------------------------------------


def rich_scenario() -> Events:
    """A bit of everything, across a few conversations and customers."""
    f = team()
    f.agent("carol", teams=["t2"])
    a = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    a.customer(at=0.5).ai_reply("bot", at=1).customer(at=3)
    a.escalate(from_agent="bot", to_agent="alice", reason="customer_requested_human", at=4)
    a.assign("alice", team="t1", at=4).reply("alice", at=10, ai_assist="draft_edited")
    a.note("alice", mentions=["carol"], at=11).resolve(at=12, by="alice")
    a.survey("csat", 3, at=30).survey("csat", 4, at=40).cost("0.02", at=1)
    b = f.conversation("c2", customer="u1", inquiry="billing", at=DAY)
    b.customer(at=DAY).assign("bob", team="t1", at=DAY + 5).reply("bob", at=DAY + 9)
    b.resolve(at=DAY + 20).reopen(at=DAY + 60).customer(at=DAY + 61)
    b.reply("alice", at=DAY + 70).resolve(at=DAY + 80).survey("nps", 9, at=DAY + 90)
    b.work("bob", seconds=200, at=DAY + 9)
    c = f.conversation("c3", customer="u2", channel="email", at=2 * DAY)
    c.customer(at=2 * DAY).ai_reply("bot", at=2 * DAY + 1).resolve(at=2 * DAY + 2)
    c.update(inquiry="shipping", priority="high", at=2 * DAY + 1)
    c.survey("ces", 2, at=2 * DAY + 3)
    return f


def test_out_of_order_arrival_gives_the_same_facts(store: Store, tmp_path: Path) -> None:
    f = rich_scenario()
    ingest_and_build(store, list(reversed(f.events)))
    with scratch_store(store.backend, tmp_path / "in-order") as ordered:
        ingest_and_build(ordered, by_time(f.events))
        expected = snapshot(ordered)
    assert len(expected["conversation_facts"]) == 3
    assert_same(snapshot(store), expected)
    # and the reversed build is right, not merely equal
    expect(
        conv(store, "c1"),
        {
            "first_response_seconds": 30.0,  # bot at 1 - customer at 0.5
            "first_human_response_seconds": 360.0,  # alice at 10 - escalation at 4
            "csat_score": 4,
            "fcr": False,  # u1 came back on billing a day later (c2)
        },
    )
    expect(conv(store, "c3"), {"inquiry": "shipping", "priority": "high", "ces_score": 2})


def test_conversation_created_arriving_last(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).reply("alice", at=2).resolve(at=5)
    created, rest = f.events[3], f.events[4:]
    assert created["type"] == "conversation.created"
    ingest_and_build(store, rest)
    assert facts(store, "conversation_facts") == []  # no conversation.created yet
    ingest_and_build(store, [created])
    expect(conv(store, "c1"), {"first_response_seconds": 120.0, "fcr": True})
    assert agent_ids(store, "c1") == ["alice"]
    assert len(facts(store, "resolution_facts")) == 1


def test_incremental_build_touches_only_the_changed_conversation(
    store: Store, tmp_path: Path
) -> None:
    f = rich_scenario()
    ingest_and_build(store, f.events)
    before = snapshot(store)

    f.on("c3", customer="u2").customer(at=2 * DAY + 30, text="one more thing")
    ingest_and_build(store, f.events[-1:])
    after = snapshot(store)

    for table in ("conversation_facts", "agent_conversation_facts", "resolution_facts"):
        for conversation in ("c1", "c2"):
            assert [r for r in after[table] if r["conversation_id"] == conversation] == [
                r for r in before[table] if r["conversation_id"] == conversation
            ], (table, conversation)
    assert after["agents"] == before["agents"]
    expect(
        conv(store, "c3"),
        {"inbound_messages": 2, "last_event_at": f.t(2 * DAY + 30)},  # 1 message before
    )

    with scratch_store(store.backend, tmp_path / "fresh") as fresh:
        ingest(fresh, f.events)
        refresh(fresh, full=True)
        assert_same(after, snapshot(fresh))


def test_incremental_build_rechecks_fcr_of_untouched_conversations(
    store: Store, tmp_path: Path
) -> None:
    # FCR of c1 depends on the customer's later conversations: events about c2 must
    # update c1 although no event about c1 arrived.
    f = team()
    c1 = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c1.customer(at=0).reply("alice", at=2).resolve(at=10)
    ingest_and_build(store, f.events)
    assert conv(store, "c1")["fcr"] is True

    seen = len(f.events)
    c2 = f.conversation("c2", customer="u1", inquiry="shipping", at=2 * DAY)
    c2.customer(at=2 * DAY)
    ingest_and_build(store, f.events[seen:])
    assert conv(store, "c1")["fcr"] is True  # another inquiry

    seen = len(f.events)
    c2.update(inquiry="billing", at=2 * DAY + 5)
    ingest_and_build(store, f.events[seen:])
    assert conv(store, "c1")["fcr"] is False  # now the same inquiry within 7 days

    with scratch_store(store.backend, tmp_path / "fresh") as fresh:
        ingest(fresh, f.events)
        refresh(fresh, full=True)
        assert_same(snapshot(store), snapshot(fresh))


def test_duplicate_events_count_once(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).reply("alice", at=2).resolve(at=3)
    c.cost("1.5", at=2).work("alice", seconds=60, at=2)
    ingest_and_build(store, f.events)
    ingest_and_build(store, f.events + f.events)  # sent again, twice: the same ids
    expect(
        conv(store, "c1"),
        {"replies": 1, "cost_amount": Decimal("1.5"), "handle_seconds": 60.0, "reopens": 0},
    )
    assert len(facts(store, "resolution_facts")) == 1


def test_empty_store_builds_empty_tables(store: Store) -> None:
    refresh(store)
    for table in ("conversation_facts", "agent_conversation_facts", "resolution_facts", "agents"):
        assert facts(store, table) == []
