"""`deskpulse connect freshdesk import|backfill`, run as a user runs them.

The backfill talks to a local stub that answers like Freshdesk (the same fake as the core
backfill tests), reached with `--domain http://127.0.0.1:PORT`: never the network.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deskpulse.events.store import open_store
from tests.cli.helpers import deskpulse
from tests.conftest import make_settings
from tests.connectors.test_freshdesk_backfill import KEY, FakeFreshdesk
from tests.factories import row_of

FIXTURES = Path(__file__).parents[1] / "connectors" / "fixtures" / "freshdesk"


def row(output: str, label: str) -> str:
    """The value next to `label` in a printed summary table."""
    found = re.search(rf"{re.escape(label)}\s+│\s+([^│]+?)\s+│", output)
    assert found, f"no {label!r} row in:\n{output}"
    return found.group(1)


def test_import_prints_the_summary_and_stores_the_facts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = deskpulse(data, "connect", "freshdesk", "import", str(FIXTURES))
    assert result.returncode == 0, result.stderr
    assert "Freshdesk import" in result.stdout
    assert row(result.stdout, "files read") == "12"
    assert row(result.stdout, "stored") == "37"
    assert row(result.stdout, "rejected") == "1"
    assert row(result.stdout, "time entries") == "6"
    assert "2015-08-28T011:08:16Z" in result.stdout  # the rejected rating, with its reason
    store = open_store(make_settings(data))
    try:
        facts = row_of(store, "conversation_facts", conversation_id="fd-101")
        assert facts["first_response_seconds"] == 1800.0
        assert facts["handle_seconds"] == 2100.0
    finally:
        store.close()
    again = deskpulse(data, "connect", "freshdesk", "import", str(FIXTURES))
    assert row(again.stdout, "stored") == "0"
    assert row(again.stdout, "already there") == "37"


def test_import_refuses_a_missing_path(tmp_path: Path) -> None:
    result = deskpulse(tmp_path / "data", "connect", "freshdesk", "import", "nowhere.json")
    assert result.returncode == 1
    assert "no such file or folder: nowhere.json" in result.stderr


@pytest.fixture
def freshdesk() -> Iterator[str]:
    """A local HTTP server answering like Freshdesk; yields its base URL."""
    fake = FakeFreshdesk()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = urllib.request.Request(
                fake.base + self.path,
                headers={"Authorization": self.headers.get("Authorization", "")},
            )
            try:
                answer: Any = fake(request, 5.0)
                status, body, link = 200, answer.body, answer.headers.get("Link")
            except urllib.error.HTTPError as error:
                status, body, link = error.code, b"{}", None
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake.base
    finally:
        server.shutdown()
        server.server_close()


def test_backfill_with_the_key_from_an_environment_variable(
    tmp_path: Path, freshdesk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_FRESHDESK_KEY", KEY)
    args = ["connect", "freshdesk", "backfill", "--domain", freshdesk]
    result = deskpulse(tmp_path / "data", *args, "--api-key-env", "ACME_FRESHDESK_KEY")
    assert result.returncode == 0, result.stderr
    assert "Freshdesk backfill" in result.stdout
    assert row(result.stdout, "tickets") == "4"
    assert row(result.stdout, "API requests") == "13"
    # the files' 37 events less the documented time entries of tickets 2 and 3, which
    # the API lists under no ticket it returns
    assert row(result.stdout, "stored") == "35"
    assert KEY not in result.stdout + result.stderr


def test_backfill_asks_for_the_key_when_no_variable_is_named(
    tmp_path: Path, freshdesk: str
) -> None:
    args = ["connect", "freshdesk", "backfill", "--domain", freshdesk]
    result = deskpulse(tmp_path / "data", *args, stdin=KEY + "\n")
    assert result.returncode == 0, result.stderr
    assert row(result.stdout, "stored") == "35"
    wrong = deskpulse(tmp_path / "other", *args, stdin="wrong\n")
    assert wrong.returncode == 1
    assert "HTTP 401" in wrong.stderr


def test_backfill_key_is_never_an_argument(tmp_path: Path) -> None:
    args = ["connect", "freshdesk", "backfill", "--domain", "acme"]
    unset = deskpulse(tmp_path / "data", *args, "--api-key-env", "NO_SUCH_VARIABLE_HERE")
    assert unset.returncode == 1
    assert "NO_SUCH_VARIABLE_HERE is not set" in unset.stderr
    plain = deskpulse(tmp_path / "data", *args, "--api-key", KEY)
    assert plain.returncode == 2  # no such option
    bad_domain = deskpulse(
        tmp_path / "data", "connect", "freshdesk", "backfill", "--domain", "acme/../x", stdin="k\n"
    )
    assert bad_domain.returncode == 1
    assert "--domain: 'acme/../x' is not a Freshdesk account name" in bad_domain.stderr
    bad_since = deskpulse(tmp_path / "data", *args, "--updated-since", "last week")
    assert bad_since.returncode == 2
    assert "write a date" in bad_since.stderr
