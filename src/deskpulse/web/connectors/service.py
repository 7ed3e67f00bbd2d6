"""Creating connectors, finding the one a webhook URL's secret belongs to, and setting
their webhook signing secrets.

Plain functions over the ORM, used by the webhook endpoint, the settings page and
`deskpulse connect chatwoot …` (after `deskpulse.web.bootstrap.setup_django`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings

from deskpulse import clock
from deskpulse.web.connectors.models import Connector
from deskpulse.web.connectors.sealing import seal, unseal

SECRET_BYTES = 32
# Chatwoot's webhook secrets are 24 characters (has_secure_token); other helpdesks may
# use longer ones. Fewer than 16 characters is a truncated copy, not a secret.
SIGNING_SECRET_MIN = 16
SIGNING_SECRET_MAX = 256
# Writing last_seen_at on every webhook would make each delivery a database write.
LAST_SEEN_PRECISION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SigningSecretError(ValueError):
    """A signing secret that cannot be right; the message says why (never echoing it)."""


def check_signing_secret(value: str) -> str:
    """The secret as pasted, without surrounding whitespace, or SigningSecretError."""
    value = value.strip()
    if not value:
        raise SigningSecretError("signing secret: empty")
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        raise SigningSecretError(
            "signing secret: has spaces or characters a webhook secret does not have; "
            "copy it again from the webhook's page"
        )
    if len(value) < SIGNING_SECRET_MIN:
        raise SigningSecretError(
            f"signing secret: {len(value)} characters, fewer than {SIGNING_SECRET_MIN}; "
            "copy the whole secret from the webhook's page"
        )
    if len(value) > SIGNING_SECRET_MAX:
        raise SigningSecretError(
            f"signing secret: {len(value)} characters, more than {SIGNING_SECRET_MAX}"
        )
    return value


def create_connector(
    kind: str,
    name: str,
    *,
    account_id: int | None = None,
    signing_secret: str | None = None,
    allow_unsigned: bool = False,
) -> tuple[Connector, str]:
    """A new connector and its plaintext URL secret (never stored, shown once)."""
    sealed = "" if signing_secret is None else seal(check_signing_secret(signing_secret), _key())
    secret = secrets.token_urlsafe(SECRET_BYTES)
    connector = Connector.objects.create(
        kind=kind,
        name=name,
        secret_hash=hash_secret(secret),
        account_id=account_id,
        signing_secret_sealed=sealed,
        signing_secret_set_at=clock.now() if sealed else None,
        allow_unsigned=allow_unsigned,
    )
    return connector, secret


def _key() -> str:
    key = settings.SECRET_KEY
    return key.decode() if isinstance(key, bytes) else str(key)


def set_signing(
    connector: Connector,
    *,
    signing_secret: str | None = None,
    clear_secret: bool = False,
    allow_unsigned: bool | None = None,
) -> Connector:
    """Set or rotate (signing_secret), remove (clear_secret) the signing secret and/or
    change allow_unsigned; None leaves a setting as it is."""
    if signing_secret is not None and clear_secret:
        raise SigningSecretError("signing secret: give a new one or remove it, not both")
    fields: list[str] = []
    if signing_secret is not None:
        connector.signing_secret_sealed = seal(check_signing_secret(signing_secret), _key())
        connector.signing_secret_set_at = clock.now()
        fields += ["signing_secret_sealed", "signing_secret_set_at"]
    elif clear_secret:
        connector.signing_secret_sealed = ""
        connector.signing_secret_set_at = None
        fields += ["signing_secret_sealed", "signing_secret_set_at"]
    if allow_unsigned is not None:
        connector.allow_unsigned = allow_unsigned
        fields.append("allow_unsigned")
    if fields:
        connector.save(update_fields=fields)
    return connector


def signing_secret_of(connector: Connector) -> str | None:
    """The plaintext signing secret, or None if none is set. Raises
    sealing.UnreadableSecretError if SECRET_KEY changed since it was set."""
    if not connector.signing_secret_sealed:
        return None
    return unseal(connector.signing_secret_sealed, _key())


def find_connectors(kind: str, name_or_id: str) -> list[Connector]:
    """Connectors of this kind named so, or with this id (names need not be unique)."""
    found = list(Connector.objects.filter(kind=kind, name=name_or_id).order_by("pk"))
    if not found and name_or_id.isdigit():
        found = list(Connector.objects.filter(kind=kind, pk=int(name_or_id)))
    return found


def all_connectors() -> list[Connector]:
    return list(Connector.objects.order_by("kind", "name", "pk"))


def mark_seen(connector: Connector) -> None:
    """Record an authenticated delivery (not a refused one: a forgery is no sign of
    life)."""
    now = clock.now()
    if connector.last_seen_at is None or now - connector.last_seen_at > LAST_SEEN_PRECISION:
        Connector.objects.filter(pk=connector.pk).update(last_seen_at=now)
        connector.last_seen_at = now


def connector_for_secret(kind: str, secret: str) -> Connector | None:
    """The connector of this kind whose secret this is, or None.

    The lookup is by hash (an index hit, no timing signal about the secret itself); the
    final comparison is constant-time anyway so nothing depends on how a string
    comparison short-circuits.
    """
    if not secret or len(secret) > 256:
        return None
    digest = hash_secret(secret)
    found = Connector.objects.filter(kind=kind, secret_hash=digest).first()
    if found is None or not hmac.compare_digest(found.secret_hash, digest):
        return None
    return found
