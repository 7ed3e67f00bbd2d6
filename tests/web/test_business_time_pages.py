"""`?time=business`: every duration on /analytics, the drill-down and the API switches
to its business-hours twin, and the toggle keeps the rest of the URL.

The inbox default (`*`) is open Monday to Friday 09:00-17:00 UTC. Alice's customer
writes on Friday 2026-03-06 16:30; she answers on Monday 09:30 (65 h calendar, 30 min
on Friday + 30 min on Monday = 1 h business) and resolves at 10:30 (66 h, 2 h).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from tests.factories import Events, ingest_and_build
from tests.web.test_analytics_pages import leaderboard_cells, page, text, tile

FRIDAY_4PM = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
PERIOD = "period=custom&from=2026-03-06&to=2026-03-12"
MONDAY_0930 = 30 + 65 * 60


@pytest.fixture
def weekend(api_store: Store) -> Store:
    f = Events(start=FRIDAY_4PM)
    f.agent("alice", name="Alice", teams=["t1"], at=-600)
    f.business_hours(
        "*",
        intervals=[(day, "09:00", "17:00") for day in ("mon", "tue", "wed", "thu", "fri")],
        at=-600,
    )
    c = f.conversation("c1", customer="u1", at=30).assign("alice", at=20, team="t1")
    c.customer(at=30).reply("alice", at=MONDAY_0930).resolve(at=MONDAY_0930 + 60)
    ingest_and_build(api_store, f.events)
    return api_store


def toggle(soup: BeautifulSoup) -> dict[str, tuple[str, str, bool]]:
    """data-time -> (label, href, current)."""
    return {
        str(a["data-time"]): (text(a), str(a["href"]), a.get("aria-current") == "true")
        for a in soup.select("nav.time-basis a[data-time]")
    }


def test_team_page_switches_durations(client: Client, owner: User, weekend: Store) -> None:
    calendar = page(client, owner, f"/analytics/?{PERIOD}")
    assert tile(calendar, "first_response_median")["value"] == "2d 17h"  # 65 h
    links = toggle(calendar)
    assert links["calendar"][0] == "Calendar time"
    assert links["calendar"][2]
    assert links["business"][0] == "Business hours"
    assert not links["business"][2]
    assert "time=business" in links["business"][1]
    assert "from=2026-03-06" in links["business"][1]

    business = page(client, owner, f"/analytics/?{PERIOD}&time=business")
    assert tile(business, "first_response_median")["value"] == "1h 00m"
    assert tile(business, "full_resolution_median")["value"] == "2h 00m"
    label = text(business.select_one("article.tile[data-metric=first_response_median]"))
    assert "(business hours)" in label
    # Not durations: unchanged.
    assert tile(business, "conversations")["value"] == "1"
    assert toggle(business)["business"][2]
    assert not toggle(business)["calendar"][2]
    assert "time=business" not in toggle(business)["calendar"][1]
    # The period links keep the choice.
    period_links = [str(a["href"]) for a in business.select("nav.periods a[data-period]")]
    assert period_links
    assert all("time=business" in href for href in period_links)
    # The leaderboard's first response cell too.
    assert leaderboard_cells(calendar)["alice"]["first_response_median"].startswith("2d 17h")
    assert leaderboard_cells(business)["alice"]["first_response_median"].startswith("1h 00m")


def test_drilldown_switches_durations(client: Client, owner: User, weekend: Store) -> None:
    calendar = page(client, owner, f"/analytics/agents/alice/?{PERIOD}")
    business = page(client, owner, f"/analytics/agents/alice/?{PERIOD}&time=business")
    assert tile(calendar, "first_response_median")["value"] == "2d 17h"
    assert tile(business, "first_response_median")["value"] == "1h 00m"
    assert toggle(business)["business"][2]


def test_api_switches_durations(client: Client, owner: User, weekend: Store) -> None:
    client.force_login(owner)
    calendar = client.get(f"/api/v1/dashboard?{PERIOD}").json()
    business = client.get(f"/api/v1/dashboard?{PERIOD}&time=business").json()
    assert calendar["time"] == "calendar"
    assert business["time"] == "business"
    first = "first_response_median"
    assert calendar["tiles"]["metrics"][first]["value"] == 65 * 3600
    assert business["tiles"]["metrics"][first]["value"] == 3600
    assert business["tiles"]["metrics"]["full_resolution_median"]["value"] == 7200
    assert [p["value"] for p in business["series"][first] if p["value"] is not None] == [3600]
    alice = next(r for r in business["leaderboard"]["rows"] if r["agent_id"] == "alice")
    assert alice["first_response_median"]["value"] == 3600

    agent = client.get(f"/api/v1/agents/alice?{PERIOD}&time=business").json()
    assert agent["tiles"]["metrics"][first]["value"] == 3600
    assert agent["row"]["first_response_median"]["value"] == 3600


def test_timeline_clocks_show_business_hours(client: Client, owner: User, weekend: Store) -> None:
    soup = page(client, owner, "/analytics/conversations/c1/")
    headers = [text(th) for th in soup.select("table.clocks thead th")]
    assert headers[1:3] == ["Value", "Business hours"]

    def cells(key: str) -> list[str]:
        row = soup.select_one(f'table.clocks tr[data-clock="{key}"]')
        assert row is not None, key
        return [text(td) for td in row.find_all("td")][:2]

    assert cells("first_response") == ["2d 17h", "1h 00m"]
    assert cells("first_resolution") == ["2d 18h", "2h 00m"]
    assert cells("agent_first_response:alice") == ["2d 17h", "1h 00m"]
    assert cells("handle_time")[1] == "\u2013"  # not a span: no business reading


def test_leaderboard_headings_say_business_hours(
    client: Client, owner: User, weekend: Store
) -> None:
    business = page(client, owner, f"/analytics/?{PERIOD}&time=business")
    heading = text(business.select_one("th[data-column=first_response_median]"))
    assert heading == "Median first response (business hours)"
    calendar = page(client, owner, f"/analytics/?{PERIOD}")
    assert text(calendar.select_one("th[data-column=first_response_median]")) == (
        "Median first response"
    )
    exported = client.get(f"/analytics/leaderboard.csv?{PERIOD}&time=business")
    assert "Median first response (business hours) (s)" in exported.content.decode()
