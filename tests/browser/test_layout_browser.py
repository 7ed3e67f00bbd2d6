"""Phone width and layout on every page (issue 16, part 6), in a real browser.

At 390 px no page an owner or an agent can open is wider than the screen (wide tables
scroll inside their card and say so with a "scroll →" hint); at 1280 px the top bar stays
on one line, also for an agent's longer navigation; the first-response chart's log axis
reads as durations. Screenshots of the pages issue 16 changed are saved at 390 px
(test-artifacts/screenshots/layout_*).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from deskpulse import clock
from tests.browser.conftest import Shot, Site

# Generated to the pinned now and read through relative periods (docs/clock.md).
pytestmark = [pytest.mark.slow, pytest.mark.clock]

# Elements that reach past the right edge and are not clipped by a scrolling wrapper (an
# absolutely positioned element escapes a wrapper that is not its containing block):
# what makes the page scroll sideways, named for the failure message.
BEYOND_THE_EDGE = """limit => {
    const clipped = e => {
        let absolute = ["absolute", "fixed"].includes(getComputedStyle(e).position);
        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
            const style = getComputedStyle(a);
            if (absolute && style.position !== "static") absolute = false;
            if (!absolute && style.overflowX !== "visible") return true;
        }
        return false;
    };
    const found = new Set();
    for (const e of document.querySelectorAll("body *")) {
        if (e.getBoundingClientRect().right > limit && !clipped(e)) {
            const parent = e.parentElement;
            found.add(`${e.tagName.toLowerCase()}.${e.getAttribute("class") || ""}`
                + ` (position: ${getComputedStyle(e).position}) in ${parent.tagName.toLowerCase()}`
                + `[data-column=${parent.getAttribute("data-column") || ""}]`
                + ` reaching x=${Math.round(e.getBoundingClientRect().right)}px`);
        }
    }
    return [...found].slice(0, 5);
}"""
PHONE = 390
DESKTOP = 1280
EXPERIMENT = "ai-reply-style"  # the generator's experiment (deskpulse.generator.EXPERIMENT)

# Every page of web/urls.py a person opens with a plain GET, by role (an agent's own pages
# only: the others answer 403 or 404 for them). {agent}, {ai_agent}, {conversation} and
# {inquiry} are filled in from the site.
OWNER_PAGES = (
    "/analytics/",
    "/analytics/agents/{agent}/",
    "/analytics/agents/{agent}/one-on-one/",
    "/analytics/conversations/",
    "/analytics/conversations/{conversation}/",
    "/analytics/signals/",
    "/performance/",
    "/performance/agents/{agent}/",
    "/performance/agents/{agent}/inquiries/{inquiry}/",
    "/coaching/",
    "/coaching/team/",
    "/models/",
    "/models/topics/",
    "/ai-agents/",
    "/ai-agents/quality/",
    "/ai-agents/{ai_agent}/",
    "/experiments/",
    "/experiments/new/",
    f"/experiments/{EXPERIMENT}/",
    f"/experiments/{EXPERIMENT}/edit/",
    "/alerts/",
    "/alerts/new/",
    "/alerts/history/",
    "/settings/users/",
    "/settings/teams/",
    "/settings/tokens/",
    "/settings/business-hours/",
    "/settings/ai-targets/",
    "/settings/notifications/",
    "/settings/connectors/",
    "/settings/data-health/",
)
AGENT_PAGES = (
    "/analytics/",
    "/analytics/agents/{agent}/",
    "/analytics/agents/{agent}/one-on-one/",
    "/analytics/conversations/",
    "/analytics/conversations/{conversation}/",
    "/analytics/signals/",
    "/performance/",
    "/performance/agents/{agent}/inquiries/{inquiry}/",
    "/coaching/",
    "/models/",
    "/ai-agents/",
    "/experiments/",
    f"/experiments/{EXPERIMENT}/",
    "/settings/tokens/",
)
# The pages issue 16 changed, screenshotted at 390 px.
SCREENSHOTS = {
    "/analytics/": "analytics",
    "/analytics/agents/{agent}/": "drilldown",
    "/analytics/agents/{agent}/one-on-one/": "one-on-one",
    f"/experiments/{EXPERIMENT}/": "experiment",
}


def sign_in(page: Page, site: Site, email: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", site.password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/analytics/"))


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport={"width": PHONE, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": DESKTOP, "height": 900})
    context.set_default_timeout(30_000)
    yield context
    context.close()


def ensure_experiment(page: Page, site: Site) -> None:
    """The generator's experiment, defined once per site (the experiment page with its
    exposures table is one of the pages that broke out of its card)."""
    found = page.goto(f"{site.url}/experiments/{EXPERIMENT}/")
    assert found is not None
    if found.status == 200:
        return
    page.goto(f"{site.url}/experiments/new/")
    page.fill("input[name=key]", EXPERIMENT)
    page.fill("input[name=name]", "Concise AI replies")
    page.fill("input[name=control]", "control")
    page.fill("input[name=treatment]", "concise")
    page.select_option("select[name=primary_metric]", "ai_resolved_rate")
    page.check("input[name=guardrail_metrics][value=csat_mean]")
    # The generator exposes web chats of the last 30 days.
    page.fill("input[name=start_date]", (clock.now().date() - timedelta(days=35)).isoformat())
    page.get_by_role("button", name="Save experiment").click()
    page.wait_for_url(re.compile(rf"/experiments/{EXPERIMENT}/$"))


def first_link(page: Page, url: str, selector: str, pattern: str) -> str:
    """The path segment `pattern` captures from the first link `selector` finds on `url`."""
    page.goto(url)
    for href in page.locator(selector).evaluate_all("links => links.map(a => a.pathname)"):
        matched = re.fullmatch(pattern, href)
        if matched:
            return matched.group(1)
    raise AssertionError(f"no link like {pattern} on {url}")


def ids(page: Page, site: Site) -> dict[str, str]:
    """What the page list's placeholders name, read from the pages the signed-in person
    sees (the agent's own conversations and inquiries, so both roles may open them)."""
    return {
        "agent": site.agent_id,
        "conversation": first_link(
            page,
            f"{site.url}/analytics/conversations/?agent={site.agent_id}",
            "table.conversations tbody a",
            r"/analytics/conversations/([^/]+)/",
        ),
        "inquiry": first_link(
            page,
            f"{site.url}/performance/agents/{site.agent_id}/?window=3m",
            "a[href*='/inquiries/']",
            rf"/performance/agents/{re.escape(site.agent_id)}/inquiries/(.+)/",
        ),
    }


def too_wide(page: Page, site: Site, paths: list[str], shot: Shot, who: str) -> dict[str, object]:
    """Each page's width at 390 px, and what reaches past the edge, for those wider than
    the screen."""
    wide: dict[str, object] = {}
    for path in paths:
        response = page.goto(f"{site.url}{path}")
        assert response is not None
        assert response.status == 200, path
        # goto waits for "load": the charts are drawn by then (deferred scripts). Only
        # the dashboard's signals panel arrives later, by fetch.
        if path == "/analytics/":
            page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE:
            wide[path] = (width, page.evaluate(BEYOND_THE_EDGE, PHONE + 1))
        for template, step in SCREENSHOTS.items():
            if path == template.format(agent=site.agent_id):
                shot(page, f"{who}-{step}-390px")
    return wide


def test_no_page_is_wider_than_a_phone(phone: BrowserContext, site: Site, shot: Shot) -> None:
    page = phone.new_page()
    sign_in(page, site, site.owner_email)
    ensure_experiment(page, site)
    found = ids(page, site)
    found["ai_agent"] = first_link(
        page, f"{site.url}/ai-agents/", "table a", r"/ai-agents/((?!quality)[^/]+)/"
    )
    owner = too_wide(page, site, [p.format(**found) for p in OWNER_PAGES], shot, "owner")

    agent_page = phone.new_page()
    page.context.clear_cookies()
    sign_in(agent_page, site, site.agent_email)
    agent = too_wide(agent_page, site, [p.format(**found) for p in AGENT_PAGES], shot, "agent")
    assert not owner, f"owner's pages wider than {PHONE} px: {owner}"
    assert not agent, f"agent's pages wider than {PHONE} px: {agent}"


def test_wide_tables_say_they_scroll(phone: BrowserContext, site: Site, shot: Shot) -> None:
    page = phone.new_page()
    sign_in(page, site, site.owner_email)
    page.goto(f"{site.url}/analytics/")
    wrapper = page.locator("#leaderboard .table-wrap")
    assert wrapper.evaluate("e => getComputedStyle(e).overflowX") in ("auto", "scroll")
    assert wrapper.evaluate("e => e.scrollWidth > e.clientWidth")  # 10 columns at 390 px
    hint = page.locator("#leaderboard .scroll-hint")
    assert hint.is_visible()
    assert hint.inner_text().strip() == "scroll \u2192"
    hint.scroll_into_view_if_needed()
    shot(page, "leaderboard-hint-390px")
    # A table that fits says nothing: "Who is where" (four columns), once opened on a
    # wide screen. The hint follows the resize and the opening.
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.locator("#load-balancing details summary").click()
    who_is_where = page.locator("#load-balancing details .table-wrap")
    expect(who_is_where).to_be_visible()
    assert who_is_where.evaluate("e => e.scrollWidth <= e.clientWidth")
    expect(page.locator("#load-balancing details .scroll-hint")).to_be_hidden()


def test_the_top_bar_stays_on_one_line_at_1280(desktop: BrowserContext, site: Site) -> None:
    for email in (site.agent_email, site.owner_email):
        page = desktop.new_page()
        sign_in(page, site, email)
        # The links are the same on every page; only the current one is bold.
        for path in ("/experiments/", "/settings/tokens/"):
            page.goto(f"{site.url}{path}")
            rows = page.evaluate(
                """() => new Set([...document.querySelectorAll(
                    '.topbar > .brand, .topbar nav li, .topbar .signout')]
                    .map(e => { const r = e.getBoundingClientRect();
                                return Math.round((r.top + r.bottom) / 2 / 10); })).size"""
            )
            assert rows == 1, f"{email}'s top bar wraps onto {rows} lines on {path}"
            # On one line, and nothing drawn over anything else: the last link ends
            # before the signed-in address begins (the address gives way, not the nav).
            gap = page.evaluate(
                """() => document.querySelector('.topbar .who').getBoundingClientRect().left
                    - [...document.querySelectorAll('.topbar nav li')].pop()
                        .getBoundingClientRect().right"""
            )
            assert gap >= 0, f"{email}'s navigation runs {-gap:.0f} px under the address on {path}"
        page.context.clear_cookies()
        page.close()


def test_the_first_response_axis_reads_as_durations(
    desktop: BrowserContext, site: Site, shot: Shot
) -> None:
    page = desktop.new_page()
    sign_in(page, site, site.owner_email)
    page.goto(f"{site.url}/analytics/?period=30d")
    chart = page.locator("#chart-first-response")
    chart.locator(".ytick text").first.wait_for()
    ticks = chart.locator(".ytick text").evaluate_all("texts => texts.map(t => t.textContent)")
    assert len(ticks) >= 2, ticks
    assert all(re.fullmatch(r"\d+(s|m|h|d|w)", tick) for tick in ticks), ticks
    chart.scroll_into_view_if_needed()
    shot(page, "first-response-axis")
