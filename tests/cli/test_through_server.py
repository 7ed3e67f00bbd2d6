"""The CLI while `deskpulse serve` holds the data folder: the read commands ask the
server's API and print exactly what they print from the store, `import` sends its events
to the server's ingest, and what cannot run beside the server says what to do instead.

One organisation, one server for the module (tests/served.py). The read commands run
from the store first and then through the server, on the same data (the server's
scheduled jobs are off, so nothing changes in between); the tests that change the data
(alert checks, imports) come after, and the last one stops the server and reads the
store directly again.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deskpulse.data_folder import INFO_FILE
from tests.conftest import PINNED_NOW
from tests.served import (
    Organisation,
    deskpulse_command,
    environment,
    free_port,
    generated_organisation,
    new_customer_conversations,
    serving,
)

# Inside the supported dates, but after the pinned now: a check cannot look ahead.
LATER = (PINNED_NOW + timedelta(days=19)).isoformat()

KEY = "ai-reply-style"  # the generator's planted experiment

# Every read command the server answers, in every format it prints.
READS: list[tuple[str, ...]] = [
    ("report",),
    ("report", "--format", "json"),
    ("report", "--period", "7d", "--as-of", "2027-01-10", "--channel", "chat", "--format", "json"),
    ("signals",),
    ("signals", "--format", "json"),
    ("signals", "--period", "14d", "--limit", "1"),
    ("ai-report",),
    ("ai-report", "--format", "json"),
    ("ai-report", "--format", "csv"),
    ("experiments", "list"),
    ("experiments", "list", "--format", "json"),
    ("experiments", "show", KEY),
    ("experiments", "show", KEY, "--format", "json"),
    ("alerts", "list"),
    ("alerts", "list", "--format", "json"),
    ("alerts", "history"),
    ("alerts", "history", "--format", "json"),
    ("rejected",),
    ("rejected", "--format", "json"),
    # Refusals read the same too.
    ("ai-report", "--agent", "nobody"),
    ("experiments", "show", "no-such-experiment"),
    ("report", "--period", "custom", "--from", "2026-12-01"),
]


def run(data: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """`deskpulse --data DATA ARGS…` at a fixed terminal width, as a person runs it."""
    done = subprocess.run(
        [*deskpulse_command(), "--data", str(data), *args],
        cwd=data.parent,
        input=stdin,
        capture_output=True,
        timeout=900,
        check=False,
        env=environment(COLUMNS="200", DESKPULSE_SCHEDULER="off"),
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def ok(data: Path, *args: str) -> str:
    done = run(data, *args)
    assert done.returncode == 0, f"deskpulse {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The error, unwrapped (the terminal is 200 columns wide, some errors are longer)."""
    found = done.stderr[done.stderr.index("error:") :]
    return " ".join(line.strip() for line in found.splitlines() if line.strip())


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> Organisation:
    """2,000 generated conversations with an experiment, two alert rules with history,
    and a refused event: something for every read command to show."""
    folder = tmp_path_factory.mktemp("through-server")
    org = generated_organisation(
        folder, conversations=2000, days=60, env=environment(DESKPULSE_SCHEDULER="off")
    )
    data = org.data
    start = (PINNED_NOW - timedelta(days=30)).date().isoformat()
    ok(data, "experiments", "define", KEY, "--control", "control", "--treatment", "concise",
       "--primary", "ai_resolved_rate", "--guardrail", "csat_mean", "--start", start)  # fmt: skip
    ok(data, "alerts", "add", "csat_mean", "--name", "CSAT above 4.9", "--fixed", "4.9",
       "--min-sample", "5")  # fmt: skip
    ok(data, "alerts", "add", "escalation_rate", "--name", "Chat escalations",
       "--segment", "channel=chat", "--min-sample", "5")  # fmt: skip
    for hours in (30, 29):
        moment = (PINNED_NOW - timedelta(hours=hours)).isoformat()
        ok(data, "alerts", "check", "--as-of", moment)
    bad = folder / "bad.jsonl"
    bad.write_text(
        '{"id": "bad-csat", "type": "survey.responded", "occurred_at": '
        f'"{PINNED_NOW.isoformat()}", "conversation_id": "c1", "survey": "csat", "score": 9}}\n'
    )
    ok(data, "import", str(bad))
    return org


@pytest.fixture(scope="module")
def local_reads(organisation: Organisation) -> dict[tuple[str, ...], Any]:
    """Each read command's output read from the store, before any server runs."""
    found = {args: run(organisation.data, *args) for args in READS}
    # Worth comparing: every command has something to show.
    assert json.loads(found[("report", "--format", "json")].stdout)["agents"]
    assert json.loads(found[("alerts", "history", "--format", "json")].stdout)["total"] >= 2
    assert json.loads(found[("rejected", "--format", "json")].stdout)["counts"]["rejected"] == 1
    assert KEY in found[("experiments", "list")].stdout
    return found


@pytest.fixture(scope="module")
def server(
    organisation: Organisation, local_reads: dict[tuple[str, ...], Any]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The one server of the module, started once the local reads are done."""
    env = environment(DESKPULSE_SCHEDULER="off")
    with serving(organisation.data, env=env) as running:
        yield running


def events_stored(url: str) -> int:
    with urllib.request.urlopen(f"{url}/api/v1/health", timeout=30) as answer:
        count: int = json.loads(answer.read())["events"]
        return count


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_through_the_server_prints_what_it_prints_from_the_store(
    organisation: Organisation,
    local_reads: dict[tuple[str, ...], Any],
    server: tuple[str, subprocess.Popen[bytes]],
    args: tuple[str, ...],
) -> None:
    local = local_reads[args]
    served = run(organisation.data, *args)
    assert served.returncode == local.returncode, served.stderr
    assert served.stdout == local.stdout
    if local.returncode:
        assert error_line(served) == error_line(local)


# The same dates, read by the CLI and by the API: one reading of a period (metrics/window.py).
SAME_DATES: list[dict[str, str]] = [
    {"period": "30d", "as_of": "2027-01-08"},
    {"period": "custom", "from": "2026-12-01", "to": "2026-12-31"},
    {"period": "7d", "as_of": "2027-01-10T18:30:00+01:00"},
]


@pytest.mark.parametrize("dates", SAME_DATES, ids=lambda d: " ".join(d.values()))
def test_the_cli_and_the_api_read_the_same_dates_as_the_same_period(
    organisation: Organisation,
    server: tuple[str, subprocess.Popen[bytes]],
    dates: dict[str, str],
) -> None:
    url, _process = server
    request = urllib.request.Request(
        f"{url}/api/v1/report?{urllib.parse.urlencode(dates)}",
        headers={"Authorization": f"Bearer {organisation.token}"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        api = json.loads(answer.read())
    options = [f"--{key.replace('_', '-')}" if key != "period" else "--period" for key in dates]
    args = [part for option, value in zip(options, dates.values(), strict=True)
            for part in (option, value)]  # fmt: skip
    cli = json.loads(ok(organisation.data, "report", *args, "--format", "json"))
    assert cli["period"] == api["period"]
    assert cli["team"]["conversations"] == api["team"]["conversations"]
    assert cli["team"]["conversations"]["value"] > 0


def test_alerts_check_runs_on_the_server(
    organisation: Organisation, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    moment = (PINNED_NOW - timedelta(hours=2)).isoformat()
    checked = ok(organisation.data, "alerts", "check", "--as-of", moment)
    assert "2 rules checked" in checked
    future = run(organisation.data, "alerts", "check", "--as-of", LATER)
    assert future.returncode == 1
    assert error_line(future) == f"error: --as-of: {LATER} is in the future"


def test_import_sends_the_events_through_the_servers_ingest(
    organisation: Organisation, server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, _process = server
    agent = organisation.agents[0]["agent_id"]
    first, second = new_customer_conversations(0, agent), new_customer_conversations(1, agent)
    bad = {
        "id": "late-bad-csat",
        "type": "survey.responded",
        "occurred_at": first[0]["occurred_at"],
        "conversation_id": first[0]["conversation_id"],
        "survey": "csat",
        "score": 0,
    }
    lines = gzip.compress("\n".join(json.dumps(event) for event in first).encode())
    (tmp_path / "first.jsonl.gz").write_bytes(lines)
    (tmp_path / "second.json").write_text(json.dumps([*second, bad]))
    week = ("report", "--period", "7d", "--format", "json")
    conversations = json.loads(ok(organisation.data, *week))["team"]["conversations"]["value"]
    before = events_stored(url)

    done = run(organisation.data, "import", str(tmp_path / "first.jsonl.gz"),
               str(tmp_path / "second.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"importing through {url}" in done.stderr
    assert "│ events read │ 61" in done.stdout
    assert "│ accepted    │ 60" in done.stdout
    assert "│ rejected    │ 1 " in done.stdout
    assert "csat scores run from 1 to 5" in done.stdout
    assert events_stored(url) == before + 60

    # The server kept the refused event with its reason, and built the new facts.
    rejected = json.loads(ok(organisation.data, "rejected", "--format", "json"))
    assert rejected["rejected"][0]["event_id"] == "late-bad-csat"
    assert rejected["rejected"][0]["field"] == "score"
    report = json.loads(ok(organisation.data, *week))
    assert report["team"]["conversations"]["value"] == conversations + 20

    again = run(organisation.data, "import", "-", stdin=lines)
    assert again.returncode == 0, again.stderr
    assert "│ duplicates  │ 30" in again.stdout
    assert events_stored(url) == before + 60


def test_a_failed_request_stops_the_import_and_keeps_what_was_accepted(
    organisation: Organisation, server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, _process = server
    agent = organisation.agents[0]["agent_id"]
    good = new_customer_conversations(2, agent)
    # One event bigger than any request the server takes (32 MB): its request fails.
    huge = {**good[1], "id": "huge", "message_id": "huge-m", "text": "x" * (33 * 1024 * 1024)}
    path = tmp_path / "with-a-huge-event.jsonl"
    path.write_text("\n".join(json.dumps(event) for event in [*good, huge, *good]) + "\n")
    before = events_stored(url)

    done = run(organisation.data, "import", str(path))
    assert done.returncode == 1
    assert "│ accepted    │ 30" in done.stdout  # the summary of what got in
    line = error_line(done)
    assert "larger than" in line
    assert "the 30 events accepted before it are stored" in line
    assert events_stored(url) == before + 30


def test_what_cannot_run_beside_the_server_says_what_to_do(
    organisation: Organisation, server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, process = server
    holder = f"deskpulse serve (process {process.pid}, {url})"
    rebuild = run(organisation.data, "rebuild")
    assert rebuild.returncode == 1
    assert error_line(rebuild).startswith(f"error: {holder} holds ")
    assert "the server refreshes the facts itself" in error_line(rebuild)
    export = tmp_path / "export.csv"
    export.write_text("tweet_id,author_id,inbound,created_at,text\n")
    mapped = run(organisation.data, "import", "--mapping", "twcs", str(export))
    assert mapped.returncode == 1
    assert "stop the server first (--dry-run works while it runs)" in error_line(mapped)
    for command in (("train",), ("score",), ("jobs", "run", "--all")):
        refused = run(organisation.data, *command)
        assert refused.returncode == 1, command
        assert "stop the server first" in error_line(refused), command


def test_a_second_serve_refuses_naming_the_running_one(
    organisation: Organisation, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, process = server
    second = run(organisation.data, "serve", "--port", str(free_port()))
    assert second.returncode == 1
    assert f"deskpulse serve (process {process.pid}, {url}) already serves" in error_line(second)
    assert events_stored(url) > 0  # the first one still answers


def test_once_the_server_stops_the_cli_reads_the_store_again(
    organisation: Organisation, server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    _url, process = server
    asked = ("report", "--period", "7d", "--format", "json")
    served = ok(organisation.data, *asked)
    process.terminate()
    process.wait(timeout=60)
    assert not (organisation.data / INFO_FILE).exists()
    assert ok(organisation.data, *asked) == served
