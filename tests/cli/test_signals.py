"""`deskpulse signals`: the friction signals on the command line, as a table and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskpulse.events.store import open_store
from deskpulse.settings import Settings
from tests.cli.helpers import deskpulse
from tests.factories import ingest_and_build
from tests.signals_scenario import friction_week

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock

AS_OF = "2026-03-09T00:00:00Z"  # the scenario's week: Mar 2 - Mar 9 against the week before


@pytest.fixture(scope="module")
def friction(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("signals") / "data"
    store = open_store(Settings(data_dir=data))
    try:
        ingest_and_build(store, friction_week(rushed=True).events)
    finally:
        store.close()
    return data


def test_signals_as_json(friction: Path) -> None:
    result = deskpulse(friction, "signals", "--period", "7d", "--as-of", AS_OF, "--format", "json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["period"]["from"] == "2026-03-02T00:00:00+00:00"
    assert body["previous_period"]["from"] == "2026-02-23T00:00:00+00:00"
    assert [(s["name"], s["segment"]["value"]) for s in body["signals"]] == [
        ("faster_less_happy", "inbox-rush")
    ]
    assert body["signals"][0]["metrics"][1]["current"] == {"value": 2.8, "n": 40, "text": "2.80"}
    assert "period=7d" in body["signals"][0]["conversations_url"]


def test_signals_as_a_table(friction: Path) -> None:
    result = deskpulse(friction, "signals", "--period", "7d", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert "Faster, but customers less happy · queue inbox-rush" in result.stdout
    assert "n = 40 now, 40 before" in result.stdout
    assert "check whether contacts are rushed" in result.stdout
    assert "Holm-corrected at 0.05" in result.stdout


def test_signals_refuses_an_unknown_period(friction: Path) -> None:
    result = deskpulse(friction, "signals", "--period", "13d")
    assert result.returncode == 1
    assert "--period" in result.stderr
