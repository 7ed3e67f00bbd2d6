"""The backfill against a local stub of Chatwoot's API replaying documented responses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from deskpulse.connectors.chatwoot import ChatwootOptions
from deskpulse.connectors.chatwoot_backfill import BackfillError, ChatwootClient, backfill
from deskpulse.events.store import Store
from deskpulse.metrics.query import Query, query

FIXTURES = Path(__file__).parent / "fixtures" / "chatwoot"
TOKEN = "test-token"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    data.pop("_source")
    return data


class Stub(BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 (shared log of one test's requests)

    def do_GET(self) -> None:
        Stub.requests.append(self.path)
        if self.headers.get("api_access_token") != TOKEN:
            return self._send(401, {"error": "You need to sign in or sign up before continuing."})
        parts = urlsplit(self.path)
        params = parse_qs(parts.query)
        if parts.path == "/api/v1/accounts/1/conversations":
            assert params["status"] == ["all"]
            page = int(params["page"][0])
            name = f"api_conversations_page_{page}.json"
            return self._send(
                200,
                fixture(name if (FIXTURES / name).exists() else "api_conversations_page_2.json"),
            )
        if parts.path == "/api/v1/accounts/1/inboxes":
            return self._send(200, fixture("api_inboxes.json"))
        for display in ("7", "8"):
            if parts.path == f"/api/v1/accounts/1/conversations/{display}/messages":
                answer = fixture(f"api_messages_{display}.json")
                after = int(params["after"][0])
                # MessageFinder#messages_after: id > after, ascending, at most 100 (2 here,
                # so paging is exercised).
                answer["payload"] = [m for m in answer["payload"] if m["id"] > after][:2]
                return self._send(200, answer)
        return self._send(404, {"error": "not found"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def chatwoot() -> Iterator[str]:
    Stub.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_backfill_pages_and_maps(duckdb_store: Store, chatwoot: str) -> None:
    client = ChatwootClient(chatwoot, TOKEN, 1)
    result = backfill(duckdb_store, client, options=ChatwootOptions(account_id=1), progress=False)
    assert (result.conversations, result.messages, result.rejected) == (2, 7, 0)
    assert not result.problems
    # Conversation pages until an empty one; messages with after= until an empty page.
    assert sum("/conversations?" in r for r in Stub.requests) == 2
    assert sum("/conversations/7/messages" in r for r in Stub.requests) == 4  # 2+2+1+empty
    q = Query(
        metrics=["conversations", "first_response_median", "csat_mean"],
        period="custom",
        **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"},
    )
    values = query(duckdb_store, q).single().metrics
    assert values["conversations"].value == 2
    # c7: customer at +60 s, Mary at +600 s -> 540 s; c8: customer +610, bot +640 -> 30 s.
    assert values["first_response_median"].value == pytest.approx((540 + 30) / 2)
    assert values["csat_mean"].value == 5

    again = backfill(duckdb_store, client, options=ChatwootOptions(account_id=1), progress=False)
    assert again.accepted == 0
    assert again.duplicates == result.accepted


def test_backfill_reports_http_errors(duckdb_store: Store, chatwoot: str) -> None:
    with pytest.raises(BackfillError, match="HTTP 401"):
        backfill(duckdb_store, ChatwootClient(chatwoot, "wrong", 1), progress=False)
