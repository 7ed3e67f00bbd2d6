"""Helpers for the web tests: an API client wrapper, event builders, the error shape."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

import orjson
from django.test import Client

EVENTS_URL = "/api/v1/events"


@dataclass
class Api:
    """A test client that speaks the API: bearer token, JSON or JSON Lines, gzip."""

    client: Client
    token: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        found.update(extra or {})
        return found

    def post_events(
        self,
        events: Any,
        *,
        lines: bool = False,
        compress: bool = False,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if isinstance(events, bytes):
            body = events
        elif lines:
            body = b"\n".join(orjson.dumps(event) for event in events) + b"\n"
        else:
            body = orjson.dumps(events)
        extra = dict(headers or {})
        if compress:
            body = gzip.compress(body)
            extra["Content-Encoding"] = "gzip"
        kind = content_type or ("application/x-ndjson" if lines else "application/json")
        # CONTENT_TYPE is also set directly: Django's test client drops it for an empty body.
        return self.client.post(
            EVENTS_URL, body, content_type=kind, headers=self.headers(extra), CONTENT_TYPE=kind
        )

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params, headers=self.headers())

    def post_json(self, url: str, data: Any) -> Any:
        return self.client.post(
            url, orjson.dumps(data), content_type="application/json", headers=self.headers()
        )


def created(event_id: str, conversation: str = "c1", **fields: Any) -> dict[str, Any]:
    """A valid conversation.created event."""
    event: dict[str, Any] = {
        "id": event_id,
        "type": "conversation.created",
        "occurred_at": "2026-03-02T10:00:00+01:00",
        "conversation_id": conversation,
        "channel": "chat",
        "inbox_id": "inbox-1",
        "customer_id": "u1",
    }
    event.update(fields)
    return event


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The one error shape, with the expected status and code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = orjson.loads(response.content)
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "field"}
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "\n" not in error["message"]
    assert error["field"] == field
    return dict(error)
