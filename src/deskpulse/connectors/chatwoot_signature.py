"""Verifying Chatwoot's webhook signature.

Chatwoot signs account webhooks (since v4.11.2) and API-inbox and agent-bot webhooks
(since v4.13.0) when the webhook has a secret (lib/webhooks/trigger.rb):

    X-Chatwoot-Timestamp: <unix seconds>
    X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

The body signed is the exact bytes sent, so verification must see the raw request body,
not a re-serialised copy. The timestamp window bounds replays; it is checked against the
real clock (a security mechanic, not a measured time, so not deskpulse.clock).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
WINDOW_SECONDS = 300  # 5 minutes either side of now
_PREFIX = "sha256="


class SignatureError(Exception):
    """Why a webhook was refused: `field` names the header at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The header value Chatwoot sends for `body` at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return _PREFIX + digest.hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # HTTP header names are case-insensitive; Django's request.headers already is, a
    # plain dict from a test or a proxy may not be.
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: Callable[[], float] = time.time,
    window_seconds: int = WINDOW_SECONDS,
) -> None:
    """Return if `body` carries a valid, fresh Chatwoot signature; raise
    `SignatureError` naming the header otherwise (the caller answers 4xx and stores
    nothing)."""
    if not secret:
        raise ValueError("a webhook secret is needed to verify signatures")
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if not signature:
        raise SignatureError(SIGNATURE_HEADER, "missing: the webhook is not signed")
    if not timestamp:
        raise SignatureError(TIMESTAMP_HEADER, "missing: a signed webhook carries its time")
    timestamp = timestamp.strip()
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureError(TIMESTAMP_HEADER, f"{timestamp[:40]!r} is not unix seconds")
    skew = abs(now() - int(timestamp))
    if skew > window_seconds:
        raise SignatureError(
            TIMESTAMP_HEADER,
            f"{int(skew)} s away from now, outside the {window_seconds} s window",
        )
    expected = sign(secret, timestamp, body)
    # Constant time: a byte-by-byte compare would leak how much of a guess is right.
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError(SIGNATURE_HEADER, "does not match the body and the secret")
