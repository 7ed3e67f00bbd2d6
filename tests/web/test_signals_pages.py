"""The friction signals on /analytics, on /analytics/signals/ and at GET /api/v1/signals.

Data: tests/signals_scenario.py, seed 004's "handle time down while CSAT down" planted in
queue inbox-rush (agents Ann Rushwood and Ben Steady). The /analytics page never waits
for the statistics: without a cached answer the panel is a placeholder that loads
/analytics/signals/panel/; once that has run, the page shows the panel itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from bs4 import BeautifulSoup, Tag
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.analysis.signals import clear_cache
from deskpulse.events.store import Store
from tests.factories import ingest_and_build
from tests.signals_scenario import friction_week
from tests.web.conftest import MakeToken
from tests.web.web_helpers import assert_error

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock

PERIOD = "period=7d&as_of=2026-03-08"  # Mar 2 - Mar 9 against Feb 23 - Mar 2
AGENT_NAMES = ("Ann Rushwood", "Ben Steady", "Rushwood")


@pytest.fixture
def friction(api_store: Store) -> Store:
    ingest_and_build(api_store, friction_week(rushed=True).events)
    clear_cache()
    return api_store


def get(client: Client, user: User, url: str) -> Any:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response


def soup_of(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text(node: Tag | None) -> str:
    assert node is not None
    return " ".join(node.get_text(" ", strip=True).split())


def test_panel_loads_after_the_page_then_shows_on_it(
    client: Client, owner: User, friction: Store
) -> None:
    # First visit: nothing cached, so the panel is a placeholder with its own URL.
    page = soup_of(get(client, owner, f"/analytics/?{PERIOD}"))
    panel = page.select_one("section#signals")
    assert panel is not None
    src = panel["data-signals-src"]
    assert src == f"/analytics/signals/panel/?{PERIOD}"
    assert "Looking for signals" in text(panel)

    # The placeholder's URL answers the panel alone, with real numbers.
    fragment = soup_of(get(client, owner, str(src)))
    item = fragment.select_one("li.signal")
    assert item is not None
    assert item["data-signal"] == "faster_less_happy"
    assert item["data-segment"] == "inbox:inbox-rush"
    words = text(item)
    assert "Faster, but customers less happy" in words
    assert "average handle time fell 50% to 5m 00s (from 10m; n = 40 now, 40 before)" in words
    assert "CSAT fell 1.80 to 2.80 (from 4.60; n = 40 now, 40 before)" in words
    assert "check whether contacts are rushed" in words
    assert 'also inquiry "Billing", channel email' in words

    # Now cached: the dashboard shows the panel itself, above the leaderboard.
    response = get(client, owner, f"/analytics/?{PERIOD}")
    page = soup_of(response)
    panel = page.select_one("section#signals")
    assert panel is not None
    assert not panel.has_attr("data-signals-src")
    assert [li["data-signal"] for li in panel.select("li.signal")] == ["faster_less_happy"]
    html = response.content.decode()
    assert html.index('id="signals"') < html.index('id="load-balancing"')
    assert html.index('id="signals"') < html.index('id="leaderboard"')

    # Its link opens the conversations behind it: the same period, the low scores of the
    # queue (CSAT 2 on 16 of its 40 conversations this week).
    link = panel.select_one("li.signal a")
    assert link is not None
    href = str(link["href"])
    assert urlsplit(href).path == "/analytics/conversations/"
    assert parse_qs(urlsplit(href).query) == {
        "period": ["7d"],
        "as_of": ["2026-03-08"],
        "inbox": ["inbox-rush"],
        "metric": ["csat_mean"],
        "max_csat": ["2"],
    }
    listing = soup_of(get(client, owner, href))
    rows = listing.select("tbody tr")
    assert len(rows) == 16, text(listing.select_one("main"))
    assert all("inbox-rush-now" in text(row) for row in rows)


def test_signals_page_lists_every_signal_and_explains_the_method(
    client: Client, admin: User, friction: Store
) -> None:
    page = soup_of(get(client, admin, f"/analytics/signals/?{PERIOD}"))
    items = page.select("#all-signals li.signal")
    assert [li["data-signal"] for li in items] == ["faster_less_happy"]
    readings = [text(row) for row in items[0].select("table.signal-readings tbody tr")]
    assert readings == [
        "Average handle time 5m 00s 40 10m 40 -50%",
        "CSAT 2.80 40 4.60 40 -1.80",
    ]
    method = text(page.select_one("#method"))
    assert "Holm" in method
    assert "at least 30 values on each side" in method
    assert "10% in a duration" in method
    assert "Compared with the previous period of the same length: Feb 23 \u2013 Mar 1, 2026" in (
        text(page.select_one("main"))
    )


def test_quiet_when_nothing_moved(client: Client, owner: User, api_store: Store) -> None:
    events = friction_week(rushed=True).events
    # Only inbox-steady: the same numbers both weeks.
    steady = {e["conversation_id"] for e in events if e.get("inbox_id") == "inbox-steady"}
    ingest_and_build(
        api_store,
        [e for e in events if "conversation_id" not in e or e["conversation_id"] in steady],
    )
    clear_cache()
    page = soup_of(get(client, owner, f"/analytics/signals/panel/?{PERIOD}"))
    assert page.select("li.signal") == []
    assert "Nothing is creaking" in text(page.select_one(".signals-quiet"))


def test_api_answers_the_signals_as_json(
    client: Client, owner: User, make_token: MakeToken, friction: Store
) -> None:
    token = make_token(owner, ("read",))
    response = client.get(f"/api/v1/signals?{PERIOD}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    body = orjson.loads(response.content)
    assert body["total"] == 1
    assert body["method"]["correction"] == "holm"
    assert body["method"]["min_sample"] == 30
    assert body["volume_compared"] is False
    assert body["previous_period"]["to"] == body["period"]["from"]
    signal = body["signals"][0]
    assert signal["kind"] == "tension"
    assert signal["name"] == "faster_less_happy"
    assert signal["segment"] == {
        "dimension": "inbox",
        "value": "inbox-rush",
        "label": "queue inbox-rush",
    }
    assert [m["metric"] for m in signal["metrics"]] == ["aht_mean", "csat_mean"]
    assert signal["metrics"][0]["current"] == {"value": 300.0, "n": 40, "text": "5m 00s"}
    assert signal["metrics"][0]["previous"] == {"value": 600.0, "n": 40, "text": "10m"}
    assert 0 < signal["p_value"] < 0.05
    assert "Both moves are significant after Holm's correction" in signal["sentence"]
    assert "check whether contacts are rushed" in signal["coaching"]
    query = parse_qs(urlsplit(signal["conversations_url"]).query)
    assert query["inbox"] == ["inbox-rush"]
    assert query["period"] == ["7d"]
    # The API link answers too.
    listed = client.get(signal["conversations_api"], HTTP_AUTHORIZATION=f"Bearer {token}")
    assert listed.status_code == 200, listed.content
    assert orjson.loads(listed.content)["total"] == 16


def test_api_refuses_a_bad_period_in_the_one_error_shape(
    client: Client, owner: User, friction: Store
) -> None:
    client.force_login(owner)
    assert_error(client.get("/api/v1/signals?period=13d"), 422, "invalid_request", "period")


def test_api_takes_the_dashboards_filters_and_refuses_unknown_values(
    client: Client, owner: User, friction: Store
) -> None:
    client.force_login(owner)
    error = assert_error(
        client.get(f"/api/v1/signals?{PERIOD}&channel=pigeon"), 422, "invalid_request", "channel"
    )
    assert "pigeon" in error["message"]
    # The rushed queue is on email; the steady one on chat has nothing to say.
    assert client.get(f"/api/v1/signals?{PERIOD}").json()["total"] == 1
    assert client.get(f"/api/v1/signals?{PERIOD}&channel=email").json()["total"] == 1
    assert client.get(f"/api/v1/signals?{PERIOD}&channel=chat").json()["total"] == 0


@pytest.mark.parametrize("who", ["owner", "admin", "agent"])
def test_members_see_the_same_team_level_signals(
    client: Client, owner: User, admin: User, agent: User, who: str, friction: Store
) -> None:
    # The users are set up before the test body (not by getfixturevalue): after the
    # browser tests an event loop may be running in this thread, and Django refuses
    # database set-up inside a test body then.
    user = {"owner": owner, "admin": admin, "agent": agent}[who]
    for url in (
        f"/analytics/signals/?{PERIOD}",
        f"/analytics/signals/panel/?{PERIOD}",
        f"/api/v1/signals?{PERIOD}",
    ):
        response = get(client, user, url)
        content = response.content.decode()
        if not url.startswith("/api/"):
            # The signals themselves, not the navigation ("My numbers" for an agent).
            content = "".join(str(li) for li in soup_of(response).select("li.signal"))
        assert "inbox-rush" in content
        # Queues, inquiries and channels only: never an agent's name or id.
        for name in AGENT_NAMES:
            assert name not in content, (url, name)
        assert "/analytics/agents/" not in content


def test_outsiders_and_strangers_are_refused(
    client: Client, outsider: User, friction: Store
) -> None:
    for url in (f"/analytics/signals/?{PERIOD}", f"/analytics/signals/panel/?{PERIOD}"):
        assert client.get(url).status_code == 302  # to the sign-in page
    assert_error(client.get(f"/api/v1/signals?{PERIOD}"), 401, "missing_token")
    client.force_login(outsider)
    for url in (f"/analytics/signals/?{PERIOD}", f"/analytics/signals/panel/?{PERIOD}"):
        assert client.get(url).status_code == 403
    assert_error(client.get(f"/api/v1/signals?{PERIOD}"), 403, "no_profile")
