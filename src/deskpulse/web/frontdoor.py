"""The front door's Django settings: the public address, login throttling and the CSP.

Each piece is read from DESKPULSE_* environment variables and returned as Django settings
for `build_django_settings`. Bad values raise `FrontDoorSettingError` naming the variable,
so a typo stops the server at start rather than leaving the door half-configured.

- DESKPULSE_PUBLIC_URL (e.g. https://support.example.com) is the "deploying behind TLS"
  switch (docs/deploying.md): the host joins ALLOWED_HOSTS, the origin joins
  CSRF_TRUSTED_ORIGINS, and an https URL turns on secure cookies, HSTS, the proxy's
  X-Forwarded-Proto and, for login throttling, the proxy's X-Forwarded-For.
- DESKPULSE_LOGIN_FAILURES_PER_ACCOUNT / _PER_ADDRESS / DESKPULSE_LOGIN_LOCKOUT_MINUTES:
  django-axes' limits (web/accounts/throttle.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

PUBLIC_URL = "DESKPULSE_PUBLIC_URL"
HSTS_SECONDS = "DESKPULSE_HSTS_SECONDS"
FAILURES_PER_ACCOUNT = "DESKPULSE_LOGIN_FAILURES_PER_ACCOUNT"
FAILURES_PER_ADDRESS = "DESKPULSE_LOGIN_FAILURES_PER_ADDRESS"
LOCKOUT_MINUTES = "DESKPULSE_LOGIN_LOCKOUT_MINUTES"

# One year: what browsers' HSTS preload lists ask for, and long enough that a visitor who
# came once is never sent over plain HTTP by a hostile network afterwards. Set
# DESKPULSE_HSTS_SECONDS lower while trying TLS out: browsers remember the value.
DEFAULT_HSTS_SECONDS = 365 * 24 * 3600
# Five wrong passwords for one account from one address is more than typos; the limit
# per address alone is higher because a whole office may share one address.
DEFAULT_FAILURES_PER_ACCOUNT = 5
DEFAULT_FAILURES_PER_ADDRESS = 30
DEFAULT_LOCKOUT_MINUTES = 15


class FrontDoorSettingError(ValueError):
    """An environment variable of the front door has a value that cannot be used."""


@dataclass(frozen=True)
class PublicUrl:
    """Where people reach this deskpulse, as given by DESKPULSE_PUBLIC_URL."""

    scheme: str
    host: str
    origin: str

    @property
    def https(self) -> bool:
        return self.scheme == "https"


def parse_public_url(raw: str) -> PublicUrl:
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise FrontDoorSettingError(f"{PUBLIC_URL}: {text!r} is not a URL ({error})") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FrontDoorSettingError(
            f"{PUBLIC_URL}: {text!r} must be an http:// or https:// address with a host, "
            "e.g. https://support.example.com"
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        raise FrontDoorSettingError(
            f"{PUBLIC_URL}: {text!r} must be just the scheme and host (and port): deskpulse "
            "is served at the root of its address, without a path"
        )
    host = parts.hostname.lower()
    named = f"[{host}]" if ":" in host else host
    origin = f"{parts.scheme}://{named}" + (f":{port}" if port is not None else "")
    return PublicUrl(scheme=parts.scheme, host=named, origin=origin)


def public_url_from_env() -> PublicUrl | None:
    raw = os.environ.get(PUBLIC_URL, "").strip()
    return parse_public_url(raw) if raw else None


def _whole_number(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FrontDoorSettingError(f"{name}: {raw!r} is not a whole number") from None
    if value < minimum:
        raise FrontDoorSettingError(f"{name}: {value} is below the smallest allowed, {minimum}")
    return value


def public_url_settings(public: PublicUrl | None) -> dict[str, Any]:
    """What the TLS switch sets. Without a public URL: nothing beyond Django's defaults."""
    if public is None:
        return {"DESKPULSE_PUBLIC_URL": None, "DESKPULSE_TRUST_PROXY": False}
    found: dict[str, Any] = {
        "DESKPULSE_PUBLIC_URL": public.origin,
        # Forms posted from the public address (the proxy may present another Host).
        "CSRF_TRUSTED_ORIGINS": [public.origin],
        "DESKPULSE_TRUST_PROXY": False,
    }
    if not public.https:
        return found
    hsts = _whole_number(HSTS_SECONDS, DEFAULT_HSTS_SECONDS, minimum=0)
    found.update(
        {
            # The TLS-terminating proxy says how the browser reached it; without this
            # Django would think every request is plain HTTP.
            "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
            "SESSION_COOKIE_SECURE": True,
            "CSRF_COOKIE_SECURE": True,
            # Sent on HTTPS responses only (Django's SecurityMiddleware checks). No
            # includeSubDomains: other sites under the same domain are not ours to bind.
            "SECURE_HSTS_SECONDS": hsts,
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
            "SECURE_HSTS_PRELOAD": False,
            # The proxy's X-Forwarded-For names the client for login throttling; without
            # a proxy anyone could write that header and dodge the limits.
            "DESKPULSE_TRUST_PROXY": True,
        }
    )
    return found


def allowed_hosts_with_public(hosts: list[str], public: PublicUrl | None) -> list[str]:
    if public is None or "*" in hosts or public.host in hosts:
        return hosts
    return [*hosts, public.host]


@dataclass(frozen=True)
class LoginLimits:
    per_account: int
    per_address: int
    lockout: timedelta


def login_limits_from_env() -> LoginLimits:
    per_account = _whole_number(FAILURES_PER_ACCOUNT, DEFAULT_FAILURES_PER_ACCOUNT, minimum=1)
    per_address = _whole_number(FAILURES_PER_ADDRESS, DEFAULT_FAILURES_PER_ADDRESS, minimum=1)
    if per_address < per_account:
        raise FrontDoorSettingError(
            f"{FAILURES_PER_ADDRESS}: {per_address} is below {FAILURES_PER_ACCOUNT} "
            f"({per_account}); one address holds every account tried from it"
        )
    minutes = _whole_number(LOCKOUT_MINUTES, DEFAULT_LOCKOUT_MINUTES, minimum=1)
    return LoginLimits(per_account, per_address, timedelta(minutes=minutes))


def login_throttle_settings(limits: LoginLimits) -> dict[str, Any]:
    """django-axes, recording failed sign-ins in the app database."""
    return {
        "DESKPULSE_LOGIN_LIMITS": limits,
        "AUTHENTICATION_BACKENDS": [
            # Refuses any sign-in while its account and address (or the address) is
            # locked out; must come first.
            "axes.backends.AxesStandaloneBackend",
            "deskpulse.web.accounts.backends.EmailOrUsernameBackend",
        ],
        "AXES_HANDLER": "deskpulse.web.accounts.throttle.LoginThrottleHandler",
        # Failures are counted per account and address, and per address alone; the
        # handler gives each its own limit (axes itself compares one number).
        "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"], "ip_address"],
        "AXES_FAILURE_LIMIT": limits.per_account,
        "AXES_COOLOFF_TIME": limits.lockout,
        # The lockout ends a fixed time after the last counted failure: tries during a
        # lockout are refused without pushing its end further away.
        "AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT": False,
        # A correct password forgets that account's failures from that address (the
        # handler never lets it forget the address's failures for other accounts).
        "AXES_RESET_ON_SUCCESS": True,
        "AXES_USERNAME_CALLABLE": "deskpulse.web.accounts.throttle.account_key",
        "AXES_CLIENT_IP_CALLABLE": "deskpulse.web.accounts.throttle.client_address",
        "AXES_LOCKOUT_CALLABLE": "deskpulse.web.accounts.throttle.lockout_response",
        # Only failures are kept: a log of every sign-in would grow without bound.
        "AXES_DISABLE_ACCESS_LOG": True,
        "AXES_ENABLE_ADMIN": False,
        "AXES_VERBOSE": False,
    }


# The one policy every page is served under. Scripts and styles come only from this
# server's files: templates keep no inline <script>, style="" or on…= handlers (data for
# scripts travels in json_script blocks, which are not executed). Plotly needs neither
# 'unsafe-eval' nor 'unsafe-inline' for the bar and scatter charts used here: its
# stylesheet is served as a file (web/plotly_assets.py) instead of being injected.
CSP_DIRECTIVES: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # blob: for Plotly's "download plot as a PNG", which draws the chart through an
    # SVG blob image; data: for the icons of the API docs' Swagger UI.
    "img-src": ["'self'", "data:", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def csp_settings() -> dict[str, Any]:
    return {"CONTENT_SECURITY_POLICY": {"DIRECTIVES": CSP_DIRECTIVES}}
