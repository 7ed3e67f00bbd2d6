"""`deskpulse digest send|ledger` as a user runs them from cron (subprocesses: each sets
Django up for its data folder), delivering to a real local SMTP server. Each run costs
a Django start-up, so this module keeps to five: sending once per week, retries and
scoping are tested in-process in tests/web/test_digest_service.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskpulse.events.store import open_store
from deskpulse.settings import Settings
from tests.cli.helpers import deskpulse
from tests.factories import ingest_and_build
from tests.notify.test_digest import organisation
from tests.notify.test_email import Handler, Server, free_port


@pytest.fixture(scope="module")
def smtp() -> Iterator[Server]:
    from aiosmtpd.controller import Controller

    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Server(handler, controller.port)
    finally:
        controller.stop()


def in_app_database(data: Path, code: str) -> None:
    """Run `code` with Django set up for `data` (what the settings pages would save)."""
    script = (
        "from deskpulse.settings import load_settings\n"
        "from deskpulse.web.bootstrap import setup_django\n"
        "setup_django(load_settings())\n" + code
    )
    env = {**os.environ, "DESKPULSE_DATA": str(data)}
    env.pop("DESKPULSE_BACKEND", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, smtp: Server) -> Path:
    """The hand-built organisation, an owner whose digest (team billing) is due on
    Wednesdays at 08:00, an agent, and SMTP pointing at the local server. Set up in one
    process: each CLI run costs a Django start-up."""
    folder = tmp_path_factory.mktemp("digest-cli") / "data"
    store = open_store(Settings(data_dir=folder))
    try:
        ingest_and_build(store, organisation())
    finally:
        store.close()
    in_app_database(
        folder,
        "from django.contrib.auth.models import User\n"
        "from deskpulse.web.accounts.models import Profile\n"
        "from deskpulse.web.alerts.models import NotificationSettings\n"
        "from deskpulse.web.digest.models import DigestPreference\n"
        "lead = User.objects.create_user('lead', 'lead@example.com')\n"
        "Profile.objects.create(user=lead, role='owner')\n"
        "alice = User.objects.create_user('alice', 'alice@example.com')\n"
        "Profile.objects.create(user=alice, role='agent', agent_id='alice')\n"
        f"NotificationSettings(smtp_host='127.0.0.1', smtp_port={smtp.port}, "
        "smtp_starttls=False, from_address='digest@deskpulse.example').save()\n"
        "DigestPreference.objects.create(user=lead, enabled=True, teams=['billing'], "
        "weekday=2, hour=8)\n",
    )
    return folder


def test_preview_prints_one_persons_digest_and_sends_nothing(data: Path, smtp: Server) -> None:
    text = deskpulse(data, "digest", "send", "--preview", "alice@example.com")
    assert text.returncode == 0, text.stderr
    assert "Your numbers" in text.stdout
    assert "  Conversations handled: 2 (n = 2)  was 1" in text.stdout
    assert not smtp.handler.messages


def test_dry_run_then_send_then_the_ledger_says_when(data: Path, smtp: Server) -> None:
    dry = deskpulse(data, "digest", "send", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "due for 2027-W02: lead@example.com" in dry.stdout
    assert not smtp.handler.messages
    sent = deskpulse(data, "digest", "send")
    assert sent.returncode == 0, sent.stderr
    assert "2027-W02: 1 due: 1 sent, 0 failed, 0 already sent" in sent.stdout
    assert [rcpt for _, rcpt, _ in smtp.handler.messages] == [["lead@example.com"]]
    ledger = deskpulse(data, "digest", "ledger").stdout
    assert "lead@example.com" in ledger
    assert "2027-W02" in ledger
    assert "delivered" in ledger
