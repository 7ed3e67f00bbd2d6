"""The token service behind `deskpulse token create|list|revoke`."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import User
from django.db import connection

from deskpulse.web.accounts.models import ApiToken, Profile, Role
from deskpulse.web.accounts.tokens import (
    SERVICE_USERNAME,
    TokenError,
    TokenRejectedError,
    UnknownTokenError,
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)

pytestmark = pytest.mark.django_db


def test_plaintext_is_shown_once_and_only_its_hash_is_kept() -> None:
    token, plaintext = create_token(name="zendesk sync", scopes=["ingest"])
    marker, prefix, secret = plaintext.split("_", 2)
    assert marker == "dp"
    assert prefix == token.prefix
    assert len(prefix) == 12
    assert len(secret) >= 43  # 32 random bytes, base64url
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = ApiToken.objects.get(pk=token.pk)
    assert not hasattr(stored, "plaintext")
    # Nowhere in the row: neither the secret nor the whole token.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    flat = " ".join(str(value) for row in rows for value in row)
    assert secret not in flat
    assert plaintext not in flat


def test_each_token_is_different() -> None:
    plaintexts = {create_token(name=f"t{i}", scopes=["read"])[1] for i in range(20)}
    assert len(plaintexts) == 20


def test_token_without_user_belongs_to_the_service_owner() -> None:
    token, _ = create_token(name="importer", scopes=["ingest", "read"])
    assert token.user.username == SERVICE_USERNAME
    assert not token.user.has_usable_password()
    assert Profile.objects.get(user=token.user).role == Role.OWNER
    second, _ = create_token(name="other", scopes=["ingest"])
    assert second.user == token.user


def test_token_for_a_person_by_email(agent: User) -> None:
    token, _ = create_token(name="mine", scopes=["read"], user_email="ALICE@example.com")
    assert token.user == agent


def test_unknown_email_is_refused(db: None) -> None:
    with pytest.raises(TokenError, match="no user has the email"):
        create_token(name="x", scopes=["read"], user_email="nobody@example.com")


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ([], "at least one scope"),
        (["delete"], "unknown scope delete"),
        (["read", "admin"], "admin"),
    ],
)
def test_scopes_are_checked(scopes: list[str], message: str) -> None:
    with pytest.raises(TokenError, match=message):
        create_token(name="x", scopes=scopes)


def test_scopes_are_normalised() -> None:
    token, _ = create_token(name="x", scopes=["read", " Ingest", "read"])
    assert token.scopes == ["ingest", "read"]


def test_name_is_required() -> None:
    with pytest.raises(TokenError, match="needs a name"):
        create_token(name="  ", scopes=["read"])


def test_list_tokens_includes_revoked_ones_oldest_first() -> None:
    first, _ = create_token(name="first", scopes=["read"])
    create_token(name="second", scopes=["ingest"])
    revoke_token(first.prefix)
    listed = list_tokens()
    assert [t.name for t in listed] == ["first", "second"]
    assert listed[0].is_revoked
    assert not listed[1].is_revoked


@pytest.mark.parametrize("how", ["prefix", "id", "plaintext"])
def test_revoke_by_prefix_id_or_plaintext(how: str) -> None:
    token, plaintext = create_token(name="x", scopes=["read"])
    key = {"prefix": token.prefix, "id": str(token.pk), "plaintext": plaintext}[how]
    revoked = revoke_token(key)
    assert revoked.pk == token.pk
    assert revoked.revoked_at is not None
    with pytest.raises(TokenRejectedError) as rejected:
        authenticate_token(plaintext)
    assert rejected.value.code == "revoked_token"


def test_revoking_twice_keeps_the_first_time() -> None:
    token, _ = create_token(name="x", scopes=["read"])
    first = revoke_token(token.prefix).revoked_at
    assert revoke_token(token.pk).revoked_at == first


def test_revoking_an_unknown_token_says_so(db: None) -> None:
    with pytest.raises(UnknownTokenError, match="no API token has the prefix or id 'abc'"):
        revoke_token("abc")


def test_authenticate_accepts_only_the_exact_secret() -> None:
    token, plaintext = create_token(name="x", scopes=["read"])
    assert authenticate_token(plaintext).pk == token.pk
    with pytest.raises(TokenRejectedError):
        authenticate_token(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B"))
