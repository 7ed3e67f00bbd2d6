"""`deskpulse connect chatwoot webhook | set-secret` and `deskpulse connect list`:
setting a connector's webhook signing secret without it ever reaching the screen, the
shell history or the app database in the clear."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import deskpulse

SECRET = "xQ7rT2mWv9ZkLp4NsB8cYd3F"  # 24 characters, like Chatwoot's


def with_env(data: Path, *args: str, stdin: str | None = None, **env: str) -> Any:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        return deskpulse(data, *args, stdin=stdin)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stored_secret(data: Path, name: str) -> str:
    """The connector's signing secret as the receiver will read it (a fresh process)."""
    script = (
        "import sys\n"
        "from deskpulse.settings import load_settings\n"
        "from deskpulse.web.bootstrap import setup_django\n"
        "setup_django(load_settings())\n"
        "from deskpulse.web.connectors.service import find_connectors, signing_secret_of\n"
        "(found,) = find_connectors('chatwoot', sys.argv[1])\n"
        "print(signing_secret_of(found) or '-')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, name],
        env={**os.environ, "DESKPULSE_DATA": str(data)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def row(output: str, name: str) -> str:
    (line,) = [line for line in output.splitlines() if f" {name} " in line]
    return line


def app_database_bytes(data: Path) -> bytes:
    return b"".join(path.read_bytes() for path in data.rglob("*.sqlite3*"))


def test_webhook_with_secret_from_env_is_signed_and_kept_encrypted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = with_env(
        data,
        "connect", "chatwoot", "webhook", "--name", "support", "--account-id", "3",
        "--signing-secret-env", "CW_SECRET",
        CW_SECRET=SECRET,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "signatures: checked" in made.stdout
    assert SECRET not in made.stdout + made.stderr
    listed = deskpulse(data, "connect", "list")
    assert listed.returncode == 0, listed.stderr
    assert row(listed.stdout, "support").split("│")[-2].strip() == "signed"
    assert "never" in row(listed.stdout, "support")  # no webhook seen yet
    assert stored_secret(data, "support") == SECRET
    blob = app_database_bytes(data)
    assert b"support" in blob  # the right file: it holds the connector
    assert SECRET.encode() not in blob


def test_webhook_without_secret_refuses_until_one_is_set(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = deskpulse(data, "connect", "chatwoot", "webhook", "--name", "support")
    assert made.returncode == 0, made.stderr
    assert "refused (403) until you set it" in made.stdout
    assert "set-secret support" in made.stdout
    listed = deskpulse(data, "connect", "list").stdout
    assert "refusing: no secret" in row(listed, "support")

    # The prompt reads the secret without echoing it (here from stdin).
    done = deskpulse(data, "connect", "chatwoot", "set-secret", "support", stdin=SECRET + "\n")
    assert done.returncode == 0, done.stderr
    assert "signing secret set" in done.stdout
    assert SECRET not in done.stdout
    assert stored_secret(data, "support") == SECRET

    rotated = "N3wS3cretFromChatwootAbc"
    again = with_env(
        data, "connect", "chatwoot", "set-secret", "1", "--signing-secret-env", "CW_NEW",
        CW_NEW=rotated,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert stored_secret(data, "support") == rotated


def test_allow_unsigned_is_listed_as_a_warning(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = deskpulse(data, "connect", "chatwoot", "webhook", "--name", "old", "--allow-unsigned")
    assert made.returncode == 0, made.stderr
    assert "unsigned webhooks allowed" in made.stdout
    listed = deskpulse(data, "connect", "list").stdout
    assert "unsigned allowed" in row(listed, "old")
    assert "warning: 1 connector(s) accept unsigned webhooks" in listed.replace("\n", " ")

    refused = deskpulse(data, "connect", "chatwoot", "set-secret", "old", "--no-allow-unsigned")
    assert refused.returncode == 0, refused.stderr
    assert "unsigned webhooks refused" in refused.stdout
    assert "refusing: no secret" in row(deskpulse(data, "connect", "list").stdout, "old")


@pytest.mark.parametrize(
    ("args", "stdin", "env", "message"),
    [
        (("set-secret", "support"), "short\n", {}, "signing secret: 5 characters, fewer than 16"),
        (("set-secret", "nobody", "--allow-unsigned"), None, {},
         "no Chatwoot connector named 'nobody'"),
        (("set-secret", "support", "--signing-secret-env", "CW_UNSET_VARIABLE"), None, {},
         "--signing-secret-env CW_UNSET_VARIABLE: the variable is not set or empty"),
        (("set-secret", "support", "--signing-secret-env", "CW_SPACES"), None,
         {"CW_SPACES": "has spaces in the middle of it"}, "signing secret: has spaces"),
        (("webhook", "--name", "support"), None, {},
         "--name 'support': a Chatwoot connector has that name"),
    ],
    ids=["too short", "unknown connector", "unset variable", "spaces", "duplicate name"],
)  # fmt: skip
def test_bad_input_is_refused_naming_it(
    tmp_path: Path, args: tuple[str, ...], stdin: str | None, env: dict[str, str], message: str
) -> None:
    data = tmp_path / "data"
    assert deskpulse(data, "connect", "chatwoot", "webhook", "--name", "support").returncode == 0
    done = with_env(data, "connect", "chatwoot", *args, stdin=stdin, **env)
    assert done.returncode == 1
    assert message in " ".join((done.stdout + done.stderr).split())
    assert "refusing: no secret" in row(deskpulse(data, "connect", "list").stdout, "support")


def test_list_without_connectors_says_how_to_make_one(tmp_path: Path) -> None:
    done = deskpulse(tmp_path / "data", "connect", "list")
    assert done.returncode == 0, done.stderr
    assert "deskpulse connect chatwoot webhook" in done.stdout
