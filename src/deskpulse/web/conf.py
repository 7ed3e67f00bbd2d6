"""Django settings built from deskpulse's own `Settings`.

One builder serves both ways Django gets configured: the settings module (for
`DJANGO_SETTINGS_MODULE=deskpulse.web.settings`, wsgi.py and manage-style tools) and
`setup_django(settings)` (CLI, server, tests), so a data folder always means the same app
database, secret key and limits.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from deskpulse.settings import Settings
from deskpulse.web.frontdoor import (
    allowed_hosts_with_public,
    csp_settings,
    login_limits_from_env,
    login_throttle_settings,
    public_url_from_env,
    public_url_settings,
)

SECRET_KEY_FILE = "secret_key"

# Each web feature is one folder and one Django app: its pages, API router, templates
# (found through the app's templates/ folder) and, where it has any, its models.
FEATURE_APPS = (
    "deskpulse.web.accounts",
    "deskpulse.web.analytics",
    "deskpulse.web.signals",
    "deskpulse.web.performance",
    "deskpulse.web.coaching",
    "deskpulse.web.models",
    "deskpulse.web.ai_agents",
    "deskpulse.web.experiments",
    "deskpulse.web.alerts",
    "deskpulse.web.connectors",
    "deskpulse.web.data_health",
    "deskpulse.web.digest",
    "deskpulse.web.saved_views",
)
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def load_secret_key(data_dir: Path) -> str:
    """The install's SECRET_KEY: DESKPULSE_SECRET_KEY, else a key kept in the data folder.

    Generated on first use so no key is ever shipped in the source. Sessions, CSRF and
    password-reset links are signed with it, so it must survive restarts and be the same
    in every worker.
    """
    from_env = os.environ.get("DESKPULSE_SECRET_KEY")
    if from_env:
        return from_env
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return _read_key(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        # link() refuses to overwrite, so when several processes start at once exactly
        # one key wins and nobody ever reads a half-written file.
        os.link(candidate, path)
    except FileExistsError:
        pass
    finally:
        candidate.unlink()
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key: delete it to make a new one")
    return key


def app_database(settings: Settings) -> dict[str, Any]:
    """Django's database: DESKPULSE_APP_DATABASE_URL (PostgreSQL) or SQLite in the data folder."""
    url = os.environ.get("DESKPULSE_APP_DATABASE_URL")
    if url:
        return _postgres_database(url)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(settings.app_db_path),
        "OPTIONS": {
            # The threaded server writes (last_used_at, sessions) from several threads:
            # IMMEDIATE takes the write lock up front instead of failing on upgrade, WAL
            # lets readers continue meanwhile, and the timeout waits out short writes.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def _postgres_database(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(
            f"DESKPULSE_APP_DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ValueError("DESKPULSE_APP_DATABASE_URL names no database (postgresql://…/name)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def allowed_hosts_from_env() -> list[str] | None:
    raw = os.environ.get("DESKPULSE_ALLOWED_HOSTS")
    if raw is None:
        return None
    return [host.strip() for host in raw.split(",") if host.strip()]


def build_django_settings(
    settings: Settings,
    *,
    debug: bool | None = None,
    allowed_hosts: list[str] | None = None,
) -> dict[str, Any]:
    """Every Django setting for one install, as keyword arguments for settings.configure()."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    public = public_url_from_env()
    hosts = allowed_hosts_with_public(
        allowed_hosts or allowed_hosts_from_env() or list(DEFAULT_ALLOWED_HOSTS), public
    )
    return {
        "DESKPULSE_SETTINGS": settings,
        "SECRET_KEY": load_secret_key(settings.data_dir),
        "DEBUG": _env_flag("DESKPULSE_DEBUG") if debug is None else debug,
        "ALLOWED_HOSTS": hosts,
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            # Listed so /api/v1/docs renders its bundled Swagger UI instead of a CDN one:
            # installs may be offline.
            "ninja",
            # Failed sign-ins and lockouts (web/accounts/throttle.py).
            "axes",
            *FEATURE_APPS,
        ],
        "MIDDLEWARE": [
            # Outermost, so it also reshapes errors produced by the middleware below it.
            "deskpulse.web.api.errors.ApiErrorShapeMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            # After sessions and auth, so a refused page still renders in the layout.
            "deskpulse.web.request_guard.RequestGuardMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "csp.middleware.CSPMiddleware",
            # Last, as axes asks: it turns a sign-in refused by a lockout into the page
            # that says so (429).
            "axes.middleware.AxesMiddleware",
        ],
        "ROOT_URLCONF": "deskpulse.web.urls",
        "WSGI_APPLICATION": "deskpulse.web.wsgi.application",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                # Templates shared by every feature (the layout, 404/500, the problem
                # page); each feature's own come from its app's templates/ folder.
                "DIRS": [str(Path(__file__).parent / "templates")],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                        "deskpulse.web.access.profile_context",
                        "deskpulse.web.saved_views.menu.saved_views_context",
                    ],
                    "libraries": {"plotly_assets": "deskpulse.web.plotly_assets"},
                    # Names in place of agent ids and inquiry slugs, on every page.
                    "builtins": ["deskpulse.web.names"],
                },
            }
        ],
        "DATABASES": {"default": app_database(settings)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "LANGUAGE_CODE": "en-us",
        "STATIC_URL": "/static/",
        "LOGIN_URL": "/accounts/login/",
        "LOGIN_REDIRECT_URL": "/analytics/",
        "LOGOUT_REDIRECT_URL": "/accounts/login/",
        # Signed-in pages are for people at work: a session lasts two weeks of inactivity.
        "SESSION_COOKIE_AGE": 14 * 24 * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        # request.body is refused above this; the events endpoint reads the stream
        # itself and applies the same limit to the decompressed size as well.
        "DATA_UPLOAD_MAX_MEMORY_SIZE": settings.max_request_bytes,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        **public_url_settings(public),
        **login_throttle_settings(login_limits_from_env()),
        **csp_settings(),
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            },
            "handlers": {
                "stderr": {"class": "logging.StreamHandler", "formatter": "plain"},
            },
            "loggers": {
                "deskpulse": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            },
        },
    }
