"""A coaching plan from start to finish in a real browser, against a real server.

An agent signs in, opens their performance page, picks one of their "Inquiries to work
on", clicks "Let's build a coaching plan", goes through all seven wizard steps (tripping
the 5-50% check on the way), commits, finds the plan in progress and ticks an action
off. Then an owner (a coach) signs in and finds the plan, with the help asked of them,
on the team's coaching page. Every request stays on the server (no CDN).

It runs on `busy_site` (conftest.py): 30,000 conversations over 100 days, because the
shared `site` gives no agent the 10 contacts on one inquiry that "Inquiries to work on"
asks for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request

from deskpulse import clock
from deskpulse.names import inquiry_label
from tests.browser.conftest import (
    Shot,
    Site,
)

# Generated to the pinned now and read through relative periods (docs/clock.md).
pytestmark = [pytest.mark.slow, pytest.mark.clock]

ACTIONS = ("Use the saved reply for refunds", "Check the order history before answering")
OWN_HELP = "Listen to two of my chats with me on Fridays"


def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    return context, context.new_page()


@pytest.fixture
def agent_page(browser: Browser) -> Iterator[Page]:
    context, page = new_page(browser)
    yield page
    context.close()


@pytest.fixture
def coach_page(browser: Browser) -> Iterator[Page]:
    context, page = new_page(browser)
    yield page
    context.close()


def sign_in(page: Page, site: Site, email: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", site.password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/analytics/"))


def step_is(page: Page, key: str) -> None:
    page.wait_for_url(re.compile(rf"/coaching/new/{key}/$"))
    current = page.locator(".wizard-steps li[aria-current=step]")
    assert current.get_attribute("data-step") == key


def continue_(page: Page) -> None:
    page.click(".wizard-buttons button[value=continue]")


def test_agent_builds_a_plan_and_a_coach_sees_it(
    agent_page: Page, coach_page: Page, busy_site: Site, shot: Shot
) -> None:
    site = busy_site
    page = agent_page
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    sign_in(page, site, site.agent_email)

    # The performance home sends an agent to their own page.
    page.goto(f"{site.url}/performance/")
    page.wait_for_url(re.compile(rf"/performance/agents/{re.escape(site.agent_id)}/"))
    shot(page, "1-performance")
    cards = page.locator("#to-work-on .inquiry-card")
    assert cards.count() >= 1, "the generated agent has no inquiry to work on"
    slug = cards.first.get_attribute("data-inquiry")
    assert slug
    inquiry = inquiry_label(slug)  # pages name inquiries by their display name
    cards.first.locator("a.button").click()
    page.wait_for_url(re.compile(r"/inquiries/"))
    shot(page, "2-inquiry")

    page.get_by_role("link", name="Let's build a coaching plan").click()

    # 1. Metric: the recommended one is preselected; keep it.
    step_is(page, "metric")
    assert inquiry in page.locator(".coaching-subject").inner_text()
    checked = page.locator("input[name=metric]:checked")
    assert checked.count() == 1
    metric = checked.get_attribute("value")
    recommended = page.locator(".metric-choice.recommended input[name=metric]")
    if recommended.count():
        assert recommended.get_attribute("value") == metric
    shot(page, "3-metric")
    continue_(page)

    # 2. Target: 4% is refused with a clear message, 10% shows the target live.
    step_is(page, "target")
    page.fill("#improvement", "4")
    continue_(page)
    page.wait_for_selector(".wizard-error")
    assert "between 5% and 50%" in page.locator(".wizard-error").inner_text()
    assert page.locator("#improvement").input_value() == "4"
    shot(page, "4-target-refused")
    page.fill("#improvement", "10")
    page.wait_for_selector("#target-live .target-value")
    target_text = page.locator("#target-live .target-value").inner_text()
    assert target_text.strip()
    shot(page, "5-target")
    continue_(page)

    # 3. Target date: six weeks from today (inside two weeks to three months).
    step_is(page, "date")
    target_day = (clock.now() + timedelta(days=42)).date()
    page.fill("#target_date", target_day.isoformat())
    shot(page, "6-date")
    continue_(page)

    # 4. Review: poor interactions expand to their details and link to the conversation.
    step_is(page, "review")
    poor = page.locator(".poor-interactions li")
    if poor.count():
        poor.first.locator("summary").click()
        link = poor.first.locator("a", has_text="Open the conversation")
        assert link.is_visible()
        assert "/analytics/conversations/" in (link.get_attribute("href") or "")
    # Estimated handle times (no work logged) are marked, with how they are estimated.
    estimated = page.locator(".poor-interactions summary [data-estimated=handle]")
    if estimated.count():
        assert "estimated from reply times" in (estimated.first.get_attribute("title") or "")
        assert "estimated" in page.locator("#estimate-note").inner_text()
    shot(page, "7-review")
    continue_(page)

    # 5. Actions: two of the agent's own.
    step_is(page, "actions")
    page.fill("#action-1", ACTIONS[0])
    page.fill("#action-2", ACTIONS[1])
    shot(page, "8-actions")
    continue_(page)

    # 6. Assistance: one from the list, one in the agent's own words.
    step_is(page, "assistance")
    first_choice = page.locator("input[name=pick]").first
    picked = first_choice.get_attribute("value")
    assert picked
    first_choice.check()
    page.fill("#own-1", OWN_HELP)
    shot(page, "9-assistance")
    continue_(page)

    # 7. Summary, then commit.
    step_is(page, "summary")
    summary = page.locator(".plan-summary").inner_text()
    for expected in (inquiry, target_text, *ACTIONS, picked, OWN_HELP):
        assert expected in summary, expected
    shot(page, "10-summary")
    page.get_by_role("button", name="I commit to this plan!").click()

    # The plan, in progress; tick the first action off.
    page.wait_for_url(re.compile(r"/coaching/\d+/"))
    plan_path = urlparse(page.url).path
    assert page.locator(".plan-status").inner_text() == "In progress"
    assert page.locator("[data-number=target] .value").inner_text() == target_text
    # A plan that has just begun has no Now yet: Start is the baseline before it.
    assert (
        "no interactions since the plan began yet" in page.locator("[data-number=now]").inner_text()
    )
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "no_now"
    page.wait_for_selector("#chart-progress .main-svg")
    shot(page, "11-plan")
    first_action = page.locator(".plan-actions li").first
    assert not first_action.locator("input[name=done]").is_checked()
    with page.expect_navigation():
        first_action.locator("input[name=done]").check()
    assert page.locator(".plan-actions li").first.locator("input[name=done]").is_checked()
    assert "marked as done" in page.locator(".messages").inner_text()
    shot(page, "12-action-done")

    page.get_by_role("link", name="Coaching", exact=True).click()
    page.wait_for_url(re.compile(r"/coaching/$"))
    in_progress = page.locator("[data-status=in_progress] tr[data-plan]")
    assert in_progress.count() == 1
    assert inquiry in in_progress.first.inner_text()
    shot(page, "13-my-plans")
    outside = [url for url in requests if not url.startswith(site.url)]
    assert outside == []

    # A coach sees the plan and what was asked of them, and can open it.
    sign_in(coach_page, site, site.owner_email)
    coach_page.get_by_role("link", name="Coaching", exact=True).click()
    coach_page.wait_for_url(re.compile(r"/coaching/team/"))
    row = coach_page.locator(f"tr[data-agent='{site.agent_id}']")
    assert row.count() == 1
    text = row.inner_text()
    assert site.agent_name in text
    assert inquiry in text
    assert "In progress" in text
    assert picked in text
    assert OWN_HELP in text
    assert "1 / 2" in text  # actions done
    shot(coach_page, "14-coach-team")
    row.get_by_role("link", name="View details").click()
    coach_page.wait_for_url(re.compile(re.escape(plan_path)))
    assert site.agent_name in coach_page.locator(".lead").inner_text()
    shot(coach_page, "15-coach-plan")
