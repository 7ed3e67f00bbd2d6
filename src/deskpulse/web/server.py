"""The production server: gunicorn running the Django app, started from Python."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from gunicorn.app.base import BaseApplication

from deskpulse.settings import Settings
from deskpulse.web.conf import DEFAULT_ALLOWED_HOSTS, allowed_hosts_from_env

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
WSGIApp = Callable[..., Any]


class DeskpulseServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with its settings given in code instead of a config file or argv."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        # Runs in each worker after the fork (no preload), so every worker builds its own
        # app and, on first use, opens its own store connection.
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


def _start_jobs(worker: Any) -> None:
    # The scheduled jobs run in the worker, where the store is opened (DuckDB allows one
    # process); with several workers each has a scheduler and the job claims in the app
    # database keep any job from running twice.
    from deskpulse.web.jobs import start_scheduler
    from deskpulse.web.runtime import install_settings

    start_scheduler(install_settings())


def _close_store_on_exit(arbiter: Any, worker: Any) -> None:
    # Closing checkpoints DuckDB's write-ahead log into the database file, so the next
    # start does not have to replay it. Jobs stop first: they may be using the store.
    from deskpulse.web.jobs import stop_scheduler
    from deskpulse.web.runtime import close_store

    stop_scheduler()
    close_store()


def _one_process(settings: Settings) -> bool:
    """DuckDB's file and local Spark's JVM (with its embedded metastore) take one process."""
    url = settings.backend_url
    return url is None or url.startswith("spark://")


def _default_workers(settings: Settings) -> int:
    if _one_process(settings):
        return 1
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _allowed_hosts(host: str) -> list[str]:
    configured = allowed_hosts_from_env()
    if configured:
        return configured
    if host in WILDCARD_HOSTS:
        # Listening on every interface means being reached by names we cannot know;
        # DESKPULSE_ALLOWED_HOSTS narrows this down behind a public name.
        return ["*"]
    named = f"[{host.strip('[]')}]" if ":" in host else host
    return sorted({*DEFAULT_ALLOWED_HOSTS, named})


def server_options(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    count = workers or _default_workers(settings)
    if _one_process(settings) and count != 1:
        # DuckDB lets one process open the database file for writing; a second worker
        # would fail to open it. One process with threads (the store serialises its use)
        # is the embedded setup (Spark's JVM and metastore likewise); PostgreSQL allows
        # several workers.
        raise ValueError(
            "the embedded DuckDB store (and Spark) allows one server process: use threads, or set "
            "DESKPULSE_BACKEND=postgresql://… for several workers"
        )
    if threads < 1:
        raise ValueError("threads must be at least 1")
    options: dict[str, Any] = {
        "bind": _bind(host, port),
        "workers": count,
        "threads": threads,
        "worker_class": "gthread",
        # A 10,000-event batch is validated, stored and folded into the facts inside
        # the request; give it room before gunicorn kills the worker as stuck.
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "proc_name": "deskpulse",
        "post_worker_init": _start_jobs,
        "worker_exit": _close_store_on_exit,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    options.update(extra or {})
    return options


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    threads: int = 8,
    *,
    gunicorn_options: Mapping[str, Any] | None = None,
) -> None:
    """Migrate the app database, then serve until stopped (SIGTERM/SIGINT)."""
    from deskpulse.web.bootstrap import setup_django

    options = server_options(
        settings, host=host, port=port, workers=workers, threads=threads, extra=gunicorn_options
    )
    setup_django(settings, allowed_hosts=_allowed_hosts(host))
    DeskpulseServer(options).run()
