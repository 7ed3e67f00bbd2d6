"""The dashboard's filters on the page, its API twin, the drill-down and the CSV exports.

The organisation is tests/metrics/test_dashboard_filters.py's (its table of
conversations): billing has c1 c2 c5, tech has c3 c4; alice is in billing, so is carol.
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from tests.factories import ingest_and_build
from tests.metrics.test_dashboard_filters import organisation
from tests.web.conftest import MakeToken
from tests.web.web_helpers import Api, assert_error

pytestmark = pytest.mark.django_db

WEEK = {"period": "7d", "as_of": "2026-03-08"}


@pytest.fixture
def org(api_store: Store) -> Store:
    ingest_and_build(api_store, organisation())
    return api_store


@pytest.fixture
def owner_api(client: Client, owner: User, make_token: MakeToken, org: Store) -> Api:
    return Api(client, make_token(owner, ("read",)))


def _conversations(body: dict[str, Any]) -> Any:
    return body["tiles"]["metrics"]["conversations"]["value"]


def test_the_api_dashboard_is_scoped_by_every_filter(owner_api: Api) -> None:
    assert _conversations(owner_api.get("/api/v1/dashboard", **WEEK).json()) == 5
    billing = owner_api.get("/api/v1/dashboard", **WEEK, team="t-billing")
    assert billing.status_code == 200, billing.content
    body = billing.json()
    assert _conversations(body) == 3
    assert body["filters"] == {"team": "t-billing"}
    assert body["tiles"]["metrics"]["csat_mean"] == {"value": 4.0, "n": 2}
    assert sorted(row["agent_id"] for row in body["leaderboard"]["rows"]) == ["alice", "carol"]
    assert sorted(p["agent_id"] for p in body["load_balancing"]["points"]) == ["alice", "carol"]
    both = owner_api.get("/api/v1/dashboard", **WEEK, team="t-billing", channel="email").json()
    assert _conversations(both) == 1
    assert [row["agent_id"] for row in both["leaderboard"]["rows"]] == ["alice"]
    for name, value, expected in (
        ("inbox", "web", 3),
        ("inquiry", "login", 2),
        ("customer_tier", "gold", 3),
        ("language", "de", 1),
    ):
        scoped = owner_api.get("/api/v1/dashboard", **WEEK, **{name: value}).json()
        assert _conversations(scoped) == expected, name


UNKNOWN = (
    ("team", "team-nobody"),
    ("channel", "fax"),
    ("inbox", "inbox-sms"),
    ("inquiry", "refunds"),
    ("customer_tier", "platinum"),
    ("language", "fr"),
)


def test_an_unknown_value_is_refused_naming_it(owner_api: Api) -> None:
    for name, value in UNKNOWN:
        for url in ("/api/v1/dashboard", "/api/v1/leaderboard.csv", "/api/v1/agents/alice"):
            response = owner_api.get(url, **WEEK, **{name: value})
            error = assert_error(response, 422, "invalid_request", name)
            assert repr(value) in error["message"], (url, name)


def test_the_page_is_scoped_and_keeps_the_filters_in_its_links(
    client: Client, owner: User, org: Store
) -> None:
    client.force_login(owner)
    page = client.get("/analytics/", {**WEEK, "team": "t-billing", "channel": "email"})
    assert page.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    tile = soup.select_one('.tile[data-metric="conversations"] .value a')
    assert tile is not None
    assert tile.get_text(strip=True) == "1"
    href = str(tile["href"])
    assert "team=t-billing" in href
    assert "channel=email" in href
    assert [row["data-agent"] for row in soup.select("table.leaderboard tbody tr")] == ["alice"]
    # The form shows the chosen values and the page says it is narrowed.
    assert soup.select_one("#team-filter option[selected]")["value"] == "t-billing"  # type: ignore[index]
    assert soup.select_one("#channel-filter option[selected]")["value"] == "email"  # type: ignore[index]
    assert "team t-billing, channel email" in soup.select_one(".scope-note").get_text()  # type: ignore[union-attr]
    # Period links keep the filters.
    week = soup.select_one('a[data-period="14d"]')
    assert week is not None
    assert "team=t-billing" in str(week["href"])


def test_the_page_names_an_unknown_value_with_a_400(
    client: Client, owner: User, org: Store
) -> None:
    client.force_login(owner)
    page = client.get("/analytics/", {**WEEK, "inbox": "inbox-sms"})
    assert page.status_code == 400
    assert "inbox-sms" in page.content.decode()
    assert "inbox-email" in page.content.decode()  # what it could have been


def test_the_drill_down_and_the_csv_exports_take_the_filters(
    client: Client, owner: User, owner_api: Api
) -> None:
    client.force_login(owner)
    drill = owner_api.get("/api/v1/agents/alice", **WEEK, channel="email").json()
    assert drill["tiles"]["metrics"]["handled"]["value"] == 1  # c1 only, not c5 (chat)
    assert drill["row"]["handled"]["value"] == 1
    page = client.get("/analytics/agents/alice/", {**WEEK, "channel": "email"})
    assert page.status_code == 200
    # A lead narrowing bob's drill-down to a team he is not in sees no work, not a 404.
    outside = owner_api.get("/api/v1/agents/bob", **WEEK, team="t-billing")
    assert outside.status_code == 200, outside.content
    assert outside.json()["row"] is None
    assert outside.json()["tiles"]["metrics"]["handled"]["n"] == 0
    assert client.get("/analytics/agents/bob/", {**WEEK, "team": "t-billing"}).status_code == 200
    exported = client.get("/analytics/leaderboard.csv", {**WEEK, "team": "t-billing"})
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert sorted(row[0] for row in rows[1:]) == ["Alice", "Carol"]
    listed = client.get("/analytics/conversations.csv", {**WEEK, "customer_tier": "gold"})
    ids = sorted(row[0] for row in list(csv.reader(io.StringIO(listed.content.decode())))[1:])
    assert ids == ["c1", "c3", "c5"]


def test_an_agent_may_narrow_to_their_own_team_only(
    client: Client, agent: User, make_token: MakeToken, org: Store
) -> None:
    reader = Api(client, make_token(agent, ("read",)))
    own = reader.get("/api/v1/dashboard", **WEEK, team="t-billing")
    assert own.status_code == 200, own.content
    body = own.json()
    # Team-level numbers (all three billing conversations) and her own row only.
    assert _conversations(body) == 3
    assert [row["agent_id"] for row in body["leaderboard"]["rows"]] == ["alice"]
    assert [p["agent_id"] for p in body["load_balancing"]["points"]] == ["alice"]
    # Another team, or one that does not exist, reads the same: not found.
    assert_error(reader.get("/api/v1/dashboard", **WEEK, team="t-tech"), 404, "not_found")
    assert_error(reader.get("/api/v1/dashboard", **WEEK, team="t-nope"), 404, "not_found")
    client.force_login(agent)
    assert client.get("/analytics/", {**WEEK, "team": "t-tech"}).status_code == 404
    page = client.get("/analytics/", {**WEEK, "team": "t-billing"})
    assert page.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    # Their own team only, worded as theirs (the lead's "Team" select is not shown).
    offered = [o["value"] for o in soup.select("#own-team-filter option") if o["value"]]
    assert offered == ["t-billing"]
    assert soup.select_one("#team-filter") is None
    assert "Carol" not in page.content.decode()


def test_the_signals_follow_the_filters(client: Client, owner: User, org: Store) -> None:
    client.force_login(owner)
    page = client.get("/analytics/", {**WEEK, "team": "t-billing"})
    soup = BeautifulSoup(page.content, "html.parser")
    panel = soup.select_one("#signals")
    assert panel is not None
    # Not cached yet: the panel is fetched after the page, under the same filters.
    assert "team=t-billing" in str(panel["data-signals-src"])
    fetched = client.get("/analytics/signals/panel/", {**WEEK, "team": "t-billing"})
    assert fetched.status_code == 200
    assert client.get("/analytics/signals/", {**WEEK, "team": "t-billing"}).status_code == 200
    refused = client.get("/analytics/signals/panel/", {**WEEK, "language": "fr"})
    assert refused.status_code == 400
    assert "there is no language 'fr'" in html.unescape(refused.content.decode())
