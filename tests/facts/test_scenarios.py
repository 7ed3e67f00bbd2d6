"""Hand-computed fact values for small timelines, on every storage backend.

Each test writes a timeline in minutes after START and asserts literals worked out by
hand from DESIGN.md ("Metric contract") and the column notes in facts/tables.py; the
comment beside a literal shows the arithmetic. Settings in effect: FCR window 7 days,
survey window 14 days after resolution, handle-time estimate cap 900 s per reply.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from deskpulse.events.store import Store
from factories import (
    MINUTES_PER_DAY,
    Events,
    Row,
    by_time,
    facts,
    ingest,
    ingest_and_build,
    refresh,
    row_of,
    rows_of,
    scratch_store,
    snapshot,
)
from factories import assert_same_facts as assert_same

DAY = MINUTES_PER_DAY


def conv(store: Store, conversation_id: str) -> Row:
    return row_of(store, "conversation_facts", conversation_id=conversation_id)


def agent_conv(store: Store, conversation_id: str, agent_id: str) -> Row:
    return row_of(
        store, "agent_conversation_facts", conversation_id=conversation_id, agent_id=agent_id
    )


def team() -> Events:
    f = Events()
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    f.agent("bot", name="Bot", kind="ai", teams=["t1"])
    return f


# -- first response ---------------------------------------------------------------------


def test_plain_first_response(store: Store) -> None:
    f = team()
    c = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c.customer(at=0.5, text="my card was charged twice")
    c.reply("alice", at=3)
    ingest_and_build(store, f.events)

    row = conv(store, "c1")
    assert row["created_at"] == f.t(0)
    assert row["channel"] == "chat"
    assert row["inbox_id"] == "web"
    assert row["customer_id"] == "u1"
    assert row["inquiry"] == "billing"
    assert row["first_message_at"] == f.t(0.5)
    assert row["first_response_at"] == f.t(3)
    assert row["first_response_seconds"] == 150.0  # (3 - 0.5) min * 60
    # No escalation: the human clock starts where the first-response clock does.
    assert row["first_human_response_at"] == f.t(3)
    assert row["first_human_response_seconds"] == 150.0
    assert row["inbound_messages"] == 1
    assert row["replies"] == 1
    assert row["human_replies"] == 1
    assert row["ai_replies"] == 0
    assert row["turns"] == 1
    assert row["status"] == "open"  # no status change ever: open
    assert row["reopens"] == 0
    assert row["first_resolved_at"] is None
    assert row["first_resolution_seconds"] is None
    assert row["full_resolution_seconds"] is None
    assert row["fcr"] is None  # null while not resolved
    assert row["escalated"] is False
    assert row["escalated_at"] is None
    assert row["ai_involved"] is False
    assert row["ai_agent_id"] is None
    assert row["ai_handled"] is False
    assert row["csat_score"] is None
    assert row["cost_amount"] is None  # null when no cost was recorded
    assert row["assignee_id"] is None
    assert row["last_event_at"] == f.t(3)

    alice = agent_conv(store, "c1", "alice")
    assert alice["handled"] is True
    assert alice["was_assigned"] is False
    assert alice["replies"] == 1
    assert alice["replies_scratch"] == 1
    assert alice["replies_as_is"] == 0
    assert alice["replies_edited"] == 0
    assert alice["first_reply_at"] == f.t(3)
    # Never assigned: the clock starts at the oldest waiting message, 0.5.
    assert alice["agent_first_response_seconds"] == 150.0  # (3 - 0.5) * 60
    assert alice["mentions"] == 0
    # Only alice has a row: bob and bot neither replied, were assigned nor mentioned.
    assert [r["agent_id"] for r in facts(store, "agent_conversation_facts")] == ["alice"]


def test_first_response_without_customer_message_counts_from_creation(store: Store) -> None:
    # An outbound conversation (e.g. the agent writes first by email).
    f = team()
    c = f.conversation("c1", channel="email", at=0)
    c.reply("alice", at=4)
    ingest_and_build(store, f.events)

    row = conv(store, "c1")
    assert row["first_message_at"] is None
    assert row["first_response_seconds"] == 240.0  # from creation: 4 min * 60
    assert row["turns"] == 0  # no inbound run was answered
    alice = agent_conv(store, "c1", "alice")
    assert alice["handled"] is True
    assert alice["agent_first_response_seconds"] is None  # nobody was waiting


def test_first_response_ignores_replies_before_the_customer_wrote(store: Store) -> None:
    # tables.py: first_response_at is "first public reply ... after the start", and the
    # start is the first customer message when there is one.
    f = team()
    c = f.conversation("c1", at=0)
    c.reply("alice", at=1)  # proactive message, nobody waiting
    c.customer(at=2)
    c.reply("alice", at=5)
    ingest_and_build(store, f.events)

    row = conv(store, "c1")
    assert row["first_message_at"] == f.t(2)
    assert row["first_response_at"] == f.t(5)
    assert row["first_response_seconds"] == 180.0  # (5 - 2) * 60
    assert agent_conv(store, "c1", "alice")["agent_first_response_seconds"] == 180.0


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

    row = conv(store, "c1")
    assert row["first_response_at"] == f.t(1)
    assert row["first_response_seconds"] == 60.0  # AI at 1 - customer at 0
    assert row["first_human_response_at"] == f.t(10)
    assert row["first_human_response_seconds"] == 360.0  # (10 - escalation at 4) * 60
    assert row["escalated"] is True
    assert row["escalated_at"] == f.t(4)
    assert row["escalation_reason"] == "customer_requested_human"
    assert row["ai_involved"] is True
    assert row["ai_agent_id"] == "bot"
    assert row["ai_handled"] is False  # a human replied too
    assert row["ai_resolved"] is False  # not AI-handled
    assert row["replies"] == 2
    assert row["ai_replies"] == 1
    assert row["human_replies"] == 1
    assert row["turns"] == 2  # [0] -> AI at 1, [3] -> alice at 10
    assert row["assignee_id"] == "alice"
    assert row["team_id"] == "t1"

    bot = agent_conv(store, "c1", "bot")
    assert bot["handled"] is True
    assert bot["replies"] == 1
    assert bot["replies_scratch"] == 1  # AI agents' own replies count as scratch
    assert bot["agent_first_response_seconds"] == 60.0  # customer 0 -> bot 1
    alice = agent_conv(store, "c1", "alice")
    assert alice["was_assigned"] is True
    # later of (assignment 4, oldest unanswered customer message 3) = 4 -> reply 10
    assert alice["agent_first_response_seconds"] == 360.0


# -- agents per conversation ------------------------------------------------------------


def test_teammate_reply_counts_as_handled_for_both(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", team="t1", at=1)
    c.reply("bob", at=5)  # teammate steps in
    c.customer(at=6)
    c.reply("alice", at=8)
    ingest_and_build(store, f.events)

    alice = agent_conv(store, "c1", "alice")
    bob = agent_conv(store, "c1", "bob")
    assert (alice["handled"], alice["was_assigned"]) == (True, True)
    assert (bob["handled"], bob["was_assigned"]) == (True, False)
    assert alice["replies"] == bob["replies"] == 1
    assert alice["team_id"] == bob["team_id"] == "t1"
    # bob: never assigned, oldest waiting message 0 -> reply at 5
    assert bob["agent_first_response_seconds"] == 300.0  # 5 * 60
    # alice: later of (assignment 1, oldest still-unanswered message 6) -> reply at 8
    assert alice["agent_first_response_seconds"] == 120.0  # (8 - 6) * 60
    assert conv(store, "c1")["assignee_id"] == "alice"
    assert conv(store, "c1")["first_response_seconds"] == 300.0  # bob at 5 - 0


def test_follow_up_without_waiting_customer_has_no_agent_sample(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.assign("alice", team="t1", at=0)
    c.customer(at=1)
    c.reply("alice", at=3)
    c.reply("bob", at=20, text="following up")  # nobody is waiting
    ingest_and_build(store, f.events)

    alice = agent_conv(store, "c1", "alice")
    bob = agent_conv(store, "c1", "bob")
    # alice: later of (assignment 0, oldest waiting message 1) -> reply at 3
    assert alice["agent_first_response_seconds"] == 120.0  # (3 - 1) * 60
    assert bob["handled"] is True
    assert bob["first_reply_at"] == f.t(20)
    assert bob["agent_first_response_seconds"] is None  # no customer message waiting
    row = conv(store, "c1")
    assert row["replies"] == 2
    assert row["turns"] == 1


def test_agent_first_response_starts_at_assignment(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", at=10)
    c.reply("alice", at=15)
    ingest_and_build(store, f.events)

    # later of (assignment 10, oldest waiting message 0) = 10 -> reply at 15
    assert agent_conv(store, "c1", "alice")["agent_first_response_seconds"] == 300.0
    assert conv(store, "c1")["first_response_seconds"] == 900.0  # customer's wait: 15 * 60


def test_mentions_in_notes(store: Store) -> None:
    f = team()
    f.agent("carol", teams=["t2"])
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.assign("alice", at=1)
    c.reply("alice", at=2)
    c.note("alice", mentions=["bob"], at=4, text="@bob can you check?")
    c.note("alice", mentions=["bob"], at=6, text="@bob ping")
    c.note("carol", at=7, text="note without mentions")
    ingest_and_build(store, f.events)

    bob = agent_conv(store, "c1", "bob")
    assert bob["mentions"] == 2  # two notes mention bob
    assert bob["first_mentioned_at"] == f.t(4)
    assert bob["handled"] is False  # notes are not public replies
    assert bob["was_assigned"] is False
    assert bob["replies"] == 0
    assert bob["agent_first_response_seconds"] is None
    assert agent_conv(store, "c1", "alice")["mentions"] == 0
    # Rows exist for agents who replied, were assigned or were mentioned: carol only
    # wrote a note, so she has none.
    agents = [r["agent_id"] for r in facts(store, "agent_conversation_facts")]
    assert agents == ["alice", "bob"]
    row = conv(store, "c1")
    assert row["replies"] == 1  # notes are not replies
    assert row["turns"] == 1


def test_mentions_count_notes_not_repeated_ids(store: Store) -> None:
    # My reading: "times the agent was @mentioned in notes" counts notes; an id repeated
    # inside one note's mentions list is still one mention.
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.note("alice", mentions=["bob", "bob"], at=1)
    c.note("alice", mentions=["bob", "carol"], at=2)
    ingest_and_build(store, f.events)

    assert agent_conv(store, "c1", "bob")["mentions"] == 2  # 1 per note, 2 notes
    assert agent_conv(store, "c1", "carol")["mentions"] == 1
    assert agent_conv(store, "c1", "carol")["first_mentioned_at"] == f.t(2)


# -- resolution and FCR -----------------------------------------------------------------


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

    row = conv(store, "c1")
    assert row["first_resolved_at"] == f.t(10)
    assert row["first_resolution_seconds"] == 600.0  # 10 * 60
    assert row["full_resolved_at"] == f.t(50)
    assert row["full_resolution_seconds"] == 3000.0  # 50 * 60
    assert row["reopens"] == 1
    assert row["status"] == "resolved"
    assert row["fcr"] is False  # reopened

    resolutions = rows_of(store, "resolution_facts", conversation_id="c1")
    assert [(r["resolved_at"], r["next_change_at"]) for r in resolutions] == [
        (f.t(10), f.t(30)),  # followed by the reopen
        (f.t(50), None),  # nothing followed
    ]
    for r in resolutions:
        assert (r["channel"], r["inbox_id"], r["inquiry"]) == ("chat", "web", "billing")
        assert (r["team_id"], r["assignee_id"]) == ("t1", "alice")


def test_resolution_still_open_after_reopen(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.reply("alice", at=2)
    c.resolve(at=10)
    c.reopen(at=30)
    ingest_and_build(store, f.events)

    row = conv(store, "c1")
    assert row["first_resolution_seconds"] == 600.0
    assert row["full_resolved_at"] is None  # its only resolved was followed by a reopen
    assert row["full_resolution_seconds"] is None
    assert row["status"] == "open"
    assert row["reopens"] == 1
    assert row["fcr"] is None  # not resolved now; null while not resolved
    assert [r["next_change_at"] for r in facts(store, "resolution_facts")] == [f.t(30)]


def test_fcr_and_the_returning_customer(store: Store) -> None:
    f = team()

    def resolved(conversation: str, customer: str, inquiry: str, at: float) -> None:
        c = f.conversation(conversation, customer=customer, inquiry=inquiry, at=at)
        c.customer(at=at)
        c.reply("alice", at=at + 2)
        c.resolve(at=at + 10)

    # u1 comes back on the same inquiry 3 days later: c1 was not a first-contact fix.
    resolved("c1", "u1", "billing", at=0)
    c2 = f.conversation("c2", customer="u1", inquiry="billing", at=3 * DAY)
    c2.customer(at=3 * DAY)
    # u2 comes back on the same inquiry after 8 days: outside the 7-day window (8 days
    # after creation, 8 days - 10 min after resolution: outside either way).
    resolved("c3", "u2", "billing", at=0)
    resolved("c4", "u2", "billing", at=8 * DAY)
    # u3 comes back within 7 days, but about something else.
    resolved("c5", "u3", "billing", at=0)
    resolved("c6", "u3", "shipping", at=1 * DAY)
    # u4 is another customer with a billing question a day later: breaks nobody's FCR.
    resolved("c7", "u4", "billing", at=1 * DAY)
    # u5 came back within 7 days on a conversation later re-labelled to the same
    # inquiry: the latest inquiry counts.
    resolved("c8", "u5", "billing", at=0)
    c9 = f.conversation("c9", customer="u5", inquiry="other", at=2 * DAY)
    c9.update(inquiry="billing", at=2 * DAY + 5)
    ingest_and_build(store, f.events)

    fcr = {r["conversation_id"]: r["fcr"] for r in facts(store, "conversation_facts")}
    assert fcr == {
        "c1": False,  # same customer, same inquiry, 3 days later
        "c2": None,  # unresolved
        "c3": True,  # return after 8 days > 7
        "c4": True,
        "c5": True,  # return was about shipping
        "c6": True,
        "c7": True,
        "c8": False,  # c9 is billing by its latest inquiry
        "c9": None,  # unresolved
    }


# -- surveys ------------------------------------------------------------------------------


def test_csat_latest_answer_within_window_wins(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0)
    c.reply("alice", at=2)
    c.resolve(at=10)
    c.survey("csat", 2, at=20)
    c.survey("csat", 5, at=40)  # answered again: latest wins
    d = f.conversation("c2", at=0)
    d.customer(at=0)
    d.reply("alice", at=2)
    d.resolve(at=10)
    d.survey("csat", 4, at=10 + DAY)  # 1 day after resolution
    d.survey("csat", 1, at=10 + 15 * DAY)  # 15 days after resolution: ignored (> 14)
    ingest_and_build(store, f.events)

    assert (conv(store, "c1")["csat_score"], conv(store, "c1")["csat_at"]) == (5, f.t(40))
    assert (conv(store, "c2")["csat_score"], conv(store, "c2")["csat_at"]) == (
        4,
        f.t(10 + DAY),
    )
    # Every handler gets the conversation's response.
    alice = agent_conv(store, "c1", "alice")
    assert (alice["csat_score"], alice["csat_at"]) == (5, f.t(40))


def test_nps_scores_per_conversation(store: Store) -> None:
    f = team()
    scores = {"n1": 10, "n2": 9, "n3": 8, "n4": 6, "n5": 0}
    for index, (conversation, score) in enumerate(scores.items()):
        c = f.conversation(conversation, customer=f"u{index}", at=0)
        c.customer(at=0)
        c.reply("alice", at=2)
        c.resolve(at=10)
        c.survey("nps", score, at=20)
    ingest_and_build(store, f.events)

    rows = facts(store, "conversation_facts")
    assert {r["conversation_id"]: r["nps_score"] for r in rows} == scores
    assert {r["nps_at"] for r in rows} == {f.t(20)}
    # For the metric layer: promoters (10, 9) = 2/5 = 40 %, detractors (6, 0) = 40 %,
    # passive 8; NPS = 40 - 40 = 0.
    promoters = sum(1 for r in rows if r["nps_score"] >= 9)
    detractors = sum(1 for r in rows if r["nps_score"] <= 6)
    assert 100 * (promoters - detractors) / len(rows) == 0.0


# -- handle time, turns, AI, cost ---------------------------------------------------------


def test_handle_time_logged_and_estimated(store: Store) -> None:
    f = team()
    logged = f.conversation("c1", channel="voice", at=0)
    logged.customer(at=0)
    logged.reply("alice", at=5)
    logged.work("alice", seconds=300, kind="talk", at=9)
    logged.work("alice", seconds=120, kind="wrap", at=12)
    estimated = f.conversation("c2", at=0)
    estimated.customer(at=0)
    estimated.reply("alice", at=5)  # 5 min after the message it answers: 300 s
    estimated.customer(at=10)
    estimated.reply("bob", at=40)  # 30 min = 1800 s, capped at 900 s
    ingest_and_build(store, f.events)

    c1 = conv(store, "c1")
    assert (c1["handle_seconds"], c1["handle_time_estimated"]) == (420.0, False)  # 300 + 120
    alice1 = agent_conv(store, "c1", "alice")
    assert (alice1["handle_seconds"], alice1["handle_time_estimated"]) == (420.0, False)

    c2 = conv(store, "c2")
    assert (c2["handle_seconds"], c2["handle_time_estimated"]) == (1200.0, True)  # 300 + 900
    alice2 = agent_conv(store, "c2", "alice")
    bob2 = agent_conv(store, "c2", "bob")
    assert (alice2["handle_seconds"], alice2["handle_time_estimated"]) == (300.0, True)
    assert (bob2["handle_seconds"], bob2["handle_time_estimated"]) == (900.0, True)


def test_turns_count_answered_runs_of_customer_messages(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).customer(at=1).reply("alice", at=2)  # run 1 answered
    c.customer(at=3).reply("alice", at=4)  # run 2 answered
    c.note("alice", at=5)
    d = f.conversation("c2", at=0)
    d.customer(at=0).reply("alice", at=1).reply("bob", at=2)  # one run, two replies
    d.customer(at=3)  # unanswered run: not a turn
    ingest_and_build(store, f.events)

    c1, c2 = conv(store, "c1"), conv(store, "c2")
    assert (c1["turns"], c1["inbound_messages"], c1["replies"]) == (2, 3, 2)
    assert (c2["turns"], c2["inbound_messages"], c2["replies"]) == (1, 2, 2)


def test_ai_handled_and_ai_resolved(store: Store) -> None:
    f = team()
    # a1: the AI alone, resolved, never reopened.
    a1 = f.conversation("a1", at=0)
    a1.customer(at=0).ai_reply("bot", at=1).resolve(at=2, by="bot")
    # a2: the AI alone, resolved, reopened a day later and resolved again.
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

    def ai(conversation: str) -> tuple[object, ...]:
        row = conv(store, conversation)
        return row["ai_involved"], row["ai_handled"], row["ai_resolved"], row["ai_agent_id"]

    assert ai("a1") == (True, True, True, "bot")
    assert ai("a2") == (True, True, False, "bot")  # reopened after 1 day < 7
    assert ai("a3") == (True, True, True, "bot")  # reopened after 8 days > 7
    assert ai("a4") == (True, True, False, "bot")  # AI-handled but not resolved
    assert conv(store, "a2")["reopens"] == 1
    assert conv(store, "a1")["human_replies"] == 0
    assert conv(store, "a1")["first_human_response_seconds"] is None


def test_ai_assist_split_of_human_replies(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).reply("alice", at=1, ai_assist="draft_as_is")
    c.customer(at=2).reply("alice", at=3, ai_assist="draft_edited")
    c.customer(at=4).reply("alice", at=5, ai_assist="draft_edited")
    c.customer(at=6).reply("alice", at=7, ai_assist="none")
    ingest_and_build(store, f.events)

    alice = agent_conv(store, "c1", "alice")
    assert alice["replies"] == 4
    assert (alice["replies_as_is"], alice["replies_edited"], alice["replies_scratch"]) == (
        1,
        2,
        1,
    )
    row = conv(store, "c1")
    assert row["ai_involved"] is False  # drafts are not AI public replies
    assert row["ai_handled"] is False


def test_cost_is_a_decimal_sum(store: Store) -> None:
    f = team()
    c = f.conversation("c1", at=0)
    c.customer(at=0).ai_reply("bot", at=1)
    c.cost("0.12", kind="inference", tokens=900, at=1)
    c.cost("0.035", kind="tools", at=2)
    f.conversation("c2", at=0).customer(at=0)
    ingest_and_build(store, f.events)

    assert conv(store, "c1")["cost_amount"] == Decimal("0.155")  # 0.12 + 0.035
    assert conv(store, "c2")["cost_amount"] is None


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


# -- arrival order and incremental builds -------------------------------------------------


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
    c.update(inquiry="shipping", priority="high", at=2 * DAY + 1).survey("ces", 2, at=2 * DAY + 3)
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
    assert conv(store, "c1")["first_response_seconds"] == 30.0  # bot at 1 - customer at 0.5
    assert conv(store, "c1")["first_human_response_seconds"] == 360.0  # 10 - escalation 4
    assert conv(store, "c1")["csat_score"] == 4
    assert conv(store, "c3")["inquiry"] == "shipping"


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
    assert conv(store, "c3")["inbound_messages"] == 2  # was 1
    assert conv(store, "c3")["last_event_at"] == f.t(2 * DAY + 30)
    assert before["conversation_facts"] != after["conversation_facts"]

    with scratch_store(store.backend, tmp_path / "fresh") as fresh:
        ingest(fresh, f.events)
        refresh(fresh, full=True)
        assert_same(after, snapshot(fresh))


def test_incremental_build_rechecks_fcr_of_untouched_conversations(
    store: Store, tmp_path: Path
) -> None:
    # FCR of c1 depends on conversations that come later; new events about c2 must
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
    c.customer(at=0).reply("alice", at=2).resolve(at=3).cost("1.5", at=2).work(
        "alice", seconds=60, at=2
    )
    ingest_and_build(store, f.events)
    ingest_and_build(store, f.events)  # sent again: the same ids
    row = conv(store, "c1")
    assert (row["replies"], row["cost_amount"], row["handle_seconds"]) == (1, Decimal("1.5"), 60.0)
    assert len(facts(store, "resolution_facts")) == 1


@pytest.mark.parametrize("table", ["conversation_facts", "agent_conversation_facts"])
def test_empty_store_builds_empty_tables(store: Store, table: str) -> None:
    refresh(store)
    assert facts(store, table) == []
