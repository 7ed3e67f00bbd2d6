"""Load-balancing quadrants on a hand-built week, medians worked out by hand.

Runs on DuckDB and on PostgreSQL (the `store` fixture). `as_of` 2026-03-09 00:00 UTC,
7d = [03-02, 03-09). Each agent's conversations all wait the same time, so their median
first response is that wait:

    agent  team   handled  first response
    ann    north  6        60 s
    ben    north  2        60 s
    cat    south  6        600 s
    don    south  2        600 s
    eve    south  4        300 s
    lou    north  1        -   (wrote first, nobody was waiting: no sample -> left out)
    bot    (AI)   10       30 s

Humans with a reading: handled [2, 2, 4, 6, 6] -> median 4; first response
[60, 60, 300, 600, 600] -> median 300. Eve sits exactly on both lines: handled 4 >= 4 is
high volume and 300 <= 300 is fast, so she is a workhorse. Were the bot counted, the
medians would be 5 and 180 and Eve would be "context needed"; were Lou counted, handled
would be median 3.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskpulse.analysis.load_balancing import (
    QUADRANT_BY_KEY,
    QUADRANTS,
    LoadPoint,
    load_balance,
    quadrant_of,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import Viewer
from deskpulse.metrics.window import Window
from tests.factories import Events, ingest_and_build

AS_OF = datetime(2026, 3, 9, tzinfo=UTC)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK = Window(period="7d", as_of=AS_OF)
# The leaderboard help page, next to the checkout (DESIGN.md: ../shared/seeds/).
SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_7233678a9c1d9314.txt"

# agent -> (name, team, conversations, wait in minutes)
AGENTS: dict[str, tuple[str, str, int, float]] = {
    "ann": ("Ann", "north", 6, 1),
    "ben": ("Ben", "north", 2, 1),
    "cat": ("Cat", "south", 6, 10),
    "don": ("Don", "south", 2, 10),
    "eve": ("Eve", "south", 4, 5),
}


def team_week() -> Events:
    f = Events(start=START)
    clock = 0.0
    for agent_id, (name, team, conversations, wait) in AGENTS.items():
        f.agent(agent_id, name=name, teams=[team])
        for i in range(conversations):
            c = f.conversation(f"{agent_id}{i}", customer=f"{agent_id}{i}", at=clock)
            c.customer(at=clock).assign(agent_id, at=clock).reply(agent_id, at=clock + wait)
            clock += 30
    f.agent("lou", name="Lou", teams=["north"])
    f.conversation("lou0", customer="lou0", at=clock).assign("lou", at=clock).reply(
        "lou", at=clock + 1
    )
    f.agent("bot", name="Bot", kind="ai")
    for i in range(10):
        clock += 30
        c = f.conversation(f"bot{i}", customer=f"bot{i}", at=clock)
        c.customer(at=clock).ai_reply("bot", at=clock + 0.5)
    return f


def points_by_id(points: list[LoadPoint]) -> dict[str, LoadPoint]:
    return {point.agent_id: point for point in points}


def test_quadrants_follow_the_hand_computed_medians(store: Store) -> None:
    ingest_and_build(store, team_week().events)
    balance = load_balance(store, WEEK)
    assert balance.handled_threshold == 4.0
    assert balance.first_response_threshold == 300.0
    assert balance.period.start_utc == datetime(2026, 3, 2)
    placed = {p.agent_id: p.quadrant for p in balance.points}
    assert placed == {
        "ann": "workhorse",  # 6 >= 4, 60 <= 300
        "ben": "underloaded",  # 2 < 4, 60 <= 300
        "cat": "drowning",  # 6 >= 4, 600 > 300
        "don": "context_needed",  # 2 < 4, 600 > 300
        "eve": "workhorse",  # exactly on both lines: high and fast
    }
    eve = points_by_id(balance.points)["eve"]
    assert (eve.name, eve.handled, eve.first_response_median, eve.first_response_n) == (
        "Eve",
        4,
        300.0,
        4,
    )
    assert "bot" not in placed  # AI agents are not part of load balancing
    assert balance.left_out == ["Lou"]


def test_team_filter_takes_medians_over_that_team(store: Store) -> None:
    ingest_and_build(store, team_week().events)
    south = load_balance(store, WEEK, team="south")
    # cat 6/600, don 2/600, eve 4/300: medians 4 and 600.
    assert (south.handled_threshold, south.first_response_threshold) == (4.0, 600.0)
    assert {p.agent_id: p.quadrant for p in south.points} == {
        "cat": "workhorse",  # 600 <= 600
        "don": "underloaded",
        "eve": "workhorse",
    }
    assert south.left_out == []
    nobody = load_balance(store, WEEK, team="west")
    assert (nobody.handled_threshold, nobody.first_response_threshold) == (None, None)
    assert nobody.points == []
    assert nobody.left_out == []


def test_agent_viewer_sees_team_lines_but_only_their_own_point(store: Store) -> None:
    ingest_and_build(store, team_week().events)
    ben = load_balance(store, WEEK, Viewer(agent_id="ben"))
    assert (ben.handled_threshold, ben.first_response_threshold) == (4.0, 300.0)
    assert ben.points == [
        LoadPoint(
            agent_id="ben",
            name="Ben",
            handled=2,
            first_response_median=60.0,
            first_response_n=2,
            quadrant="underloaded",
        )
    ]
    assert ben.left_out == []  # no colleagues' names for an agent
    assert ben.own  # pages speak to Ben about his own point
    assert not load_balance(store, WEEK).own
    lou = load_balance(store, WEEK, Viewer(agent_id="lou"))
    assert [(p.agent_id, p.quadrant, p.handled, p.first_response_n) for p in lou.points] == [
        ("lou", None, 1, 0)
    ]
    assert lou.left_out == []
    assert load_balance(store, WEEK, Viewer(agent_id="bot")).points == []


def test_empty_period_has_no_lines(store: Store) -> None:
    balance = load_balance(store, WEEK)
    assert (balance.handled_threshold, balance.first_response_threshold) == (None, None)
    assert balance.points == []
    assert balance.left_out == []


@pytest.mark.parametrize(
    ("handled", "first_response", "expected"),
    [
        (5, 100, "workhorse"),
        (4, 300, "workhorse"),  # on both lines
        (3, 300, "underloaded"),
        (4, 301, "drowning"),
        (3, 301, "context_needed"),
    ],
)
def test_quadrant_of_counts_the_lines_as_high_and_fast(
    handled: float, first_response: float, expected: str
) -> None:
    assert quadrant_of(handled, first_response, 4.0, 300.0) == expected


def test_quadrant_texts_are_the_seeds() -> None:
    assert [q.key for q in QUADRANTS] == ["workhorse", "underloaded", "drowning", "context_needed"]
    assert [q.name for q in QUADRANTS] == [
        "Reliable workhorse",
        "Underloaded or fast triage",
        "Drowning",
        "Context needed",
    ]
    # Seed 000's lines, verbatim, so the check runs wherever the suite runs.
    lines = [f"- {quadrant.title}. {quadrant.guidance}" for quadrant in QUADRANTS]
    assert lines == [
        "- High volume + fast response. This agent is your reliable workhorse. Protect their time.",
        "- Low volume + fast response. This agent is underloaded or specializes in fast "
        "triage. Worth a conversation.",
        "- High volume + slow response. This agent is drowning. Reassign or reroute.",
        "- Low volume + slow response. This agent is on hard tickets, on PTO, or "
        "struggling. Context matters \u2014 open the drill-down.",
    ]
    if SEED.exists():  # next to the product documents: the same lines are in the seed
        seed = SEED.read_text(encoding="utf-8")
        assert all(line in seed for line in lines)


def test_an_agent_reads_their_own_quadrant_in_their_own_terms() -> None:
    # The seed's sentences are a lead's verdicts about someone; the agent's own are
    # addressed to them, name no verdict about them and point at what they can do.
    for quadrant in QUADRANTS:
        own = f"{quadrant.own_name} {quadrant.own_words}"
        assert quadrant.own_words.startswith(("Your ", "You "))
        assert "lead" in quadrant.own_words
        for verdict in ("This agent", "drowning", "Drowning", "underloaded", "workhorse"):
            assert verdict not in own, (quadrant.key, verdict)
    drowning = QUADRANT_BY_KEY["drowning"]
    assert drowning.own_name == "Busier queue, slower replies"
    assert drowning.own_words.startswith("Your queue is busier than most")
    assert drowning.own_words.endswith("talk to your lead about routing.")
