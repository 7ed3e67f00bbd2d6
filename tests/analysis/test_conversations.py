"""The conversations behind a number, on a hand-built week (DuckDB and PostgreSQL).

The period is the 7 days [2026-03-02, 2026-03-09). Every expected set below is worked
out from `week()` by hand, and the listing must hold exactly the sample `query()`
counted for the same metric, period and filters.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from deskpulse.analysis.conversations import (
    ConversationFilters,
    ConversationRow,
    conversations_csv,
    list_conversations,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import Filters, NotVisibleError, Query, QueryError, Viewer, query
from deskpulse.metrics.registry import REGISTRY
from deskpulse.metrics.window import Window
from tests.factories import Events, ingest_and_build

AS_OF = datetime(2026, 3, 9, tzinfo=UTC)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 09:00, the period's first day
DAY = 24 * 60
WEEK = Window(period="7d", as_of=AS_OF)
TEAM = Viewer()


def week() -> Events:
    f = Events(start=START)
    f.agent("alice", teams=["t1"]).agent("bob", teams=["t1"]).agent("ai-1", kind="ai")
    # c1: FR 180 s, resolved at 09:10, CSAT 5 at 09:20.
    c1 = f.conversation("c1", customer="u1", inquiry="billing", at=0).customer(at=0)
    c1.assign("alice", team="t1", at=0).reply("alice", at=3, ai_assist="draft_as_is")
    c1.resolve(at=10, by="alice").survey("csat", 5, at=20)
    # Bob is only mentioned on c1: he has an agent row there, but did not handle it.
    c1.note("alice", mentions=["bob"], at=5)
    # c2 (email): Bob answers after 600 s, Alice adds a teammate reply (nobody was
    # waiting: no agent first response for her), resolved, CSAT 2.
    c2 = f.conversation("c2", customer="u2", inquiry="refund", channel="email", at=60)
    c2.customer(at=60).assign("bob", team="t1", at=60).reply("bob", at=70)
    c2.reply("alice", at=75, ai_assist="draft_edited").resolve(at=100).survey("csat", 2, at=110)
    # c3: assigned to Bob (no team), never answered.
    c3 = f.conversation("c3", customer="u3", inquiry="billing", at=120).customer(at=120)
    c3.assign("bob", at=121)
    # c4: entirely in the previous week.
    c4 = f.conversation("c4", customer="u4", at=-3 * DAY).customer(at=-3 * DAY)
    c4.reply("bob", at=-3 * DAY + 1).resolve(at=-3 * DAY + 5)
    # c5: the AI answers (FR 60 s), hands off to team t2, Alice is assigned at 12:26 and
    # replies at 12:35 (her first response 540 s); resolved, reopened, resolved again;
    # two CSAT answers, the later one (1) counts.
    c5 = f.conversation("c5", customer="u5", inquiry="billing", at=200).customer(at=200)
    c5.ai_reply("ai-1", at=201)
    c5.escalate(from_agent="ai-1", to_team="t2", reason="billing_question", at=205)
    c5.assign("alice", team="t2", at=206).reply("alice", at=215).resolve(at=220)
    c5.reopen(at=230).customer(at=231).reply("alice", at=235).resolve(at=240, by="alice")
    c5.survey("csat", 4, at=245).survey("csat", 1, at=250)
    # c6 (inbox app): the AI handles it alone, FR 120 s, resolved.
    c6 = f.conversation("c6", customer="u6", inquiry="shipping", inbox="app", at=300)
    c6.customer(at=300).ai_reply("ai-1", at=302).resolve(at=305, by="ai-1")
    # c7 (email): created on the last day, Bob answers only after the period ended.
    c7 = f.conversation("c7", customer="u7", inquiry="refund", channel="email", at=6 * DAY)
    c7.customer(at=6 * DAY).reply("bob", at=7 * DAY + 60)
    # c8: created in the previous week, resolved on Tuesday 09:00 of this one.
    c8 = f.conversation("c8", customer="u8", inquiry="billing", at=-2 * DAY)
    c8.customer(at=-2 * DAY).reply("alice", at=-2 * DAY + 5).resolve(at=DAY, by="alice")
    # c9: Bob answers after 60 s; resolved then reopened inside the period.
    c9 = f.conversation("c9", customer="u9", inquiry="billing", at=400).customer(at=400)
    c9.assign("bob", team="t1", at=400).reply("bob", at=401).resolve(at=410).reopen(at=420)
    return f


@pytest.fixture
def store_with_week(store: Store) -> Store:
    ingest_and_build(store, week().events)
    return store


def listed(
    store: Store, viewer: Viewer = TEAM, *, limit: int = 500, offset: int = 0, **filters: Any
) -> list[str]:
    page = list_conversations(
        store, WEEK, viewer, ConversationFilters(**filters), limit=limit, offset=offset
    )
    return [row.conversation_id for row in page.rows]


def query_n(store: Store, metric: str, agent: str | None, **filters: Any) -> int:
    """The n `query()` gives: with an agent, the agent's own reading where there is one."""
    scope = Filters(agent=agent, **filters)
    if agent is not None and REGISTRY[metric].agent_source is not None:
        board = query(
            store,
            Query(metrics=[metric], period="7d", as_of=AS_OF, filters=scope, group_by=["agent"]),
        )
        rows = [row for row in board.rows if row.group["agent"] == agent]
        return rows[0].metrics[metric].n if rows else 0
    result = query(store, Query(metrics=[metric], period="7d", as_of=AS_OF, filters=scope))
    return result.single().metrics[metric].n


# (metric, agent, extra filters) -> the conversations behind the number, by hand.
BEHIND_THE_NUMBER: list[tuple[str, str | None, dict[str, str], set[str]]] = [
    # Created in the period; c4 and c8 were created the week before.
    ("conversations", None, {}, {"c1", "c2", "c3", "c5", "c6", "c7", "c9"}),
    # First public reply in the period: c7's came after it, c3 has none.
    ("handled", None, {}, {"c1", "c2", "c5", "c6", "c9"}),
    ("first_response_median", None, {}, {"c1", "c2", "c5", "c6", "c9"}),
    # Full resolution in the period: c8 resolved here; c9 is open again.
    ("full_resolution_median", None, {}, {"c1", "c2", "c5", "c6", "c8"}),
    ("first_resolution_median", None, {}, {"c1", "c2", "c5", "c6", "c8", "c9"}),
    ("csat_mean", None, {}, {"c1", "c2", "c5"}),
    # Still resolved at the period end: c9 was reopened, c5's second resolution stands.
    ("resolved", None, {}, {"c1", "c2", "c5", "c6", "c8"}),
    # Alice's own first response: c2 had been answered by Bob, c8's was last week.
    ("first_response_median", "alice", {}, {"c1", "c5"}),
    ("first_response_median", "bob", {}, {"c2", "c9"}),
    ("handled", "alice", {}, {"c1", "c2", "c5"}),
    ("csat_mean", "alice", {}, {"c1", "c2", "c5"}),
    # Bob's row on c1 (a mention) carries c1's CSAT, but he did not handle it.
    ("csat_mean", "bob", {}, {"c2"}),
    ("csat_responses", "bob", {}, {"c2"}),
    # No per-agent reading: the conversations Alice handled (c8 included).
    ("conversations", "alice", {}, {"c1", "c2", "c5"}),
    ("resolved", "alice", {}, {"c1", "c2", "c5", "c8"}),
    ("full_resolution_median", "alice", {}, {"c1", "c2", "c5", "c8"}),
    # Bob handled c7 (after the period), so it is one of his conversations created here.
    ("conversations", "bob", {}, {"c2", "c7", "c9"}),
    ("first_response_median", None, {"channel": "email"}, {"c2"}),
    ("resolved", None, {"team": "t2"}, {"c5"}),
    ("csat_mean", None, {"inquiry": "billing"}, {"c1", "c5"}),
    ("handled", None, {"inbox": "app"}, {"c6"}),
]


@pytest.mark.parametrize(
    ("metric", "agent", "extra", "expected"),
    BEHIND_THE_NUMBER,
    ids=[f"{m}-{a or 'team'}-{'-'.join(e.values()) or 'all'}" for m, a, e, _ in BEHIND_THE_NUMBER],
)
def test_the_list_is_the_sample_query_counted(
    store_with_week: Store,
    metric: str,
    agent: str | None,
    extra: dict[str, str],
    expected: set[str],
) -> None:
    page = list_conversations(
        store_with_week,
        WEEK,
        TEAM,
        ConversationFilters(metric=metric, agent=agent, **extra),
        limit=500,
    )
    names = [row.conversation_id for row in page.rows]
    assert len(names) == len(set(names)), "a conversation is listed once"
    assert set(names) == expected
    assert page.total == len(expected)
    assert page.total == query_n(store_with_week, metric, agent, **extra)


def test_metric_list_is_ordered_and_timed_by_the_metrics_own_column(store_with_week: Store) -> None:
    f = week()
    page = list_conversations(
        store_with_week, WEEK, TEAM, ConversationFilters(metric="first_response_median")
    )
    assert page.time_column == "first_response_at"
    assert page.metric == "first_response_median"
    # Newest reply first: c9 at 15:41, c6 14:02, c5 12:21, c2 10:10, c1 09:03.
    assert [(r.conversation_id, r.at) for r in page.rows] == [
        ("c9", f.at(401)),
        ("c6", f.at(302)),
        ("c5", f.at(201)),
        ("c2", f.at(70)),
        ("c1", f.at(3)),
    ]
    c5 = next(row for row in page.rows if row.conversation_id == "c5")
    assert c5.at is not None
    assert c5.at.tzinfo is not None
    assert c5.at.utcoffset() is not None
    assert c5.created_at == f.at(200)
    assert c5.first_response_seconds == 60.0
    assert c5.full_resolution_seconds == 2400.0  # 12:20 -> 13:00
    assert c5.csat_score == 1  # the later answer
    assert (c5.escalated, c5.ai_handled, c5.reopens, c5.replies) == (True, False, 1, 3)
    assert c5.team_id == "t2"
    assert c5.agent_first_response_seconds is None  # no agent picked

    resolved = list_conversations(
        store_with_week, WEEK, TEAM, ConversationFilters(metric="resolved")
    )
    assert resolved.time_column == "resolved_at"
    # c8 at Tuesday 09:00, then c6 14:05, c5 13:00 (its standing resolution), c2, c1.
    assert [(r.conversation_id, r.at) for r in resolved.rows] == [
        ("c8", f.at(DAY)),
        ("c6", f.at(305)),
        ("c5", f.at(240)),
        ("c2", f.at(100)),
        ("c1", f.at(10)),
    ]


def test_agent_reading_is_the_agents_own(store_with_week: Store) -> None:
    f = week()
    page = list_conversations(
        store_with_week,
        WEEK,
        TEAM,
        ConversationFilters(metric="first_response_median", agent="alice"),
    )
    assert page.time_column == "agent_first_response_at"
    got = {r.conversation_id: (r.at, r.agent_first_response_seconds) for r in page.rows}
    # c1: customer waiting since 09:00, Alice replied 09:03. c5: the handoff at 12:25
    # waited, Alice was assigned at 12:26 and replied at 12:35: 540 s.
    assert got == {"c1": (f.at(3), 180.0), "c5": (f.at(215), 540.0)}

    mine = list_conversations(store_with_week, WEEK, TEAM, ConversationFilters(agent="alice"))
    readings = {r.conversation_id: r.agent_first_response_seconds for r in mine.rows}
    assert readings == {"c1": 180.0, "c2": None, "c5": 540.0}


def test_no_metric_lists_by_creation_newest_first_with_pagination(store_with_week: Store) -> None:
    newest_first = ["c7", "c9", "c6", "c5", "c3", "c2", "c1"]
    pages = [
        list_conversations(store_with_week, WEEK, TEAM, limit=3, offset=offset)
        for offset in (0, 3, 6, 9)
    ]
    assert [[r.conversation_id for r in p.rows] for p in pages] == [
        newest_first[0:3],
        newest_first[3:6],
        newest_first[6:],
        [],
    ]
    assert {p.total for p in pages} == {7}
    first = pages[0]
    assert (first.limit, first.offset, first.metric, first.time_column) == (
        3,
        0,
        None,
        "created_at",
    )
    assert first.period.start == datetime(2026, 3, 2, tzinfo=UTC)
    assert first.period.end == AS_OF
    assert all(row.at == row.created_at for p in pages for row in p.rows)


def test_ties_are_broken_by_conversation_id(store: Store) -> None:
    f = Events(start=START)
    for name in ("b", "c", "a"):
        f.conversation(name, customer=f"u-{name}", at=0)
    ingest_and_build(store, f.events)
    assert listed(store) == ["a", "b", "c"]
    assert listed(store, limit=1, offset=1) == ["b"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"channel": "email"}, {"c2", "c7"}),
        ({"inbox": "app"}, {"c6"}),
        ({"inquiry": "refund"}, {"c2", "c7"}),
        ({"team": "t1"}, {"c1", "c2", "c9"}),
        ({"team": "t2"}, {"c5"}),
        ({"status": "open"}, {"c3", "c7", "c9"}),
        ({"status": "resolved"}, {"c1", "c2", "c5", "c6"}),
        ({"status": "pending"}, set()),
        ({"agent": "bob"}, {"c2", "c7", "c9"}),
        ({"max_csat": 2}, {"c2", "c5"}),
        ({"max_csat": 5}, {"c1", "c2", "c5"}),
        ({"escalated": True}, {"c5"}),
        ({"escalated": False}, {"c1", "c2", "c3", "c6", "c7", "c9"}),
        ({"ai_handled": True}, {"c6"}),
        ({"ai_handled": False}, {"c1", "c2", "c3", "c5", "c7", "c9"}),
        ({"search": "c9"}, {"c9"}),
        ({"search": "u2"}, {"c2"}),
        ({"search": "c4"}, set()),  # exists, but not created in the period
        ({"search": "c"}, set()),  # exact match only
        ({"channel": "chat", "status": "resolved"}, {"c1", "c5", "c6"}),
        ({"metric": "csat_mean", "max_csat": 2}, {"c2", "c5"}),
        ({"metric": "resolved", "escalated": True}, {"c5"}),
    ],
)
def test_each_filter(store_with_week: Store, filters: dict[str, Any], expected: set[str]) -> None:
    page = list_conversations(store_with_week, WEEK, TEAM, ConversationFilters(**filters))
    assert {row.conversation_id for row in page.rows} == expected
    assert page.total == len(expected)


def test_agent_viewer_lists_only_conversations_they_handled(store_with_week: Store) -> None:
    alice = Viewer(agent_id="alice")
    assert set(listed(store_with_week, alice)) == {"c1", "c2", "c5"}
    assert set(listed(store_with_week, alice, agent="alice")) == {"c1", "c2", "c5"}
    assert set(listed(store_with_week, alice, metric="csat_mean")) == {"c1", "c2", "c5"}
    # Her own reading comes with the rows, as it does when a lead picks her.
    page = list_conversations(store_with_week, WEEK, alice)
    assert {r.conversation_id: r.agent_first_response_seconds for r in page.rows}["c5"] == 540.0
    with pytest.raises(NotVisibleError):
        listed(store_with_week, alice, agent="bob")
    # A lead may look at anyone's list.
    assert set(listed(store_with_week, TEAM, agent="bob")) == {"c2", "c7", "c9"}
    # An agent who handled nothing gets an empty list, never the team's.
    assert listed(store_with_week, Viewer(agent_id="dave")) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filters": ConversationFilters(status="closed")}, "status"),
        ({"filters": ConversationFilters(metric="speed")}, "metric"),
        ({"filters": ConversationFilters(max_csat=0)}, "max_csat"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_bad_requests_name_the_field(
    store_with_week: Store, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(QueryError) as raised:
        list_conversations(store_with_week, WEEK, TEAM, **kwargs)
    assert raised.value.field == field


def test_limit_bounds_are_inclusive(store_with_week: Store) -> None:
    assert len(listed(store_with_week, limit=1)) == 1
    assert len(listed(store_with_week, limit=500)) == 7


def test_a_custom_window_uses_the_same_period_rules(store_with_week: Store) -> None:
    window = Window(
        period="custom",
        start=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        end=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
    )
    page = list_conversations(store_with_week, window, TEAM)
    # Created 10:00 (c2, start inclusive) and 11:00 (c3); c5 at 12:20 is after the end.
    assert [row.conversation_id for row in page.rows] == ["c3", "c2"]
    with pytest.raises(QueryError) as raised:
        list_conversations(store_with_week, Window(period="custom"), TEAM)
    assert raised.value.field == "period"


def test_a_fresh_install_lists_nothing(store: Store) -> None:
    page = list_conversations(store, WEEK, TEAM, ConversationFilters(metric="resolved"))
    assert (page.rows, page.total, page.time_column) == ([], 0, "resolved_at")


def test_csv_has_a_header_and_one_line_per_row(store_with_week: Store) -> None:
    rows = list_conversations(store_with_week, WEEK, TEAM, ConversationFilters(search="c1")).rows
    text = conversations_csv(rows)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "conversation_id",
        "created_at",
        "at",
        "channel",
        "inbox_id",
        "inquiry",
        "status",
        "customer_id",
        "assignee_id",
        "team_id",
        "first_response_seconds",
        "full_resolution_seconds",
        "handle_seconds",
        "handle_time_estimated",
        "csat_score",
        "escalated",
        "ai_handled",
        "reopens",
        "replies",
        "agent_first_response_seconds",
    ]
    # c1: reply after 180 s; resolved after 600 s; handle time estimated from the one
    # reply gap (180 s); no agent picked, so no agent reading.
    assert lines[1:] == [
        [
            "c1",
            "2026-03-02T09:00:00+00:00",
            "2026-03-02T09:00:00+00:00",
            "chat",
            "web",
            "billing",
            "resolved",
            "u1",
            "alice",
            "t1",
            "180",
            "600",
            "180",
            "true",
            "5",
            "false",
            "false",
            "0",
            "1",
            "",
        ]
    ]


def test_csv_keeps_fractions_and_defuses_formulas() -> None:
    row = ConversationRow(
        conversation_id='=HYPERLINK("http://x")',
        created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        at=None,
        channel="chat",
        inbox_id=None,
        inquiry="a, b",
        status="open",
        customer_id="u1",
        assignee_id=None,
        team_id=None,
        first_response_seconds=0.25,
        full_resolution_seconds=None,
        handle_seconds=None,
        handle_time_estimated=None,
        csat_score=None,
        escalated=False,
        ai_handled=True,
        reopens=2,
        replies=0,
    )
    text = conversations_csv([row, replace(row, conversation_id="c2")])
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 3
    assert lines[1][0] == '\'=HYPERLINK("http://x")'
    assert lines[1][2] == ""
    assert lines[1][5] == "a, b"
    assert lines[1][10] == "0.25"
    assert lines[1][15:19] == ["false", "true", "2", "0"]
    assert lines[2][0] == "c2"
    assert conversations_csv([]).count("\n") == 1


@pytest.mark.parametrize("metric", ["effectiveness_score", "predicted_satisfaction"])
def test_effectiveness_metrics_list_nothing_before_the_first_scoring_run(
    store_with_week: Store, metric: str
) -> None:
    # No deskpulse train/score yet: the metric reads n = 0 and its list must agree
    # instead of failing on the missing table.
    page = list_conversations(
        store_with_week, WEEK, TEAM, ConversationFilters(metric=metric), limit=50
    )
    assert page.rows == []
    assert page.total == 0
    assert query_n(store_with_week, metric, None) == 0
