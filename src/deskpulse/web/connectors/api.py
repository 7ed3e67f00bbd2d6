"""Webhook receivers of helpdesk connectors, under /api/v1/connectors/.

The secret in the URL authenticates (helpdesks such as Chatwoot cannot send a bearer
token), so these routes have no token auth. An unknown secret is a 404 in the one
error shape, indistinguishable from a wrong path.

The URL secret ends up in proxy logs, so a connector with a webhook signing secret also
checks Chatwoot's HMAC signature over the raw body (connectors/chatwoot_signature.py):
a missing or wrong signature, or a timestamp outside the 5-minute window, is a 401 and
nothing is stored, not even as a rejected event (a forgery is not data). A connector
without a signing secret accepts unsigned webhooks only if its owner allowed them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja import Router

from deskpulse import clock
from deskpulse.connectors.chatwoot import HANDLED_EVENTS, ChatwootOptions, MappingError, map_webhook
from deskpulse.connectors.chatwoot_signature import (
    SIGNATURE_HEADER,
    SignatureError,
    verify_signature,
)
from deskpulse.events.ingest import ingest_objects
from deskpulse.facts.build import refresh_facts
from deskpulse.web.api import bodies
from deskpulse.web.api.contract import errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.runtime import get_store, install_settings

if TYPE_CHECKING:
    from deskpulse.web.connectors.models import Connector

logger = logging.getLogger("deskpulse.web.api")

router = Router(tags=["connectors"])

CHATWOOT_SOURCE = "chatwoot"

# A 401 names how to authenticate (RFC 9110): here, by signing the body.
_CHALLENGE = {"WWW-Authenticate": f'{SIGNATURE_HEADER} realm="deskpulse"'}

# The generic meanings of 401 and 403 speak of tokens; here they are about signatures.
_WEBHOOK_ERRORS = errors(401, 403, 413, 415)
_WEBHOOK_ERRORS["responses"]["401"]["description"] = (
    "The connector has a signing secret and X-Chatwoot-Signature or X-Chatwoot-Timestamp "
    "is missing, wrong, or outside the 5-minute window (`bad_signature`, `field` names "
    "the header); nothing is stored"
)
_WEBHOOK_ERRORS["responses"]["403"]["description"] = (
    "The connector has no signing secret and does not allow unsigned webhooks "
    "(`unsigned_not_allowed`); nothing is stored"
)


@router.post(
    "/connectors/chatwoot/{secret}",
    auth=None,
    response={200: dict[str, Any]},
    summary="Chatwoot webhook receiver",
    description=(
        "Point a Chatwoot webhook (Settings → Integrations → Webhooks) at this URL. "
        "Maps conversation_* and message_* events to contract events; other events are "
        'answered with {"ignored": "<event>"}. Unusable payloads are answered 422 and kept '
        "as rejected events.\n\n"
        "Signatures: when the connector has the webhook's signing secret, the request must "
        "carry `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "
        '"<timestamp>.<raw body>")>` and `X-Chatwoot-Timestamp` (unix seconds, within 5 '
        "minutes of the server's clock); otherwise it is answered 401 `bad_signature`, "
        "naming the header, and nothing is stored. A connector without a signing secret "
        "answers 403 `unsigned_not_allowed` unless its owner allowed unsigned webhooks "
        "(Chatwoot before v4.11.2 / v4.13.0)."
    ),
    openapi_extra=_WEBHOOK_ERRORS,
)
def chatwoot_webhook(request: HttpRequest, secret: str) -> dict[str, Any]:
    # Imported here: the ORM models need Django's app registry, which the API module
    # must not require at import time (the CLI imports pieces of web/ before setup).
    from deskpulse.web.connectors.service import connector_for_secret, mark_seen

    connector = connector_for_secret("chatwoot", secret)
    if connector is None:
        raise ApiError(404, "not_found", "no such connector")
    # Read once: the signature covers these exact bytes, and they are what is parsed.
    raw = bodies.read_body(request, install_settings().max_request_bytes)
    _require_signature(connector, request, raw)
    mark_seen(connector)
    bodies.require_json(request)
    payload = bodies.parse_json(raw)
    if not isinstance(payload, dict):
        raise ApiError(400, "expected_object", "a Chatwoot webhook body is one JSON object")
    event = payload.get("event")
    if isinstance(event, str) and event not in HANDLED_EVENTS:
        return {"ignored": event}
    store = get_store()
    options = ChatwootOptions(account_id=connector.account_id, received_at=clock.now())
    try:
        events = map_webhook(payload, connector=connector.name, options=options)
    except MappingError as error:
        # Keep the raw payload with the reason, so nothing is dropped silently: it shows
        # up with the other rejected events where an admin looks.
        ingest_objects(
            store,
            [payload],
            CHATWOOT_SOURCE,
            refused={0: f"chatwoot {event or 'webhook'}: {error.field}: {error.message}"},
        )
        raise  # 422 unmappable_payload, naming the field (api/problems.py)
    result = ingest_objects(store, events, CHATWOOT_SOURCE)
    if result.accepted:
        try:
            refresh_facts(store)
        except Exception:
            # Same reasoning as POST /events: the events are stored; the next refresh
            # catches the facts up, and an error here would only make Chatwoot resend.
            logger.exception("facts refresh after a Chatwoot webhook failed; events are stored")
    return result.as_json()


def _require_signature(connector: Connector, request: HttpRequest, raw: bytes) -> None:
    """Return if this delivery may be stored; raise the 401/403 saying why not."""
    from deskpulse.web.connectors.sealing import UnreadableSecretError
    from deskpulse.web.connectors.service import signing_secret_of

    try:
        signing_secret = signing_secret_of(connector)
    except UnreadableSecretError:
        logger.error(
            "connector %s (id %s): its signing secret cannot be read (SECRET_KEY changed?); "
            "webhooks are refused until it is set again",
            connector.name,
            connector.pk,
        )
        raise ApiError(
            401,
            "bad_signature",
            "X-Chatwoot-Signature: cannot be checked, the connector's signing secret must "
            "be set again (deskpulse connect chatwoot set-secret, or Settings → Connectors)",
            field=SIGNATURE_HEADER,
            headers=_CHALLENGE,
        ) from None
    if signing_secret is None:
        if connector.allow_unsigned:
            return
        raise ApiError(
            403,
            "unsigned_not_allowed",
            f"connector {connector.name!r} has no signing secret: copy the secret from the "
            "webhook's page in Chatwoot and set it (deskpulse connect chatwoot set-secret "
            f"{connector.name}, or Settings → Connectors), or allow unsigned webhooks there "
            "for Chatwoot before v4.11.2",
        )
    try:
        verify_signature(signing_secret, request.headers, raw)
    except SignatureError as error:
        # Never the body: a forgery is not data, and a real payload holds customers' words.
        logger.warning(
            "chatwoot webhook refused for connector %s (id %s): %s: %s",
            connector.name,
            connector.pk,
            error.field,
            error.reason,
        )
        raise ApiError(
            401,
            "bad_signature",
            f"{error.field}: {error.reason}",
            field=error.field,
            headers=_CHALLENGE,
        ) from None
