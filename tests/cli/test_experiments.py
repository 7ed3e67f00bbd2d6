"""`deskpulse experiments define|list|show` on the small experiment of
tests/experiments_scenario.py, as a user runs them (subprocesses: each sets Django up for
its data folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskpulse.events.store import open_store
from deskpulse.settings import Settings
from tests.cli.helpers import deskpulse
from tests.experiments_scenario import KEY, small_experiment
from tests.factories import ingest_and_build

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock

AS_OF = "2026-03-20T00:00:00Z"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("experiments-cli") / "data"
    store = open_store(Settings(data_dir=folder))
    try:
        ingest_and_build(store, small_experiment().events)
    finally:
        store.close()
    defined = deskpulse(
        folder,
        "experiments",
        "define",
        KEY,
        "--control",
        "control",
        "--treatment",
        "concise",
        "--primary",
        "ai_resolved_rate",
        "--guardrail",
        "csat_mean",
        "--start",
        "2026-03-02",
        "--end",
        "2026-03-08",
        "--mde",
        "50",
        "--name",
        "Shorter AI replies",
    )
    assert defined.returncode == 0, defined.stderr
    assert f"experiment {KEY} defined" in defined.stdout
    return folder


def test_list(data: Path) -> None:
    result = deskpulse(data, "experiments", "list", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert KEY in result.stdout
    assert "ended" in result.stdout
    assert "control 3, concise 4" in result.stdout
    assert "keep running" in result.stdout


def test_show_as_a_table(data: Path) -> None:
    result = deskpulse(data, "experiments", "show", KEY, "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Keep running: not enough data yet for ai_resolved_rate" in out
    assert "33.3% (n 3)" in out
    assert "100.0% (n 3)" in out
    assert "+66.7 pp" in out
    assert "data quality:" in out
    assert "SRM: assignment 3 / 4 matches" in out


def test_show_as_json_is_the_apis_result(data: Path) -> None:
    result = deskpulse(data, "experiments", "show", KEY, "--as-of", AS_OF, "--format", "json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["experiment"]["guardrail_metrics"] == ["csat_mean"]
    assert body["result"]["verdict"]["action"] == "keep_running"
    assert body["result"]["verdict"]["srm"]["observed"] == [3, 4]


def test_define_changes_and_errors_name_the_option(data: Path) -> None:
    common = ["--control", "control", "--start", "2026-03-02", "--primary", "ai_resolved_rate"]
    same = deskpulse(data, "experiments", "define", KEY, "--treatment", "control", *common)
    assert same.returncode == 1
    assert "--treatment: must differ from the control variant" in same.stderr
    late = deskpulse(
        data, "experiments", "define", KEY, "--treatment", "concise", *common, "--end", "2026-01-01"
    )
    assert late.returncode == 1
    assert "--end: must not be before the start date" in late.stderr
    changed = deskpulse(
        data, "experiments", "define", KEY, "--treatment", "concise", *common, "--mde", "40"
    )
    assert changed.returncode == 0, changed.stderr
    assert f"experiment {KEY} changed" in changed.stdout
    missing = deskpulse(data, "experiments", "show", "no-such")
    assert missing.returncode == 1
    assert "no experiment with the key 'no-such'" in missing.stderr
