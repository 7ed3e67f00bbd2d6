"""`deskpulse generate`, `import` (with and without a mapping), `rebuild`, `rejected` and
`retract` as a user runs them: real subprocesses on temporary folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import END, REAL, deskpulse


def test_generate_is_deterministic(tmp_path: Path) -> None:
    outputs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for out in outputs:
        result = deskpulse(
            tmp_path, "generate", "--conversations", "200", "--end", END, "-o", str(out)
        )
        assert result.returncode == 0, result.stderr
    assert outputs[0].read_bytes() == outputs[1].read_bytes()


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
    rows = json.loads(listed.stdout)["rejected"]
    reasons = {row["event_id"]: row for row in rows}
    assert reasons["bad-1"]["field"] == "score"
    assert "1 to 5" in reasons["bad-1"]["reason"]
    assert any("malformed JSON" in row["reason"] for row in rows)


def test_rebuild_recomputes_the_same_facts(loaded: Path) -> None:
    before = deskpulse(
        loaded, "report", "--period", "90d", "--as-of", END + "Z", "--format", "json"
    )
    rebuilt = deskpulse(loaded, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "facts full" in rebuilt.stdout
    after = deskpulse(loaded, "report", "--period", "90d", "--as-of", END + "Z", "--format", "json")
    assert json.loads(before.stdout)["team"] == json.loads(after.stdout)["team"]


def test_import_mapping_dry_run_shows_events_and_every_problem(tmp_path: Path) -> None:
    result = deskpulse(
        tmp_path, "import", "--mapping", "twcs", "--dry-run", str(REAL / "twcs_sample.csv")
    )
    assert result.returncode == 0, result.stderr
    assert "first 15 of 6,849 events" in result.stdout
    assert "conversation.created" in result.stdout
    # row 2485's carriage returns are text, as pandas reads them: no problem left
    assert "5,000 rows read, 6,849 events made, 0 rows rejected" in result.stdout
    assert "1,315 conversations, 534 agents; nothing stored" in result.stdout
    assert not (tmp_path / "events.duckdb").exists()
    bad = deskpulse(tmp_path, "import", "--mapping", "nope.toml", "x.csv")
    assert bad.returncode != 0
    assert "nope.toml: cannot read the mapping" in bad.stderr


def test_import_refuses_events_before_the_earliest_time(tmp_path: Path) -> None:
    def created(event_id: str, occurred_at: str) -> str:
        return json.dumps(
            {
                "id": event_id,
                "type": "conversation.created",
                "occurred_at": occurred_at,
                "conversation_id": f"c-{event_id}",
                "channel": "chat",
                "inbox_id": "web",
                "customer_id": "u1",
            }
        )

    lines = [created("old", "0001-01-01T00:00:00Z"), created("new", "2026-03-02T10:00:00Z")]
    result = deskpulse(tmp_path, "import", "-", stdin="\n".join(lines))
    assert result.returncode == 0, result.stderr
    assert "│ accepted    │ 1 " in result.stdout
    assert "│ rejected    │ 1 " in result.stdout
    later = deskpulse(tmp_path, "import", "-", stdin=created("later", "2026-03-03T10:00:00Z"))
    assert later.returncode == 0, later.stderr
    rows = json.loads(deskpulse(tmp_path, "rejected", "--format", "json").stdout)["rejected"]
    [refused] = rows
    assert (refused["event_id"], refused["field"]) == ("old", "occurred_at")
    assert "before 2000-01-01T00:00:00Z" in refused["reason"]
    # A tighter bound from the environment is held by the import too.
    tight = subprocess.run(
        [sys.executable, "-m", "deskpulse.cli", "import", "-"],
        env={
            **os.environ,
            "DESKPULSE_DATA": str(tmp_path),
            "DESKPULSE_EARLIEST_EVENT": "2027-01-01",
        },
        input=created("tight", "2026-12-31T23:00:00Z"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tight.returncode == 0, tight.stderr
    assert "│ rejected    │ 1 " in tight.stdout


def test_retract_takes_an_event_back_and_rejected_shows_the_audit_trail(tmp_path: Path) -> None:
    events = [
        {
            "id": "e1",
            "type": "conversation.created",
            "occurred_at": "2026-03-02T10:00:00Z",
            "conversation_id": "c1",
            "channel": "chat",
            "inbox_id": "web",
            "customer_id": "u1",
        },
        {
            "id": "s1",
            "type": "survey.responded",
            "occurred_at": "2026-03-02T11:00:00Z",
            "conversation_id": "c1",
            "survey": "csat",
            "score": 1,
        },
    ]
    stdin = "\n".join(json.dumps(e) for e in events)
    assert deskpulse(tmp_path, "import", "-", stdin=stdin).returncode == 0
    done = deskpulse(
        tmp_path, "retract", "s1", "--reason", "a test survey", "--by", "olivia@example.com"
    )
    assert done.returncode == 0, done.stderr
    assert "retracted s1 (survey.responded on conversation c1)" in done.stdout
    again = deskpulse(tmp_path, "retract", "s1", "--reason", "again")
    assert again.returncode == 1
    assert "already retracted by olivia@example.com" in again.stderr
    unknown = deskpulse(tmp_path, "retract", "nope", "--reason", "typo")
    assert unknown.returncode == 1
    assert "no stored event has the id 'nope'" in unknown.stderr
    listed = json.loads(deskpulse(tmp_path, "rejected", "--format", "json").stdout)
    [retraction] = listed["retracted"]
    assert (retraction["event_id"], retraction["retracted_by"], retraction["reason"]) == (
        "s1",
        "olivia@example.com",
        "a test survey",
    )
    assert listed["quarantined"] == []
    table = deskpulse(tmp_path, "rejected")
    assert "quarantined conversations (0)" in table.stdout
    assert "retracted events (1" in table.stdout
