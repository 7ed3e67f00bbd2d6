"""`deskpulse ai-report`: the AI agents and their quality report on the command line, as
a table, as JSON and as CSV, on the hand-built day of tests/ai_agents_scenario.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from deskpulse.events.store import open_store
from deskpulse.settings import Settings
from tests.ai_agents_scenario import ai_day
from tests.cli.helpers import deskpulse
from tests.factories import ingest_and_build

AS_OF = "2026-03-09T00:00:00Z"


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("ai-report") / "data"
    store = open_store(Settings(data_dir=data))
    try:
        ingest_and_build(store, ai_day().events)
    finally:
        store.close()
    return data


def test_ai_report_as_a_table(day: Path) -> None:
    result = deskpulse(day, "ai-report", "--period", "7d", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "all AI agents · 2026-03-02 → 2026-03-09" in out
    assert "Billing Bot" in out
    assert "Login Bot" in out
    assert "Low confidence" in out  # the reason in words; --json keeps the slug
    assert "cost saved $18.90 = 2 AI-handled conversations x $10.00 - $1.10" in out
    assert "CSAT AI - people -0.75" in out
    assert "what to do:" in out
    assert "Alice Archer" not in out  # people appear only as a team aggregate


def test_ai_report_as_json_for_one_agent(day: Path) -> None:
    result = deskpulse(
        day, "ai-report", "--period", "7d", "--as-of", AS_OF, "--agent", "bot", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["report"]["overall"]["conversations"] == {"value": 3, "n": 3}
    assert body["quality"]["agent"] == "bot"
    assert body["quality"]["targets"]["csat_floor"] == 4.0


def test_ai_report_as_csv(day: Path) -> None:
    result = deskpulse(day, "ai-report", "--period", "7d", "--as-of", AS_OF, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:2] == ["Section", "Item"]
    assert next(row for row in rows if row[1] == "Cost saved")[2] == "18.90"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--agent", "alice"), "--agent: 'alice' is not an AI agent"),
        (("--period", "13d"), "--period"),
    ],
)
def test_ai_report_errors_are_one_line(day: Path, arguments: tuple[str, ...], message: str) -> None:
    result = deskpulse(day, "ai-report", *arguments)
    assert result.returncode == 1
    assert message in result.stderr
