"""The Chatwoot webhook signature check: sha256=HMAC(secret, "{timestamp}.{body}")."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from deskpulse.connectors.chatwoot_signature import (
    SignatureError,
    sign,
    verify_signature,
)

SECRET = "whsec-3f9a"
NOW = 1_765_000_000.0
BODY = (Path(__file__).parent / "fixtures" / "chatwoot" / "message_created.json").read_bytes()


def headers(body: bytes = BODY, *, at: float = NOW, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(at))
    return {"X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": sign(secret, stamp, body)}


def verify(hdrs: dict[str, str], body: bytes = BODY) -> None:
    verify_signature(SECRET, hdrs, body, now=lambda: NOW)


def test_sign_is_chatwoots_scheme_computed_independently() -> None:
    mac = hmac.new(b"whsec-3f9a", b"1765000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, "1765000000", BODY) == "sha256=" + mac


def test_a_valid_signature_passes_whatever_the_header_case() -> None:
    verify(headers())
    verify({k.lower(): v for k, v in headers().items()})
    verify(headers(at=NOW - 299))
    verify(headers(at=NOW + 299))


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda h: h.pop("X-Chatwoot-Signature"), "X-Chatwoot-Signature", "missing"),
        (lambda h: h.pop("X-Chatwoot-Timestamp"), "X-Chatwoot-Timestamp", "missing"),
        (
            lambda h: h.update({"X-Chatwoot-Signature": "sha256=" + "0" * 64}),
            "X-Chatwoot-Signature",
            "does not match",
        ),
        (lambda h: h.update({"X-Chatwoot-Timestamp": "yesterday"}), "X-Chatwoot-Timestamp", "unix"),
    ],
)
def test_missing_or_forged_headers_are_refused_by_name(change, field, words) -> None:  # type: ignore[no-untyped-def]
    hdrs = headers()
    change(hdrs)
    with pytest.raises(SignatureError) as refused:
        verify(hdrs)
    assert refused.value.field == field
    assert words in refused.value.reason


def test_a_changed_body_or_another_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify(headers(), BODY.replace(b"incoming", b"outgoing"))
    with pytest.raises(SignatureError, match="does not match"):
        verify(headers(secret="someone-else"))


def test_a_timestamp_outside_five_minutes_is_refused_even_when_correctly_signed() -> None:
    # The replay: a timestamp from 2001, signed with the right secret.
    with pytest.raises(SignatureError, match="outside the 300 s window") as old:
        verify(headers(at=978_307_200))
    assert old.value.field == "X-Chatwoot-Timestamp"
    with pytest.raises(SignatureError, match="outside"):
        verify(headers(at=NOW - 301))
    with pytest.raises(SignatureError, match="outside"):
        verify(headers(at=NOW + 301))


def test_the_window_uses_the_real_clock_not_the_pinned_one() -> None:
    # The suite pins deskpulse.clock; the default `now` must be time.time().
    import time

    stamp = str(int(time.time()))
    verify_signature(
        SECRET,
        {"X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": sign(SECRET, stamp, BODY)},
        BODY,
    )


def test_an_empty_secret_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        verify_signature("", headers(), BODY)
