"""Pages that respect the agent (issue 16, part 5): an agent's own pages describe their
situation in their own terms, show no control that does nothing for them, and show a
one-on-one prompt only when it applies, with its numbers.

The small team of test_analytics_pages (numbers worked out there): in the week to
2026-03-08 Alice is a "workhorse" (2 handled, 4 min), and over the 30 days to then her
median first response is 7 min against the people's 10 min (faster), while Dave's is
60 min (slower). Alice sent none of her 3 replies as an AI draft as is; the people sent 1
of 8.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse import clock
from deskpulse.analysis.load_balancing import LoadBalance, LoadPoint
from deskpulse.events.store import Store
from deskpulse.metrics.periods import named_period
from deskpulse.web.accounts.models import Profile, Role
from deskpulse.web.analytics import charts
from deskpulse.web.analytics.views import close_call_text
from tests.web.test_analytics_pages import WEEK, build_team, text

ONE_ON_ONE = "one-on-one/?as_of=2026-03-08"
# A lead's verdicts about a person: never on the pages an agent reads about themselves.
MANAGER_WORDS = ("This agent", "Reassign", "reroute", "Drowning", "workhorse", "Underloaded")


def opened(client: Client, user: User, url: str) -> tuple[BeautifulSoup, str]:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    return BeautifulSoup(html, "html.parser"), html


def dave(db: None) -> User:
    user = User.objects.create_user(username="dave", email="dave@example.com")
    Profile.objects.create(user=user, role=Role.AGENT, agent_id="dave")
    return user


def test_an_agents_dashboard_speaks_to_them_and_has_no_idle_controls(
    client: Client, agent: User, api_store: Store
) -> None:
    build_team(api_store)
    soup, html = opened(client, agent, f"/analytics/?{WEEK}")
    # Their own row, with no team filter and no sort controls over it.
    assert [str(tr["data-agent"]) for tr in soup.select("table.leaderboard tr[data-agent]")] == [
        "alice"
    ]
    assert soup.select_one("#team-filter") is None
    assert soup.select("table.leaderboard a.sort") == []
    assert soup.select("table.leaderboard th[aria-sort]") == []
    assert text(soup.select_one("#leaderboard-heading")) == "Your row on the leaderboard"
    assert "Sort by any column" not in html
    # Their point in their own terms, with their numbers; none of the lead's verdicts,
    # neither in the text nor in the chart's corner labels.
    assert text(soup.select_one("[data-quadrant-own]")) == (
        "Busier queue, faster replies (2 handled, median first response 4m 00s). Your queue "
        "is busier than most and you answer faster than most: if it feels like too much, "
        "tell your lead before it shows."
    )
    assert soup.select_one("#load-balancing .quadrants") is None
    for words in MANAGER_WORDS:
        assert words not in html, words


def test_the_load_balancing_api_speaks_to_an_agent_too(
    client: Client, agent: User, owner: User, api_store: Store
) -> None:
    build_team(api_store)
    client.force_login(agent)
    body = client.get(f"/api/v1/load-balancing?{WEEK}").json()
    assert body["own"] is True
    # Quadrant keys stay ("workhorse"), the lead's names and verdicts do not.
    for words in ("This agent", "Reassign", "reroute", "Reliable workhorse", "Drowning"):
        assert words not in str(body), words
    assert all("guidance" not in q and "name" not in q for q in body["quadrants"])
    assert {q["own_name"] for q in body["quadrants"]} >= {"Busier queue, faster replies"}
    client.force_login(owner)
    body = client.get(f"/api/v1/load-balancing?{WEEK}").json()
    assert "This agent is drowning. Reassign or reroute." in str(body)


def test_a_lead_keeps_the_controls_and_the_seeds_verdicts(
    client: Client, owner: User, api_store: Store
) -> None:
    build_team(api_store)
    soup, html = opened(client, owner, f"/analytics/?{WEEK}")
    assert soup.select_one("#team-filter") is not None
    assert len(soup.select("table.leaderboard th a.sort")) == len(
        soup.select("table.leaderboard thead th")
    )
    assert text(soup.select_one("#leaderboard-heading")) == "Agent leaderboard"
    assert "This agent is drowning. Reassign or reroute." in html
    assert soup.select_one("[data-quadrant-own]") is None


def test_an_agents_drilldown_and_one_on_one_are_theirs(
    client: Client, agent: User, api_store: Store
) -> None:
    build_team(api_store)
    soup, html = opened(client, agent, f"/analytics/agents/alice/?{WEEK}")
    links = [text(a) for a in soup.select("main a.button")]
    assert "My conversations" in links
    assert "Their conversations" not in links
    assert "Prepare my one-on-one (30 days)" in links
    assert text(soup.select_one("#row-heading")) == "Your row on the leaderboard"

    soup, html = opened(client, agent, f"/analytics/agents/alice/{ONE_ON_ONE}")
    assert text(soup.select_one("h1")) == "My one-on-one"
    assert "Ask what is in their queue" not in html
    assert "Ask why they edit" not in html
    # Faster than the team: no first-response prompt at all.
    assert soup.select_one("[data-prompt=first_response]") is None
    # 0 of her 3 replies as an AI draft as is, against 1 of the people's 8: in her terms.
    assert text(soup.select_one("[data-prompt=ai_assist_as_is]")) == (
        "You send 0.0% (n = 3) of your replies as an AI draft as is; the people on the team "
        "send 12.5% (n = 8). If the drafts miss something, tell your lead what."
    )


def test_the_first_response_prompt_shows_only_when_slower(
    client: Client, owner: User, api_store: Store
) -> None:
    build_team(api_store)
    # Alice is faster than the team (7m against 10m): no prompt.
    soup, html = opened(client, owner, f"/analytics/agents/alice/{ONE_ON_ONE}")
    assert soup.select_one("[data-prompt=first_response]") is None
    assert "Ask what is in their queue" not in html
    # Dave is slower (60 min against 10 min): the lead's prompt, with the numbers.
    soup, _ = opened(client, owner, f"/analytics/agents/dave/{ONE_ON_ONE}")
    assert text(soup.select_one("[data-prompt=first_response]")) == (
        "First-response time higher than the team: 1h 00m (n = 1) against 10m (n = 7) for the "
        "people on the team. Ask what is in their queue."
    )


def test_a_slower_agent_reads_the_prompt_in_their_own_terms(
    client: Client, db: None, api_store: Store
) -> None:
    build_team(api_store)
    soup, html = opened(client, dave(db), f"/analytics/agents/dave/{ONE_ON_ONE}")
    assert text(soup.select_one("[data-prompt=first_response]")) == (
        "Your median first response is 1h 00m (n = 1); for the people on the team it is 10m "
        "(n = 7). Worth telling your lead what is in your queue."
    )
    assert "their queue" not in html


def test_the_first_response_axis_reads_as_durations() -> None:
    axis = charts.first_response({})["layout"]["yaxis"]
    assert axis["type"] == "log"
    assert axis["tickmode"] == "array"
    # Minutes on the axis, labelled as the durations they are.
    assert dict(zip(axis["tickvals"], axis["ticktext"], strict=True)) == {
        0.5: "30s",
        1: "1m",
        5: "5m",
        15: "15m",
        60: "1h",
        240: "4h",
        1440: "1d",
        10080: "1w",
    }


def test_quadrant_labels_fit_a_phone_and_can_be_an_agents_own() -> None:
    lead = charts.load_scatter([], 4.0, 300.0)["layout"]["annotations"]
    # Long corner labels break in two so the two of a row do not run into each other.
    assert [a["text"] for a in lead] == [
        "Context needed",
        "Drowning",
        "Underloaded or<br>fast triage",
        "Reliable<br>workhorse",
    ]
    own = charts.load_scatter([], 4.0, 300.0, {"drowning": "Busier queue, slower replies"})
    assert own["layout"]["annotations"][1]["text"] == "Busier queue,<br>slower replies"


def test_a_point_exactly_on_the_team_middle_is_called_a_close_call() -> None:
    """34 handled against a team middle of 34 is not "busier than most": the page says the
    side of the line is a close call (the demo's Lukas Murphy)."""
    period = named_period("30d", clock.now(), ZoneInfo("UTC"))
    point = LoadPoint("lukas", "Lukas Murphy", 34, 4920.0, 34, "drowning")
    on_line = LoadBalance(period, 34.0, 1020.0, [point], [], own=True)
    assert close_call_text(point, on_line) == (
        "Your 34 handled is exactly the team's middle figure, so this side of the line is "
        "a close call."
    )
    off_line = LoadBalance(period, 30.0, 1020.0, [point], [], own=True)
    assert close_call_text(point, off_line) == ""
