"""The agent leaderboard on a hand-built week: every expected cell is worked out here.

Runs on DuckDB and on PostgreSQL (the `store` fixture).

The week: `as_of` 2026-03-09 00:00 UTC, 7d = [03-02 00:00, 03-09 00:00); times below are
minutes after 03-02 09:00.

    alice (t1)  a1: customer 0, assigned, replies 2 (AI draft as is)   -> wait 120 s, CSAT 5
                a2: customer 60, assigned, replies 64 (draft edited)   -> wait 240 s, CSAT 4
                a3: bob's conversation, alice replies 135 as a teammate (from scratch);
                    bob had answered at 130, so nobody waited for alice -> no sample. CSAT 1
    bob (t1)    a3: customer 120, assigned, replies 130 (scratch)      -> wait 600 s
                b1: customer 200, assigned, replies 205 (scratch)      -> wait 300 s, CSAT 2
                mentioned in notes on a1 and b1
    carol (t2)  k0..k9: customer, assigned (conversation team t1!), replies 1 minute later
                (draft as is) -> 10 waits of 60 s; CSAT 4 x 8 and 5 x 2 = 42 / 10 = 4.2
                mentioned in the note on b1
    dave (t2)   d1: no customer message, dave writes first (scratch) -> handled, no wait
    bot (AI)    x1: customer 600, bot replies 600.5 -> 30 s, CSAT 5
    erin (t1)   in the directory, no activity -> no row
    alice also answered p1 three days before the period: not counted.

Team CSAT (conversation level): 5 + 4 + 1 + 2 + 42 + 5 = 59 over 15 responses = 3.9333.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from deskpulse.analysis.leaderboard import (
    COLUMNS,
    CSAT_PRIOR_RESPONSES,
    FEW_CSAT_RESPONSES,
    AgentRow,
    Leaderboard,
    leaderboard,
    leaderboard_csv,
    shrunk_csat,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import MetricValue, QueryError, Viewer
from deskpulse.metrics.window import Window
from tests.factories import Events, ingest_and_build

AS_OF = datetime(2026, 3, 9, tzinfo=UTC)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 24 * 60
WEEK = Window(period="7d", as_of=AS_OF)
TEAM_MEAN = 59 / 15


def week() -> Events:
    f = Events(start=START)
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    f.agent("carol", name="Carol", teams=["t2"])
    f.agent("dave", name="Dave, Jr.", teams=["t2"])  # a comma, for CSV quoting
    f.agent("bot", name="Bot", kind="ai")
    f.agent("erin", name="Erin", teams=["t1"])

    a1 = f.conversation("a1", customer="u1", at=0)
    a1.customer(at=0).assign("alice", team="t1", at=0).reply("alice", at=2, ai_assist="draft_as_is")
    a1.note("alice", at=3, mentions=["bob"]).survey("csat", 5, at=10)
    a2 = f.conversation("a2", customer="u2", at=60)
    a2.customer(at=60).assign("alice", team="t1", at=60)
    a2.reply("alice", at=64, ai_assist="draft_edited").survey("csat", 4, at=80)
    a3 = f.conversation("a3", customer="u3", at=120)
    a3.customer(at=120).assign("bob", team="t1", at=120).reply("bob", at=130)
    a3.reply("alice", at=135).survey("csat", 1, at=150)

    b1 = f.conversation("b1", customer="u4", at=200)
    b1.customer(at=200).assign("bob", team="t1", at=200).reply("bob", at=205)
    b1.note("alice", at=206, mentions=["bob", "carol"]).survey("csat", 2, at=220)

    for i in range(10):
        t = 300 + 10 * i
        k = f.conversation(f"k{i}", customer=f"k{i}", at=t)
        k.customer(at=t).assign("carol", team="t1", at=t)
        k.reply("carol", at=t + 1, ai_assist="draft_as_is").survey(
            "csat", 5 if i < 2 else 4, at=t + 5
        )

    f.conversation("d1", customer="u5", at=500).assign("dave", team="t2", at=500).reply(
        "dave", at=505
    )

    x1 = f.conversation("x1", customer="u6", at=600)
    x1.customer(at=600).ai_reply("bot", at=600.5).survey("csat", 5, at=610)

    p1 = f.conversation("p1", customer="u7", at=-3 * DAY)
    p1.customer(at=-3 * DAY).assign("alice", at=-3 * DAY).reply("alice", at=-3 * DAY + 1)
    p1.survey("csat", 1, at=-3 * DAY + 5)
    return f


def rows_by_id(board: Leaderboard) -> dict[str, AgentRow]:
    return {row.agent_id: row for row in board.rows}


def mv(value: float | None, n: int) -> MetricValue:
    return MetricValue(value, n)


def assert_reading(actual: MetricValue, value: float | None, n: int) -> None:
    assert actual.n == n, actual
    if value is None:
        assert actual.value is None, actual
    else:
        assert actual.value == pytest.approx(value, abs=1e-9), actual


def test_cells_are_the_hand_computed_readings(store: Store) -> None:
    ingest_and_build(store, week().events)
    board = leaderboard(store, WEEK)
    rows = rows_by_id(board)
    assert set(rows) == {"alice", "bob", "carol", "dave", "bot"}  # erin did nothing

    assert_reading(board.team_csat_mean, TEAM_MEAN, 15)
    assert board.teams == ("t1", "t2")
    assert board.period.start_utc == datetime(2026, 3, 2)
    assert board.previous_period is None

    alice = rows["alice"]
    assert (alice.name, alice.kind, alice.team_ids) == ("Alice", "human", ("t1",))
    assert_reading(alice.handled, 3, 3)  # a1, a2 and a3 as a teammate; p1 is last week
    assert_reading(alice.replies, 3, 3)
    assert_reading(alice.first_response_median, 180.0, 2)  # median(120, 240); a3 no wait
    assert_reading(alice.csat_mean, 10 / 3, 3)  # (5 + 4 + 1) / 3
    # (10 + 10 * 59/15) / (3 + 10) = 148/39
    assert alice.csat_shrunk == pytest.approx(148 / 39, abs=1e-6)
    assert alice.few_csat_responses
    assert_reading(alice.assist_as_is, 1 / 3, 3)
    assert_reading(alice.assist_edited, 1 / 3, 3)
    assert_reading(alice.assist_scratch, 1 / 3, 3)
    assert_reading(alice.ai_drafted_rate, 2 / 3, 3)  # as is + edited of her 3 replies
    assert_reading(alice.mentions, None, 0)

    bob = rows["bob"]
    assert_reading(bob.handled, 2, 2)
    assert_reading(bob.first_response_median, 450.0, 2)  # median(600, 300)
    assert_reading(bob.csat_mean, 1.5, 2)  # (1 + 2) / 2
    assert bob.csat_shrunk == pytest.approx(127 / 36, abs=1e-6)  # (3 + 118/3) / 12
    assert_reading(bob.assist_scratch, 1.0, 2)
    assert_reading(bob.ai_drafted_rate, 0.0, 2)
    assert_reading(bob.mentions, 2, 2)  # notes on a1 and b1

    carol = rows["carol"]
    assert carol.team_ids == ("t2",)
    assert_reading(carol.handled, 10, 10)
    assert_reading(carol.first_response_median, 60.0, 10)
    assert_reading(carol.csat_mean, 4.2, 10)
    assert carol.csat_shrunk == pytest.approx(244 / 60, abs=1e-6)  # (42 + 118/3) / 20
    assert not carol.few_csat_responses  # exactly FEW_CSAT_RESPONSES is not "few"
    assert_reading(carol.assist_as_is, 1.0, 10)
    assert_reading(carol.ai_drafted_rate, 1.0, 10)
    assert_reading(carol.mentions, 1, 1)

    dave = rows["dave"]
    assert dave.name == "Dave, Jr."
    assert_reading(dave.handled, 1, 1)
    assert_reading(dave.first_response_median, None, 0)  # nobody was waiting
    assert_reading(dave.csat_mean, None, 0)
    assert dave.csat_shrunk is None  # no responses: nothing to adjust
    assert not dave.few_csat_responses  # "no responses", not "few"
    assert_reading(dave.ai_drafted_rate, 0.0, 1)

    bot = rows["bot"]
    assert (bot.kind, bot.team_ids) == ("ai", ())
    assert_reading(bot.handled, 1, 1)
    assert_reading(bot.first_response_median, 30.0, 1)
    assert_reading(bot.csat_mean, 5.0, 1)
    assert bot.csat_shrunk == pytest.approx(133 / 33, abs=1e-6)  # (5 + 118/3) / 11
    assert bot.few_csat_responses
    assert_reading(bot.assist_as_is, None, 0)  # AI replies are not AI-assisted human ones
    assert_reading(bot.ai_drafted_rate, None, 0)


def test_shrinkage_keeps_a_few_perfect_scores_below_many_good_ones() -> None:
    assert CSAT_PRIOR_RESPONSES == 10
    assert FEW_CSAT_RESPONSES == 10
    # The docs' worked example: team mean 4.2; 4.8 on 5 responses vs 4.6 on 50.
    few = shrunk_csat(mv(4.8, 5), 4.2)
    many = shrunk_csat(mv(4.6, 50), 4.2)
    assert few == pytest.approx((24 + 42) / 15)  # 4.40
    assert many == pytest.approx((230 + 42) / 60)  # 4.533
    assert few is not None
    assert many is not None
    assert few < many
    # The mean arrives rounded to 9 decimals; the sum of whole scores is recovered exactly.
    assert shrunk_csat(mv(3.333333333, 3), 4.0) == pytest.approx((10 + 40) / 13, abs=1e-9)
    assert shrunk_csat(mv(None, 0), 4.2) is None
    assert shrunk_csat(mv(4.0, 2), None) is None


EXPECTED_ORDER: dict[str, tuple[list[str], list[str]]] = {
    # column: (descending, ascending); None last both ways, ties by name ascending.
    "agent": (
        ["dave", "carol", "bot", "bob", "alice"],
        ["alice", "bob", "bot", "carol", "dave"],
    ),
    "handled": (  # 10, 3, 2, then bot and dave tie on 1
        ["carol", "alice", "bob", "bot", "dave"],
        ["bot", "dave", "bob", "alice", "carol"],
    ),
    "first_response_median": (  # 450, 180, 60, 30, dave none
        ["bob", "alice", "carol", "bot", "dave"],
        ["bot", "carol", "alice", "bob", "dave"],
    ),
    "csat_mean": (  # 5.0 (n 1), 4.2, 3.33, 1.5, dave none
        ["bot", "carol", "alice", "bob", "dave"],
        ["bob", "alice", "carol", "bot", "dave"],
    ),
    "csat_responses": (  # 10, 3, 2, 1, 0 (a count, never missing)
        ["carol", "alice", "bob", "bot", "dave"],
        ["dave", "bot", "bob", "alice", "carol"],
    ),
    "csat_shrunk": (  # 4.067, 4.030, 3.795, 3.528, dave none: carol now above the bot
        ["carol", "bot", "alice", "bob", "dave"],
        ["bob", "alice", "bot", "carol", "dave"],
    ),
    "ai_assist": (  # as is + edited: 1.0, 0.667, bob and dave 0, bot none
        ["carol", "alice", "bob", "dave", "bot"],
        ["bob", "dave", "alice", "carol", "bot"],
    ),
    "ai_drafted_rate": (
        ["carol", "alice", "bob", "dave", "bot"],
        ["bob", "dave", "alice", "carol", "bot"],
    ),
    "mentions": (  # bob 2, carol 1, the rest none: a count, so 0 (by name), not last
        ["bob", "carol", "alice", "bot", "dave"],
        ["alice", "bot", "dave", "carol", "bob"],
    ),
}


def test_every_column_is_tested_for_sorting() -> None:
    assert set(EXPECTED_ORDER) == {column.key for column in COLUMNS}


@pytest.mark.parametrize("descending", [True, False])
def test_sorts_by_every_column_with_empty_samples_last(store: Store, descending: bool) -> None:
    ingest_and_build(store, week().events)
    for key, (down, up) in EXPECTED_ORDER.items():
        board = leaderboard(store, WEEK, sort=key, descending=descending)
        assert [row.agent_id for row in board.rows] == (down if descending else up), key
        assert (board.sort, board.descending) == (key, descending)


def test_default_order_is_conversations_handled(store: Store) -> None:
    ingest_and_build(store, week().events)
    board = leaderboard(store, WEEK)
    assert [row.agent_id for row in board.rows] == EXPECTED_ORDER["handled"][0]


def test_unknown_sort_column_is_a_query_error(store: Store) -> None:
    ingest_and_build(store, week().events)
    with pytest.raises(QueryError) as raised:
        leaderboard(store, WEEK, sort="rank")
    assert raised.value.field == "sort"


def test_ai_assist_sorts_by_the_ai_draft_share(store: Store) -> None:
    ingest_and_build(store, week().events)
    alice = rows_by_id(leaderboard(store, WEEK))["alice"]
    assert alice.sort_value("ai_assist") == pytest.approx(2 / 3)
    assert alice.sort_value("agent") == "alice"
    with pytest.raises(QueryError):
        alice.sort_value("speed")


def test_team_filter_is_directory_membership(store: Store) -> None:
    ingest_and_build(store, week().events)
    # Carol's conversations carry conversation team t1, but she belongs to t2.
    t1 = leaderboard(store, WEEK, team="t1")
    assert [row.agent_id for row in t1.rows] == ["alice", "bob"]
    assert t1.team == "t1"
    t2 = leaderboard(store, WEEK, team="t2")
    assert [row.agent_id for row in t2.rows] == ["carol", "dave"]
    # A row's numbers do not change when the page is filtered.
    assert rows_by_id(t2)["carol"] == rows_by_id(leaderboard(store, WEEK))["carol"]
    assert_reading(t2.team_csat_mean, TEAM_MEAN, 15)
    unknown = leaderboard(store, WEEK, team="nobody")
    assert unknown.rows == []
    assert unknown.teams == ("t1", "t2")


def test_agent_viewer_gets_exactly_their_own_row(store: Store) -> None:
    ingest_and_build(store, week().events)
    team_view = rows_by_id(leaderboard(store, WEEK))
    board = leaderboard(store, WEEK, Viewer(agent_id="bob"))
    assert [row.agent_id for row in board.rows] == ["bob"]
    assert board.rows[0] == team_view["bob"]  # same readings, same shrunk CSAT
    assert_reading(board.team_csat_mean, TEAM_MEAN, 15)  # team-level, names nobody
    # Sorting by another column cannot bring anyone else back.
    assert [r.agent_id for r in leaderboard(store, WEEK, Viewer("bob"), sort="mentions").rows] == [
        "bob"
    ]
    # Filtered to a team they are not in: nothing.
    assert leaderboard(store, WEEK, Viewer(agent_id="bob"), team="t2").rows == []


def test_unknown_agents_fall_back_to_their_id(store: Store) -> None:
    f = Events(start=START)
    f.conversation("c1", at=0).customer(at=0).reply("ghost", at=1)
    ingest_and_build(store, f.events)
    board = leaderboard(store, WEEK)
    [row] = board.rows
    assert (row.agent_id, row.name, row.kind, row.team_ids) == ("ghost", "ghost", "human", ())
    assert board.teams == ()


def test_empty_install_gives_an_empty_board(store: Store) -> None:
    board = leaderboard(store, WEEK)
    assert board.rows == []
    assert_reading(board.team_csat_mean, None, 0)


def test_csv_has_unit_headers_plain_numbers_and_shown_order(store: Store) -> None:
    ingest_and_build(store, week().events)
    text = leaderboard_csv(leaderboard(store, WEEK))
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == [
        "Agent",
        "Conversations handled",
        "Median first response (s)",
        "CSAT",
        "CSAT responses",
        "CSAT adjusted for responses",
        "AI assist: as is (%)",
        "AI assist: edited (%)",
        "AI assist: from scratch (%)",
        "AI-drafted replies (%)",
        "Mentions",
    ]
    assert parsed[1:] == [
        ["Carol", "10", "60.0", "4.20", "10", "4.07", "100.0", "0.0", "0.0", "100.0", "1"],
        ["Alice", "3", "180.0", "3.33", "3", "3.79", "33.3", "33.3", "33.3", "66.7", "0"],
        ["Bob", "2", "450.0", "1.50", "2", "3.53", "0.0", "0.0", "100.0", "0.0", "2"],
        ["Bot", "1", "30.0", "5.00", "1", "4.03", "", "", "", "", "0"],
        ["Dave, Jr.", "1", "", "", "0", "", "0.0", "0.0", "100.0", "0.0", "0"],
    ]
    assert '"Dave, Jr."' in text  # the csv module quotes it
    # Another order shows up as is in the export.
    by_name = list(
        csv.reader(
            io.StringIO(leaderboard_csv(leaderboard(store, WEEK, sort="agent", descending=False)))
        )
    )
    assert [line[0] for line in by_name[1:]] == ["Alice", "Bob", "Bot", "Carol", "Dave, Jr."]


def test_no_rank_numbers_anywhere(store: Store) -> None:
    ingest_and_build(store, week().events)
    board = leaderboard(store, WEEK)
    assert all(
        "rank" not in column.key and "rank" not in column.label.lower() for column in COLUMNS
    )
    assert not any("rank" in name for name in AgentRow.__dataclass_fields__)
    assert "rank" not in leaderboard_csv(board).lower()
