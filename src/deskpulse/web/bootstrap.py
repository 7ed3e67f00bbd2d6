"""Configure Django for one data folder, from the CLI, the server or tests."""

from __future__ import annotations

import threading

from deskpulse.settings import Settings

_lock = threading.Lock()


def setup_django(
    settings: Settings,
    *,
    allowed_hosts: list[str] | None = None,
    debug: bool | None = None,
    migrate: bool = True,
) -> None:
    """Configure Django for `settings.data_dir` and bring the app database up to date.

    Idempotent: calling it again for the same install only re-checks migrations. A
    process serves one install, so asking for a second data folder is an error rather
    than a silent switch.
    """
    import django
    from django.conf import settings as django_settings

    from deskpulse.web.conf import build_django_settings
    from deskpulse.web.frontdoor import allowed_hosts_with_public, public_url_from_env

    with _lock:
        if not django_settings.configured:
            django_settings.configure(
                **build_django_settings(settings, debug=debug, allowed_hosts=allowed_hosts)
            )
        else:
            current: Settings | None = getattr(django_settings, "DESKPULSE_SETTINGS", None)
            if current is not None and current.data_dir != settings.data_dir:
                raise RuntimeError(
                    f"Django is already configured for {current.data_dir}; "
                    f"cannot switch this process to {settings.data_dir}"
                )
            if allowed_hosts:
                # The public address stays reachable whatever the server listens on.
                django_settings.ALLOWED_HOSTS = allowed_hosts_with_public(
                    allowed_hosts, public_url_from_env()
                )
        django.setup()
        if migrate:
            migrate_app_database()


def migrate_app_database() -> None:
    """Apply pending migrations; a no-op when the database is current."""
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    # A forking server must not hand an open SQLite connection to its workers.
    connections.close_all()
