"""Chatwoot webhooks through POST /api/v1/connectors/chatwoot/<secret> to dashboard numbers.

Payload shapes come from the fixtures in tests/connectors/fixtures/chatwoot (each cites
its Chatwoot source); ids and times are set per step of one hand-checked conversation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.urls import path

from deskpulse.events.store import Store
from deskpulse.metrics.query import Query, query
from deskpulse.web.connectors.api import router
from deskpulse.web.runtime import using_store
from tests.factories import assert_same_facts, scratch_store, snapshot

FIXTURES = Path(__file__).parents[1] / "connectors" / "fixtures" / "chatwoot"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
APP = "deskpulse.web.connectors"

# Until deskpulse.web.api.v1 mounts the router (api.add_router("/", connectors_router)),
# serve it from a test API with the same error handling, under the same path.
if getattr(router, "api", None) is None:
    from django.http import Http404
    from ninja import NinjaAPI
    from ninja.errors import AuthenticationError, HttpError, ValidationError
    from pydantic import ValidationError as PydanticValidationError

    from deskpulse.web.api.errors import ApiError, handle_exception
    from deskpulse.web.api.v1 import JsonBodyParser

    _test_api = NinjaAPI(urls_namespace="chatwoot-test", parser=JsonBodyParser(), docs_url=None)
    for _exception in (
        Exception,
        ApiError,
        HttpError,
        AuthenticationError,
        ValidationError,
        PydanticValidationError,
        Http404,
    ):
        _test_api.add_exception_handler(_exception, handle_exception)
    _test_api.add_router("/", router)
    urlpatterns = [path("api/v1/", _test_api.urls)]
    URLCONF: str | None = __name__
else:
    URLCONF = None


@pytest.fixture
def connectors_app(db: None) -> Iterator[None]:
    """The connectors app, installed for the test if conf.py does not list it yet."""
    if APP in settings.INSTALLED_APPS:
        yield
        return
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, APP]):
        from deskpulse.web.connectors.models import Connector

        # Inside the test's transaction SQLite refuses the schema editor's context; its
        # CREATE TABLE statement alone is enough (rolled back with the test).
        sql, params = connection.schema_editor().table_sql(Connector)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        yield


@pytest.fixture
def hook(connectors_app: None, client: Client) -> Iterator[Any]:
    from deskpulse.web.connectors.service import create_connector

    # These tests are about mapping; signatures: test_chatwoot_webhook_signature.py.
    _, secret = create_connector("chatwoot", "test", account_id=1, allow_unsigned=True)
    context = override_settings(ROOT_URLCONF=URLCONF) if URLCONF else override_settings()
    with context:

        def post(payload: Any, secret_: str = secret) -> Any:
            return client.post(
                f"/api/v1/connectors/chatwoot/{secret_}",
                orjson.dumps(payload),
                content_type="application/json",
            )

        yield post


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    data.pop("_source")
    return data


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def iso(seconds: float) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


def epoch(seconds: float) -> float:
    return at(seconds).timestamp()


USER = {"id": 1, "name": "John", "email": "john@acme.inc", "type": "user"}
CONTACT = {"id": 14, "name": "little-haze-776", "avatar": "", "type": "contact"}
CSAT = {"submitted_values": {"csat_survey_response": {"rating": 4, "feedback_message": "ok"}}}


def embedded(
    mid: int,
    mtype: int,
    seconds: float,
    sender_type: str | None,
    sender_id: int | None,
    content_type: str = "text",
    attributes: dict[str, Any] | None = None,
    updated: float | None = None,
) -> dict[str, Any]:
    """Message#push_event_data, as conversation payloads embed the last chat message."""
    base = load("conversation_status_changed.json")["messages"][0]
    base.update(
        id=mid,
        conversation_id=10,
        message_type=mtype,
        created_at=int(epoch(seconds)),
        updated_at=iso(updated if updated is not None else seconds),
        content_type=content_type,
        content_attributes=attributes or {},
        sender_type=sender_type,
        sender_id=sender_id,
    )
    return base


def conversation(
    event: str,
    *,
    status: str = "open",
    updated: float = 0,
    assigned: bool = False,
    changes: list[dict[str, Any]] | None = None,
    messages: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    payload = load("conversation_updated.json" if assigned else "conversation_created.json")
    payload.pop("changed_attributes", None)
    payload.update(
        event=event,
        status=status,
        created_at=int(epoch(0)),
        timestamp=int(epoch(updated)),
        last_activity_at=int(epoch(updated)),
        updated_at=epoch(updated),
        messages=messages or [],
    )
    payload["meta"]["sender"]["id"] = 14
    if changes is not None:
        payload["changed_attributes"] = changes
    return payload


def message(
    event: str,
    mid: int,
    mtype: str,
    seconds: float,
    sender: dict[str, Any] | None,
    conv: dict[str, Any],
    *,
    private: bool = False,
    content_type: str = "text",
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload = load("message_created_outgoing_user.json")
    inner = copy.deepcopy(conv)
    inner.pop("event")
    inner.pop("changed_attributes", None)
    payload.update(
        event=event,
        id=mid,
        message_type=mtype,
        created_at=iso(seconds),
        sender=sender,
        private=private,
        content_type=content_type,
        content_attributes=attributes or {},
        conversation=inner,
    )
    return payload


def timeline() -> list[dict[str, Any]]:
    """One conversation, by hand: customer writes at +60 s, John (assigned at +120 s)
    leaves a note at +150 s and replies at +300 s, resolves at +900 s; the customer rates
    it 4 at +1800 s. First response 240 s, resolution 900 s, CSAT 4."""
    m501 = embedded(501, 0, 60, "Contact", 14)
    m503 = embedded(503, 1, 300, "User", 1)
    m504 = embedded(504, 3, 905, None, None, "input_csat")
    m504_answered = embedded(504, 3, 905, None, None, "input_csat", CSAT, updated=1800)
    assignment = [
        {"assignee_id": {"previous_value": None, "current_value": 1}},
        {"updated_at": {"previous_value": iso(60), "current_value": iso(120)}},
    ]
    resolution = [{"status": {"previous_value": "open", "current_value": "resolved"}}]
    return [
        conversation("conversation_created"),
        message(
            "message_created",
            501,
            "incoming",
            60,
            CONTACT,
            conversation("conversation_updated", updated=60, messages=[m501]),
        ),
        conversation(
            "conversation_updated", updated=120, assigned=True, changes=assignment, messages=[m501]
        ),
        message(
            "message_created",
            502,
            "outgoing",
            150,
            USER,
            conversation("conversation_updated", updated=150, assigned=True, messages=[m501]),
            private=True,
        ),
        message(
            "message_created",
            503,
            "outgoing",
            300,
            USER,
            conversation("conversation_updated", updated=300, assigned=True, messages=[m503]),
        ),
        conversation(
            "conversation_status_changed",
            status="resolved",
            updated=900,
            assigned=True,
            changes=resolution,
            messages=[m503],
        ),
        message(
            "message_created",
            504,
            "template",
            905,
            None,
            conversation(
                "conversation_updated",
                status="resolved",
                updated=905,
                assigned=True,
                messages=[m504],
            ),
            content_type="input_csat",
        ),
        message(
            "message_updated",
            504,
            "template",
            905,
            None,
            conversation(
                "conversation_updated",
                status="resolved",
                updated=1800,
                assigned=True,
                messages=[m504_answered],
            ),
            content_type="input_csat",
            attributes=CSAT,
        ),
    ]


def numbers(store: Store) -> dict[str, Any]:
    q = Query(
        metrics=[
            "conversations",
            "first_response_median",
            "first_resolution_median",
            "resolved",
            "csat_mean",
            "csat_responses",
        ],
        period="custom",
        **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"},
    )
    return {k: v.as_json() for k, v in query(store, q).single().metrics.items()}


EXPECTED = {
    "conversations": {"value": 1, "n": 1},
    "first_response_median": {"value": 240.0, "n": 1},
    "first_resolution_median": {"value": 900.0, "n": 1},
    "resolved": {"value": 1, "n": 1},
    "csat_mean": {"value": 4.0, "n": 1},
    "csat_responses": {"value": 1, "n": 1},
}


def test_round_trip_to_dashboard_numbers(hook: Any, api_store: Store) -> None:
    for payload in timeline():
        response = hook(payload)
        assert response.status_code == 200, response.content
        assert response.json()["rejected"] == []
    assert numbers(api_store) == EXPECTED


def test_redelivery_counts_once(hook: Any, api_store: Store) -> None:
    for payload in timeline():
        hook(payload)
    before = snapshot(api_store)
    for payload in timeline():
        answer = hook(payload).json()
        assert answer["accepted"] == 0
        assert answer["duplicates"] > 0
    assert numbers(api_store) == EXPECTED
    assert_same_facts(snapshot(api_store), before)


def test_out_of_order_delivery_gives_the_same_facts(
    hook: Any, api_store: Store, tmp_path: Path
) -> None:
    for payload in timeline():
        hook(payload)
    in_order = snapshot(api_store)
    with scratch_store("duckdb", tmp_path / "reversed") as other, using_store(other):
        for payload in reversed(timeline()):
            assert hook(payload).status_code == 200
        assert numbers(other) == EXPECTED
        assert_same_facts(snapshot(other), in_order)


def test_unknown_secret_is_404_in_the_error_shape(hook: Any) -> None:
    response = hook(load("message_created.json"), "not-a-secret")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unused_event_is_ignored(hook: Any, api_store: Store) -> None:
    response = hook(load("contact_created.json"))
    assert response.status_code == 200
    assert response.json() == {"ignored": "contact_created"}
    assert api_store.count("events") == 0


def test_unmappable_payload_is_422_and_kept(hook: Any, api_store: Store) -> None:
    response = hook(load("message_created_docs_header_sample.json"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "conversation.inbox_id"
    (kept,) = api_store.rejected()
    assert "conversation.inbox_id" in kept["reason"]
    assert '"display_id":"1"' in kept["raw"]
