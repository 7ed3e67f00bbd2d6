"""API token service: create, list, revoke, and check a presented token.

Plain functions over the ORM, used by the API and by `deskpulse token …` in the CLI
(after `deskpulse.web.bootstrap.setup_django`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from deskpulse.web.accounts.models import SCOPES, ApiToken, Profile, Role

SERVICE_USERNAME = "deskpulse-service"
PREFIX_BYTES = 6  # 12 hex characters: unique enough to find a token, short enough to read
SECRET_BYTES = 32
# Writing last_used_at on every request would make each API call a database write.
LAST_USED_PRECISION = timedelta(minutes=1)

_TOKEN = re.compile(r"^dp_(?P<prefix>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{20,128})$")


class TokenError(ValueError):
    """A token request that cannot be done (bad scope, unknown user, …)."""


class UnknownTokenError(LookupError):
    """No token has that prefix or id."""


class TokenRejectedError(Exception):
    """A presented token is not accepted; `code` says why (invalid_token, revoked_token)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    found = sorted({scope.strip().lower() for scope in scopes if scope.strip()})
    unknown = [scope for scope in found if scope not in SCOPES]
    if unknown:
        raise TokenError(
            f"unknown scope {', '.join(unknown)}; a token's scopes are among "
            f"{', '.join(sorted(SCOPES))}"
        )
    if not found:
        raise TokenError(f"a token needs at least one scope: {', '.join(sorted(SCOPES))}")
    return found


def service_user() -> User:
    """The owner account that holds tokens created without a person (integrations)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=SERVICE_USERNAME)
    if created:
        user.set_unusable_password()
        user.save()
    Profile.objects.update_or_create(user=user, defaults={"role": Role.OWNER, "agent_id": None})
    return user


def _user_by_email(email: str) -> User:
    matches = list(get_user_model().objects.filter(email__iexact=email.strip())[:2])
    if not matches:
        raise TokenError(f"no user has the email {email!r}")
    if len(matches) > 1:
        raise TokenError(f"several users have the email {email!r}; make it unique first")
    return matches[0]


def create_token(
    *,
    name: str,
    scopes: Iterable[str],
    user_email: str | None = None,
    user: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its plaintext, which is shown this once and never again.

    The token belongs to `user`, else to the person with `user_email`, else to the
    service user (integrations that act for no one in particular).
    """
    if user is not None and user_email is not None:
        raise TokenError("give the token's user or their email, not both")
    label = name.strip()
    if not label:
        raise TokenError("a token needs a name (what will use it, e.g. 'zendesk sync')")
    if len(label) > 100:
        raise TokenError("a token name has at most 100 characters")
    granted = normalise_scopes(scopes)
    if user is not None:
        owner = user
    elif user_email is not None:
        owner = _user_by_email(user_email)
    else:
        owner = service_user()
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=owner,
                    name=label,
                    prefix=prefix,
                    secret_hash=hash_secret(secret),
                    scopes=granted,
                )
        except IntegrityError:
            # Two tokens drew the same prefix (1 in 2^48): draw again.
            if ApiToken.objects.filter(prefix=prefix).exists():
                continue
            raise
        return token, f"dp_{prefix}_{secret}"


def list_tokens() -> list[ApiToken]:
    """Every token, revoked ones included, oldest first."""
    return list(ApiToken.objects.select_related("user").order_by("created_at", "id"))


def find_token(prefix_or_id: str | int) -> ApiToken:
    """A token by its prefix, its full plaintext, or its numeric id."""
    key = str(prefix_or_id).strip()
    match = _TOKEN.match(key)
    if match:
        key = match["prefix"]
    elif key.startswith("dp_"):
        key = key.removeprefix("dp_").split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=key.lower()).first()
    if token is None and key.isdigit():
        token = ApiToken.objects.select_related("user").filter(pk=int(key)).first()
    if token is None:
        raise UnknownTokenError(
            f"no API token has the prefix or id {str(prefix_or_id)!r} (see `deskpulse token list`)"
        )
    return token


def revoke_token(prefix_or_id: str | int) -> ApiToken:
    """Revoke a token; revoking it again keeps the first revocation time."""
    token = find_token(prefix_or_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(plaintext: str) -> ApiToken:
    """The active token a request presented; raises TokenRejectedError otherwise."""
    match = _TOKEN.match(plaintext.strip())
    if match is None:
        raise TokenRejectedError("invalid_token", "the API token is not a deskpulse token")
    token = ApiToken.objects.select_related("user").filter(prefix=match["prefix"]).first()
    # compare_digest keeps the comparison time independent of where the hashes differ.
    if token is None or not hmac.compare_digest(token.secret_hash, hash_secret(match["secret"])):
        raise TokenRejectedError("invalid_token", "the API token is not valid")
    if token.revoked_at is not None:
        raise TokenRejectedError("revoked_token", "the API token has been revoked")
    if not token.user.is_active:
        raise TokenRejectedError("invalid_token", "the API token's user is deactivated")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
