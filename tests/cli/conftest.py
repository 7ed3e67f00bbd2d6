"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import END, deskpulse


@pytest.fixture(scope="session")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with 2,000 generated conversations imported (for the session: the
    tests that use it add only duplicates, rejected lines and people)."""
    data = tmp_path_factory.mktemp("cli") / "data"
    generated = deskpulse(data, "generate", "--conversations", "2000", "--end", END)
    assert generated.returncode == 0, generated.stderr
    assert "events for 2,000 conversations" in generated.stdout
    imported = deskpulse(data, "import", str(data / "generated.jsonl"))
    assert imported.returncode == 0, imported.stderr
    assert "accepted" in imported.stdout
    return data
