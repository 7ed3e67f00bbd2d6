"""`deskpulse connect intercom import|backfill` as a user runs them (subprocesses; the
backfill talks to a local stub of Intercom's API, never the network)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.cli.helpers import deskpulse

FIXTURES = Path(__file__).parents[1] / "connectors" / "fixtures" / "intercom"
TOKEN = "cli-test-token"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    data.pop("_source")
    return data


class Stub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"type": "error.list", "errors": [{"code": "unauthorized"}]})
        parts = urlsplit(self.path)
        if parts.path == "/conversations":
            cursor = parse_qs(parts.query).get("starting_after")
            return self._send(
                200, fixture("conversations_page_2.json" if cursor else "conversations_page_1.json")
            )
        for path in FIXTURES.glob("conversation_*.json"):
            if parts.path == f"/conversations/{path.name.split('_')[1]}":
                return self._send(200, fixture(path.name))
        return self._send(404, {"type": "error.list"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def intercom() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_import_prints_a_summary_and_rejects(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for path in FIXTURES.glob("conversation_*.json"):
        (folder / path.name).write_text(path.read_text())
    bad = fixture("conversation_1296_fin_handoff.json")
    bad["id"] = "1298"
    bad.pop("created_at")
    (folder / "bad.json").write_text(json.dumps(bad))
    result = deskpulse(tmp_path / "data", "connect", "intercom", "import", str(folder))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Intercom import" in out
    assert re.search(r"conversations read\s+│ 4 ", out)
    assert re.search(r"already there\s+│ 0 ", out)
    assert re.search(r"bad.json\s+│ 1298\s+│ created_at", out)  # the rejected record
    again = deskpulse(tmp_path / "data", "connect", "intercom", "import", str(folder))
    assert re.search(r"stored\s+│ 0 ", again.stdout)
    report = deskpulse(tmp_path / "data", "rejected")
    assert "conversation 1298" in report.stdout


def test_import_of_a_missing_path_fails(tmp_path: Path) -> None:
    result = deskpulse(tmp_path / "data", "connect", "intercom", "import", "nowhere.json")
    assert result.returncode == 1
    assert "no such file or folder: nowhere.json" in result.stderr


def test_backfill_reads_the_token_from_the_named_variable(
    tmp_path: Path, intercom: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_INTERCOM_TOKEN", TOKEN)
    result = deskpulse(
        tmp_path / "data",
        "connect",
        "intercom",
        "backfill",
        "--token-env",
        "MY_INTERCOM_TOKEN",
        "--url",
        intercom,
    )
    assert result.returncode == 0, result.stderr
    assert "3 conversations, 19 conversation parts" in result.stdout
    assert "0 rejected" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_backfill_asks_for_the_token_when_the_variable_is_unset(
    tmp_path: Path, intercom: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTERCOM_TOKEN", raising=False)
    result = deskpulse(
        tmp_path / "data", "connect", "intercom", "backfill", "--url", intercom, stdin=TOKEN + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "3 conversations" in result.stdout


def test_backfill_takes_no_token_argument_and_reports_a_wrong_token(
    tmp_path: Path, intercom: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = deskpulse(tmp_path / "data", "connect", "intercom", "backfill", "--token", TOKEN)
    assert refused.returncode == 2  # no such option: a token never goes into shell history
    monkeypatch.setenv("INTERCOM_TOKEN", "wrong")
    wrong = deskpulse(tmp_path / "data", "connect", "intercom", "backfill", "--url", intercom)
    assert wrong.returncode == 1
    assert "HTTP 401" in wrong.stderr
