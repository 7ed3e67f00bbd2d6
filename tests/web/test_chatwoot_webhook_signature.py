"""Chatwoot webhook signatures at POST /api/v1/connectors/chatwoot/<secret>.

A connector with a signing secret takes only deliveries signed with it within the
5-minute window; anything else is a 401 naming the header and leaves the store exactly
as it was (no event, no rejected event). Without a secret, unsigned deliveries are taken
only where the owner allowed them. Runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from django.test import Client, override_settings

from deskpulse.connectors.chatwoot_signature import sign
from deskpulse.events.store import Store
from deskpulse.web.connectors.models import Connector
from deskpulse.web.connectors.service import create_connector, set_signing
from deskpulse.web.runtime import using_store
from tests.web.test_chatwoot_webhook import load

pytestmark = pytest.mark.django_db

SIGNING_SECRET = "xQ7rT2mWv9ZkLp4NsB8cYd3F"  # 24 characters, like Chatwoot's
BODY = orjson.dumps(load("message_created.json"))
FORGED_BODY_MARKER = b"forged-customer-words"


@pytest.fixture
def served(store: Store) -> Iterator[Store]:
    """The receiver serves `store` (DuckDB, then PostgreSQL)."""
    with using_store(store):
        yield store


@dataclass
class Hook:
    client: Client
    connector: Connector
    url_secret: str

    def post(self, body: bytes = BODY, **headers: str) -> Any:
        return self.client.post(
            f"/api/v1/connectors/chatwoot/{self.url_secret}",
            body,
            content_type="application/json",
            headers=headers,
        )

    def signed(self, body: bytes = BODY, *, at: int | None = None, secret: str = "") -> Any:
        timestamp = str(int(time.time()) if at is None else at)
        signature = sign(secret or SIGNING_SECRET, timestamp, body)
        return self.post(
            body, **{"X-Chatwoot-Signature": signature, "X-Chatwoot-Timestamp": timestamp}
        )

    def reload(self) -> Connector:
        return Connector.objects.get(pk=self.connector.pk)


def _hook(client: Client, **options: Any) -> Hook:
    connector, url_secret = create_connector("chatwoot", "support", account_id=1, **options)
    return Hook(client, connector, url_secret)


@pytest.fixture
def signed_hook(client: Client, served: Store) -> Hook:
    return _hook(client, signing_secret=SIGNING_SECRET)


def counts(store: Store) -> tuple[int, int]:
    return store.count("events"), store.count("rejected_events")


def test_valid_signature_is_stored(signed_hook: Hook, served: Store) -> None:
    response = signed_hook.signed()
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] > 0
    assert served.count("events") == response.json()["accepted"]
    assert signed_hook.reload().last_seen_at is not None


def _assert_refused(response: Any, header: str, words: str) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == 'X-Chatwoot-Signature realm="deskpulse"'
    error = response.json()["error"]
    assert error["code"] == "bad_signature"
    assert error["field"] == header
    assert error["message"].startswith(f"{header}: ")
    assert words in error["message"]


def test_wrong_signature_is_401_and_nothing_stored(signed_hook: Hook, served: Store) -> None:
    before = counts(served)
    response = signed_hook.signed(secret="someone-elses-secret-000")
    _assert_refused(response, "X-Chatwoot-Signature", "does not match")
    assert counts(served) == before == (0, 0)
    assert signed_hook.reload().last_seen_at is None  # a forgery is no sign of life


def test_body_changed_after_signing_is_401(signed_hook: Hook, served: Store) -> None:
    timestamp = str(int(time.time()))
    signature = sign(SIGNING_SECRET, timestamp, BODY)
    tampered = BODY.replace(b'"content":', b'"content":"x","was":', 1)
    assert tampered != BODY
    response = signed_hook.post(
        tampered, **{"X-Chatwoot-Signature": signature, "X-Chatwoot-Timestamp": timestamp}
    )
    _assert_refused(response, "X-Chatwoot-Signature", "does not match")
    assert counts(served) == (0, 0)


def test_missing_signature_is_401_and_nothing_stored(signed_hook: Hook, served: Store) -> None:
    response = signed_hook.post()
    _assert_refused(response, "X-Chatwoot-Signature", "missing")
    assert counts(served) == (0, 0)


def test_missing_timestamp_is_401(signed_hook: Hook, served: Store) -> None:
    signature = sign(SIGNING_SECRET, str(int(time.time())), BODY)
    response = signed_hook.post(**{"X-Chatwoot-Signature": signature})
    _assert_refused(response, "X-Chatwoot-Timestamp", "missing")
    assert counts(served) == (0, 0)


def test_timestamp_from_2001_is_401_and_nothing_stored(signed_hook: Hook, served: Store) -> None:
    # Correctly signed, but in 2001: a replay of an old delivery.
    response = signed_hook.signed(at=1_000_000_000)
    _assert_refused(response, "X-Chatwoot-Timestamp", "outside the 300 s window")
    assert counts(served) == (0, 0)


def test_unmappable_payload_with_bad_signature_is_not_kept_as_rejected(
    signed_hook: Hook, served: Store
) -> None:
    """Unsigned garbage is refused before mapping: it never reaches the rejected list."""
    body = orjson.dumps(load("message_created_docs_header_sample.json"))
    assert signed_hook.post(body).status_code == 401
    assert counts(served) == (0, 0)
    # Signed, the same payload is mapped and kept as rejected (422), as before.
    assert signed_hook.signed(body).status_code == 422
    assert counts(served) == (0, 1)


def test_refusal_is_logged_without_the_body(
    signed_hook: Hook, served: Store, caplog: pytest.LogCaptureFixture
) -> None:
    body = BODY.replace(b'"content":', b'"content":"forged-customer-words","x":', 1)
    with caplog.at_level(logging.WARNING, logger="deskpulse.web.api"):
        assert signed_hook.signed(body, secret="someone-elses-secret-000").status_code == 401
    (record,) = [r for r in caplog.records if "refused" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "X-Chatwoot-Signature" in record.getMessage()
    assert "support" in record.getMessage()
    assert FORGED_BODY_MARKER.decode() not in caplog.text
    assert SIGNING_SECRET not in caplog.text


def test_unsigned_refused_without_secret_unless_allowed(client: Client, served: Store) -> None:
    hook = _hook(client)
    response = hook.post()
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "unsigned_not_allowed"
    assert "set-secret support" in error["message"]
    assert "allow unsigned" in error["message"]
    assert counts(served) == (0, 0)

    set_signing(hook.reload(), allow_unsigned=True)
    response = hook.post()
    assert response.status_code == 200, response.content
    assert served.count("events") == response.json()["accepted"] > 0


def test_signed_connector_refuses_unsigned_even_if_allowed(client: Client, served: Store) -> None:
    """allow_unsigned is for Chatwoot versions that cannot sign; once a secret is set,
    every delivery must carry the signature."""
    hook = _hook(client, signing_secret=SIGNING_SECRET, allow_unsigned=True)
    _assert_refused(hook.post(), "X-Chatwoot-Signature", "missing")
    assert counts(served) == (0, 0)


def test_rotated_secret_takes_over(signed_hook: Hook, served: Store) -> None:
    new_secret = "N3wS3cretFromChatwootAbc"
    set_signing(signed_hook.reload(), signing_secret=new_secret)
    assert signed_hook.signed().status_code == 401  # the old secret no longer signs
    assert signed_hook.signed(secret=new_secret).status_code == 200


def test_changed_secret_key_refuses_with_a_fix_not_a_500(signed_hook: Hook, served: Store) -> None:
    with override_settings(SECRET_KEY="another-install-key-" + "x" * 40):
        response = signed_hook.signed()
    assert response.status_code == 401
    assert "set again" in response.json()["error"]["message"]
    assert counts(served) == (0, 0)


def test_secret_is_stored_encrypted(signed_hook: Hook) -> None:
    sealed = signed_hook.reload().signing_secret_sealed
    assert sealed
    assert SIGNING_SECRET not in sealed


def test_openapi_documents_the_signature_refusals(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    responses = schema["paths"]["/api/v1/connectors/chatwoot/{secret}"]["post"]["responses"]
    assert "signature" in responses["401"]["description"].lower()
    assert "unsigned" in responses["403"]["description"].lower()
