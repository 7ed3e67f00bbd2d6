"""Schemathesis against the real server's /api/v1/openapi.json: 0 server errors and no
status the schema does not list.

A generated organisation is imported and served by `deskpulse serve` on a free port, the
way a person starts it; Schemathesis authenticates with a token holding the read, write
and ingest scopes and runs its checks `not_a_server_error`, `status_code_conformance`
and `response_schema_conformance` on every operation:

- the coverage phase (boundary and wrong-type values for every parameter) with one
  worker: Hypothesis' strategy descriptions are not thread-safe there;
- the fuzzing and stateful phases with several workers at once, the stateful one
  following the schema's links (a created alert rule or experiment is then read,
  changed and deleted).

Both runs are deterministic (Schemathesis' deterministic generation, no example
database) and bounded: together about two minutes on two cores. The case counts and
any failure are printed in the test output.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WORKERS = 4
MAX_EXAMPLES = 15
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
PASSWORD = "fuzz-test-Passw0rd"
STARTUP_SECONDS = 120


def _command(name: str) -> list[str]:
    """An installed console script next to this Python (the venv's)."""
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return [str(found)]
    on_path = shutil.which(name)
    if on_path:
        return [on_path]
    pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")


def _cli(data: Path, *args: str) -> str:
    done = subprocess.run(
        [*_command("deskpulse"), "--data", str(data), *args],
        cwd=data.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"deskpulse {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    url: str
    token: str
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("api-fuzz")
    data = folder / "data"
    events = folder / "events.jsonl"
    _cli(data, "generate", "-o", str(events), "--conversations", "1500", "--days", "60",
         "--seed", "5")  # fmt: skip
    _cli(data, "import", str(events))
    _cli(data, "user", "add", "--email", "owner@fuzz.test", "--role", "owner",
         "--password", PASSWORD)  # fmt: skip
    scopes = ("--scope", "read", "--scope", "write", "--scope", "ingest")
    created = _cli(
        data, "token", "create", "--name", "schemathesis", *scopes, "--user", "owner@fuzz.test"
    )
    token = created.strip().splitlines()[-1].split()[0]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*_command("deskpulse"), "--data", str(data), "serve", "--port", str(port)],
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"deskpulse serve exited {server.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"deskpulse serve did not answer in {STARTUP_SECONDS} s")
            time.sleep(0.25)
        yield Served(url, token, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    generated: int
    failures: int

    def summary(self) -> str:
        """The report's summary section (failures are listed above it in `output`)."""
        start = self.output.find("=== SUMMARY")
        return self.output[start:] if start >= 0 else self.output[-3000:]


def _schemathesis(served: Served, *options: str) -> Run:
    done = subprocess.run(
        [
            *_command("st"),
            "run",
            f"{served.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {served.token}",
            "--checks",
            CHECKS,
            "--generation-deterministic",
            "--no-color",
            "--request-timeout",
            "120",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=served.log.parent,  # Schemathesis keeps a .schemathesis folder where it runs
    )
    output = done.stdout + done.stderr
    cases = re.search(r"(\d+) generated, (?:(\d+) passed|(\d+) found)", output)
    generated = int(cases.group(1)) if cases else 0
    found = re.search(r"(\d+) failures?\b", output.split("=== SUMMARY")[-1])
    return Run(done.returncode, output, generated, int(found.group(1)) if found else 0)


def _report(capsys: pytest.CaptureFixture[str], name: str, run: Run) -> None:
    with capsys.disabled():
        print(
            f"\nSchemathesis {name}: {run.generated} cases, {run.failures} failures "
            f"(exit {run.returncode})"
        )
        if run.returncode != 0:
            print(run.output[-12_000:])


def test_schemathesis_finds_no_server_error_and_no_undocumented_status(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    coverage = _schemathesis(served, "--phases", "coverage", "--workers", "1")
    _report(capsys, "coverage phase, 1 worker", coverage)
    fuzzing = _schemathesis(
        served,
        "--phases",
        "examples,fuzzing,stateful",
        "--workers",
        str(WORKERS),
        "--max-examples",
        str(MAX_EXAMPLES),
    )
    _report(capsys, f"fuzzing and stateful phases, {WORKERS} workers", fuzzing)
    server_errors = served.log.read_text(errors="replace").count("Internal Server Error")
    with capsys.disabled():
        print(f"Server log: {server_errors} internal server errors")
    assert coverage.generated > 1000, coverage.summary()
    assert fuzzing.generated > 200, fuzzing.summary()
    assert coverage.returncode == 0, coverage.summary()
    assert fuzzing.returncode == 0, fuzzing.summary()
    assert server_errors == 0
