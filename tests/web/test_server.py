"""The real server (gunicorn via serve()) in a subprocess, on a free port."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings

pytestmark = pytest.mark.slow

SERVER = """
    import sys
    from pathlib import Path
    from deskpulse.settings import Settings
    from deskpulse.web.bootstrap import setup_django
    from deskpulse.web.server import serve

    data, token_file, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    settings = Settings(data_dir=data)
    setup_django(settings)
    from deskpulse.web.accounts.tokens import create_token

    token_file.write_text(create_token(name="server test", scopes=["ingest"])[1])
    serve(settings, port=port, threads=4)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    data_dir: Path
    url: str
    token: str
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def post_events(self, events: list[dict[str, Any]]) -> tuple[int, Any]:
        return self.request(
            "POST",
            "/api/v1/events",
            gzip.compress(json.dumps(events).encode()),
            {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
        )

    def kill(self, sig: signal.Signals) -> int:
        # The whole process group: gunicorn's master and its worker.
        os.killpg(self.process.pid, sig)
        return self.process.wait(timeout=60)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # Not tmp_path / "data": that is the test process's own store (see conftest).
    data = tmp_path / "server-data"
    token_file = tmp_path / "token"
    log = tmp_path / "server.log"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DESKPULSE_", "DJANGO_"))
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(SERVER), str(data), str(token_file), str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(process, data, f"http://127.0.0.1:{port}", "", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited early:\n{log.read_text()}")
            try:
                status, _ = running.request("GET", "/api/v1/health")
                if status == 200 and token_file.exists():
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer within 60 s:\n{log.read_text()}")
            time.sleep(0.1)
        running.token = token_file.read_text()
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)


def reopen(data_dir: Path) -> Store:
    """The store, once the killed server's file lock is gone."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return open_store(Settings(data_dir=data_dir))
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def event(n: int) -> dict[str, Any]:
    return {
        "id": f"e{n}",
        "type": "conversation.created",
        "occurred_at": "2026-03-02T10:00:00+00:00",
        "conversation_id": f"c{n}",
        "channel": "email",
        "inbox_id": "support",
        "customer_id": f"u{n % 7}",
    }


def test_acknowledged_events_survive_sigkill(server: Server) -> None:
    batch = [event(n) for n in range(500)]
    status, body = server.post_events(batch)
    # No graceful anything: the process group dies the moment the answer is in.
    server.kill(signal.SIGKILL)
    assert status == 200, body
    assert body == {"accepted": 500, "duplicates": 0, "rejected": []}
    store = reopen(server.data_dir)
    try:
        assert store.count("events") == 500
        stored = {row[0] for row in store.execute("SELECT id FROM events")}
        assert stored == {e["id"] for e in batch}
    finally:
        store.close()


def test_server_answers_the_api_and_stops_cleanly(server: Server) -> None:
    status, health = server.request("GET", "/api/v1/health")
    assert (status, health) == (
        200,
        {"ok": True, "events": 0, "backend": "duckdb", "quarantined": 0},
    )
    status, error = server.request("GET", "/api/v1/nowhere")
    assert status == 404
    assert error["error"]["code"] == "not_found"
    status, error = server.request(
        "POST", "/api/v1/events", b"[]", {"Content-Type": "application/json"}
    )
    assert (status, error["error"]["code"]) == (401, "missing_token")
    status, body = server.post_events([event(1), event(1)])
    assert (status, body["accepted"], body["duplicates"]) == (200, 1, 1)
    assert _post_chunked(server, [event(2), event(3)]) == (200, 2)
    assert server.kill(signal.SIGTERM) == 0
    store = reopen(server.data_dir)
    try:
        assert store.count("events") == 3
    finally:
        store.close()


def _post_chunked(server: Server, events: list[dict[str, Any]]) -> tuple[int, int]:
    """JSON Lines streamed with Transfer-Encoding: chunked (no Content-Length)."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    lines = (json.dumps(e).encode() + b"\n" for e in events)
    connection.request(
        "POST",
        "/api/v1/events",
        body=lines,
        headers={
            "Authorization": f"Bearer {server.token}",
            "Content-Type": "application/x-ndjson",
        },
        encode_chunked=True,
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    return response.status, body.get("accepted", -1)
