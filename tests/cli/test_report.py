"""`deskpulse report`: the team's KPIs and the leaderboard, as JSON and as a table, and
the one-line errors for options it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import END, deskpulse


def test_report_json_has_the_documented_shape(loaded: Path) -> None:
    result = deskpulse(
        loaded, "report", "--period", "30d", "--as-of", END + "Z", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["period"]["from"] == "2026-01-30T00:00:00+00:00"
    assert report["period"]["to"] == "2026-03-01T00:00:00+00:00"
    conversations = report["team"]["conversations"]
    assert conversations["value"] == conversations["n"]
    assert 300 < conversations["value"] < 700  # 2,000 over 120 days, a quarter of them
    assert set(report["team"]["csat_mean"]) == {"value", "n"}
    agents = report["agents"]
    assert len(agents) >= 40
    assert {"agent_id", "name", "metrics"} <= set(agents[0])
    assert set(agents[0]["metrics"]["handled"]) == {"value", "n"}
    assert sum(1 for a in agents if a["kind"] == "ai") == 2


def test_report_table_marks_few_responses_and_sample_sizes(loaded: Path) -> None:
    result = deskpulse(loaded, "report", "--period", "7d", "--as-of", END + "Z")
    assert result.returncode == 0, result.stderr
    assert "Median first response" in result.stdout
    assert "not a ranking" in result.stdout
    assert " few" in result.stdout  # per-agent CSAT under 10 responses over a week


def test_bad_arguments_get_one_line_errors(loaded: Path) -> None:
    result = deskpulse(loaded, "report", "--period", "5d")
    assert result.returncode != 0
    assert "--period: choose one of 7d, 14d, 30d, 90d, custom (not '5d')" in result.stderr
    result = deskpulse(loaded, "report", "--as-of", "yesterday")
    assert result.returncode != 0
    assert "--as-of: 'yesterday' is not a date or a time" in result.stderr
    missing = deskpulse(loaded, "import", "no-such-file.jsonl")
    assert missing.returncode != 0
    assert "no such file: no-such-file.jsonl" in missing.stderr
