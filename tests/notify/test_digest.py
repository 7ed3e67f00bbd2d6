"""The weekly digest's core: which week and slot, the numbers of one team or one agent
(checked by hand on a small hand-built organisation), and the three renderings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from deskpulse import clock
from deskpulse.events.store import Store
from deskpulse.metrics.query import Filters, NotVisibleError, Viewer
from deskpulse.notify.digest import (
    AGENT_METRICS,
    Digest,
    DigestAlert,
    DigestInputError,
    DigestPlan,
    DigestScope,
    digest_week,
    render_html,
    render_text,
    scope_signals,
    scope_tiles,
    slack_payload,
    slot_in_week,
    slot_reached,
)
from tests.factories import Events, ingest_and_build, scratch_store

BERLIN = ZoneInfo("Europe/Berlin")
# The suite's pinned now: Wednesday 2027-01-13 12:00 UTC, ISO week 2027-W02.
NOW = clock.now()


def test_the_clock_is_the_suites() -> None:
    assert datetime(2027, 1, 13, 12, tzinfo=UTC) == NOW


def test_the_week_is_the_seven_whole_days_before_the_send_day() -> None:
    week = digest_week(NOW, UTC)
    assert week.key == "2027-W02"
    assert week.start == datetime(2027, 1, 6, tzinfo=UTC)
    assert week.end == datetime(2027, 1, 13, tzinfo=UTC)
    assert week.days_text == "Wed 06 Jan to Tue 12 Jan 2027"


def test_the_week_is_read_in_the_reporting_time_zone() -> None:
    # Sunday 23:30 UTC is already Monday in Berlin: the next ISO week there.
    sunday_night = datetime(2027, 1, 17, 23, 30, tzinfo=UTC)
    assert digest_week(sunday_night, UTC).key == "2027-W02"
    assert digest_week(sunday_night, BERLIN).key == "2027-W03"
    assert digest_week(sunday_night, BERLIN).start == datetime(2027, 1, 11, tzinfo=BERLIN)


def test_the_slot_is_the_chosen_day_and_hour_of_this_week() -> None:
    assert slot_in_week(NOW, 0, 8, UTC) == datetime(2027, 1, 11, 8, tzinfo=UTC)
    assert slot_reached(NOW, 2, 12, UTC)  # Wednesday 12:00: now
    assert not slot_reached(NOW, 2, 13, UTC)
    assert slot_reached(NOW, 0, 23, UTC)  # Monday, missed while down: still this week
    assert not slot_reached(NOW, 6, 0, UTC)  # Sunday: later this week
    # 12:00 UTC is 13:00 in Berlin in winter.
    assert slot_reached(NOW, 2, 13, BERLIN)
    assert not slot_reached(NOW, 2, 14, BERLIN)


def test_the_slot_keeps_its_wall_clock_hour_across_a_clock_change() -> None:
    # Berlin springs forward on Sunday 2027-03-28: 08:00 that day is 06:00 UTC.
    slot = slot_in_week(datetime(2027, 3, 26, tzinfo=UTC), 6, 8, BERLIN)
    assert slot.astimezone(UTC) == datetime(2027, 3, 28, 6, tzinfo=UTC)


@pytest.mark.parametrize(("weekday", "hour", "field"), [(7, 8, "weekday"), (0, 24, "hour")])
def test_a_slot_out_of_range_names_the_field(weekday: int, hour: int, field: str) -> None:
    with pytest.raises(DigestInputError, match=field):
        slot_in_week(NOW, weekday, hour, UTC)


# -- the numbers ----------------------------------------------------------------------------


def organisation() -> list[dict[str, object]]:
    """Billing (alice, bob) and tech (tara). In the digest's week (6-12 Jan): billing has
    three conversations answered after 2, 4 and 10 minutes, tech one after 60 minutes.
    The week before: billing one conversation."""
    f = Events(start=datetime(2027, 1, 7, 9, tzinfo=UTC))
    f.agent("alice", name="Alice Archer", teams=["billing"])
    f.agent("bob", name="Bob Baker", teams=["billing"])
    f.agent("tara", name="Tara Tech", teams=["tech"])
    for number, (agent, wait) in enumerate([("alice", 2), ("alice", 4), ("bob", 10)]):
        start = number * 120
        c = f.conversation(f"b{number + 1}", customer=f"u{number}", at=start)
        c.customer(at=start).assign(agent, team="billing", at=start + 1)
        c.reply(agent, at=start + wait).resolve(at=start + 30, by=agent)
    c = f.conversation("t1", customer="u9", at=30)
    c.customer(at=30).assign("tara", team="tech", at=31).reply("tara", at=90)
    before = -6 * 24 * 60  # Friday 1 January
    c = f.conversation("b0", customer="u8", at=before)
    c.customer(at=before).assign("alice", team="billing", at=before + 1)
    c.reply("alice", at=before + 5)
    return f.events


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The organisation, built once per backend for the module (the tests only read)."""
    with scratch_store(request.param, tmp_path_factory.mktemp("digest-org")) as opened:
        ingest_and_build(opened, organisation())
        yield opened


def test_a_teams_tiles_count_only_that_team(org: Store) -> None:
    week = digest_week(NOW, UTC)
    tiles = {t.metric: t for t in scope_tiles(org, week, filters=Filters(team="billing"))}
    conversations = tiles["conversations"]
    assert (conversations.value_text, conversations.n) == ("3", 3)
    # Against one conversation the week before: too small a base for a percentage.
    assert (conversations.change_text, conversations.verdict) == ("was 1", "neutral")
    first = tiles["first_response_median"]
    assert (first.value_text, first.n, first.few) == ("4m 00s", 3, True)
    # Resolved last week, but too young to know whether they stay resolved: left out of
    # the rate and counted, as on the dashboard.
    resolution = tiles["resolution_rate"]
    assert (resolution.value_text, resolution.n, resolution.pending) == ("\u2013", 0, 3)
    assert resolution.sample_text == "n = 0, 3 still maturing"
    tech = {t.metric: t for t in scope_tiles(org, week, filters=Filters(team="tech"))}
    assert (tech["conversations"].value_text, tech["first_response_median"].value_text) == (
        "1",
        "1h 00m",
    )
    everyone = {t.metric: t for t in scope_tiles(org, week, filters=Filters())}
    assert everyone["conversations"].value_text == "4"


def test_an_agents_own_tiles_are_theirs(org: Store) -> None:
    week = digest_week(NOW, UTC)
    mine = scope_tiles(
        org,
        week,
        filters=Filters(agent="alice"),
        viewer=Viewer(agent_id="alice"),
        metrics=AGENT_METRICS,
    )
    handled = {t.metric: t for t in mine}["handled"]
    assert handled.value_text == "2"
    with pytest.raises(NotVisibleError):
        scope_tiles(org, week, filters=Filters(agent="bob"), viewer=Viewer(agent_id="alice"))


def test_signals_of_a_quiet_week_are_none(org: Store) -> None:
    week = digest_week(NOW, UTC)
    assert scope_signals(org, week, filters=Filters(team="billing"), base_url="") == ()


# -- the renderings -------------------------------------------------------------------------


def sample_digest(*, personal: bool = False) -> Digest:
    from deskpulse.metrics.query import MetricValue
    from deskpulse.metrics.registry import REGISTRY
    from deskpulse.notify.digest import tile

    week = digest_week(NOW, UTC)
    tiles = (
        tile(REGISTRY["conversations"], MetricValue(120, 120), MetricValue(100, 100)),
        tile(REGISTRY["first_response_median"], MetricValue(300, 90), MetricValue(240, 80)),
        tile(REGISTRY["csat_mean"], MetricValue(4.5, 6), None),
    )
    return Digest(
        recipient="Olivia <Owner>",
        week=week,
        scopes=(
            DigestScope(
                title="Team <b>Billing</b>",
                tiles=tiles,
                dashboard_url="https://dp.example/analytics/?team=billing&period=7d",
            ),
        ),
        alerts=(
            DigestAlert(
                rule_name="CSAT on chat",
                change="firing",
                at=datetime(2027, 1, 8, 10, tzinfo=UTC),
                reason="4.1 against 4.5",
                url="https://dp.example/alerts/1/",
            ),
        ),
        plans=(
            DigestPlan(
                agent_name="Alice Archer",
                what="First response median on billing, 20% lower",
                outcome="reached",
                target_date=date(2027, 1, 10),
                url="https://dp.example/coaching/3/",
            ),
        ),
        settings_url="https://dp.example/settings/digest/",
        personal=personal,
    )


def test_tiles_say_better_or_worse_by_the_metrics_direction() -> None:
    tiles = {t.metric: t for t in sample_digest().scopes[0].tiles}
    assert (tiles["conversations"].change_text, tiles["conversations"].verdict) == (
        "▲ +20%",
        "neutral",
    )
    # Slower first responses are worse, though the number went up.
    first = tiles["first_response_median"]
    assert (first.value_text, first.change_text, first.verdict) == ("5m 00s", "▲ +25%", "worse")
    assert tiles["csat_mean"].few
    assert tiles["csat_mean"].change_text == ""


def test_the_plain_text_holds_every_number_with_its_n() -> None:
    text = render_text(sample_digest())
    assert "Hello Olivia <Owner>," in text
    assert "Wed 06 Jan to Tue 12 Jan 2027" in text
    assert "  Median first response: 5m 00s (n = 90)  ▲ +25% (worse)" in text
    assert "CSAT on chat: firing on Fri 08 Jan 10:00. 4.1 against 4.5" in text
    assert "Alice Archer: First response median on billing, 20% lower: reached" in text
    assert "https://dp.example/analytics/?team=billing&period=7d" in text
    assert "https://dp.example/settings/digest/" in text


def test_the_html_escapes_names_and_links_into_the_app() -> None:
    page = render_html(sample_digest())
    assert "Team &lt;b&gt;Billing&lt;/b&gt;" in page
    assert "<b>Billing" not in page
    assert "Olivia &lt;Owner&gt;" in page
    assert 'href="https://dp.example/analytics/?team=billing&amp;period=7d"' in page
    assert 'data-metric="first_response_median"' in page
    assert "n = 90" in page
    assert "few samples" in page
    assert "<style" not in page  # mail clients drop style elements: inline styles only


def test_a_personal_digest_has_no_alerts_section_and_names_nobody_else() -> None:
    text = render_text(sample_digest(personal=True))
    assert "Alerts that changed state" not in text
    assert "Your coaching plans" in text
    assert "Alice Archer:" not in text


def test_the_webhook_payload_is_slack_text() -> None:
    payload = slack_payload(sample_digest())
    assert set(payload) == {"text"}
    assert "Median first response: 5m 00s (n = 90) ▲ +25%" in payload["text"]
    assert (
        "<https://dp.example/analytics/?team=billing&period=7d|Open the dashboard>"
        in (payload["text"])
    )
