"""Running the `deskpulse` command as a user runs it: real subprocesses on a temporary
folder. Subprocesses, not CliRunner: the commands that use the app database set Django
up for their data folder, which one test process can only do once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

END = "2026-03-01T00:00:00"

# Real public samples (tests/connectors/data), mapped by the shipped mappings.
REAL = Path(__file__).parents[1] / "connectors" / "data"


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
