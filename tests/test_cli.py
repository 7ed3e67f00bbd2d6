"""The `deskpulse` command as a user runs it: real subprocesses on a temporary folder.

Subprocesses, not CliRunner: the token commands set Django up for their data folder,
which one test process can only do once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

END = "2026-03-01T00:00:00"


def deskpulse(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESKPULSE_DATA": str(data), "COLUMNS": "160"}
    env.pop("DESKPULSE_BACKEND", None)
    return subprocess.run(
        [sys.executable, "-m", "deskpulse.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with 2,000 generated conversations imported."""
    data = tmp_path_factory.mktemp("cli") / "data"
    generated = deskpulse(data, "generate", "--conversations", "2000", "--end", END)
    assert generated.returncode == 0, generated.stderr
    assert "events for 2,000 conversations" in generated.stdout
    imported = deskpulse(data, "import", str(data / "generated.jsonl"))
    assert imported.returncode == 0, imported.stderr
    assert "accepted" in imported.stdout
    return data


def test_generate_is_deterministic(tmp_path: Path) -> None:
    outputs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for out in outputs:
        result = deskpulse(
            tmp_path, "generate", "--conversations", "200", "--end", END, "-o", str(out)
        )
        assert result.returncode == 0, result.stderr
    assert outputs[0].read_bytes() == outputs[1].read_bytes()


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


def test_reimport_counts_duplicates_and_bad_lines_are_listed(loaded: Path) -> None:
    lines = (loaded / "generated.jsonl").read_text().splitlines()[:50]
    bad = (
        '{"id": "bad-1", "type": "survey.responded", "occurred_at": "2026-02-01T00:00:00Z",'
        ' "conversation_id": "conv-000001", "survey": "csat", "score": 9}'
    )
    result = deskpulse(loaded, "import", "-", stdin="\n".join([*lines, bad, "not json"]))
    assert result.returncode == 0, result.stderr
    assert "│ duplicates  │ 50" in result.stdout
    assert "│ rejected    │ 2 " in result.stdout
    listed = deskpulse(loaded, "rejected", "--format", "json")
    rows = json.loads(listed.stdout)
    reasons = {row["event_id"]: row for row in rows}
    assert reasons["bad-1"]["field"] == "score"
    assert "1 to 5" in reasons["bad-1"]["reason"]
    assert any("malformed JSON" in row["reason"] for row in rows)


def test_bad_arguments_get_one_line_errors(loaded: Path) -> None:
    result = deskpulse(loaded, "report", "--period", "5d")
    assert result.returncode != 0
    assert "--period: '5d' is not one of" in result.stderr
    result = deskpulse(loaded, "report", "--as-of", "yesterday")
    assert result.returncode != 0
    assert "--as-of: 'yesterday' is not an ISO 8601" in result.stderr
    missing = deskpulse(loaded, "import", "no-such-file.jsonl")
    assert missing.returncode != 0
    assert "no such file: no-such-file.jsonl" in missing.stderr


def test_rebuild_recomputes_the_same_facts(loaded: Path) -> None:
    before = deskpulse(
        loaded, "report", "--period", "90d", "--as-of", END + "Z", "--format", "json"
    )
    rebuilt = deskpulse(loaded, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "facts full" in rebuilt.stdout
    after = deskpulse(loaded, "report", "--period", "90d", "--as-of", END + "Z", "--format", "json")
    assert json.loads(before.stdout)["team"] == json.loads(after.stdout)["team"]


def test_tokens_are_created_listed_and_revoked(tmp_path: Path) -> None:
    created = deskpulse(tmp_path, "token", "create", "--name", "sync", "--scope", "read")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("dp_")
    prefix = secret.split("_")[1]
    listed = deskpulse(tmp_path, "token", "list")
    assert prefix in listed.stdout
    assert secret not in listed.stdout  # the secret is shown once, never again
    revoked = deskpulse(tmp_path, "token", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stderr
    unknown = deskpulse(tmp_path, "token", "revoke", "nope")
    assert unknown.returncode != 0
