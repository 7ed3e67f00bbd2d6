"""The /analytics pages in a real browser, against a real server.

Signing in, changing the period, sorting the leaderboard, drilling down to an agent,
their conversations and one conversation's timeline, exporting the leaderboard; an
agent seeing only their own row; and no request leaving the server (everything is
served locally: no CDN). Phone widths: test_layout_browser.py.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, Request

from tests.browser.conftest import Shot, Site

# Generated to the pinned now and read through relative periods (docs/clock.md).
pytestmark = [pytest.mark.slow, pytest.mark.clock]

EMPTY = "\u2013"  # the en dash the pages show for "no sample"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(20_000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, site: Site, email: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", site.password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/analytics/"))


def tile_value(page: Page, metric: str) -> str:
    return page.locator(f"article.tile[data-metric={metric}] .value a").inner_text().strip()


def as_number(text: str) -> float:
    return float(text.replace(",", "").replace("\u202f", "").strip())


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def leaderboard_names(page: Page) -> list[str]:
    cells = page.locator("table.leaderboard tbody tr[data-agent] td:first-child a")
    return [name.strip() for name in cells.all_inner_texts()]


def test_owner_walks_from_the_team_to_one_conversation(page: Page, site: Site, shot: Shot) -> None:
    sign_in(page, site, site.owner_email)
    assert urlparse(page.url).path == "/analytics/"
    shot(page, "1-signed-in")

    # The period: 7 days, then 90 days; the Conversations tile follows.
    page.click("a[data-period='7d']")
    page.wait_for_url(re.compile(r"period=7d"))
    week = tile_value(page, "conversations")
    shot(page, "2-period-7d")
    page.click("a[data-period='90d']")
    page.wait_for_url(re.compile(r"period=90d"))
    quarter = tile_value(page, "conversations")
    assert query_of(page)["period"] == ["90d"]
    assert page.locator("a[data-period='90d']").get_attribute("aria-current") == "true"
    assert as_number(quarter) > as_number(week) > 0, (week, quarter)
    shot(page, "3-period-90d")

    # Sort by CSAT: the header says so and the cells are in order, no sample last.
    page.click("th[data-column=csat_mean] a")
    page.wait_for_url(re.compile(r"sort=csat_mean"))
    assert query_of(page)["period"] == ["90d"]  # sorting keeps the period
    header = page.locator("table.leaderboard th[data-column=csat_mean]")
    assert header.get_attribute("aria-sort") == "descending"
    others = page.locator("table.leaderboard th[aria-sort=none]")
    assert others.count() == page.locator("table.leaderboard th").count() - 1
    cells = page.locator("table.leaderboard tbody tr[data-agent] td[data-column=csat_mean]")
    texts = [text.split()[0] for text in cells.all_inner_texts()]
    assert len(texts) > 3
    scores = [float(text) for text in texts if text != EMPTY]
    assert scores, texts
    assert scores == sorted(scores, reverse=True), texts
    assert texts[len(scores) :] == [EMPTY] * (len(texts) - len(scores)), texts  # None last
    page.locator("#leaderboard").scroll_into_view_if_needed()
    shot(page, "4-sorted-by-csat")

    # Drill down: an agent's name in the leaderboard opens their page.
    link = page.locator("table.leaderboard tbody tr[data-agent] td:first-child a").first
    name = link.inner_text().strip()
    link.click()
    page.wait_for_url(re.compile(r"/analytics/agents/[^/]+/"))
    assert page.locator("h1").inner_text().strip().startswith(name)
    shot(page, "5-agent-drilldown")

    # Their conversations, then one conversation's timeline and clocks.
    page.get_by_role("link", name="Their conversations").click()
    page.wait_for_url(re.compile(r"/analytics/conversations/\?"))
    assert "agent" in query_of(page)
    rows = page.locator("table.conversations tbody tr")
    assert rows.count() > 0
    shot(page, "6-their-conversations")
    first = page.locator("table.conversations tbody tr td:first-child a").first
    conversation_id = first.inner_text().strip()
    first.click()
    page.wait_for_url(re.compile(rf"/analytics/conversations/{re.escape(conversation_id)}/"))
    assert page.locator("h1").inner_text().strip() == f"Conversation {conversation_id}"
    assert page.locator("ol.timeline li").count() > 0
    assert page.locator("tr[data-clock=first_response]").count() == 1
    shot(page, "7-conversation")

    # The leaderboard's CSV export holds the rows the table shows, in the same order.
    page.goto(f"{site.url}/analytics/?period=30d")
    shown = leaderboard_names(page)
    assert shown
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("leaderboard-")
    saved = download.path()
    with open(saved, encoding="utf-8-sig", newline="") as handle:
        header, *data = list(csv.reader(handle))
    assert header[0] == "Agent"
    assert len(data) == len(shown)
    assert [row[0] for row in data] == shown
    shot(page, "8-after-export")


def test_agent_sees_only_their_own_row(page: Page, site: Site, shot: Shot) -> None:
    sign_in(page, site, site.agent_email)
    rows = page.locator("table.leaderboard tbody tr[data-agent]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-agent") == site.agent_id
    assert leaderboard_names(page) == [site.agent_name]
    page.locator("#leaderboard").scroll_into_view_if_needed()
    shot(page, "1-own-row")

    response = page.goto(f"{site.url}/analytics/agents/{site.other_agent_id}/")
    assert response is not None
    assert response.status == 404
    assert site.other_agent_id not in page.locator("main, body").first.inner_text()
    shot(page, "2-other-agent-404")

    own = page.goto(f"{site.url}/analytics/agents/{site.agent_id}/")
    assert own is not None
    assert own.status == 200
    assert page.locator("h1").inner_text().strip().startswith(site.agent_name)


def test_every_request_stays_on_the_server(page: Page, site: Site, shot: Shot) -> None:
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(request.url)

    page.on("request", record)
    sign_in(page, site, site.owner_email)
    page.wait_for_load_state("networkidle")
    page.goto(f"{site.url}/analytics/agents/{site.agent_id}/")
    page.wait_for_load_state("networkidle")
    page.goto(f"{site.url}/analytics/agents/{site.agent_id}/one-on-one/")
    page.wait_for_load_state("networkidle")
    page.goto(f"{site.url}/analytics/conversations/?agent={site.agent_id}")
    page.wait_for_load_state("networkidle")
    page.locator("table.conversations tbody tr td:first-child a").first.click()
    page.wait_for_load_state("networkidle")
    shot(page, "1-last-page")

    server = urlparse(site.url).netloc
    assert len(seen) > 5
    assert any("/static/plotly/" in url for url in seen)  # the charts' script, locally
    elsewhere = [
        url for url in seen if urlparse(url).scheme not in ("data", "blob")
        and urlparse(url).netloc != server
    ]  # fmt: skip
    assert not elsewhere, elsewhere
