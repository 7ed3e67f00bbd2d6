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


def deskpulse(
    data: Path, *args: str, stdin: str | None = None, now: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`deskpulse ARGS…` on `data`, at the suite's pinned instant or at `now`."""
    env = {**os.environ, "DESKPULSE_DATA": str(data), "COLUMNS": "160"}
    env.pop("DESKPULSE_BACKEND", None)
    if now is not None:
        env["DESKPULSE_NOW"] = now
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
    rows = json.loads(listed.stdout)["rejected"]
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
    assert "--as-of: 'yesterday' is not a date or a time" in result.stderr
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


def can_sign_in(data: Path, email: str, password: str) -> bool:
    """Ask Django in a fresh process whether this email and password sign in."""
    script = (
        "import sys\n"
        "from deskpulse.settings import load_settings\n"
        "from deskpulse.web.bootstrap import setup_django\n"
        "setup_django(load_settings())\n"
        "from django.test import RequestFactory\n"
        "from deskpulse.web.accounts.forms import SignInForm\n"
        # A sign-in always comes with its request: login throttling counts by address.
        "request = RequestFactory().post('/accounts/login/')\n"
        "form = SignInForm(request, data={'username': sys.argv[1], 'password': sys.argv[2]})\n"
        "print('yes' if form.is_valid() else 'no')\n"
    )
    env = {**os.environ, "DESKPULSE_DATA": str(data)}
    env.pop("DESKPULSE_BACKEND", None)
    result = subprocess.run(
        [sys.executable, "-c", script, email, password],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() == "yes"


def test_users_are_added_listed_reset_and_removed(tmp_path: Path) -> None:
    added = deskpulse(
        tmp_path, "user", "add", "--email", "Ann@Example.com", "--role", "agent",
        "--agent-id", "agent-777", "--name", "Ann Archer",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added ann@example.com as agent" in added.stdout
    # The events hold no agent-777 yet: a warning, not a failure.
    assert "warning: no agent 'agent-777' in the events yet" in added.stderr
    first = added.stdout.strip().splitlines()[-1]
    assert len(first) >= 20
    assert can_sign_in(tmp_path, "ann@example.com", first)

    listed = deskpulse(tmp_path, "user", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "ann@example.com" in line)
    assert "Ann Archer" in row
    assert "agent-777" in row
    assert "yes" in row
    assert first not in listed.stdout

    reset = deskpulse(tmp_path, "user", "password", "--email", "ANN@example.com")
    assert reset.returncode == 0, reset.stderr
    second = reset.stdout.strip().splitlines()[-1]
    assert second != first
    assert can_sign_in(tmp_path, "ann@example.com", second)
    assert not can_sign_in(tmp_path, "ann@example.com", first)
    chosen = deskpulse(
        tmp_path,
        "user",
        "password",
        "--email",
        "ann@example.com",
        "--password",
        "a long passphrase",
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "a long passphrase" not in chosen.stdout
    assert can_sign_in(tmp_path, "ann@example.com", "a long passphrase")

    removed = deskpulse(tmp_path, "user", "remove", "--email", "ann@example.com")
    assert removed.returncode == 0, removed.stderr
    assert "ann@example.com is deactivated" in removed.stdout
    assert not can_sign_in(tmp_path, "ann@example.com", "a long passphrase")
    row = next(
        line
        for line in deskpulse(tmp_path, "user", "list").stdout.splitlines()
        if "ann@example.com" in line
    )
    assert "│ no " in row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "boss"), "--role: 'boss' is not a role; choose one of owner, admin, agent"),
        (("--role", "agent"), "--agent-id: an agent needs an agent id"),
        (("--role", "agent", "--agent-id", "agent-1"), "--agent-id: agent id 'agent-1' is already"),
        (("--role", "admin", "--email", "FIRST@example.com"), "--email: first@example.com already"),
        (("--role", "admin", "--password", "short"), "--password: This password is too short"),
    ],
)
def test_user_add_errors_name_the_option(
    tmp_path_factory: pytest.TempPathFactory, args: tuple[str, ...], message: str
) -> None:
    data = tmp_path_factory.getbasetemp() / "user-errors"
    if not (data / "app.sqlite3").exists():
        first = deskpulse(
            data, "user", "add", "--email", "first@example.com", "--role", "agent",
            "--agent-id", "agent-1",
        )  # fmt: skip
        assert first.returncode == 0, first.stderr
    email = () if "--email" in args else ("--email", "second@example.com")
    result = deskpulse(data, "user", "add", *email, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_last_owner_cannot_be_removed(tmp_path: Path) -> None:
    added = deskpulse(tmp_path, "user", "add", "--email", "o@example.com", "--role", "owner")
    assert added.returncode == 0, added.stderr
    refused = deskpulse(tmp_path, "user", "remove", "--email", "o@example.com")
    assert refused.returncode != 0
    assert "o@example.com is the last active owner" in refused.stderr
    unknown = deskpulse(tmp_path, "user", "password", "--email", "nobody@example.com")
    assert unknown.returncode != 0
    assert "--email: no one has the email 'nobody@example.com'" in unknown.stderr


def test_user_add_knows_the_agent_ids_in_the_events(loaded: Path) -> None:
    known = deskpulse(
        loaded, "user", "add", "--email", "lead@example.com", "--role", "admin",
        "--agent-id", "agent-002", "--password", "a long passphrase",
    )  # fmt: skip
    assert known.returncode == 0, known.stderr
    assert "warning" not in known.stderr
    assert known.stdout.strip().splitlines()[-1] == "added lead@example.com as admin"


def test_demo_creates_sign_ins_once(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    first = deskpulse(data, "demo", "--no-serve", "--conversations", "100")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    login = "Sign in at http://127.0.0.1:8000/accounts/login/ as "
    owner = next(line for line in lines if f"{login}owner@deskpulse.local / " in line)
    # The dashboard's URL comes first, before the sign-ins.
    landing = next(i for i, line in enumerate(lines) if "demo loaded" in line)
    assert lines[landing].endswith("http://127.0.0.1:8000/analytics/")
    assert landing < lines.index(owner)
    agent = next(line for line in lines if "@deskpulse.local / " in line and line != owner)
    owner_password = owner.split(" / ")[1].split()[0]
    agent_email = agent.split(" as ")[1].split(" / ")[0]
    agent_password = agent.split(" / ")[1].split()[0]
    assert agent_email == "agent-001@deskpulse.local"
    assert can_sign_in(data, "owner@deskpulse.local", owner_password)
    assert can_sign_in(data, agent_email, agent_password)
    assert "API token     dp_" in first.stdout

    again = deskpulse(data, "demo", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert owner_password not in again.stdout
    assert agent_password not in again.stdout
    assert "owner@deskpulse.local exists" in again.stdout
    assert "user password --email owner@deskpulse.local" in again.stdout
    listed = deskpulse(data, "user", "list").stdout
    assert "owner@deskpulse.local" in listed
    assert "agent-001" in listed


REAL = Path(__file__).parent / "connectors" / "data"


def test_import_mapping_dry_run_shows_events_and_every_problem(tmp_path: Path) -> None:
    result = deskpulse(
        tmp_path, "import", "--mapping", "twcs", "--dry-run", str(REAL / "twcs_sample.csv")
    )
    assert result.returncode == 0, result.stderr
    assert "first 15 of 6,848 events" in result.stdout
    assert "conversation.created" in result.stdout
    assert "every problem (1)" in result.stdout
    assert "2485" in result.stdout  # the malformed row, by number
    assert "malformed CSV: a line break inside an unquoted field" in result.stdout
    assert "5,000 rows read, 6,848 events made, 1 rows rejected" in result.stdout
    assert "1,315 conversations, 534 agents; nothing stored" in result.stdout
    assert not (tmp_path / "events.duckdb").exists()
    bad = deskpulse(tmp_path, "import", "--mapping", "nope.toml", "x.csv")
    assert bad.returncode != 0
    assert "nope.toml: cannot read the mapping" in bad.stderr


def test_demo_real_loads_both_samples(tmp_path: Path) -> None:
    data = tmp_path / "real"
    result = deskpulse(data, "demo", "--real", "--no-serve", "--real-data", str(REAL))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "import with mapping twcs" in out
    assert "│ rows read              │ 5,000 │" in out
    assert "│ conversations          │ 1,315 │" in out
    assert "import with mapping servicenow" in out
    assert "│ conversations                 │ 890   │" in out
    assert "reopen check: 889 of 890 match the export's reopen count; 1 do not" in out
    assert "servicenow:INC0000137: export says 0, events show 1" in out
    assert "Sign in at http://127.0.0.1:8000/accounts/login/ as owner@deskpulse.local" in out
    assert "API token     dp_" in out
    missing = deskpulse(tmp_path / "other", "demo", "--real", "--no-serve", "--real-data", "/no")
    assert missing.returncode != 0
    assert "--real: no /no/twcs_sample.csv" in missing.stderr


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
