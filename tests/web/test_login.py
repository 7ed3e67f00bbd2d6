"""Sign-in by email or username, sign-out by POST, and where sign-in sends people."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from deskpulse.web.accounts.forms import WRONG_CREDENTIALS

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hashing() -> Iterator[None]:
    # PBKDF2 at full strength costs ~0.5 s per check; these tests check the flow, not it.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def person(owner: User) -> User:
    owner.set_password(PASSWORD)
    owner.save()
    return owner


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_has_labelled_inputs(client: Client) -> None:
    page = client.get(LOGIN)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_username">Email or username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize("login", ["olivia@example.com", "OLIVIA@Example.COM", "olivia"])
def test_sign_in_by_email_in_any_case_or_by_username(
    client: Client, person: User, login: str
) -> None:
    response = client.post(LOGIN, {"username": login, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/analytics/"
    assert client.session["_auth_user_id"] == str(person.pk)


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("olivia@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("olivia", ""),
    ],
)
def test_wrong_credentials_get_one_message(
    client: Client, person: User, login: str, password: str
) -> None:
    response = client.post(LOGIN, {"username": login, "password": password})
    assert response.status_code == 200
    assert not signed_in(client)
    if password:
        # The same words whether the email exists or not: nothing to learn about accounts.
        assert WRONG_CREDENTIALS in response.content.decode()


def test_inactive_people_are_refused_with_the_same_message(client: Client, person: User) -> None:
    person.is_active = False
    person.save()
    response = client.post(LOGIN, {"username": "olivia@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert not signed_in(client)
    assert WRONG_CREDENTIALS in response.content.decode()
    assert "inactive" not in response.content.decode().lower()


def test_next_is_honoured(client: Client, person: User) -> None:
    response = client.post(
        f"{LOGIN}?next=/settings/tokens/",
        {"username": "olivia", "password": PASSWORD, "next": "/settings/tokens/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/tokens/"


@pytest.mark.parametrize(
    "evil", ["https://evil.example/steal", "//evil.example/", "https:/evil.example"]
)
def test_off_site_next_is_refused(client: Client, person: User, evil: str) -> None:
    response = client.post(LOGIN, {"username": "olivia", "password": PASSWORD, "next": evil})
    assert response.status_code == 302
    assert response["Location"] == "/analytics/"


def test_the_login_page_carries_next_into_the_form(client: Client) -> None:
    page = client.get(LOGIN, {"next": "/settings/users/"})
    assert '<input type="hidden" name="next" value="/settings/users/">' in page.content.decode()


def test_a_protected_page_sends_anonymous_people_to_sign_in_and_back(
    client: Client, person: User
) -> None:
    bounced = client.get("/settings/users/")
    assert bounced.status_code == 302
    assert bounced["Location"] == "/accounts/login/?next=/settings/users/"
    signed = client.post(
        bounced["Location"],
        {"username": "olivia", "password": PASSWORD, "next": "/settings/users/"},
    )
    assert signed["Location"] == "/settings/users/"
    assert client.get("/settings/users/").status_code == 200


def test_logout_is_post_only(client: Client, person: User) -> None:
    client.force_login(person)
    assert client.get(LOGOUT).status_code == 405
    assert signed_in(client)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert not signed_in(client)
    page = client.get(LOGIN)
    assert "You are signed out." in page.content.decode()


def test_logout_needs_the_csrf_token(person: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person)
    assert strict.post(LOGOUT).status_code == 403
    assert signed_in(strict)


def test_a_signed_in_person_skips_the_login_page(client: Client, person: User) -> None:
    client.force_login(person)
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == "/analytics/"
