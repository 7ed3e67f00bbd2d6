"""A real deskpulse server and Debian's Chromium, for the browser tests.

The server runs as a subprocess of the `deskpulse` command on a generated organisation,
exactly as a person would start it; nothing here configures Django in this process.
Playwright drives /usr/bin/chromium (Playwright's own browser download does not work
here); without it the tests skip, or fail under CI. `scripts/test` installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# The clock guard runs pins side by side (scripts/test): each keeps its screenshots apart,
# and the main run's stay as they were.
if _guard_pin := os.environ.get("DESKPULSE_TEST_NOW", ""):
    SCREENSHOTS = SCREENSHOTS / ("clock-" + re.sub(r"[^0-9A-Za-z]+", "-", _guard_pin).strip("-"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "browser-test-Passw0rd"
OWNER_EMAIL = "owner@browser.test"
STARTUP_SECONDS = 90
# The reporting time zone of the generated sites: UTC, or the clock guard's zone
# (docs/clock.md). Pages and API come from the same server, so every comparison a
# browser test makes holds in any zone.
SITE_ENVIRONMENT = {
    **os.environ,
    "DESKPULSE_TIMEZONE": os.environ.get("DESKPULSE_TEST_TIMEZONE") or "UTC",
}


def _deskpulse() -> list[str]:
    """The installed `deskpulse` command next to this Python (the venv's)."""
    found = Path(sys.executable).with_name("deskpulse")
    if found.exists():
        return [str(found)]
    on_path = shutil.which("deskpulse")
    if on_path:
        return [on_path]
    return [sys.executable, "-m", "deskpulse.cli"]


def _run(data: Path, *args: str) -> str:
    done = subprocess.run(
        [*_deskpulse(), "--data", str(data), *args],
        cwd=data.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=SITE_ENVIRONMENT,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"deskpulse {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
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


@dataclass(frozen=True)
class Site:
    """The running server and the people who can sign in to it."""

    url: str
    owner_email: str
    agent_email: str
    agent_id: str
    agent_name: str
    other_agent_id: str
    password: str
    # A read-scope API token of the owner's, for comparing pages with the API.
    owner_token: str = ""

    def api(self, path: str) -> Any:
        """GET /api/v1/<path> as the owner and return the decoded JSON."""
        request = urllib.request.Request(
            f"{self.url}/api/v1/{path.lstrip('/')}",
            headers={"Authorization": f"Bearer {self.owner_token}"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.load(response)


@contextmanager
def _serving(folder: Path, data: Path) -> Iterator[str]:
    """`deskpulse serve` on a free port until the block ends; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*_deskpulse(), "--data", str(data), "serve", "--port", str(port)],
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=SITE_ENVIRONMENT,
        )
    try:
        _wait_for_health(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _generated(folder: Path, conversations: int, days: int) -> tuple[Path, list[dict[str, Any]]]:
    """Generate (seed 5) and import an organisation; its data folder and human agents,
    busiest in the last 30 days first."""
    data = folder / "data"
    events = folder / "events.jsonl"
    _run(data, "generate", "-o", str(events), "--conversations", str(conversations),
         "--days", str(days), "--seed", "5")  # fmt: skip
    _run(data, "import", str(events))
    report = json.loads(_run(data, "report", "--format", "json"))
    humans = [a for a in report["agents"] if a["kind"] == "human"]
    assert len(humans) >= 2, report["agents"]
    return data, humans


def _add_agent(data: Path, agent_id: str) -> str:
    email = f"{agent_id}@browser.test"
    _run(data, "user", "add", "--email", email, "--role", "agent",
         "--agent-id", agent_id, "--password", PASSWORD)  # fmt: skip
    return email


def _add_owner(data: Path) -> str:
    """The owner's login, and a read-scope API token of theirs."""
    _run(data, "user", "add", "--email", OWNER_EMAIL, "--role", "owner", "--password", PASSWORD)
    created = _run(data, "token", "create", "--name", "browser tests", "--scope", "read",
                   "--user", OWNER_EMAIL)  # fmt: skip
    return created.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A generated organisation (3,000 conversations over 120 days to now), an owner and
    an agent login, served by `deskpulse serve` on a free port."""
    folder = tmp_path_factory.mktemp("browser-site")
    data, humans = _generated(folder, 3000, 120)
    agent, other = humans[0], humans[1]
    agent_email = _add_agent(data, agent["agent_id"])
    token = _add_owner(data)
    with _serving(folder, data) as url:
        yield Site(
            url=url,
            owner_email=OWNER_EMAIL,
            agent_email=agent_email,
            agent_id=agent["agent_id"],
            agent_name=agent["name"],
            other_agent_id=other["agent_id"],
            password=PASSWORD,
            owner_token=token,
        )


@pytest.fixture(scope="session")
def busy_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A busier organisation: 30,000 conversations over 60 days. The shared `site` gives
    no agent the 10 contacts on one inquiry that "Inquiries to work on" asks for, and too
    little traffic for signals and the generated experiment to read anything.

    The data ends at the pinned clock (docs/clock.md), so what the tests see does not
    depend on the hour they run. Over 60 days the planted degrading queue
    (inbox-app-chat) drifts from x1 to x3 within the two 30-day periods the signals
    compare, so it is found with p < 1e-5 at every pin of the clock guard; over 100 days
    it was at the edge of significance and went missing at some hours. The agent is
    chosen by asking the server which one has an inquiry to work on.
    """
    folder = tmp_path_factory.mktemp("busy-site")
    data, humans = _generated(folder, 30_000, 60)
    token = _add_owner(data)
    with _serving(folder, data) as url:
        probe = Site(url, OWNER_EMAIL, "", "", "", "", PASSWORD, token)
        agent = next(
            (a for a in humans if probe.api(f"performance/agents/{a['agent_id']}")["to_work_on"]),
            None,
        )
        assert agent is not None, "no generated agent has an inquiry to work on"
        yield Site(
            url=url,
            owner_email=OWNER_EMAIL,
            agent_email=_add_agent(data, agent["agent_id"]),
            agent_id=agent["agent_id"],
            agent_name=agent["name"],
            other_agent_id="",
            password=PASSWORD,
            owner_token=token,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run scripts/test, which installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


Shot = Callable[..., Path]


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """shot(page, "step") saves test-artifacts/screenshots/<test>-<step>.png (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = request.node.name.removeprefix("test_")
    for stale in SCREENSHOTS.glob(f"{test}-*.png"):  # an earlier run's steps
        stale.unlink()

    def save(page: Page, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
