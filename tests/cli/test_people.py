"""`deskpulse token …` and `deskpulse user …`: API tokens and the people who sign in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import can_sign_in, deskpulse


def test_tokens_are_created_listed_and_revoked(tmp_path: Path) -> None:
    created = deskpulse(tmp_path, "token", "create", "--name", "sync", "--scope", "read")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("dp_")
    prefix = secret.split("_")[1]
    listed = deskpulse(tmp_path, "token", "list")
    assert prefix in listed.stdout
    assert secret not in listed.stdout  # the secret is shown once, never again
    revoked = deskpulse(tmp_path, "token", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stderr
    unknown = deskpulse(tmp_path, "token", "revoke", "nope")
    assert unknown.returncode != 0


def test_users_are_added_listed_reset_and_removed(tmp_path: Path) -> None:
    added = deskpulse(
        tmp_path, "user", "add", "--email", "Ann@Example.com", "--role", "agent",
        "--agent-id", "agent-777", "--name", "Ann Archer",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added ann@example.com as agent" in added.stdout
    # The events hold no agent-777 yet: a warning, not a failure.
    assert "warning: no agent 'agent-777' in the events yet" in added.stderr
    first = added.stdout.strip().splitlines()[-1]
    assert len(first) >= 20
    assert can_sign_in(tmp_path, "ann@example.com", first)

    listed = deskpulse(tmp_path, "user", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "ann@example.com" in line)
    assert "Ann Archer" in row
    assert "agent-777" in row
    assert "yes" in row
    assert first not in listed.stdout

    reset = deskpulse(tmp_path, "user", "password", "--email", "ANN@example.com")
    assert reset.returncode == 0, reset.stderr
    second = reset.stdout.strip().splitlines()[-1]
    assert second != first
    assert can_sign_in(tmp_path, "ann@example.com", second)
    assert not can_sign_in(tmp_path, "ann@example.com", first)
    chosen = deskpulse(
        tmp_path,
        "user",
        "password",
        "--email",
        "ann@example.com",
        "--password",
        "a long passphrase",
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "a long passphrase" not in chosen.stdout
    assert can_sign_in(tmp_path, "ann@example.com", "a long passphrase")

    removed = deskpulse(tmp_path, "user", "remove", "--email", "ann@example.com")
    assert removed.returncode == 0, removed.stderr
    assert "ann@example.com is deactivated" in removed.stdout
    assert not can_sign_in(tmp_path, "ann@example.com", "a long passphrase")
    row = next(
        line
        for line in deskpulse(tmp_path, "user", "list").stdout.splitlines()
        if "ann@example.com" in line
    )
    assert "│ no " in row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "boss"), "--role: 'boss' is not a role; choose one of owner, admin, agent"),
        (("--role", "agent"), "--agent-id: an agent needs an agent id"),
        (("--role", "agent", "--agent-id", "agent-1"), "--agent-id: agent id 'agent-1' is already"),
        (("--role", "admin", "--email", "FIRST@example.com"), "--email: first@example.com already"),
        (("--role", "admin", "--password", "short"), "--password: This password is too short"),
    ],
)
def test_user_add_errors_name_the_option(
    tmp_path_factory: pytest.TempPathFactory, args: tuple[str, ...], message: str
) -> None:
    data = tmp_path_factory.getbasetemp() / "user-errors"
    if not (data / "app.sqlite3").exists():
        first = deskpulse(
            data, "user", "add", "--email", "first@example.com", "--role", "agent",
            "--agent-id", "agent-1",
        )  # fmt: skip
        assert first.returncode == 0, first.stderr
    email = () if "--email" in args else ("--email", "second@example.com")
    result = deskpulse(data, "user", "add", *email, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_last_owner_cannot_be_removed(tmp_path: Path) -> None:
    added = deskpulse(tmp_path, "user", "add", "--email", "o@example.com", "--role", "owner")
    assert added.returncode == 0, added.stderr
    refused = deskpulse(tmp_path, "user", "remove", "--email", "o@example.com")
    assert refused.returncode != 0
    assert "o@example.com is the last active owner" in refused.stderr
    unknown = deskpulse(tmp_path, "user", "password", "--email", "nobody@example.com")
    assert unknown.returncode != 0
    assert "--email: no one has the email 'nobody@example.com'" in unknown.stderr


def test_user_add_knows_the_agent_ids_in_the_events(loaded: Path) -> None:
    known = deskpulse(
        loaded, "user", "add", "--email", "lead@example.com", "--role", "admin",
        "--agent-id", "agent-002", "--password", "a long passphrase",
    )  # fmt: skip
    assert known.returncode == 0, known.stderr
    assert "warning" not in known.stderr
    assert known.stdout.strip().splitlines()[-1] == "added lead@example.com as admin"
