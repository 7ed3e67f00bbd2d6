"""Django configuration from a data folder: settings module, setup_django, server options."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deskpulse.settings import Settings
from deskpulse.web.conf import app_database, load_secret_key
from deskpulse.web.server import _allowed_hosts, server_options


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DESKPULSE_", "DJANGO_"))
    }
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


SHOW_SETTINGS = """
    import json
    import django
    from django.conf import settings
    django.setup()
    print(json.dumps({
        "debug": settings.DEBUG,
        "database": settings.DATABASES["default"]["NAME"],
        "secret_key": settings.SECRET_KEY,
        "data_dir": str(settings.DESKPULSE_SETTINGS.data_dir),
    }))
"""


def test_settings_module_reads_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_env(DESKPULSE_DATA=str(data), DJANGO_SETTINGS_MODULE="deskpulse.web.settings")
    first = json.loads(run_python(SHOW_SETTINGS, env))
    second = json.loads(run_python(SHOW_SETTINGS, env))
    assert first["debug"] is False
    assert first["database"] == str(data / "app.sqlite3")
    assert first["data_dir"] == str(data)
    # Generated once, kept in the data folder, readable by its owner only.
    key_file = data / "secret_key"
    assert first["secret_key"] == key_file.read_text().strip()
    assert second["secret_key"] == first["secret_key"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first["secret_key"]) >= 50


def test_debug_is_opt_in(tmp_path: Path) -> None:
    env = clean_env(
        DESKPULSE_DATA=str(tmp_path),
        DJANGO_SETTINGS_MODULE="deskpulse.web.settings",
        DESKPULSE_DEBUG="1",
    )
    assert json.loads(run_python(SHOW_SETTINGS, env))["debug"] is True


def test_setup_django_migrates_once_and_refuses_a_second_install(tmp_path: Path) -> None:
    code = f"""
        from pathlib import Path
        from deskpulse.settings import Settings
        from deskpulse.web.bootstrap import setup_django
        settings = Settings(data_dir=Path({str(tmp_path / "a")!r}))
        setup_django(settings)
        setup_django(settings)
        from django.db import connection
        from deskpulse.web.accounts.tokens import create_token, list_tokens
        create_token(name="cli", scopes=["read"])
        print(len(list_tokens()), "accounts_apitoken" in connection.introspection.table_names())
        try:
            setup_django(Settings(data_dir=Path({str(tmp_path / "b")!r})))
        except RuntimeError as error:
            print("refused:", error)
    """
    out = run_python(code, clean_env()).splitlines()
    assert out[0] == "1 True"
    assert out[1].startswith("refused: Django is already configured for")
    # Again in a new process: the database is already migrated and the token is still there.
    again = run_python(
        f"""
        from pathlib import Path
        from deskpulse.settings import Settings
        from deskpulse.web.bootstrap import setup_django
        setup_django(Settings(data_dir=Path({str(tmp_path / "a")!r})))
        from deskpulse.web.accounts.tokens import list_tokens
        print(len(list_tokens()))
        """,
        clean_env(),
    )
    assert again.strip() == "1"


def test_secret_key_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKPULSE_SECRET_KEY", "k" * 60)
    assert load_secret_key(tmp_path) == "k" * 60
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_is_stable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESKPULSE_SECRET_KEY", raising=False)
    folder = tmp_path / "keys"
    assert load_secret_key(folder) == load_secret_key(folder)
    # No temporary file is left behind.
    assert [p.name for p in folder.iterdir()] == ["secret_key"]


def test_app_database_url_for_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DESKPULSE_APP_DATABASE_URL",
        "postgresql://dp:s%40cret@db.local:5433/deskpulse?sslmode=require",
    )
    database = app_database(Settings(data_dir=tmp_path))
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == (
        "deskpulse",
        "dp",
        "s@cret",
    )
    assert (database["HOST"], database["PORT"]) == ("db.local", "5433")
    assert database["OPTIONS"] == {"sslmode": "require"}
    monkeypatch.setenv("DESKPULSE_APP_DATABASE_URL", "mysql://x/y")
    with pytest.raises(ValueError, match="postgresql://"):
        app_database(Settings(data_dir=tmp_path))


def test_duckdb_serves_from_one_process_with_threads(tmp_path: Path) -> None:
    options = server_options(
        Settings(data_dir=tmp_path), host="127.0.0.1", port=8000, workers=None, threads=8
    )
    assert options["workers"] == 1
    assert options["threads"] == 8
    assert options["worker_class"] == "gthread"
    assert options["bind"] == "127.0.0.1:8000"
    with pytest.raises(ValueError, match="one server process"):
        server_options(
            Settings(data_dir=tmp_path), host="127.0.0.1", port=8000, workers=2, threads=8
        )


def test_postgresql_serves_from_several_workers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, backend_url="postgresql://localhost/deskpulse")
    options = server_options(settings, host="::1", port=9000, workers=None, threads=4)
    assert options["workers"] >= 2 or (os.cpu_count() or 1) == 0
    assert options["bind"] == "[::1]:9000"
    assert server_options(settings, host="::1", port=9000, workers=5, threads=4)["workers"] == 5


def test_allowed_hosts_follow_the_bind_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESKPULSE_ALLOWED_HOSTS", raising=False)
    assert "10.0.0.5" in _allowed_hosts("10.0.0.5")
    assert "localhost" in _allowed_hosts("127.0.0.1")
    assert _allowed_hosts("0.0.0.0") == ["*"]
    monkeypatch.setenv("DESKPULSE_ALLOWED_HOSTS", "desk.example.com, .example.org")
    assert _allowed_hosts("0.0.0.0") == ["desk.example.com", ".example.org"]


def test_wsgi_module_builds_the_app(tmp_path: Path) -> None:
    env = clean_env(DESKPULSE_DATA=str(tmp_path / "wsgi"))
    out = run_python(
        """
        from deskpulse.web.wsgi import application
        print(type(application).__name__)
        """,
        env,
    )
    assert out.strip() == "WSGIHandler"
