"""One owner of a DuckDB data folder: the claim, what others learn from it, and its end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from deskpulse.data_folder import (
    INFO_FILE,
    FolderInUseError,
    claimed,
    describe_server,
    has_single_owner,
    running_server,
)
from deskpulse.settings import Settings


def test_a_claimed_folder_names_its_server_and_refuses_a_second_claim(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert running_server(settings) is None
    with claimed(settings):
        described = describe_server(settings, "http://127.0.0.1:8123", "dp_secret")
        assert running_server(settings) == described
        assert described.pid == os.getpid()
        # Only the folder's owner may read the token.
        assert (settings.data_dir / INFO_FILE).stat().st_mode & 0o077 == 0
        with (
            pytest.raises(FolderInUseError, match=rf"process {os.getpid()}, http://127.0.0.1:8123"),
            claimed(settings),
        ):
            pass
    assert running_server(settings) is None
    assert not (settings.data_dir / INFO_FILE).exists()
    with claimed(settings):  # free again
        pass


def test_a_killed_server_leaves_the_folder_free(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    holder = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from deskpulse.data_folder import claimed, describe_server
        from deskpulse.settings import Settings
        settings = Settings(data_dir=Path({str(settings.data_dir)!r}))
        with claimed(settings):
            describe_server(settings, "http://127.0.0.1:9", "dp_x")
            time.sleep(600)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", holder])
    try:
        deadline = time.monotonic() + 60
        while running_server(settings) is None:
            assert process.poll() is None, "the holder exited early"
            assert time.monotonic() < deadline, "the holder never claimed the folder"
            time.sleep(0.05)
        assert running_server(settings).pid == process.pid  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    # The kernel dropped the lock with the process; its stale description is ignored.
    assert (settings.data_dir / INFO_FILE).exists()
    assert running_server(settings) is None
    with claimed(settings):
        pass


def test_postgresql_folders_have_no_single_owner(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", backend_url="postgresql://h/db")
    assert not has_single_owner(settings)
    with claimed(settings), claimed(settings):  # several servers share a database
        assert running_server(settings) is None
    assert has_single_owner(Settings(data_dir=tmp_path, backend_url="spark://local[2]"))


def test_the_description_is_json_a_person_can_read(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with claimed(settings):
        describe_server(settings, "http://[::1]:8000", "dp_t")
        found = json.loads((settings.data_dir / INFO_FILE).read_text())
    assert set(found) == {"pid", "url", "token", "started_at"}
    assert found["url"] == "http://[::1]:8000"
