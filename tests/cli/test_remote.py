"""The CLI's client of a running server (deskpulse/cli/remote.py): the API's one error
shape as the CLI's one-line errors, and a clear line when the server does not answer."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskpulse.cli.remote import refusal
from deskpulse.data_folder import running_server
from deskpulse.settings import Settings
from tests.served import deskpulse_command, environment, free_port


def error_body(status: int, message: str, field: str | None = None) -> bytes:
    body = {"error": {"status": status, "code": "x", "message": message, "field": field}}
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "body", "line"),
    [
        # The API names its parameter; the CLI names the option a person typed.
        (422, error_body(422, "as_of: use a date", "as_of"), "--as-of: use a date"),
        (422, error_body(422, "must be before to", "from"), "--from: must be before to"),
        (422, error_body(422, "to: too long a period", "to"), "--to: too long a period"),
        (404, error_body(404, "no such agent", "agent"), "--agent: no such agent"),
        # A field with no option of its own keeps the API's words.
        (422, error_body(422, "metrics: unknown", "metrics"), "metrics: unknown"),
        (413, error_body(413, "the request body is too large"), "the request body is too large"),
        (
            401,
            error_body(401, "this token was revoked"),
            "the server refused this machine's CLI (401: this token was revoked)",
        ),
        (
            503,
            error_body(503, "the event store cannot be read"),
            "the server failed (503): the event store cannot be read",
        ),
        (502, b"<html>Bad Gateway</html>", "the server answered 502 without an explanation"),
    ],
)
def test_api_errors_become_one_line_naming_the_option(status: int, body: bytes, line: str) -> None:
    assert refusal(status, body) == line


@pytest.fixture
def silent_server(tmp_path: Path) -> Iterator[tuple[Path, int, str]]:
    """A process that holds the data folder and describes a server nobody answers at."""
    data = tmp_path / "data"
    url = f"http://127.0.0.1:{free_port()}"
    holder = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from deskpulse.data_folder import claimed, describe_server
        from deskpulse.settings import Settings
        settings = Settings(data_dir=Path({str(data)!r}))
        with claimed(settings):
            describe_server(settings, {url!r}, "dp_nobody")
            time.sleep(600)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", holder])
    try:
        deadline = time.monotonic() + 60
        while running_server(Settings(data_dir=data)) is None:
            assert process.poll() is None, "the holder exited early"
            assert time.monotonic() < deadline, "the holder never claimed the folder"
            time.sleep(0.05)
        yield data, process.pid, url
    finally:
        process.kill()
        process.wait(timeout=30)


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*deskpulse_command(), "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=environment(COLUMNS="200"),
    )


def test_a_server_that_does_not_answer_gets_a_clear_line(
    silent_server: tuple[Path, int, str],
) -> None:
    data, pid, url = silent_server
    result = run(data, "report", "--period", "7d")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"deskpulse serve (process {pid}, {url})" in lines[0]
    assert "is it still running?" in lines[0]


def test_an_import_that_cannot_reach_the_server_says_nothing_was_accepted(
    silent_server: tuple[Path, int, str], tmp_path: Path
) -> None:
    data, _pid, url = silent_server
    events = tmp_path / "events.jsonl"
    events.write_text('{"id": "e1"}\n')
    result = run(data, "import", str(events))
    assert result.returncode == 1
    assert "│ accepted    │ 0" in result.stdout
    assert url in result.stderr
    assert "the 0 events accepted before it are stored" in result.stderr
