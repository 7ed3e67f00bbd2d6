"""Login throttling: per account and address, per address alone, and lifting a lockout."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.web.accounts.forms import WRONG_CREDENTIALS
from deskpulse.web.accounts.models import Profile, Role
from deskpulse.web.accounts.people import set_password
from deskpulse.web.accounts.throttle import account_key, client_address
from deskpulse.web.frontdoor import DEFAULT_FAILURES_PER_ACCOUNT, DEFAULT_FAILURES_PER_ADDRESS

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "correct horse battery"
OFFICE = "203.0.113.7"
HOME = "198.51.100.20"


@pytest.fixture(autouse=True)
def fast_hashing() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def person(email: str, role: str = Role.AGENT) -> User:
    user = User.objects.create_user(username=email, email=email, password=PASSWORD)
    Profile.objects.create(user=user, role=role, agent_id=email if role == Role.AGENT else None)
    return user


@pytest.fixture
def ana() -> User:
    return person("ana@example.com")


@dataclass(frozen=True)
class Attempt:
    """One sign-in from a fresh browser."""

    client: Client
    response: HttpResponse

    @property
    def status(self) -> int:
        return int(self.response.status_code)


def sign_in(login: str, password: str, address: str = OFFICE, **headers: str) -> Attempt:
    client = Client(REMOTE_ADDR=address, **headers)
    return Attempt(client, client.post(LOGIN, {"username": login, "password": password}))


def signed_in(attempt: Attempt | Client) -> bool:
    client = attempt.client if isinstance(attempt, Attempt) else attempt
    return "_auth_user_id" in client.session


def lockout_text(html: bytes) -> str:
    box = BeautifulSoup(html, "html.parser").select_one("#signin-lockout")
    return "" if box is None else " ".join(box.get_text().split())


def test_60_wrong_passwords_lock_the_account_from_that_address(ana: User) -> None:
    statuses = []
    for n in range(60):
        attempt = sign_in("ana@example.com", f"guess {n}")
        statuses.append(attempt.status)
        assert not signed_in(attempt)
    limit = DEFAULT_FAILURES_PER_ACCOUNT
    # The failures before the limit read as an ordinary wrong password...
    assert statuses[: limit - 1] == [200] * (limit - 1)
    # ...the one that reaches it and every later one are refused with 429.
    assert statuses[limit - 1 :] == [429] * (60 - limit + 1)
    last = attempt.response
    assert int(last["Retry-After"]) > 14 * 60
    text = lockout_text(last.content)
    assert "Sign-in paused for 15 minutes" in text
    assert "Too many wrong passwords were tried for this account from your address" in text
    assert "wait 15 minutes and try again" in text
    assert "deskpulse user unlock --email" in text
    # The page is still the sign-in form, in the app's layout.
    page = BeautifulSoup(last.content, "html.parser")
    assert page.select_one("form[action='/accounts/login/'] input[name=password]") is not None
    assert page.select_one("link[href='/static/deskpulse/app.css']") is not None

    # The right password is refused too while the lockout lasts, in any case of the email.
    for login in ("ana@example.com", "ANA@Example.com"):
        correct = sign_in(login, PASSWORD)
        assert correct.status == 429
        assert not signed_in(correct)
    # Tries during a lockout are not counted: it still ends 15 minutes after the limit.
    assert AccessAttempt.objects.get().failures_since_start == limit


def test_a_lockout_holds_back_nobody_else(ana: User) -> None:
    bob = person("bob@example.com")
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT):
        sign_in("ana@example.com", f"guess {attempt}")
    assert sign_in("ana@example.com", PASSWORD).status == 429

    # Another account from another address, another account from the same address, and
    # Ana herself from home all sign in.
    for login, address in ((bob.email, HOME), (bob.email, OFFICE), (ana.email, HOME)):
        client = sign_in(login, PASSWORD, address)
        assert client.status == 302, (login, address)
        assert signed_in(client)


def test_the_lockout_ends_after_the_cool_off(ana: User) -> None:
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT):
        sign_in("ana@example.com", f"guess {attempt}")
    assert sign_in("ana@example.com", PASSWORD).status == 429
    # 14 minutes later it still holds; 15 minutes after the last failure it is over.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=14)
    )
    assert sign_in("ana@example.com", PASSWORD).status == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=1, seconds=1)
    )
    client = sign_in("ana@example.com", PASSWORD)
    assert client.status == 302
    assert signed_in(client)


def test_a_correct_password_forgets_earlier_typos(ana: User) -> None:
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT - 1):
        sign_in("ana@example.com", f"typo {attempt}")
    assert signed_in(sign_in("ana@example.com", PASSWORD))
    # Four more typos are four, not eight: no lockout.
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT - 1):
        assert sign_in("ana@example.com", f"typo {attempt}").status == 200
    assert signed_in(sign_in("ana@example.com", PASSWORD))


def test_an_email_and_its_username_count_as_one_account(owner: User) -> None:
    owner.set_password(PASSWORD)
    owner.save()
    # olivia@example.com names the account "olivia": one failure per try, one count.
    for login in (
        "olivia",
        "OLIVIA@example.com",
        "olivia@Example.com",
        "olivia",
        "olivia@example.com",
    ):
        sign_in(login, "wrong")
    assert sign_in("olivia", PASSWORD).status == 429
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.failures_since_start) == ("olivia", 5)


def test_one_address_trying_many_accounts_is_locked_for_all_of_them(ana: User) -> None:
    # A few guesses each at many accounts, never five at one: the address limit stops it.
    statuses = [
        sign_in(f"user{n}@example.com", "guess").status for n in range(DEFAULT_FAILURES_PER_ADDRESS)
    ]
    assert statuses[:-1] == [200] * (DEFAULT_FAILURES_PER_ADDRESS - 1)
    assert statuses[-1] == 429
    refused = sign_in("ana@example.com", PASSWORD)
    assert refused.status == 429
    text = lockout_text(refused.response.content)
    assert f"Too many wrong passwords were tried from your address ({OFFICE})" in text
    assert f"deskpulse user unlock --address {OFFICE}" in text
    assert signed_in(sign_in("ana@example.com", PASSWORD, HOME))


def test_wrong_passwords_for_unknown_accounts_are_counted_alike(ana: User) -> None:
    # A stranger learns nothing: unknown and known accounts lock out the same way.
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT):
        sign_in("nobody@example.com", f"guess {attempt}")
    last = sign_in("nobody@example.com", "guess")
    assert last.status == 429
    assert "Too many wrong passwords were tried for this account" in lockout_text(
        last.response.content
    )


def test_forwarded_for_is_ignored_without_the_tls_switch(ana: User) -> None:
    assert settings.DESKPULSE_TRUST_PROXY is False
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT):
        # Each try claims another address: without a trusted proxy the header is the
        # client's own words and changes nothing.
        sign_in("ana@example.com", f"guess {attempt}", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}")
    assert sign_in("ana@example.com", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9").status == 429


@override_settings(DESKPULSE_TRUST_PROXY=True)
def test_behind_the_proxy_the_address_it_appends_counts(ana: User) -> None:
    proxy = "127.0.0.1"
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT):
        # The client forges entries in front; the proxy appends the real address last.
        forged = f"10.0.0.{attempt}, {OFFICE}"
        sign_in("ana@example.com", f"guess {attempt}", proxy, HTTP_X_FORWARDED_FOR=forged)
    assert AccessAttempt.objects.get().ip_address == OFFICE
    assert sign_in("ana@example.com", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=OFFICE).status == 429
    home = sign_in("ana@example.com", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=HOME)
    assert signed_in(home)


def test_client_address_and_account_key(ana: User, rf: RequestFactory) -> None:
    request = rf.post(LOGIN, {"username": " ANA@example.com "}, REMOTE_ADDR=HOME)
    assert client_address(request) == HOME
    assert account_key(request) == "ana@example.com"
    assert account_key(request, {"username": "Someone@Else.org"}) == "someone@else.org"
    request.META["HTTP_X_FORWARDED_FOR"] = OFFICE
    assert client_address(request) == HOME
    with override_settings(DESKPULSE_TRUST_PROXY=True):
        assert client_address(request) == OFFICE
        for junk in ("not an address", "fe80::1%eth0", "203.0.113.7:443"):
            request.META["HTTP_X_FORWARDED_FOR"] = junk
            assert client_address(request) == HOME


def lock_out(login: str, address: str = OFFICE) -> None:
    for attempt in range(DEFAULT_FAILURES_PER_ACCOUNT):
        sign_in(login, f"guess {attempt}", address)
    assert sign_in(login, PASSWORD, address).status == 429


def run_cli(*args: str) -> str:
    data = settings.DESKPULSE_SETTINGS.data_dir
    result = CliRunner().invoke(app, ["--data", str(data), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_user_unlock_lifts_an_account_lockout(ana: User) -> None:
    lock_out("ana@example.com")
    output = run_cli("user", "unlock", "--email", "ANA@example.com")
    assert "ana@example.com can sign in again" in output
    assert signed_in(sign_in("ana@example.com", PASSWORD))


def test_user_unlock_lifts_an_address_lockout(ana: User) -> None:
    for n in range(DEFAULT_FAILURES_PER_ADDRESS):
        sign_in(f"user{n}@example.com", "guess")
    assert sign_in("ana@example.com", PASSWORD).status == 429
    assert f"sign-in from {OFFICE} is open again" in run_cli("user", "unlock", "--address", OFFICE)
    assert signed_in(sign_in("ana@example.com", PASSWORD))


def test_user_unlock_names_what_is_wrong(ana: User) -> None:
    data = str(settings.DESKPULSE_SETTINGS.data_dir)
    runner = CliRunner()
    nothing = runner.invoke(app, ["--data", data, "user", "unlock"])
    assert nothing.exit_code == 1
    assert "give --email" in nothing.output
    unknown = runner.invoke(app, ["--data", data, "user", "unlock", "--email", "x@example.com"])
    assert unknown.exit_code == 1
    assert "--email: no one has the email 'x@example.com'" in unknown.output
    address = runner.invoke(app, ["--data", data, "user", "unlock", "--address", "1.2.3"])
    assert address.exit_code == 1
    assert "--address: '1.2.3' is not an IP address" in address.output


def test_an_owner_unlocks_from_the_people_page(ana: User, owner: User, client: Client) -> None:
    lock_out("ana@example.com")
    client.force_login(owner)
    page = BeautifulSoup(client.get("/settings/users/").content, "html.parser")
    row = page.select_one(f"#person-{ana.pk}")
    assert row is not None
    assert "locked out" in row.get_text()
    button = row.select_one(f"form[action='/settings/users/{ana.pk}/unlock/'] button")
    assert button is not None
    assert button.get_text(strip=True) == "Unlock"
    # Nobody else shows as locked.
    others = [r for r in page.select("tr[id^=person-]") if r is not row]
    assert others
    assert all("locked out" not in r.get_text() for r in others)

    done = client.post(f"/settings/users/{ana.pk}/unlock/")
    assert done.status_code == 302
    after = BeautifulSoup(client.get("/settings/users/").content, "html.parser")
    assert "can sign in again" in after.get_text()
    assert "locked out" not in after.select_one(f"#person-{ana.pk}").get_text()  # type: ignore[union-attr]
    assert signed_in(sign_in("ana@example.com", PASSWORD))


def test_only_owners_unlock(ana: User, admin: User, client: Client) -> None:
    lock_out("ana@example.com")
    client.force_login(admin)
    assert client.post(f"/settings/users/{ana.pk}/unlock/").status_code in {403, 404}
    assert AccessAttempt.objects.exists()
    assert sign_in("ana@example.com", PASSWORD).status == 429


def test_wrong_passwords_still_read_as_before_the_limit(ana: User) -> None:
    response = sign_in("ana@example.com", "wrong").response
    assert response.status_code == 200
    assert WRONG_CREDENTIALS in response.content.decode()
    assert lockout_text(response.content) == ""


def test_signing_in_to_ones_own_account_keeps_the_address_count(ana: User) -> None:
    # Someone guessing at many accounts cannot reset their address's count by signing
    # in to an account of their own in between.
    for n in range(DEFAULT_FAILURES_PER_ADDRESS - 1):
        sign_in(f"user{n}@example.com", "guess")
        if n % 4 == 3:
            assert signed_in(sign_in("ana@example.com", PASSWORD))
    assert sign_in("someone@example.com", "guess").status == 429


def test_a_new_password_lifts_the_lockout(ana: User) -> None:
    lock_out("ana@example.com")
    set_password(ana, "a brand new passphrase")
    assert signed_in(sign_in("ana@example.com", "a brand new passphrase"))
