"""Who owns a data folder, and how everyone else reaches it.

DuckDB lets one process open a database file for writing, and Spark in local mode keeps
its metastore inside the data folder: such a folder has one owner. `deskpulse serve`
claims it (an exclusive lock on `server.lock`, released by the kernel however the
process ends, kill -9 included) and writes `server.json` beside it: its process id, its
URL and a token of its own, readable by the folder's owner only. A second `serve` on
the folder refuses to start and says who holds it; the CLI finds the running server
there and sends its work through the server's API instead of opening the files.

PostgreSQL (and a Spark cluster) have no such owner: any number of servers and CLIs
share one database, so nothing here applies to them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from deskpulse import clock
from deskpulse.settings import Settings

LOCK_FILE = "server.lock"
INFO_FILE = "server.json"


@dataclass(frozen=True)
class RunningServer:
    """The server that owns a data folder, as it described itself when it started."""

    pid: int
    url: str
    token: str
    started_at: str

    def describe(self) -> str:
        return f"deskpulse serve (process {self.pid}, {self.url})"


class FolderInUseError(RuntimeError):
    """The data folder is owned by a running server; `server` says which, when known."""

    def __init__(self, settings: Settings, server: RunningServer | None) -> None:
        holder = server.describe() if server is not None else "another deskpulse serve"
        super().__init__(
            f"{holder} already serves {settings.data_dir}: one server per data folder "
            "(stop it first, or serve another folder with --data)"
        )
        self.server = server


def has_single_owner(settings: Settings) -> bool:
    """Whether the backend lets only one process open the data folder's store."""
    url = settings.backend_url
    return url is None or url.startswith("spark://local")


def running_server(settings: Settings) -> RunningServer | None:
    """The server holding the folder, or None when no process holds it."""
    if not has_single_owner(settings):
        return None
    lock = settings.data_dir / LOCK_FILE
    if not lock.exists():
        return None
    descriptor = os.open(lock, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_info(settings.data_dir / INFO_FILE)
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return None  # a server that ended without cleaning up: nobody holds it
    finally:
        os.close(descriptor)


def _read_info(path: Path) -> RunningServer | None:
    try:
        found = json.loads(path.read_text())
        return RunningServer(
            pid=int(found["pid"]),
            url=str(found["url"]),
            token=str(found["token"]),
            started_at=str(found["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # claimed a moment ago and not described yet, or unreadable to us


@contextlib.contextmanager
def claimed(settings: Settings) -> Iterator[None]:
    """Hold the folder for this process until the block ends; FolderInUseError if taken."""
    if not has_single_owner(settings):
        yield
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(settings.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderInUseError(settings, _read_info(settings.data_dir / INFO_FILE)) from None
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                (settings.data_dir / INFO_FILE).unlink()
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def describe_server(settings: Settings, url: str, token: str) -> RunningServer:
    """Write server.json (owner-only) for the CLI to find this server; call while claimed."""
    server = RunningServer(
        pid=os.getpid(), url=url, token=token, started_at=clock.now().isoformat()
    )
    target = settings.data_dir / INFO_FILE
    staged = target.with_name(f".{INFO_FILE}.{os.getpid()}")
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(server), handle)
    os.replace(staged, target)  # readers never see half a file
    return server
