"""/analytics/teams/, its CSV and /api/v1/teams: every team side by side.

The organisation is tests/metrics/test_dashboard_filters.py's: billing has c1 c2 c5 this
week and c0 the week before; tech has c3 c4 and nothing before.
"""

from __future__ import annotations

import csv
import io

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from deskpulse.web.accounts.teams import name_team
from tests.factories import ingest_and_build
from tests.metrics.test_dashboard_filters import organisation
from tests.web.conftest import MakeToken
from tests.web.web_helpers import Api, assert_error

pytestmark = pytest.mark.django_db

WEEK = {"period": "7d", "as_of": "2026-03-08"}


@pytest.fixture
def org(api_store: Store) -> Store:
    ingest_and_build(api_store, organisation())
    name_team("t-billing", "Billing")
    return api_store


def test_the_page_shows_one_row_per_team_with_n_change_and_a_link(
    client: Client, admin: User, org: Store
) -> None:
    client.force_login(admin)
    page = client.get("/analytics/teams/", WEEK)
    assert page.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    rows = {str(row["data-team"]): row for row in soup.select("table.teams tbody tr")}
    assert list(rows) == ["t-billing", "t-tech"]
    billing = rows["t-billing"]
    link = billing.select_one("th a")
    assert link is not None
    assert link.get_text(strip=True) == "Billing"
    assert str(link["href"]).startswith("/analytics/?")
    assert "team=t-billing" in str(link["href"])
    cell = billing.select_one('td[data-column="conversations"]')
    assert cell is not None
    assert cell.select_one(".value").get_text(strip=True) == "3"  # type: ignore[union-attr]
    assert cell.select_one(".n").get_text(strip=True) == "n = 3"  # type: ignore[union-attr]
    # Against one conversation the week before: too small a base for a percentage.
    assert cell.select_one(".delta").get_text(strip=True) == "was 1"  # type: ignore[union-attr]
    csat = billing.select_one('td[data-column="csat_mean"] .value')
    assert csat is not None
    assert csat.get_text(strip=True) == "4.00"
    # The dashboard links to it for owners and admins.
    dashboard = client.get("/analytics/", WEEK)
    assert b'href="/analytics/teams/?' in dashboard.content


def test_the_csv_and_the_api_carry_the_same_rows(
    client: Client, owner: User, make_token: MakeToken, org: Store
) -> None:
    client.force_login(owner)
    exported = client.get("/analytics/teams.csv", WEEK)
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(exported.content.decode())))
    header, rows = lines[0], {line[0]: line for line in lines[1:]}
    assert header[:6] == [
        "team_id",
        "Team",
        "Conversations",
        "Conversations: n",
        "Conversations: previous",
        "Conversations: change",
    ]
    assert rows["t-billing"][1:6] == ["Billing", "3", "3", "1", "2"]
    assert rows["t-tech"][2:6] == ["2", "2", "", ""]
    api = Api(client, make_token(owner, ("read",)))
    body = api.get("/api/v1/teams", **WEEK).json()
    by_team = {row["team"]: row for row in body["teams"]}
    assert by_team["t-billing"]["name"] == "Billing"
    assert by_team["t-billing"]["tiles"]["metrics"]["conversations"] == {"value": 3, "n": 3}
    assert by_team["t-tech"]["tiles"]["previous"]["conversations"] == {"value": None, "n": 0}
    twin = api.get("/api/v1/teams.csv", **WEEK)
    assert twin.status_code == 200
    assert twin.content == exported.content


def test_agents_are_refused(client: Client, agent: User, make_token: MakeToken, org: Store) -> None:
    client.force_login(agent)
    assert client.get("/analytics/teams/", WEEK).status_code == 403
    assert client.get("/analytics/teams.csv", WEEK).status_code == 403
    assert b"/analytics/teams/" not in client.get("/analytics/", WEEK).content
    reader = Api(client, make_token(agent, ("read",)))
    assert_error(reader.get("/api/v1/teams", **WEEK), 403, "admins_only")
    assert_error(reader.get("/api/v1/teams.csv", **WEEK), 403, "admins_only")
