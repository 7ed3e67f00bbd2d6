"""Coaching plans built through the wizard, with their numbers worked out by hand.

The wizard is driven as a browser without JavaScript drives it: one form per step, Back
and Continue buttons, the draft kept in the session. The numbers come from
tests/web/coaching_scenario.py (see there for the data).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.analysis import coaching as core
from deskpulse.analysis import effectiveness as eff
from deskpulse.events.store import Store
from deskpulse.metrics.format import EMPTY
from deskpulse.metrics.query import Viewer
from deskpulse.web.coaching.models import Plan, PlanProgress
from tests.web.coaching_scenario import (
    BEGAN,
    BEGAN_PARAM,
    CHANNEL,
    INQUIRY,
    Scenario,
    moment_param,
    team_history,
)

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock

TARGET_DAY = "2026-07-15"  # 44 days after June 1: inside two weeks to three months


@pytest.fixture
def scenario(api_store: Store) -> Scenario:
    s = Scenario()
    team_history(s)
    s.load(api_store)
    return s


def soup_of(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text(node: Any) -> str:
    assert node is not None
    return " ".join(node.get_text(" ", strip=True).split())


def start_wizard(
    client: Client, *, agent: str = "alice", inquiry: str = INQUIRY, as_of: str = BEGAN_PARAM
) -> None:
    response = client.get(
        "/coaching/new/", {"agent": agent, "model": CHANNEL, "inquiry": inquiry, "as_of": as_of}
    )
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == "/coaching/new/metric/"


def post_step(client: Client, step: str, data: dict[str, Any], action: str = "continue") -> Any:
    return client.post(f"/coaching/new/{step}/", {**data, "nav": action})


def continues_to(response: Any, step: str) -> None:
    assert response.status_code == 302, soup_of(response).select_one(".wizard-error")
    assert response["Location"] == f"/coaching/new/{step}/"


def error_of(response: Any) -> tuple[str, str]:
    assert response.status_code == 200
    box = soup_of(response).select_one(".wizard-error")
    assert box is not None, "no error shown"
    return str(box["data-field"]), text(box)


def build_plan(
    client: Client,
    *,
    metric: str = "aes_handle_time",
    improvement: str = "20",
    target_date: str = TARGET_DAY,
    actions: tuple[str, ...] = ("Use the refund macro", "Check the invoice before replying"),
    picks: tuple[str, ...] = (core.ASSISTANCE_CHOICES[0],),
    own: tuple[str, ...] = ("Review two calls with me on Fridays",),
    inquiry: str = INQUIRY,
    as_of: str = BEGAN_PARAM,
) -> Plan:
    start_wizard(client, inquiry=inquiry, as_of=as_of)
    continues_to(post_step(client, "metric", {"metric": metric}), "target")
    continues_to(post_step(client, "target", {"improvement": improvement}), "date")
    continues_to(post_step(client, "date", {"target_date": target_date}), "review")
    continues_to(post_step(client, "review", {}), "actions")
    continues_to(post_step(client, "actions", {"action": list(actions)}), "assistance")
    continues_to(
        post_step(client, "assistance", {"pick": list(picks), "own": list(own)}), "summary"
    )
    response = post_step(client, "summary", {}, action="commit")
    assert response.status_code == 302, response.content[:500]
    plan = Plan.objects.get()
    location = urlsplit(response["Location"])
    assert location.path == f"/coaching/{plan.pk}/"
    assert parse_qs(location.query) == {"as_of": [as_of]}
    return plan


# -- the plan's numbers ------------------------------------------------------------------------


def test_start_covers_the_91_days_before_the_plan_and_the_target_is_lower(
    client: Client, agent: User, scenario: Scenario
) -> None:
    client.force_login(agent)
    plan = build_plan(client, metric="aes_handle_time", improvement="20")
    # 600, 600, 900, 900 in the 91 days before June 1, 12:00: 750 s on 4 interactions.
    # Left out: 1,200 s 95 days before, the email (5,000 s), the shipping chat (7,000 s).
    assert (plan.start_value, plan.start_n) == (750.0, 4)
    # Lower is better: 750 x (1 - 0.20) = 600.
    assert plan.direction == "lower"
    assert plan.target_value == pytest.approx(600.0)
    assert plan.target_date == date(2026, 7, 15)
    assert plan.began_at == BEGAN
    assert plan.status == "in_progress"
    # Now at the start: only interactions since the plan began count, and there are none
    # yet. (It used to be the 5 most recent before the start, 840 s: 66% of the way.)
    assert (plan.now_value, plan.now_n, plan.now_interactions) == (None, 0, 0)
    assert plan.now_since_start == 0
    assert plan.change is None
    assert [a.text for a in plan.actions.all()] == [
        "Use the refund macro",
        "Check the invoice before replying",
    ]
    assert [(a.text, a.from_list) for a in plan.assistance.all()] == [
        (core.ASSISTANCE_CHOICES[0], True),
        ("Review two calls with me on Fridays", False),
    ]
    assert plan.created_by == agent

    page = soup_of(client.get(f"/coaching/{plan.pk}/", {"as_of": BEGAN_PARAM}))
    start = page.select_one("[data-number=start]")
    assert text(start.select_one(".value")) == "12m"
    assert "n = 4" in text(start)
    assert "91 days before the plan began" in text(start)
    assert text(page.select_one("[data-number=target] .value")) == "10m"
    now = page.select_one("[data-number=now]")
    assert text(now.select_one(".value")) == EMPTY
    assert "no interactions since the plan began yet" in text(now)
    assert page.select_one("[data-verdict]")["data-verdict"] == "no_now"
    assert text(page.select_one("#progress-heading .n")) == EMPTY  # no progress yet
    assert text(page.select_one(".plan-status")) == "In progress"


def test_now_is_the_20_most_recent_interactions_since_the_start(
    client: Client, agent: User, scenario: Scenario, api_store: Store
) -> None:
    client.force_login(agent)
    plan = build_plan(client, metric="aes_handle_time", improvement="10")
    # After the start: 3 chats at 300 s. Now = those 3, nothing from before the start.
    scenario.chats("alice", BEGAN + timedelta(days=2), [300, 300, 300], every=timedelta(hours=5))
    scenario.load(api_store)
    as_of = moment_param(BEGAN + timedelta(days=3))
    page = soup_of(client.get(f"/coaching/{plan.pk}/", {"as_of": as_of}))
    plan.refresh_from_db()
    assert plan.now_value == 300.0
    assert (plan.now_n, plan.now_interactions, plan.now_since_start) == (3, 3, 3)
    assert text(page.select_one("[data-number=now] .value")) == "5m 00s"
    # 300 s is below the 675 s target, but 3 interactions are not the 20 a plan needs.
    assert plan.status == "in_progress"
    verdict = page.select_one("[data-verdict]")
    assert verdict["data-verdict"] == "too_few"
    assert "Now covers 3 interactions since the plan began" in text(verdict)
    assert "at least 20" in text(verdict)

    # 17 more at 600 s: 20 since the start, mean 555 s meets the 675 s target, but Start
    # is 4 interactions of 600-900 s: the change is inside the usual variation.
    scenario.chats("alice", BEGAN + timedelta(days=3), [600] * 17, every=timedelta(hours=1))
    scenario.load(api_store)
    as_of = moment_param(BEGAN + timedelta(days=5))
    page = soup_of(client.get(f"/coaching/{plan.pk}/", {"as_of": as_of}))
    plan.refresh_from_db()
    assert (plan.now_value, plan.now_interactions) == (555.0, 20)
    assert plan.status == "in_progress"
    assert plan.change == pytest.approx(555 / 750 - 1)
    assert plan.change_low is not None
    assert plan.change_high is not None
    assert plan.change_low < 0 < plan.change_high
    verdict = page.select_one("[data-verdict]")
    assert verdict["data-verdict"] == "within_noise"
    assert text(verdict).startswith(
        "Not yet distinguishable from the usual variation: \u221226% against Start "
        "(99% interval \u2212"
    )

    # 20 more at 120 s: Now reads only these 20, and the change is beyond noise.
    scenario.chats("alice", BEGAN + timedelta(days=6), [120] * 20, every=timedelta(hours=3))
    scenario.load(api_store)
    as_of = moment_param(BEGAN + timedelta(days=10))
    client.get(f"/coaching/{plan.pk}/", {"as_of": as_of})
    plan.refresh_from_db()
    assert (plan.now_value, plan.now_n, plan.now_interactions) == (120.0, 20, 20)
    assert plan.now_since_start == 40
    assert plan.change_high is not None
    assert plan.change_high < 0
    assert plan.status == "achieved"
    assert plan.achieved_at == BEGAN + timedelta(days=10)


def test_now_ignores_interactions_after_the_moment_it_is_taken(
    client: Client, agent: User, scenario: Scenario, api_store: Store
) -> None:
    client.force_login(agent)
    plan = build_plan(client)
    scenario.chats("alice", BEGAN + timedelta(days=10), [60] * 5, every=timedelta(hours=1))
    scenario.load(api_store)
    # Looked at on day 5: the later chats have not happened yet, so there is no Now.
    client.get(f"/coaching/{plan.pk}/", {"as_of": moment_param(BEGAN + timedelta(days=5))})
    plan.refresh_from_db()
    assert (plan.now_value, plan.now_n, plan.now_since_start) == (None, 0, 0)


def test_higher_is_better_target_and_its_cap(
    client: Client, agent: User, scenario: Scenario, api_store: Store
) -> None:
    # Refunds: CSAT 5, 5, 2, 2 -> measured satisfaction 0.5. Returns: 5, 5, 5, 2 -> 0.75.
    for inquiry, scores in (("refunds", [5, 5, 2, 2]), ("returns", [5, 5, 5, 2])):
        for i, csat in enumerate(scores):
            scenario.chat("alice", BEGAN - timedelta(days=30 - i), 400, csat=csat, inquiry=inquiry)
    scenario.load(api_store)
    client.force_login(agent)
    plan = build_plan(client, metric="predicted_satisfaction", improvement="20", inquiry="refunds")
    # Higher is better: 0.5 x (1 + 0.20) = 0.6.
    assert (plan.direction, plan.start_value, plan.start_n) == ("higher", 0.5, 4)
    assert plan.target_value == pytest.approx(0.6)
    Plan.objects.all().delete()

    plan = build_plan(client, metric="predicted_satisfaction", improvement="50", inquiry="returns")
    # 0.75 x 1.5 = 1.125, capped: no probability passes 100%.
    assert plan.start_value == pytest.approx(0.75)
    assert plan.target_value == 1.0
    page = soup_of(client.get(f"/coaching/{plan.pk}/", {"as_of": BEGAN_PARAM}))
    assert text(page.select_one("[data-number=target] .value")) == "100.0%"
    assert text(page.select_one("[data-number=start] .value")) == "75.0%"


def test_target_step_shows_the_target_value(
    client: Client, agent: User, scenario: Scenario
) -> None:
    client.force_login(agent)
    start_wizard(client)
    post_step(client, "metric", {"metric": "aes_handle_time"})
    page = soup_of(client.get("/coaching/new/target/"))
    assert text(page.select_one(".start-value")) == "12m"
    assert "Enter a percentage" in text(page.select_one("#target-live"))
    # Without JavaScript "Show my target" posts the form back and the page shows it.
    response = post_step(client, "target", {"improvement": "10"}, action="preview")
    assert response.status_code == 302
    page = soup_of(client.get("/coaching/new/target/"))
    # 750 x 0.9 = 675 s.
    assert text(page.select_one(".target-value")) == "11m"
    assert page.select_one("#improvement")["value"] == "10"
    # The live preview asks the API, which answers the same.
    body = client.get(
        "/api/v1/coaching/wizard/target",
        {
            "agent": "alice",
            "model": CHANNEL,
            "inquiry": INQUIRY,
            "metric": "aes_handle_time",
            "improvement": "10",
            "as_of": BEGAN_PARAM,
        },
    ).json()
    assert body["target"] == {"value": 675.0, "text": "11m"}
    assert body["start"] == {"value": 750.0, "n": 4, "text": "12m"}


# -- validation ------------------------------------------------------------------------------


def at_step(client: Client, step: str) -> None:
    start_wizard(client)
    order = ["metric", "target", "date", "review", "actions", "assistance"]
    data = {
        "metric": {"metric": "aes_handle_time"},
        "target": {"improvement": "20"},
        "date": {"target_date": TARGET_DAY},
        "review": {},
        "actions": {"action": ["Use the refund macro"]},
        "assistance": {"pick": [core.ASSISTANCE_CHOICES[1]]},
    }
    for key in order[: order.index(step)]:
        assert post_step(client, key, data[key]).status_code == 302


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("4", "choose an improvement between 5% and 50% (you entered 4%)"),
        ("51", "choose an improvement between 5% and 50% (you entered 51%)"),
        ("", "enter an improvement between 5% and 50%"),
        ("ten", "'ten' is not a number: enter a percentage"),
    ],
)
def test_improvement_outside_5_to_50_is_refused_and_kept(
    client: Client, agent: User, scenario: Scenario, typed: str, message: str
) -> None:
    client.force_login(agent)
    at_step(client, "target")
    response = post_step(client, "target", {"improvement": typed})
    field, shown = error_of(response)
    assert field == "improvement"
    assert message in shown
    # What was typed is still in the box, and the next step is not open yet.
    assert soup_of(response).select_one("#improvement")["value"] == typed
    assert client.get("/coaching/new/date/")["Location"] == "/coaching/new/target/"


def test_improvement_edges_5_and_50_are_accepted(
    client: Client, agent: User, scenario: Scenario
) -> None:
    client.force_login(agent)
    at_step(client, "target")
    continues_to(post_step(client, "target", {"improvement": "5"}), "date")
    continues_to(post_step(client, "target", {"improvement": "50"}), "date")


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        ([], "enter at least 1 item"),
        (["", "  "], "enter at least 1 item"),
        (["one", "two", "three", "four"], "enter at most 3 items (you entered 4)"),
    ],
)
def test_actions_need_one_to_three(
    client: Client, agent: User, scenario: Scenario, actions: list[str], message: str
) -> None:
    client.force_login(agent)
    at_step(client, "actions")
    response = post_step(client, "actions", {"action": actions})
    field, shown = error_of(response)
    assert field == "actions"
    assert message in shown
    values = [i["value"] for i in soup_of(response).select("input[name=action]")]
    assert values[: len(actions)] == actions
    continues_to(post_step(client, "actions", {"action": ["one", "", "three"]}), "assistance")


@pytest.mark.parametrize(
    ("picks", "own", "message"),
    [
        ([], ["", ""], "enter at least 1 item"),
        (list(core.ASSISTANCE_CHOICES[:3]), ["and one more"], "enter at most 3 items"),
    ],
)
def test_assistance_needs_one_to_three(
    client: Client,
    agent: User,
    scenario: Scenario,
    picks: list[str],
    own: list[str],
    message: str,
) -> None:
    client.force_login(agent)
    at_step(client, "assistance")
    response = post_step(client, "assistance", {"pick": picks, "own": own})
    field, shown = error_of(response)
    assert field == "assistance"
    assert message in shown
    checked = [i["value"] for i in soup_of(response).select("input[name=pick][checked]")]
    assert checked == picks


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026-06-01", "choose a date after today"),
        ("2026-05-20", "choose a date after today"),
        ("", "choose the date you aim to reach the target by"),
        ("next week", "'next week' is not a date"),
    ],
)
def test_target_date_must_be_in_the_future(
    client: Client, agent: User, scenario: Scenario, typed: str, message: str
) -> None:
    client.force_login(agent)
    at_step(client, "date")
    field, shown = error_of(post_step(client, "date", {"target_date": typed}))
    assert field == "target_date"
    assert message in shown


@pytest.mark.parametrize(
    ("typed", "warning"),
    [
        ("2026-06-02", "only 1 day away. We recommend at least 2 weeks"),
        ("2026-06-14", "only 13 days away"),
        ("2026-09-02", "93 days away. We recommend at most 3 months"),
        ("2027-03-01", "273 days away"),
    ],
)
def test_dates_outside_two_weeks_to_three_months_warn_but_continue(
    client: Client, agent: User, scenario: Scenario, typed: str, warning: str
) -> None:
    client.force_login(agent)
    at_step(client, "date")
    response = post_step(client, "date", {"target_date": typed})
    continues_to(response, "review")
    page = soup_of(client.get("/coaching/new/review/"))
    assert warning in text(page.select_one(".messages .warning"))


@pytest.mark.parametrize("typed", ["2026-06-15", "2026-09-01"])
def test_dates_inside_two_weeks_to_three_months_do_not_warn(
    client: Client, agent: User, scenario: Scenario, typed: str
) -> None:
    client.force_login(agent)
    at_step(client, "date")
    continues_to(post_step(client, "date", {"target_date": typed}), "review")
    assert soup_of(client.get("/coaching/new/review/")).select_one(".messages") is None


def test_back_keeps_everything_typed(client: Client, agent: User, scenario: Scenario) -> None:
    client.force_login(agent)
    at_step(client, "actions")
    # Back from actions with two typed (and not validated): they are kept.
    response = post_step(
        client, "actions", {"action": ["Draft a checklist", "Ask Bob"]}, action="back"
    )
    assert response["Location"] == "/coaching/new/review/"
    assert post_step(client, "review", {}, action="back")["Location"] == "/coaching/new/date/"
    page = soup_of(client.get("/coaching/new/date/"))
    assert page.select_one("#target_date")["value"] == TARGET_DAY
    page = soup_of(client.get("/coaching/new/actions/"))
    assert [i["value"] for i in page.select("input[name=action]")] == [
        "Draft a checklist",
        "Ask Bob",
        "",
    ]
    # The step list links back to every step already reached, none further.
    links = [a["href"] for a in page.select(".wizard-steps a")]
    assert links == [f"/coaching/new/{key}/" for key in ("metric", "target", "date", "review")]


def test_steps_cannot_be_skipped(client: Client, agent: User, scenario: Scenario) -> None:
    client.force_login(agent)
    start_wizard(client)
    assert client.get("/coaching/new/summary/")["Location"] == "/coaching/new/metric/"
    response = post_step(client, "summary", {}, action="commit")
    assert response["Location"] == "/coaching/new/metric/"
    assert not Plan.objects.exists()


def test_every_step_renders_what_seed_002_describes(
    client: Client, agent: User, scenario: Scenario
) -> None:
    client.force_login(agent)
    start_wizard(client)
    page = soup_of(client.get("/coaching/new/metric/"))
    radios = {i["value"]: i for i in page.select("input[name=metric]")}
    assert set(radios) == set(eff.EFFECTIVENESS_METRICS)
    assert [li["data-step"] for li in page.select(".wizard-steps li")] == [
        "metric",
        "target",
        "date",
        "review",
        "actions",
        "assistance",
        "summary",
    ]
    post_step(client, "metric", {"metric": "aes_handle_time"})
    post_step(client, "target", {"improvement": "20"})
    post_step(client, "date", {"target_date": TARGET_DAY})

    # Review: alice's billing chats of the last 3 months, longest handle time first,
    # each expanding to its details and linking to the conversation.
    page = soup_of(client.get("/coaching/new/review/"))
    rows = page.select(".poor-interactions li")
    expected = [c for c in scenario_chats(scenario) if c[1] in {900, 600}]
    assert [r["data-conversation"] for r in rows] == [cid for cid, _ in expected]
    first = rows[0]
    assert first.select_one("details summary") is not None
    assert first.select_one("a")["href"] == f"/analytics/conversations/{expected[0][0]}/"
    assert "15m" in text(first.select_one("summary"))
    post_step(client, "review", {})

    page = soup_of(client.get("/coaching/new/actions/"))
    assert len(page.select("input[name=action]")) == 3
    post_step(client, "actions", {"action": ["Use the refund macro"]})
    page = soup_of(client.get("/coaching/new/assistance/"))
    assert [i["value"] for i in page.select("input[name=pick]")] == list(core.ASSISTANCE_CHOICES)
    assert len(page.select("input[name=own]")) == 3
    post_step(
        client, "assistance", {"pick": [core.ASSISTANCE_CHOICES[2]], "own": ["Pair on Mondays"]}
    )

    page = soup_of(client.get("/coaching/new/summary/"))
    summary = text(page.select_one(".plan-summary"))
    for expected_text in (
        "Billing",  # the inquiry's display name; its slug is in the tooltip
        "Average handle time",
        "12m",
        "20%",
        "10m",
        "Jul 15, 2026",
        "Use the refund macro",
        core.ASSISTANCE_CHOICES[2],
        "Pair on Mondays",
    ):
        assert expected_text in summary
    assert text(page.select_one("button.commit")) == "I commit to this plan!"


def scenario_chats(scenario: Scenario) -> list[tuple[str, float]]:
    """Alice's billing chats on chat in the 3 months before the start, worst handle first
    (ties newest first), as the review step lists them."""
    events = scenario.f.events
    created = {
        e["conversation_id"]: e
        for e in events
        if e["type"] == "conversation.created"
        and e["inquiry"] == INQUIRY
        and e["channel"] == CHANNEL
        and e["conversation_id"].startswith("alice-")
    }
    seconds = {
        e["conversation_id"]: e["seconds"]
        for e in events
        if e["type"] == "work.logged" and e["conversation_id"] in created
    }
    inside = [
        (cid, seconds[cid], created[cid]["occurred_at"])
        for cid in created
        if created[cid]["occurred_at"] >= (BEGAN - timedelta(days=90)).isoformat()
        and created[cid]["occurred_at"] < BEGAN.isoformat()
    ]
    inside.sort(key=lambda row: row[2], reverse=True)
    inside.sort(key=lambda row: row[1], reverse=True)
    return [(cid, value) for cid, value, _ in inside]


def test_the_recommended_metric_is_preselected_and_can_be_changed(
    client: Client, agent: User, api_store: Store
) -> None:
    s = Scenario()
    # Ten billing chats each for four agents (quartiles need four): alice slow, the others
    # quick, all satisfied and resolved, so alice's largest gap to the top quarter is her
    # handle time.
    for name, seconds in (("alice", 1500), ("bob", 300), ("carol", 320), ("dave", 400)):
        s.chats(name, BEGAN - timedelta(days=40), [seconds] * 10, every=timedelta(days=2))
    s.load(api_store)
    detail = eff.inquiry_detail(
        api_store,
        Viewer(agent_id="alice"),
        "alice",
        channel=CHANNEL,
        inquiry=INQUIRY,
        window=eff.performance_window("3m", as_of=BEGAN),
    )
    assert detail.recommendation.metric == "aes_handle_time"
    client.force_login(agent)
    start_wizard(client)
    page = soup_of(client.get("/coaching/new/metric/"))
    checked = page.select_one("input[name=metric][checked]")
    assert checked["value"] == "aes_handle_time"
    recommended = page.select_one(".metric-choice.recommended")
    assert "Recommended" in text(recommended)
    assert "aes_handle_time" in str(recommended)
    # Changing it is kept: coming back to the step shows the new choice.
    continues_to(post_step(client, "metric", {"metric": "effectiveness_score"}), "target")
    page = soup_of(client.get("/coaching/new/metric/"))
    assert page.select_one("input[name=metric][checked]")["value"] == "effectiveness_score"
    field, _message = error_of(post_step(client, "metric", {"metric": "csat_mean"}))
    assert field == "metric"


def _estimated_alice(api_store: Store) -> None:
    """Alice's billing chats have no work logged: each reply came 25 minutes after the
    customer wrote, so each handle time is the 15-minute estimate (the cap), against the
    others' logged 5 minutes. Two of her ten customers were not satisfied."""
    s = Scenario()
    for i in range(10):
        at = BEGAN - timedelta(days=40) + i * timedelta(days=2)
        s.chat("alice", at, 1500, csat=2 if i in (3, 4) else 5, logged=False)
    for name, seconds in (("bob", 300), ("carol", 320), ("dave", 400)):
        s.chats(name, BEGAN - timedelta(days=40), [seconds] * 10, every=timedelta(days=2))
    s.load(api_store)


def test_handle_time_is_not_recommended_when_mostly_estimated(
    client: Client, agent: User, api_store: Store
) -> None:
    _estimated_alice(api_store)
    detail = eff.inquiry_detail(
        api_store,
        Viewer(agent_id="alice"),
        "alice",
        channel=CHANNEL,
        inquiry=INQUIRY,
        window=eff.performance_window("3m", as_of=BEGAN),
    )
    # The score's own rule picks handle time: 900 s against the others' 300-400 s.
    assert detail.recommendation.metric == "aes_handle_time"
    client.force_login(agent)
    start_wizard(client)
    page = soup_of(client.get("/coaching/new/metric/"))
    # All ten are estimates: the wizard recommends satisfaction instead, and says why.
    assert page.select_one("input[name=metric][checked]")["value"] == "predicted_satisfaction"
    assert "predicted_satisfaction" in str(page.select_one(".metric-choice.recommended"))
    explanation = text(page.select_one(".recommendation"))
    assert "100% of your handle times on this inquiry (10 of 10) are estimated" in explanation
    # The API's wizard answers the same.
    body = client.get(
        "/api/v1/coaching/wizard",
        {"model": CHANNEL, "inquiry": INQUIRY, "as_of": BEGAN_PARAM},
    ).json()
    assert body["recommended_metric"] == "predicted_satisfaction"


def test_review_step_marks_estimated_handle_times(
    client: Client, agent: User, api_store: Store
) -> None:
    _estimated_alice(api_store)
    client.force_login(agent)
    start_wizard(client)
    continues_to(post_step(client, "metric", {"metric": "aes_handle_time"}), "target")
    continues_to(post_step(client, "target", {"improvement": "10"}), "date")
    continues_to(post_step(client, "date", {"target_date": TARGET_DAY}), "review")
    page = soup_of(client.get("/coaching/new/review/"))
    rows = page.select(".poor-interactions li")
    assert len(rows) == 10
    for row in rows:
        summary = text(row.select_one("summary"))
        assert "Handle time: ≈ 15m" in summary
        assert "handle time estimated" in summary
        flag = row.select_one("[data-estimated=handle]")
        assert "estimated from reply times" in flag["title"]
        assert "up to 15m" in flag["title"]
        assert "estimated" in text(row.select_one(".interaction-detail dd"))
    note = page.select_one("#estimate-note")
    assert "10 of these 10 handle times are estimated" in text(note)


def test_review_step_leaves_logged_handle_times_unmarked(
    client: Client, agent: User, scenario: Scenario
) -> None:
    client.force_login(agent)
    start_wizard(client)
    continues_to(post_step(client, "metric", {"metric": "aes_handle_time"}), "target")
    continues_to(post_step(client, "target", {"improvement": "10"}), "date")
    continues_to(post_step(client, "date", {"target_date": TARGET_DAY}), "review")
    page = soup_of(client.get("/coaching/new/review/"))
    assert page.select(".poor-interactions li")
    assert page.select("[data-estimated]") == []
    assert page.select_one("#estimate-note") is None
    assert "≈" not in text(page.select_one(".poor-interactions"))


# -- after committing ----------------------------------------------------------------------------


def test_plan_lists_and_history(
    client: Client, agent: User, scenario: Scenario, api_store: Store
) -> None:
    client.force_login(agent)
    plan = build_plan(client, improvement="10", target_date="2026-06-20")
    page = soup_of(client.get("/coaching/", {"as_of": BEGAN_PARAM}))
    rows = page.select("[data-status=in_progress] tr[data-plan]")
    assert [r["data-plan"] for r in rows] == [str(plan.pk)]
    assert "View details" in text(rows[0])
    assert page.select("[data-status=achieved] tr[data-plan]") == []
    assert page.select("[data-status=expired] tr[data-plan]") == []

    # A day's point per refresh; the same day is overwritten, not added.
    client.get(f"/coaching/{plan.pk}/", {"as_of": moment_param(BEGAN + timedelta(hours=1))})
    client.get(f"/coaching/{plan.pk}/", {"as_of": moment_param(BEGAN + timedelta(days=1))})
    points = list(PlanProgress.objects.filter(plan=plan).values_list("day", "value", "n"))
    assert points == [(date(2026, 6, 1), None, 0), (date(2026, 6, 2), None, 0)]

    # The target date passes with no change: expired, and listed so.
    page = soup_of(client.get("/coaching/", {"as_of": "2026-06-21T09:00:00+00:00"}))
    plan.refresh_from_db()
    assert plan.status == "expired"
    assert plan.achieved_at is None
    assert [r["data-plan"] for r in page.select("[data-status=expired] tr[data-plan]")] == [
        str(plan.pk)
    ]
    # Expired plans are finished: later views change nothing.
    scenario.chats("alice", BEGAN + timedelta(days=25), [60] * 6, every=timedelta(hours=1))
    scenario.load(api_store)
    client.get(f"/coaching/{plan.pk}/", {"as_of": "2026-07-01T09:00:00+00:00"})
    plan.refresh_from_db()
    assert plan.status == "expired"
    assert PlanProgress.objects.filter(plan=plan).count() == 3


def test_reaching_the_target_on_the_target_date_counts(
    client: Client, agent: User, scenario: Scenario, api_store: Store
) -> None:
    client.force_login(agent)
    plan = build_plan(client, improvement="20", target_date="2026-06-20")
    scenario.chats("alice", BEGAN + timedelta(days=18), [120] * 20, every=timedelta(minutes=30))
    scenario.load(api_store)
    # 20 interactions since the start at 120 s <= the 600 s target, beyond noise.
    page = soup_of(client.get(f"/coaching/{plan.pk}/", {"as_of": "2026-06-20T20:00:00+00:00"}))
    plan.refresh_from_db()
    assert (plan.status, plan.now_since_start) == ("achieved", 20)
    assert plan.now_value == 120.0
    assert text(page.select_one(".plan-status")) == "Achieved"
    # Achieved stays achieved, even when Now slips back and the date passes.
    scenario.chats("alice", BEGAN + timedelta(days=22), [3000] * 10, every=timedelta(hours=2))
    scenario.load(api_store)
    client.get(f"/coaching/{plan.pk}/", {"as_of": "2026-07-01T09:00:00+00:00"})
    plan.refresh_from_db()
    assert plan.status == "achieved"
    page = soup_of(client.get("/coaching/", {"as_of": "2026-07-01T09:00:00+00:00"}))
    assert [r["data-plan"] for r in page.select("[data-status=achieved] tr[data-plan]")] == [
        str(plan.pk)
    ]


def test_actions_are_checked_off_and_on_again(
    client: Client, agent: User, scenario: Scenario
) -> None:
    client.force_login(agent)
    plan = build_plan(client)
    first, second = plan.actions.all()
    response = client.post(f"/coaching/{plan.pk}/actions/{first.pk}/", {"done": "1"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.done
    assert first.done_at is not None
    page = soup_of(client.get(f"/coaching/{plan.pk}/", {"as_of": BEGAN_PARAM}))
    boxes = page.select(".plan-actions input[name=done]")
    assert [b.has_attr("checked") for b in boxes] == [True, False]
    # Unticked: the form sends no `done`.
    client.post(f"/coaching/{plan.pk}/actions/{first.pk}/", {})
    first.refresh_from_db()
    assert not first.done
    assert first.done_at is None
    # The forms carry the CSRF token (a browser post without it is refused).
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert (
        strict.post(f"/coaching/{plan.pk}/actions/{second.pk}/", {"done": "1"}).status_code == 403
    )
    assert page.select_one(".plan-actions form input[name=csrfmiddlewaretoken]") is not None


def test_plan_page_chart_and_assistance(client: Client, agent: User, scenario: Scenario) -> None:
    client.force_login(agent)
    plan = build_plan(client)
    response = client.get(f"/coaching/{plan.pk}/", {"as_of": BEGAN_PARAM})
    page = soup_of(response)
    assert page.select_one("script[src='/static/plotly/plotly.min.js']") is not None
    assert page.select_one("#chart-progress") is not None
    figures = response.context["figures"]["chart-progress"]
    names = [trace["name"] for trace in figures["data"]]
    assert names == ["Now (20 most recent since the start)", "Start", "Target"]
    # Durations are drawn in minutes: no Now on the first day, target 600 s.
    assert figures["data"][0]["y"] == [None]
    assert figures["data"][2]["y"] == [10.0, 10.0]
    asked = [text(li) for li in page.select(".plan-assistance li")]
    assert asked == [core.ASSISTANCE_CHOICES[0], "Review two calls with me on Fridays (own idea)"]


def test_a_metric_without_a_start_value_cannot_be_chosen(
    client: Client, agent: User, scenario: Scenario, api_store: Store
) -> None:
    # Warranty chats without a survey: no satisfaction, so nothing to improve on.
    scenario.chats(
        "alice",
        BEGAN - timedelta(days=10),
        [500, 500],
        every=timedelta(days=1),
        inquiry="warranty",
        csat=None,
    )
    scenario.load(api_store)
    client.force_login(agent)
    start_wizard(client, inquiry="warranty")
    page = soup_of(client.get("/coaching/new/metric/"))
    assert page.select_one("input[value=predicted_satisfaction]").has_attr("disabled")
    field, shown = error_of(post_step(client, "metric", {"metric": "predicted_satisfaction"}))
    assert field == "metric"
    assert "no starting point" in shown
    continues_to(post_step(client, "metric", {"metric": "aes_handle_time"}), "target")


def test_performance_page_focus_agrees_with_the_wizard_and_marks_estimates(
    client: Client, agent: User, api_store: Store
) -> None:
    """The inquiry page's "Recommended focus" and its API twin move off handle time as the
    wizard does, and its recent interactions mark estimated handle times with ≈."""
    _estimated_alice(api_store)
    client.force_login(agent)
    query = {"model": CHANNEL, "as_of": BEGAN_PARAM}
    page = soup_of(client.get(f"/performance/agents/alice/inquiries/{INQUIRY}/", query))
    assert page.select_one(".focus")["data-recommended"] == "predicted_satisfaction"
    assert "(10 of 10) are estimated" in text(page)
    summaries = [text(s) for s in page.select(".examples summary")]
    assert summaries
    assert all("handle time ≈ 15m" in s for s in summaries)
    flag = page.select_one(".examples .flag")
    assert "estimated from reply times" in flag["title"]
    assert "≈ estimated:" in text(page.select_one(".estimate-note"))
    body = client.get(f"/api/v1/performance/agents/alice/inquiries/{INQUIRY}", query).json()
    assert body["recommendation"]["metric"] == "predicted_satisfaction"
