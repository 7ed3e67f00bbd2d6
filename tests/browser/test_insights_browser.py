"""Issue 5's pages in a real browser, against a real server, with real numbers.

On the busy generated organisation (`busy_site`: 30,000 conversations over 100 days,
with the generator's planted degrading queue and its `ai-reply-style` experiment):

- the signals panel on /analytics loads, names the planted queue, says the same
  sentences as the API, and its link opens the conversations behind a signal; an agent
  sees the same team-level panel;
- the AI agents page shows the API's numbers, and one AI agent's page opens from it;
- an owner defines the generated experiment in the form, and its result page shows the
  API's verdict, exposures and per-variant numbers, with the lift chart drawn.

Every number is compared with the JSON API on the same server, so a page that renders
but says something else fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from deskpulse import clock
from tests.browser.conftest import Shot, Site

# Generated to the pinned now and read through relative periods (docs/clock.md).
pytestmark = [pytest.mark.slow, pytest.mark.clock]

PLANTED_QUEUE = "inbox-app-chat"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, site: Site, email: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", site.password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/analytics/"))


def _signals_panel(page: Page, api: dict[str, Any]) -> None:
    """The panel (loaded after the page) lists the API's strongest signals, word for word."""
    panel = page.locator("#signals")
    expect(panel).not_to_have_attribute("aria-busy", "true")
    shown = panel.locator("li.signal")
    expect(shown.first).to_be_visible()
    assert shown.count() >= 1
    for index in range(shown.count()):
        item = shown.nth(index)
        expected = api["signals"][index]
        segment = expected["segment"]
        assert item.get_attribute("data-signal") == expected["name"]
        assert item.get_attribute("data-segment") == f"{segment['dimension']}:{segment['value']}"
        assert item.locator(".signal-sentence").inner_text() == expected["sentence"]


def test_signals_panel_points_at_the_planted_queue(page: Page, busy_site: Site, shot: Shot) -> None:
    site = busy_site
    api = site.api("signals?period=30d")
    assert any(s["segment"]["value"] == PLANTED_QUEUE for s in api["signals"]), api
    sign_in(page, site, site.owner_email)
    page.goto(f"{site.url}/analytics/?period=30d")
    _signals_panel(page, api)
    planted = page.locator(f"#signals li.signal[data-segment='inbox:{PLANTED_QUEUE}']").first
    sentence = planted.locator(".signal-sentence").inner_text()
    # Plain words with the sample sizes behind them, not just a score.
    assert re.search(r"n = [\d,]+ now, [\d,]+ before", sentence), sentence
    # The panel sits above the leaderboard (seed 004: the system before the people).
    panel_top = page.locator("#signals").bounding_box()
    leaderboard = page.locator("#leaderboard")
    board_top = leaderboard.bounding_box()
    assert panel_top is not None
    assert board_top is not None
    assert panel_top["y"] < board_top["y"]
    shot(page, "1-panel")

    planted.locator("a", has_text="See the conversations behind it").click()
    page.wait_for_url(re.compile(rf"/analytics/conversations/\?.*inbox={PLANTED_QUEUE}"))
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    shot(page, "2-conversations")

    # An agent sees the same team-level panel: signals are about queues, not people.
    page.context.clear_cookies()
    sign_in(page, site, site.agent_email)
    page.goto(f"{site.url}/analytics/?period=30d")
    _signals_panel(page, api)
    shot(page, "3-agent")


def test_ai_agents_page_shows_the_api_numbers(page: Page, busy_site: Site, shot: Shot) -> None:
    site = busy_site
    api = site.api("ai-agents?period=30d")
    overall = api["overall"]
    assert overall["conversations"]["value"] > 100, overall
    sign_in(page, site, site.owner_email)
    page.goto(f"{site.url}/ai-agents/?period=30d")
    tile = page.locator(".tile[data-metric=conversations] .value")
    assert tile.inner_text().strip() == f"{overall['conversations']['value']:,}"
    handled = page.locator(".tile[data-metric=ai_handled_rate] .value").inner_text()
    assert handled.strip() == f"{overall['ai_handled_rate']['value']:.1%}"
    csat_n = page.locator(".tile[data-metric=csat_mean] .n").inner_text()
    assert csat_n.strip() == f"n = {overall['csat_mean']['n']:,}"
    shot(page, "1-all")

    first = api["agents"][0]
    page.locator(f"tr[data-agent='{first['agent_id']}'] a").first.click()
    page.wait_for_url(re.compile(rf"/ai-agents/{re.escape(first['agent_id'])}/"))
    one = site.api(f"ai-agents/{first['agent_id']}?period=30d")["overall"]
    tile = page.locator(".tile[data-metric=conversations] .value")
    assert tile.inner_text().strip() == f"{one['conversations']['value']:,}"
    shot(page, "2-one")


def test_owner_defines_the_experiment_and_reads_its_result(
    page: Page, busy_site: Site, shot: Shot
) -> None:
    site = busy_site
    sign_in(page, site, site.owner_email)
    page.goto(f"{site.url}/experiments/new/")
    page.fill("input[name=key]", "ai-reply-style")
    page.fill("input[name=name]", "Concise AI replies")
    page.fill("input[name=control]", "control")
    page.fill("input[name=treatment]", "concise")
    page.select_option("select[name=primary_metric]", "ai_resolved_rate")
    page.check("input[name=guardrail_metrics][value=csat_mean]")
    page.check("input[name=guardrail_metrics][value=cost_per_conversation]")
    # The generator exposes web chats of the last 30 days.
    page.fill("input[name=start_date]", (clock.now().date() - timedelta(days=35)).isoformat())
    page.fill("input[name=mde_percent]", "10")
    shot(page, "1-form")
    page.get_by_role("button", name="Save experiment").click()
    page.wait_for_url(re.compile(r"/experiments/ai-reply-style/$"))

    result = site.api("experiments/ai-reply-style")["result"]
    verdict = result["verdict"]
    heading = page.locator("#verdict-heading").inner_text()
    assert heading.lower() == f"recommendation: {verdict['recommendation']}".lower()
    for variant in result["variants"]:
        row = page.locator(f"table.exposures tr[data-variant='{variant['variant']}'] td")
        assert row.nth(0).inner_text().strip() == f"{variant['units']:,}"
        assert variant["units"] > 100, variant
    primary = page.locator("table.experiment-metrics tr[data-metric=ai_resolved_rate]")
    reading = next(m for m in result["metrics"] if m["name"] == "ai_resolved_rate")
    counted = {value["variant"]: value["n"] for value in reading["values"]}
    for variant in result["variants"]:
        cell = primary.locator(f"td[data-variant='{variant['variant']}']").inner_text()
        assert re.search(r"\d+\.\d%", cell), cell
        # AI-resolved matures (8 days): the youngest conversations are not in n yet.
        assert 0 < counted[variant["variant"]] < variant["conversations"], variant
        assert f"n {counted[variant['variant']]:,}" in cell, cell
    assert re.search(r"[+\u2212-]\d+\.\d%", primary.locator("td[data-lift]").inner_text())
    # The cumulative-lift chart is drawn (Plotly, served by the app itself).
    expect(page.locator("#chart-lift .main-svg").first).to_be_visible()
    shot(page, "2-result")
