"""Creating connectors and finding the one a webhook URL's secret belongs to.

Plain functions over the ORM, used by the webhook endpoint and by
`deskpulse connect chatwoot webhook` (after `deskpulse.web.bootstrap.setup_django`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from deskpulse import clock
from deskpulse.web.connectors.models import Connector

SECRET_BYTES = 32
# Writing last_seen_at on every webhook would make each delivery a database write.
LAST_SEEN_PRECISION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_connector(
    kind: str, name: str, *, account_id: int | None = None
) -> tuple[Connector, str]:
    """A new connector and its plaintext secret (never stored, shown once)."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    connector = Connector.objects.create(
        kind=kind, name=name, secret_hash=hash_secret(secret), account_id=account_id
    )
    return connector, secret


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
    now = clock.now()
    if found.last_seen_at is None or now - found.last_seen_at > LAST_SEEN_PRECISION:
        Connector.objects.filter(pk=found.pk).update(last_seen_at=now)
        found.last_seen_at = now
    return found
