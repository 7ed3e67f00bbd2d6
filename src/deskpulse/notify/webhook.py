"""A signed JSON webhook with retries, and the signature check for receivers.

Every delivery carries three headers besides Content-Type:

- `X-Deskpulse-Timestamp`: unix seconds when this attempt was signed;
- `X-Deskpulse-Signature`: `sha256=` + hex HMAC-SHA256, keyed with the shared secret, of
  `f"{timestamp}.".encode() + body` (the exact bytes sent). Signing the timestamp with the
  body means a captured request cannot be replayed later with a fresh timestamp;
- `X-Deskpulse-Delivery`: the same on every retry of one delivery, so a receiver that got
  the first attempt (but whose answer was lost) recognises the retry.

Only the standard library is used (urllib), so deskpulse needs no HTTP client dependency.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC
from email.message import Message
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import IO, Any
from urllib.parse import urlsplit

from deskpulse.notify import DeliveryResult

SIGNATURE_PREFIX = "sha256="
# The longest a Retry-After is obeyed: an alert that waits an hour is no longer news, and
# the caller's loop must not hang on one receiver.
MAX_RETRY_AFTER_SECONDS = 60.0
_ERROR_BODY_CHARS = 200
USER_AGENT = "deskpulse-webhook/1"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib follows a 301/302/303 to a POST by sending a GET without the body, which
    would report success for a notification nobody received. A redirect is an error."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Deskpulse-Signature value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    header: str,
    *,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """Whether `header` (X-Deskpulse-Signature) signs `body` at `timestamp`
    (X-Deskpulse-Timestamp) with `secret`, and the timestamp is within
    `tolerance_seconds` of `now` (default: the clock). Pass the raw request body: parsing
    and re-serialising the JSON changes the bytes and fails the check."""
    if not secret:
        raise ValueError("secret: must not be empty")
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_seconds:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = sign(secret, ts, raw)
    # compare_digest takes as long for a near miss as for a far one, so the signature
    # cannot be guessed byte by byte from response times.
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8"))


def _retry_after(headers: Mapping[str, str] | Message | None, now: float) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), or None when absent/unreadable."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _check_header_value(name: str, value: str) -> None:
    # A CR/LF would let a value add headers of its own; non-ASCII would not encode.
    if not value or not value.isascii() or any(c in value for c in "\r\n"):
        raise ValueError(f"{name}: {value!r} must be non-empty printable ASCII without newlines")


def send_webhook(
    url: str,
    payload: Mapping[str, Any],
    secret: str,
    *,
    delivery_id: str | None = None,
    attempts: int = 4,
    backoff_seconds: float = 0.5,
    timeout: float = 5,
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> DeliveryResult:
    """POST `payload` as JSON to `url`, signed, retrying what may succeed later.

    Retried: connection errors, timeouts, 429 and 5xx, after backoff_seconds * 2**k
    (k = 0, 1, ...) or the receiver's Retry-After when it sends one (at most
    max_retry_after). Not retried: other 4xx and redirects, which will not change on
    their own. `delivery_id` (default: a new UUID) is sent on every attempt; pass the
    alert's de-dup key so a receiver can also drop a re-sent notification. Raises
    ValueError only for bad input; a failed delivery is a result with ok=False.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # urllib would also open file:// and ftp:// URLs; a webhook is only ever HTTP(S).
        raise ValueError(f"url: {url!r} is not an http(s) URL")
    if not secret:
        raise ValueError("secret: must not be empty (receivers could not verify deliveries)")
    if attempts < 1:
        raise ValueError(f"attempts: {attempts} must be at least 1")
    if backoff_seconds < 0 or timeout <= 0:
        raise ValueError("backoff_seconds/timeout: must be non-negative/positive")
    delivery = delivery_id or uuid.uuid4().hex
    _check_header_value("delivery_id", delivery)
    try:
        # allow_nan=False: NaN is not JSON and strict receivers (Slack) reject it.
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ValueError(f"payload: not JSON-serialisable ({error})") from error

    status: int | None = None
    error_text: str | None = None
    for attempt in range(1, attempts + 1):
        # Signed per attempt: a retry after a long Retry-After must still be within the
        # receiver's timestamp tolerance.
        timestamp = int(clock())
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Deskpulse-Timestamp": str(timestamp),
                "X-Deskpulse-Signature": sign(secret, timestamp, body),
                "X-Deskpulse-Delivery": delivery,
            },
        )
        wait: float | None = None
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                status = int(response.status)
                response.read()  # drain, so the connection closes cleanly
            return DeliveryResult(True, attempt, status, None, delivery)
        except urllib.error.HTTPError as failure:
            status = failure.code
            with failure:  # an HTTPError holds the open response
                detail = failure.read(_ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
            error_text = f"HTTP {status} {failure.reason}" + (f": {detail}" if detail else "")
            if not (status == 429 or status >= 500):
                return DeliveryResult(False, attempt, status, error_text, delivery)
            wait = _retry_after(failure.headers, clock())
        except (urllib.error.URLError, OSError, HTTPException) as failure:
            # URLError wraps refused connections and DNS failures; TimeoutError and
            # ConnectionResetError are OSErrors; HTTPException covers a garbled reply.
            status = None
            reason = getattr(failure, "reason", None) or failure
            error_text = f"{type(failure).__name__}: {reason}"
        if attempt < attempts:
            delay = backoff_seconds * 2 ** (attempt - 1)
            if wait is not None:
                delay = min(wait, max_retry_after)
            sleep(delay)
    return DeliveryResult(False, attempts, status, error_text, delivery)
