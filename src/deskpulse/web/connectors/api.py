"""Webhook receivers of helpdesk connectors, under /api/v1/connectors/.

The secret in the URL authenticates (helpdesks such as Chatwoot cannot send a bearer
token), so these routes have no token auth. An unknown secret is a 404 in the one
error shape, indistinguishable from a wrong path.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from ninja import Router

from deskpulse import clock
from deskpulse.connectors.chatwoot import HANDLED_EVENTS, ChatwootOptions, MappingError, map_webhook
from deskpulse.events.ingest import ingest_objects
from deskpulse.facts.build import refresh_facts
from deskpulse.web.api import bodies
from deskpulse.web.api.contract import errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.runtime import get_store, install_settings

logger = logging.getLogger("deskpulse.web.api")

router = Router(tags=["connectors"])

CHATWOOT_SOURCE = "chatwoot"


@router.post(
    "/connectors/chatwoot/{secret}",
    auth=None,
    response={200: dict[str, Any]},
    summary="Chatwoot webhook receiver",
    description=(
        "Point a Chatwoot webhook (Settings → Integrations → Webhooks) at this URL. "
        "Maps conversation_* and message_* events to contract events; other events are "
        'answered with {"ignored": "<event>"}. Unusable payloads are answered 422 and kept '
        "as rejected events."
    ),
    openapi_extra=errors(413, 415),
)
def chatwoot_webhook(request: HttpRequest, secret: str) -> dict[str, Any]:
    # Imported here: the ORM models need Django's app registry, which the API module
    # must not require at import time (the CLI imports pieces of web/ before setup).
    from deskpulse.web.connectors.service import connector_for_secret

    connector = connector_for_secret("chatwoot", secret)
    if connector is None:
        raise ApiError(404, "not_found", "no such connector")
    bodies.require_json(request)
    payload = bodies.parse_json(bodies.read_body(request, install_settings().max_request_bytes))
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
