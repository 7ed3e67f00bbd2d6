"""The weekly digest's e-mail, as a mail client shows it: its HTML rendered by Chromium
on a desktop and a phone width, screenshotted, and read back.

The digest is built from the hand-built organisation of tests/notify/test_digest.py
through the query layer (no server: the e-mail is a document of its own). Screenshots:
test-artifacts/screenshots/digest_email_renders_on_desktop_and_phone-*.png.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from playwright.sync_api import Browser

from deskpulse import clock
from deskpulse.events.store import Store
from deskpulse.metrics.query import Filters
from deskpulse.notify.digest import (
    Digest,
    DigestAlert,
    DigestPlan,
    DigestScope,
    digest_week,
    render_html,
    scope_tiles,
)
from tests.browser.conftest import Shot
from tests.factories import ingest_and_build
from tests.notify.test_digest import organisation

ROOT = "https://deskpulse.example"


def lead_digest(store: Store) -> Digest:
    week = digest_week(clock.now(), UTC)
    scopes = tuple(
        DigestScope(
            title=f"Team {team}",
            tiles=scope_tiles(store, week, filters=Filters(team=team)),
            dashboard_url=f"{ROOT}/analytics/?period=7d&team={team}",
        )
        for team in ("billing", "tech")
    )
    return Digest(
        recipient="Olivia Owner",
        week=week,
        scopes=scopes,
        alerts=(
            DigestAlert(
                rule_name="CSAT on chat",
                change="firing",
                at=datetime(2027, 1, 8, 10, tzinfo=UTC),
                reason="CSAT 4.10 (n=48) against 4.50: 9% worse.",
                url=f"{ROOT}/alerts/1/",
            ),
        ),
        plans=(
            DigestPlan(
                agent_name="Bob Baker",
                what="Median first response on Billing, 20% lower",
                outcome="missed",
                target_date=date(2027, 1, 11),
                url=f"{ROOT}/coaching/3/",
            ),
        ),
        settings_url=f"{ROOT}/settings/digest/",
    )


def test_digest_email_renders_on_desktop_and_phone(
    duckdb_store: Store, browser: Browser, shot: Shot
) -> None:
    ingest_and_build(duckdb_store, organisation())
    html = render_html(lead_digest(duckdb_store))
    for width, step in ((1024, "desktop"), (390, "phone")):
        page = browser.new_page(viewport={"width": width, "height": 900})
        try:
            page.set_content(html)
            billing = page.locator("h2", has_text="Team billing")
            assert billing.is_visible()
            row = page.locator('[data-metric="conversations"]').first
            assert row.inner_text().split("\t")[:3] == ["Conversations", "3", "n = 3"]
            median = page.locator('[data-metric="first_response_median"]').first
            assert "4m 00s" in median.inner_text()
            assert "few samples" in median.inner_text()
            assert page.get_by_role("link", name="CSAT on chat").get_attribute("href") == (
                f"{ROOT}/alerts/1/"
            )
            # No sideways scrolling in the mail client, on a phone either.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{step}: {overflow}px wider than the screen"
            shot(page, step)
        finally:
            page.close()
