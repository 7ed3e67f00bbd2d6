"""The "deploying behind TLS" switch (DESKPULSE_PUBLIC_URL) and the security headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from deskpulse.settings import Settings
from deskpulse.web.conf import build_django_settings
from deskpulse.web.frontdoor import (
    DEFAULT_HSTS_SECONDS,
    FrontDoorSettingError,
    allowed_hosts_with_public,
    parse_public_url,
    public_url_settings,
)

PUBLIC = "https://support.example.com"
SWITCH_VARIABLES = (
    "DESKPULSE_PUBLIC_URL",
    "DESKPULSE_HSTS_SECONDS",
    "DESKPULSE_ALLOWED_HOSTS",
    "DESKPULSE_LOGIN_FAILURES_PER_ACCOUNT",
    "DESKPULSE_LOGIN_FAILURES_PER_ADDRESS",
    "DESKPULSE_LOGIN_LOCKOUT_MINUTES",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SWITCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def built(tmp_path: Path) -> dict[str, object]:
    return build_django_settings(Settings(data_dir=tmp_path / "data"))


def test_without_the_switch_nothing_assumes_tls(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    found = built(tmp_path)
    assert found["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert "CSRF_TRUSTED_ORIGINS" not in found
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER"):
        assert name not in found, name
    assert "SECURE_HSTS_SECONDS" not in found
    assert found["DESKPULSE_TRUST_PROXY"] is False
    assert found["DESKPULSE_PUBLIC_URL"] is None


def test_an_https_public_url_sets_everything_tls_needs(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("DESKPULSE_PUBLIC_URL", "https://Support.Example.com/")
    found = built(tmp_path)
    assert found["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]", "support.example.com"]
    assert found["CSRF_TRUSTED_ORIGINS"] == [PUBLIC]
    assert found["SESSION_COOKIE_SECURE"] is True
    assert found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert found["SECURE_HSTS_SECONDS"] == DEFAULT_HSTS_SECONDS == 31_536_000
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert found["DESKPULSE_TRUST_PROXY"] is True
    assert found["DESKPULSE_PUBLIC_URL"] == PUBLIC


def test_an_http_public_url_only_names_the_host(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("DESKPULSE_PUBLIC_URL", "http://deskpulse.intranet:8080")
    env.setenv("DESKPULSE_ALLOWED_HOSTS", "deskpulse.intranet,10.1.2.3")
    found = built(tmp_path)
    assert found["ALLOWED_HOSTS"] == ["deskpulse.intranet", "10.1.2.3"]
    assert found["CSRF_TRUSTED_ORIGINS"] == ["http://deskpulse.intranet:8080"]
    assert "SESSION_COOKIE_SECURE" not in found
    assert "SECURE_PROXY_SSL_HEADER" not in found
    # Without TLS there is no proxy to trust with X-Forwarded-For.
    assert found["DESKPULSE_TRUST_PROXY"] is False


def test_hsts_can_be_shortened_or_turned_off(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("DESKPULSE_PUBLIC_URL", PUBLIC)
    env.setenv("DESKPULSE_HSTS_SECONDS", "3600")
    assert built(tmp_path)["SECURE_HSTS_SECONDS"] == 3600
    env.setenv("DESKPULSE_HSTS_SECONDS", "0")
    assert built(tmp_path)["SECURE_HSTS_SECONDS"] == 0


def test_the_server_keeps_the_public_host_whatever_it_listens_on() -> None:
    public = parse_public_url(PUBLIC)
    assert allowed_hosts_with_public(["127.0.0.1"], public) == ["127.0.0.1", "support.example.com"]
    assert allowed_hosts_with_public(["*"], public) == ["*"]
    assert allowed_hosts_with_public(["localhost"], None) == ["localhost"]
    assert parse_public_url("https://[2001:db8::1]:8443").origin == "https://[2001:db8::1]:8443"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DESKPULSE_PUBLIC_URL", "support.example.com", "must be an http:// or https:// address"),
        ("DESKPULSE_PUBLIC_URL", "ftp://support.example.com", "must be an http:// or https://"),
        ("DESKPULSE_PUBLIC_URL", "https://support.example.com/deskpulse", "without a path"),
        ("DESKPULSE_PUBLIC_URL", "https://support.example.com:99999", "is not a URL"),
        ("DESKPULSE_HSTS_SECONDS", "a year", "'a year' is not a whole number"),
        ("DESKPULSE_HSTS_SECONDS", "-1", "-1 is below the smallest allowed, 0"),
        ("DESKPULSE_LOGIN_FAILURES_PER_ACCOUNT", "0", "0 is below the smallest allowed, 1"),
        ("DESKPULSE_LOGIN_FAILURES_PER_ADDRESS", "3", "3 is below DESKPULSE_LOGIN_FAILURES"),
        ("DESKPULSE_LOGIN_LOCKOUT_MINUTES", "soon", "'soon' is not a whole number"),
    ],
)
def test_a_bad_value_names_its_variable(
    env: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str, words: str
) -> None:
    env.setenv("DESKPULSE_PUBLIC_URL", PUBLIC)
    env.setenv(variable, value)
    with pytest.raises(FrontDoorSettingError) as raised:
        built(tmp_path)
    assert str(raised.value).startswith(f"{variable}: ")
    assert words in str(raised.value)


def test_login_limits_come_from_the_environment(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("DESKPULSE_LOGIN_FAILURES_PER_ACCOUNT", "3")
    env.setenv("DESKPULSE_LOGIN_FAILURES_PER_ADDRESS", "12")
    env.setenv("DESKPULSE_LOGIN_LOCKOUT_MINUTES", "60")
    found = built(tmp_path)
    limits = found["DESKPULSE_LOGIN_LIMITS"]
    assert (limits.per_account, limits.per_address, limits.lockout.total_seconds()) == (  # type: ignore[attr-defined]
        3,
        12,
        3600,
    )
    assert found["AXES_FAILURE_LIMIT"] == 3


# -- through the test client ----------------------------------------------------------------

BEHIND_TLS = {
    **public_url_settings(parse_public_url(PUBLIC)),
    # The proxy may pass the request on as Host: 127.0.0.1:8000.
    "ALLOWED_HOSTS": ["support.example.com", "127.0.0.1"],
}


@pytest.mark.django_db
@override_settings(**BEHIND_TLS)
def test_a_request_forwarded_as_https_gets_secure_cookies_and_hsts(owner: User) -> None:
    owner.set_password("correct horse battery")
    owner.save()
    client = Client(HTTP_HOST="support.example.com", HTTP_X_FORWARDED_PROTO="https")
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == f"max-age={DEFAULT_HSTS_SECONDS}"
    assert page.cookies["csrftoken"]["secure"] is True
    signed = client.post(
        "/accounts/login/", {"username": "olivia", "password": "correct horse battery"}
    )
    assert signed.status_code == 302
    assert signed.cookies["sessionid"]["secure"] is True
    assert signed.cookies["sessionid"]["httponly"] is True


@pytest.mark.django_db
@override_settings(**BEHIND_TLS)
def test_plain_http_to_the_same_server_gets_no_hsts() -> None:
    page = Client(HTTP_HOST="support.example.com").get("/accounts/login/")
    assert page.status_code == 200
    assert "Strict-Transport-Security" not in page


@pytest.mark.django_db
@override_settings(**BEHIND_TLS)
def test_a_form_posted_from_the_public_origin_passes_csrf(owner: User) -> None:
    # A proxy that does not pass the Host header on: the browser's Origin is the public
    # address, which CSRF_TRUSTED_ORIGINS vouches for.
    client = Client(
        enforce_csrf_checks=True, HTTP_HOST="127.0.0.1:8000", HTTP_X_FORWARDED_PROTO="https"
    )
    token = client.get("/accounts/login/").cookies["csrftoken"].value
    from_public = client.post(
        "/accounts/login/",
        {"username": "olivia", "password": "wrong", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN=PUBLIC,
        HTTP_REFERER=f"{PUBLIC}/accounts/login/",
    )
    assert from_public.status_code == 200  # the form answered (wrong password), not 403
    elsewhere = client.post(
        "/accounts/login/",
        {"username": "olivia", "password": "wrong", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="https://evil.example",
    )
    assert elsewhere.status_code == 403


@pytest.mark.django_db
def test_without_the_switch_a_forwarded_proto_is_not_believed() -> None:
    page = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in page
    assert page.cookies["csrftoken"]["secure"] == ""
