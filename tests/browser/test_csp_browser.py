"""Every page of the app works under its Content-Security-Policy, in a real browser.

The owner visits every page (analytics, drill-down, one-on-one, conversations, signals,
performance, the coaching wizard and a plan, models, AI agents and their quality report,
experiments, alerts, every settings page, the API docs) on the busy generated site. Any
CSP violation fails the test, whether Chromium reports it in the console ("Content
Security Policy") or as a `securitypolicyviolation` event, and so does any page error.
Charts must still be drawn, and the behaviour moved out of inline scripts (the signals
panel, submit-on-change, the wizard's live target) must still work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect

from deskpulse import clock
from tests.browser.conftest import Shot, Site

# Generated to the pinned now and read through relative periods (docs/clock.md).
pytestmark = [pytest.mark.slow, pytest.mark.clock]

# Installed before any page script: every violation is kept for the test to read.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " refused " +
    (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""
POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


class Watch:
    """A page under watch: CSP violations, console CSP messages and page errors."""

    def __init__(self, page: Page, site: Site) -> None:
        self.page = page
        self.site = site
        self.problems: list[str] = []
        self.visited: list[str] = []
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: page error {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"{self.page.url}: console: {message.text}")

    def open(self, path: str, *, charts: bool = False) -> Page:
        response = self.page.goto(f"{self.site.url}{path}")
        assert response is not None
        self.check(response, charts=charts)
        return self.page

    def check(self, response: Response | None = None, *, charts: bool = False) -> None:
        """The page now shown: served under the policy, drawn, and nothing refused."""
        page = self.page
        page.wait_for_load_state("networkidle")
        if response is not None:
            policy = {
                part.strip() for part in response.headers["content-security-policy"].split(";")
            }
            assert policy >= POLICY, (page.url, policy)
            assert not any("unsafe" in part for part in policy), (page.url, policy)
        if charts:
            expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
        self.problems.extend(
            f"{page.url}: {violation}" for violation in page.evaluate("window.__cspViolations")
        )
        self.visited.append(page.url.removeprefix(self.site.url))
        self.assert_clean()

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def sign_in(watch: Watch, email: str) -> None:
    page = watch.open("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", watch.site.password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/analytics/"))


def agent_to_coach(site: Site) -> str:
    """A human agent with an inquiry to work on: preferably not the site's agent login,
    whose own plans the coaching test counts (which agents qualify depends on the hour
    the data was generated, so the server is asked)."""
    board = site.api("leaderboard?period=90d")
    humans = [row["agent_id"] for row in board["rows"] if row.get("kind") == "human"]
    others = [agent_id for agent_id in humans if agent_id != site.agent_id]
    for agent_id in [*others, site.agent_id]:
        if site.api(f"performance/agents/{agent_id}")["to_work_on"]:
            return str(agent_id)
    raise AssertionError("no generated agent has an inquiry to work on")


def build_a_plan(watch: Watch, agent_id: str, shot: Shot) -> None:
    """Every step of the coaching wizard, as the owner coaching an agent."""
    page = watch.open(f"/performance/agents/{agent_id}/")
    page.locator("#to-work-on .inquiry-card a.button").first.click()
    page.wait_for_url(re.compile(r"/inquiries/"))
    watch.check()
    page.get_by_role("link", name="Let's build a coaching plan").click()

    def step(key: str) -> None:
        page.wait_for_url(re.compile(rf"/coaching/new/{key}/$"))
        watch.check()

    def next_step() -> None:
        page.click(".wizard-buttons button[value=continue]")

    step("metric")
    next_step()
    step("target")
    # The live target comes from coaching-wizard.js (it was an inline script).
    expect(page.locator("button.no-js-only")).to_be_hidden()
    page.fill("#improvement", "10")
    expect(page.locator("#target-live .target-value")).to_be_visible()
    shot(page, "wizard-target")
    next_step()
    step("date")
    page.fill("#target_date", (clock.now() + timedelta(days=5)).date().isoformat())
    expect(page.locator("#date-warning .warning")).to_contain_text("less than two weeks")
    page.fill("#target_date", (clock.now() + timedelta(days=42)).date().isoformat())
    next_step()
    step("review")
    next_step()
    step("actions")
    page.fill("#action-1", "Read the refunds macro again")
    next_step()
    step("assistance")
    page.locator("input[name=pick]").first.check()
    next_step()
    step("summary")
    page.get_by_role("button", name="I commit to this plan!").click()
    page.wait_for_url(re.compile(r"/coaching/\d+/$"))
    watch.check(charts=True)
    # Ticking an action submits its form (data-submit-on-change in app.js).
    with page.expect_navigation():
        page.locator(".plan-actions li input[name=done]").first.check()
    expect(page.locator(".messages")).to_contain_text("marked as done")
    watch.check(charts=True)
    shot(page, "coaching-plan")


def define_an_experiment(watch: Watch) -> None:
    page = watch.open("/experiments/new/")
    page.fill("input[name=key]", "csp-reply-length")
    page.fill("input[name=name]", "Shorter AI replies")
    page.fill("input[name=control]", "control")
    page.fill("input[name=treatment]", "concise")
    page.select_option("select[name=primary_metric]", "ai_resolved_rate")
    page.fill("input[name=start_date]", (clock.now().date() - timedelta(days=35)).isoformat())
    page.get_by_role("button", name="Save experiment").click()
    page.wait_for_url(re.compile(r"/experiments/csp-reply-length/$"))
    watch.check()
    watch.open("/experiments/csp-reply-length/edit/")


def define_an_alert_rule(watch: Watch) -> None:
    page = watch.open("/alerts/new/")
    page.fill("input[name=name]", "CSAT watch")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url(re.compile(r"/alerts/\d+/$"))
    watch.check()
    rule = page.url.removeprefix(watch.site.url)
    watch.open(f"{rule}edit/")


def test_every_page_works_under_the_policy(page: Page, busy_site: Site, shot: Shot) -> None:
    site = busy_site
    watch = Watch(page, site)
    sign_in(watch, site.owner_email)

    # Analytics: the dashboard with its charts and the signals panel fetched by app.js.
    watch.open("/analytics/?period=30d", charts=True)
    expect(page.locator("#signals")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#signals li.signal").first).to_be_visible()
    # Hover labels, the mode bar and "download as PNG" (a data: image) stay allowed.
    page.locator("#chart-volume .nsewdrag").first.hover()
    expect(page.locator("#chart-volume .modebar")).to_be_attached()
    with page.expect_download():
        page.locator("#chart-volume .modebar-btn[data-title^='Download plot']").click()
    watch.check()
    shot(page, "analytics")
    # The team filter submits itself on change (data-submit-on-change in app.js).
    team = page.locator("#team-filter option").nth(1).get_attribute("value")
    assert team
    with page.expect_navigation():
        page.select_option("#team-filter", team)
    assert f"team={team}" in page.url
    watch.check(charts=True)

    agent = site.agent_id
    watch.open(f"/analytics/agents/{agent}/", charts=True)
    shot(page, "drill-down")
    watch.open(f"/analytics/agents/{agent}/one-on-one/")
    watch.open("/analytics/conversations/?period=30d")
    page.locator("table.conversations tbody tr td:first-child a").first.click()
    page.wait_for_url(re.compile(r"/analytics/conversations/[^/?]+/$"))
    watch.check()
    watch.open("/analytics/signals/?period=30d")

    # Performance and coaching.
    watch.open("/performance/")
    watch.open("/coaching/team/")
    watch.open("/coaching/new/")
    build_a_plan(watch, agent_to_coach(site), shot)
    watch.open("/coaching/team/")

    # Models and AI agents.
    watch.open("/models/")
    watch.open("/models/topics/")
    overview = site.api("ai-agents?period=30d")
    watch.open("/ai-agents/?period=30d", charts=True)
    shot(page, "ai-agents")
    watch.open(f"/ai-agents/{overview['agents'][0]['agent_id']}/?period=30d", charts=True)
    watch.open("/ai-agents/quality/")
    watch.open("/ai-agents/quality/?print=1")
    shot(page, "quality-print")

    # Experiments and alerts, with one of each defined through their forms.
    watch.open("/experiments/")
    define_an_experiment(watch)
    watch.open("/alerts/")
    define_an_alert_rule(watch)
    watch.open("/alerts/history/")

    # Settings, the API docs and an unknown page.
    for path in (
        "/settings/users/",
        "/settings/teams/",
        "/settings/tokens/",
        "/settings/business-hours/",
        "/settings/notifications/",
        "/settings/ai-targets/",
    ):
        watch.open(path)
    shot(page, "settings-ai-targets")
    watch.open("/settings/users/")
    shot(page, "settings-users")
    watch.open("/api/v1/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    watch.open("/analytics/no-such-page/")

    watch.assert_clean()
    assert len(watch.visited) >= 40, watch.visited


def test_bars_drawn_without_inline_styles_keep_their_widths(
    page: Page, busy_site: Site, shot: Shot
) -> None:
    """The CSAT spread and AI-assist bars were sized by style="" attributes; now by
    SVG width attributes. The widths still follow the numbers."""
    site = busy_site
    watch = Watch(page, site)
    sign_in(watch, site.owner_email)
    watch.open("/analytics/?period=30d", charts=True)
    card = page.locator("article.score-card").first
    widths: list[tuple[int, float]] = []
    for row in card.locator("tbody tr").all():
        box = row.locator("svg.bar").bounding_box()
        assert box is not None
        responses = int(row.locator("td").first.inner_text().split()[-1].replace(",", ""))
        widths.append((responses, box["width"]))
    # More responses, a longer bar (the longest are capped so the count fits beside).
    ordered = [width for _, width in sorted(widths)]
    assert ordered == sorted(ordered), widths
    assert ordered[-1] > 40, widths
    assert ordered[-1] > ordered[0], widths
    assist = page.locator("table.leaderboard tbody tr[data-agent] .assist").first
    segments = [
        box["width"] for box in (s.bounding_box() for s in assist.locator("svg").all()) if box
    ]
    assert len(segments) == 3
    assert abs(sum(segments) - 120) <= 2, segments
    shot(page, "bars")
    watch.assert_clean()
