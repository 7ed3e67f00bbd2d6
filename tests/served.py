"""A real `deskpulse serve` on a generated organisation, driven over HTTP.

Started the way a person starts it: the `deskpulse` command in a subprocess, on a free
port, with the test run's pinned clock (docs/clock.md). Used by the tests that need the
production server (gunicorn's threads) rather than Django's test client, and by
benchmarks/bench_load.py.
"""

from __future__ import annotations

import gzip
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_SECONDS = 120
PASSWORD = "served-test-Passw0rd"


def deskpulse_command() -> list[str]:
    """The installed `deskpulse` command next to this Python (the venv's)."""
    found = Path(sys.executable).with_name("deskpulse")
    if found.exists():
        return [str(found)]
    on_path = shutil.which("deskpulse")
    if on_path:
        return [on_path]
    return [sys.executable, "-m", "deskpulse.cli"]


def run_cli(
    data: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 900
) -> str:
    """`deskpulse --data DATA ARGS…`; its output, or RuntimeError with what it said."""
    done = subprocess.run(
        [*deskpulse_command(), "--data", str(data), *args],
        cwd=data.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=dict(env) if env is not None else None,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"deskpulse {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"deskpulse serve exited {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"deskpulse serve did not answer in {STARTUP_SECONDS} s:\n{log.read_text()}")


@contextmanager
def serving(
    data: Path, *extra: str, env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`deskpulse serve` on a free port until the block ends; yields its URL and process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = data.parent / f"serve-{port}.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*deskpulse_command(), "--data", str(data), "serve", "--port", str(port), *extra],
            cwd=data.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
        )
    try:
        wait_for_health(url, server, log)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One HTTP client of the server: a bearer token, or a signed-in session."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> Answer:
        sent = dict(headers or {})
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=sent)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Answer(response.status, response.read(), response.headers["Content-Type"])
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read(), error.headers.get("Content-Type", ""))

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post_events(self, events: list[dict[str, Any]]) -> Answer:
        return self.request(
            "POST",
            "/api/v1/events",
            gzip.compress(json.dumps(events).encode()),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        """A session as `email`, through the login form (with its CSRF token)."""
        page = self.get("/accounts/login/").body.decode()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found is not None, "the login page has no CSRF token"
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": found.group(1), "username": email, "password": password}
        ).encode()
        answer = self.request(
            "POST",
            "/accounts/login/",
            form,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.url}/accounts/login/",
            },
        )
        assert answer.status == 200, answer.status
        assert any(cookie.name == "sessionid" for cookie in self.cookies), "not signed in"


@dataclass(frozen=True)
class Organisation:
    """A generated organisation imported into a data folder, with an owner and a token."""

    data: Path
    owner_email: str
    token: str
    agents: list[dict[str, Any]]


def generated_organisation(
    folder: Path,
    *,
    conversations: int,
    days: int,
    end: str | None = None,
    seed: int = 5,
    env: Mapping[str, str] | None = None,
) -> Organisation:
    """Generate, import, add an owner (PASSWORD) and a read+ingest token of theirs."""
    data = folder / "data"
    events = folder / "events.jsonl"
    args = ["generate", "-o", str(events), "--conversations", str(conversations)]
    args += ["--days", str(days), "--seed", str(seed)]
    if end is not None:
        args += ["--end", end]
    run_cli(data, *args, env=env)
    run_cli(data, "import", str(events), env=env)
    owner = "owner@served.test"
    run_cli(data, "user", "add", "--email", owner, "--role", "owner", "--password", PASSWORD,
            env=env)  # fmt: skip
    created = run_cli(data, "token", "create", "--name", "served", "--scope", "read",
                      "--scope", "ingest", "--user", owner, env=env)  # fmt: skip
    report = json.loads(run_cli(data, "report", "--format", "json", env=env))
    return Organisation(data, owner, created.strip().splitlines()[-1], report["agents"])


def new_customer_conversations(batch: int, agent: str) -> list[dict[str, object]]:
    """Ten answered chat conversations of new customers on 2027-01-11 (batch < 60):
    after the data of the concurrency tests, and touching no earlier conversation."""
    events: list[dict[str, object]] = []
    for number in range(10):
        conversation = f"concurrent-{batch}-{number}"
        at = f"2027-01-11T{number + 8:02d}:{batch:02d}:00+00:00"
        later = f"2027-01-11T{number + 8:02d}:{batch:02d}:30+00:00"
        events += [
            {
                "id": f"{conversation}-created",
                "type": "conversation.created",
                "occurred_at": at,
                "conversation_id": conversation,
                "channel": "chat",
                # An inbox the generated organisation already has: the dashboard's filter
                # bar lists every inbox, and a new one would change pages that must not.
                "inbox_id": "inbox-web-chat",
                "customer_id": f"customer-{conversation}",
            },
            {
                "id": f"{conversation}-question",
                "type": "message.created",
                "occurred_at": at,
                "message_id": f"{conversation}-m1",
                "conversation_id": conversation,
                "direction": "inbound",
                "author_kind": "customer",
            },
            {
                "id": f"{conversation}-answer",
                "type": "message.created",
                "occurred_at": later,
                "message_id": f"{conversation}-m2",
                "conversation_id": conversation,
                "direction": "outbound",
                "author_kind": "agent",
                "agent_id": agent,
            },
        ]
    return events


def environment(**changes: str) -> dict[str, str]:
    """This process' environment (with the pinned clock) plus `changes`."""
    return {**os.environ, **changes}
