"""The one notion of "now": DESKPULSE_NOW pins it for the core, the CLI and the web."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskpulse import clock
from deskpulse.events.contract import Rejection, parse_event
from deskpulse.metrics.periods import named_period
from tests.conftest import DEFAULT_TEST_NOW, PINNED_NOW

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock


def test_the_suite_runs_at_a_pinned_instant() -> None:
    assert clock.pinned() == PINNED_NOW
    assert clock.now() == PINNED_NOW
    assert clock.now_naive_utc() == PINNED_NOW.replace(tzinfo=None)
    # Without DESKPULSE_TEST_NOW the pin is the documented default.
    assert datetime.fromisoformat(DEFAULT_TEST_NOW).tzinfo is not None


def test_a_pin_with_an_offset_reads_as_that_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKPULSE_NOW", "2026-03-29T01:30:00+01:00")
    assert clock.now() == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    monkeypatch.setenv("DESKPULSE_NOW", "2026-03-29T00:30:00Z")
    assert clock.now() == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


def test_without_a_pin_the_clock_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESKPULSE_NOW")
    assert clock.pinned() is None
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("yesterday", "is not a timestamp"), ("2026-03-29T00:30:00", "needs an offset")],
)
def test_a_bad_pin_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, text: str, complaint: str
) -> None:
    monkeypatch.setenv("DESKPULSE_NOW", text)
    with pytest.raises(clock.ClockError, match=f"DESKPULSE_NOW.*{complaint}"):
        clock.now()


def test_the_future_bound_on_events_follows_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    event = {
        "id": "e1",
        "type": "conversation.created",
        "occurred_at": "2030-01-01T10:00:00Z",
        "conversation_id": "c1",
        "channel": "chat",
        "inbox_id": "inbox",
        "customer_id": "cust",
    }
    monkeypatch.setenv("DESKPULSE_NOW", "2030-01-01T00:00:00Z")
    assert not isinstance(parse_event(event), Rejection)
    monkeypatch.setenv("DESKPULSE_NOW", "2029-12-30T00:00:00Z")
    refused = parse_event(event)
    assert isinstance(refused, Rejection)
    assert refused.field == "occurred_at"


def test_a_named_period_without_as_of_ends_at_the_pin() -> None:
    from deskpulse.metrics.query import Query, resolve_period

    class _Store:
        class settings:  # noqa: N801 - stands in for Settings
            tz = UTC

    period = resolve_period(Query(metrics=["conversations"], period="7d"), _Store())  # type: ignore[arg-type]
    assert period == named_period("7d", PINNED_NOW, UTC)
    assert period.end == PINNED_NOW
