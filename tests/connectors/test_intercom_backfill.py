"""The Intercom backfill against an injected opener replaying the documented responses:
no network, no real waiting."""

from __future__ import annotations

import http.client
import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from deskpulse import clock
from deskpulse.connectors.intercom_backfill import BackfillError, IntercomClient, backfill
from deskpulse.events.store import Store
from tests.factories import row_of, rows_of

FIXTURES = Path(__file__).parent / "fixtures" / "intercom"
TOKEN = "test-token"
FULL = {
    "1295": "conversation_1295_human.json",
    "1296": "conversation_1296_fin_handoff.json",
    "1297": "conversation_1297_fin_resolved.json",
}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    data.pop("_source")
    return data


def limited(url: str, headers: dict[str, str]) -> urllib.error.HTTPError:
    message = http.client.HTTPMessage()
    for key, value in headers.items():
        message[key] = value
    return urllib.error.HTTPError(url, 429, "Too Many Requests", message, io.BytesIO(b"{}"))


class FakeIntercom:
    """Answers like Intercom's API; `limits` are 429 headers to give, one per request,
    before answering normally."""

    def __init__(self, limits: list[dict[str, str]] | None = None) -> None:
        self.requests: list[str] = []
        self.limits = list(limits or [])
        self.conversations = {ident: fixture(name) for ident, name in FULL.items()}

    def __call__(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        url = request.full_url
        self.requests.append(url)
        if request.get_header("Authorization") != f"Bearer {TOKEN}":
            raise urllib.error.HTTPError(url, 401, "Unauthorized", http.client.HTTPMessage(), None)
        if self.limits:
            raise limited(url, self.limits.pop(0))
        parts = urlsplit(url)
        params = parse_qs(parts.query)
        if parts.path == "/conversations":
            cursor = params.get("starting_after", [None])[0]
            name = "conversations_page_2.json" if cursor else "conversations_page_1.json"
            if cursor not in (None, "WzE2NjM2MDAwMDAwMDAsMTI5Nl0="):
                raise AssertionError(f"unexpected cursor {cursor}")
            return io.BytesIO(json.dumps(fixture(name)).encode())
        ident = parts.path.rsplit("/", 1)[-1]
        if parts.path.startswith("/conversations/") and ident in self.conversations:
            assert params["display_as"] == ["plaintext"]
            return io.BytesIO(json.dumps(self.conversations[ident]).encode())
        raise urllib.error.HTTPError(url, 404, "Not Found", http.client.HTTPMessage(), None)


def client(fake: FakeIntercom, sleeps: list[float], **kwargs: Any) -> IntercomClient:
    return IntercomClient(
        TOKEN, "https://intercom.test", opener=fake, sleep=sleeps.append, **kwargs
    )


def test_backfill_pages_reads_parts_and_stores(store: Store) -> None:
    fake = FakeIntercom()
    result = backfill(store, client(fake, []), progress=False)
    assert [urlsplit(u).path for u in fake.requests] == [
        "/conversations",
        "/conversations/1295",
        "/conversations/1296",
        "/conversations",  # page 2, after the cursor of page 1; no `next`: the end
        "/conversations/1297",
    ]
    assert "starting_after=WzE2NjM2MDAwMDAwMDAsMTI5Nl0%3D" in fake.requests[3]
    assert (result.conversations, result.parts, result.rejected) == (3, 19, 0)
    fin = row_of(store, "conversation_facts", conversation_id="intercom:1296")
    assert fin["first_human_response_seconds"] == 330.0  # from Fin's handoff
    assert fin["escalation_reason"] == "routed_to_team"
    again = backfill(store, client(FakeIntercom(), []), progress=False)
    assert again.accepted == 0  # a second backfill stores nothing new


def test_rate_limits_are_waited_out_within_bounds(store: Store) -> None:
    reset = int(clock.now().timestamp()) + 7
    fake = FakeIntercom(
        limits=[{"Retry-After": "3"}, {"X-RateLimit-Reset": str(reset)}, {"Retry-After": "900"}]
    )
    sleeps: list[float] = []
    result = backfill(store, client(fake, sleeps, max_wait=60), progress=False)
    # Retry-After 3 s; until the reset, 7 s; Retry-After 900 s bounded to 60 s.
    assert sleeps == [3.0, 7.0, 60.0]
    assert (result.waits, result.waited_seconds, result.conversations) == (3, 70.0, 3)


def test_endless_rate_limit_stops_and_keeps_what_was_read(store: Store) -> None:
    fake = FakeIntercom()
    sleeps: list[float] = []
    original = fake.__call__

    def opener(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        if request.full_url.endswith("/conversations/1297?display_as=plaintext"):
            raise limited(request.full_url, {})
        return original(request, timeout)

    with pytest.raises(BackfillError, match="still rate limited after 2 waits"):
        backfill(
            store,
            IntercomClient(
                TOKEN, "https://intercom.test", opener=opener, sleep=sleeps.append, max_retries=2
            ),
            progress=False,
        )
    assert sleeps == [60.0, 60.0]  # no header: the bound
    ids = {r["conversation_id"] for r in rows_of(store, "conversation_facts")}
    assert ids == {"intercom:1295", "intercom:1296"}


def test_wrong_token_is_an_error() -> None:
    bad = IntercomClient("nope", "https://intercom.test", opener=FakeIntercom(), sleep=[].append)
    with pytest.raises(BackfillError, match="HTTP 401"):
        list(bad.conversation_pages())


def test_bad_conversation_is_reported_and_the_rest_stored(store: Store) -> None:
    fake = FakeIntercom()
    fake.conversations["1296"]["conversation_parts"]["conversation_parts"][1]["author"]["type"] = (
        "robot"
    )
    result = backfill(store, client(fake, []), progress=False)
    assert [(p.record_id, p.field) for p in result.problems] == [
        ("1296", "conversation_parts.conversation_parts.1.author.type")
    ]
    ids = {r["conversation_id"] for r in rows_of(store, "conversation_facts")}
    assert ids == {"intercom:1295", "intercom:1297"}
    assert any(r["source"] == "intercom:backfill" for r in store.rejected())


def test_a_conversation_gone_since_the_list_is_reported_and_the_rest_stored(
    store: Store,
) -> None:
    fake = FakeIntercom()
    del fake.conversations["1295"]
    result = backfill(store, client(fake, []), progress=False)
    assert [(p.record_id, p.field) for p in result.problems] == [("1295", "id")]
    assert "HTTP 404" in result.problems[0].reason
    ids = {r["conversation_id"] for r in rows_of(store, "conversation_facts")}
    assert ids == {"intercom:1296", "intercom:1297"}
