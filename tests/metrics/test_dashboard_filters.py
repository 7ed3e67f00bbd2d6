"""`dashboard(store, window, filters)`: every filter scopes the whole payload (issue 16).

A small hand-built organisation, two teams, known conversations; each expected value is
worked out by hand in the comments. Runs on DuckDB and PostgreSQL (`store`).

    conversation  team       channel inbox        inquiry tier  lang  first response  CSAT
    c0 (a week before)       chat    web          billing gold  en    300 s (alice)   -
    c1            t-billing  email   inbox-email  billing gold  en    600 s (alice)   5
    c2            t-billing  chat    web          billing free  de    1200 s (carol)  3
    c5            t-billing  chat    web          billing gold  en    180 s (alice)   -
    c3            t-tech     email   inbox-email  login   gold  en    120 s (bob)     1
    c4            t-tech     chat    web          login   free  en    600 s (bob)     -
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deskpulse.analysis.leaderboard import leaderboard
from deskpulse.analysis.load_balancing import load_balance
from deskpulse.errors import NotFoundError
from deskpulse.events.store import Store
from deskpulse.metrics.dashboard import (
    SCOPE_FILTERS,
    UnknownFilterValueError,
    check_filters,
    dashboard,
    filter_choices,
    teams_side_by_side,
)
from deskpulse.metrics.query import Filters, Viewer
from deskpulse.metrics.window import Window
from tests.factories import Events, ingest_and_build

# The week of March 2-8, 2026; the previous period is the week before.
WEEK = Window(period="7d", as_of=datetime(2026, 3, 8, 12, tzinfo=UTC))
DAY = 24 * 60


def organisation() -> list[dict[str, Any]]:
    f = Events()
    f.agent("alice", name="Alice", teams=["t-billing"])
    f.agent("carol", name="Carol", teams=["t-billing"])
    f.agent("bob", name="Bob", teams=["t-tech"])
    c0 = f.conversation("c0", customer="u0", inquiry="billing", at=-3 * DAY, customer_tier="gold")
    c0.customer(at=-3 * DAY).assign("alice", team="t-billing", at=-3 * DAY + 1)
    c0.reply("alice", at=-3 * DAY + 5)
    c1 = f.conversation(
        "c1",
        customer="u1",
        channel="email",
        inbox="inbox-email",
        inquiry="billing",
        customer_tier="gold",
        language="en",
        at=0,
    )
    c1.customer(at=0).assign("alice", team="t-billing", at=1).reply("alice", at=10)
    c1.resolve(at=30, by="alice").survey("csat", 5, at=40)
    c2 = f.conversation(
        "c2", customer="u2", inquiry="billing", customer_tier="free", language="de", at=60
    )
    c2.customer(at=60).assign("carol", team="t-billing", at=61).reply("carol", at=80)
    c2.resolve(at=100, by="carol").survey("csat", 3, at=110)
    c5 = f.conversation(
        "c5", customer="u5", inquiry="billing", customer_tier="gold", language="en", at=200
    )
    c5.customer(at=200).assign("alice", team="t-billing", at=201).reply("alice", at=203)
    c3 = f.conversation(
        "c3",
        customer="u3",
        channel="email",
        inbox="inbox-email",
        inquiry="login",
        customer_tier="gold",
        language="en",
        at=120,
    )
    c3.customer(at=120).assign("bob", team="t-tech", at=121).reply("bob", at=122)
    c3.resolve(at=150, by="bob").survey("csat", 1, at=160)
    c4 = f.conversation(
        "c4", customer="u4", inquiry="login", customer_tier="free", language="en", at=180
    )
    c4.customer(at=180).assign("bob", team="t-tech", at=181).reply("bob", at=190)
    return f.events


@pytest.fixture
def org(store: Store) -> Store:
    ingest_and_build(store, organisation())
    return store


def _tiles(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        name: (reading["value"], reading["n"])
        for name, reading in payload["tiles"]["metrics"].items()
        if name in ("conversations", "first_response_median", "csat_mean")
    }


def test_a_teams_tiles_are_its_conversations_only(org: Store) -> None:
    everyone = dashboard(org, WEEK)
    assert _tiles(everyone) == {
        "conversations": (5, 5),
        "first_response_median": (600.0, 5),  # 120 180 600 600 1200
        "csat_mean": (3.0, 3),  # (5 + 3 + 1) / 3
    }
    billing = dashboard(org, WEEK, Filters(team="t-billing"))
    assert billing["filters"] == {"team": "t-billing"}
    assert _tiles(billing) == {
        "conversations": (3, 3),  # c1 c2 c5
        "first_response_median": (600.0, 3),  # 180 600 1200
        "csat_mean": (4.0, 2),  # (5 + 3) / 2
    }
    # The previous week: c0 was billing's, the tech team had none.
    assert billing["tiles"]["previous"]["conversations"] == {"value": 1, "n": 1}
    tech = dashboard(org, WEEK, Filters(team="t-tech"))
    assert _tiles(tech) == {
        "conversations": (2, 2),
        "first_response_median": (360.0, 2),  # (120 + 600) / 2
        "csat_mean": (1.0, 1),
    }
    assert tech["tiles"]["previous"]["conversations"]["n"] == 0


# (filters, conversations, (CSAT mean, responses)), each worked out from the table above.
EACH_FILTER: tuple[tuple[Filters, int, tuple[float, int]], ...] = (
    (Filters(channel="email"), 2, (3.0, 2)),  # c1 c3: (5 + 1) / 2
    (Filters(inbox="web"), 3, (3.0, 1)),  # c2 c4 c5
    (Filters(inquiry="login"), 2, (1.0, 1)),  # c3 c4
    (Filters(customer_tier="gold"), 3, (3.0, 2)),  # c1 c3 c5
    (Filters(language="de"), 1, (3.0, 1)),  # c2
    (Filters(team="t-billing", channel="email"), 1, (5.0, 1)),  # c1
)


def test_each_filter_scopes_the_tiles(org: Store) -> None:
    for filters, conversations, csat in EACH_FILTER:
        tiles = _tiles(dashboard(org, WEEK, filters))
        assert tiles["conversations"] == (conversations, conversations), filters
        assert tiles["csat_mean"] == csat, filters


def test_charts_and_cards_follow_the_filter(org: Store) -> None:
    billing = dashboard(org, WEEK, Filters(team="t-billing"))
    # The daily series and the by-channel chart add up to the team's 3 conversations.
    assert sum(p["value"] or 0 for p in billing["series"]["conversations"]) == 3
    by_channel = {
        row["group"]["channel"]: row["metrics"]["conversations"]["value"]
        for row in billing["volume_by_channel"]
    }
    assert by_channel == {"email": 1, "chat": 2}
    # The CSAT card: one 3 and one 5, not bob's 1.
    spread = {b["score"]: b["responses"] for b in billing["distributions"]["csat"]}
    assert spread == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}


def test_the_leaderboard_and_load_balancing_follow_the_filter(org: Store) -> None:
    billing = Filters(team="t-billing")
    board = leaderboard(org, WEEK, team="t-billing", filters=billing)
    handled = {row.agent_id: row.handled.value for row in board.rows}
    assert handled == {"alice": 2, "carol": 1}
    # The shrunk CSAT leans on the team's own mean (4.0), not the organisation's (3.0).
    assert board.team_csat_mean.value == 4.0
    email = leaderboard(org, WEEK, filters=Filters(channel="email"))
    assert {row.agent_id: row.handled.value for row in email.rows} == {"alice": 1, "bob": 1}
    balance = load_balance(org, WEEK, team="t-billing", filters=billing)
    assert sorted(point.agent_id for point in balance.points) == ["alice", "carol"]
    assert balance.handled_threshold == 1.5  # median of alice's 2 and carol's 1


def test_an_agent_sees_their_own_teams_numbers_and_no_other_team(org: Store) -> None:
    carol = Viewer(agent_id="carol")
    own = dashboard(org, WEEK, Filters(team="t-billing"), carol)
    # Team-level: all three billing conversations, not only carol's one.
    assert own["tiles"]["metrics"]["conversations"]["value"] == 3
    with pytest.raises(NotFoundError):
        dashboard(org, WEEK, Filters(team="t-tech"), carol)
    with pytest.raises(NotFoundError):
        dashboard(org, WEEK, Filters(team="no-such-team"), carol)
    # Her leaderboard under her team's filter is her own row only.
    board = leaderboard(org, WEEK, carol, team="t-billing", filters=Filters(team="t-billing"))
    assert [row.agent_id for row in board.rows] == ["carol"]


def test_values_the_data_does_not_know_are_refused_naming_them(org: Store) -> None:
    choices = filter_choices(org, fresh=True)
    assert set(choices) == set(SCOPE_FILTERS)
    assert choices["team"] == ("t-billing", "t-tech")
    assert choices["inbox"] == ("inbox-email", "web")
    assert choices["language"] == ("de", "en")
    for name, value in SCOPE_FILTERS_BAD:
        with pytest.raises(UnknownFilterValueError) as raised:
            check_filters(org, Filters(**{name: value}))
        assert raised.value.field == name
        assert repr(value) in raised.value.message
    check_filters(org, Filters(team="t-billing", channel="voice", language="de"))
    # A team only Settings knows (named before any event carries it) is accepted.
    check_filters(org, Filters(team="t-new"), also_known={"team": ["t-new"]})


SCOPE_FILTERS_BAD = (
    ("team", "t-biling"),
    ("channel", "fax"),
    ("inbox", "inbox-sms"),
    ("inquiry", "refunds"),
    ("customer_tier", "platinum"),
    ("language", "fr"),
)


def test_teams_side_by_side_equal_each_teams_own_dashboard(org: Store) -> None:
    side = teams_side_by_side(org, WEEK, ["t-billing", "t-tech", "t-empty"])
    rows = {row["team"]: row for row in side["teams"]}
    assert list(rows) == ["t-billing", "t-empty", "t-tech"]  # no conversation lacks a team
    billing = rows["t-billing"]["tiles"]
    assert billing["metrics"]["conversations"] == {"value": 3, "n": 3}
    assert billing["previous"]["conversations"] == {"value": 1, "n": 1}  # c0
    assert billing["metrics"]["first_response_median"] == {"value": 600.0, "n": 3}
    assert billing["metrics"]["csat_mean"] == {"value": 4.0, "n": 2}
    assert rows["t-tech"]["tiles"]["metrics"]["conversations"] == {"value": 2, "n": 2}
    assert rows["t-empty"]["tiles"]["metrics"]["conversations"] == {"value": None, "n": 0}
    # Every tile of a team's row is its own dashboard's tile, previous period included.
    for team in ("t-billing", "t-tech"):
        own = dashboard(org, WEEK, Filters(team=team))["tiles"]
        assert rows[team]["tiles"]["metrics"] == own["metrics"], team
        assert rows[team]["tiles"]["previous"] == own["previous"], team
