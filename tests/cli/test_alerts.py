"""`deskpulse alerts add|list|check|history` on the hand-made month of
tests/alerts_month.py, as a user runs them (subprocesses: each sets Django up
for its data folder)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from deskpulse.events.store import open_store
from deskpulse.settings import Settings
from tests.alerts_month import month_events
from tests.cli.helpers import deskpulse
from tests.conftest import PINNED_NOW
from tests.factories import ingest_and_build

# Inside the supported dates, but after the pinned now: a check cannot look ahead.
LATER = (PINNED_NOW + timedelta(days=19)).isoformat()

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("alerts-cli") / "data"
    store = open_store(Settings(data_dir=folder))
    try:
        ingest_and_build(store, month_events())
    finally:
        store.close()
    added = deskpulse(
        folder,
        "alerts",
        "add",
        "csat_mean",
        "--name",
        "CSAT in the queue",
        "--segment",
        "inbox=inbox-q",
        "--fixed",
        "4.5",
        "--current-days",
        "2",
        "--min-sample",
        "4",
    )
    assert added.returncode == 0, added.stderr
    assert "alert rule 1 defined: CSAT in the queue (csat_mean, inbox = inbox-q)" in added.stdout
    return folder


def test_add_errors_name_the_option(data: Path) -> None:
    result = deskpulse(data, "alerts", "add", "csat_mean", "--name", "x", "--current-days", "0")
    assert result.returncode == 1
    assert "--current-days: 0 is not between 1 and 90" in result.stderr
    result = deskpulse(data, "alerts", "add", "conversations", "--name", "x")
    assert result.returncode == 1
    assert "METRIC: Select a valid choice. conversations" in result.stderr
    result = deskpulse(data, "alerts", "add", "csat_mean", "--name", "x", "--segment", "inbox")
    assert result.returncode == 1
    assert "--segment: 'inbox' is not DIMENSION=VALUE" in result.stderr


def test_check_list_and_history(data: Path) -> None:
    before = deskpulse(data, "alerts", "list")
    assert before.returncode == 0, before.stderr
    assert "CSAT in the queue" in before.stdout
    assert "Not checked yet" in before.stdout

    pending = deskpulse(data, "alerts", "check", "--as-of", "2026-03-14T09:00:00Z")
    assert pending.returncode == 0, pending.stderr
    assert "CSAT in the queue: ok -> pending (critical)" in pending.stdout
    assert "checking alert rules" in pending.stderr  # the progress bar
    firing = deskpulse(data, "alerts", "check", "--as-of", "2026-03-15T09:00:00Z")
    assert "CSAT in the queue: pending -> firing (critical)" in firing.stdout
    repeat = deskpulse(data, "alerts", "check", "--as-of", "2026-03-15T09:00:00Z")
    assert "no state changed" in repeat.stdout
    assert "1 skipped" in repeat.stdout
    # A check dated in the future would silence the rule until then: refused.
    future = deskpulse(data, "alerts", "check", "--as-of", LATER)
    assert future.returncode == 1
    assert f"--as-of: {LATER} is in the future" in future.stderr

    listed = deskpulse(data, "alerts", "list")
    assert "Firing (critical)" in listed.stdout
    assert "2.00 (n=8)" in listed.stdout

    history = deskpulse(data, "alerts", "history")
    assert history.returncode == 0, history.stderr
    assert "Firing (critical)" in history.stdout
    assert "Pending (critical)" in history.stdout
    assert "Not configured" in history.stdout
    history = json.loads(deskpulse(data, "alerts", "history", "--format", "json").stdout)
    assert history["total"] == 2
    events = history["events"]
    assert [e["kind"] for e in events] == ["firing", "pending"]
    assert events[0]["current"] == {"value": 2.0, "n": 8}
    assert events[0]["delivery"]["webhook"]["status"] == "not_configured"


def test_check_without_facts_fails_clearly(tmp_path: Path) -> None:
    result = deskpulse(tmp_path / "empty", "alerts", "check")
    assert result.returncode == 1
    assert "no facts yet" in result.stderr
