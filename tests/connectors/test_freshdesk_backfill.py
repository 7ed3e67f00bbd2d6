"""The Freshdesk backfill against an injected opener replaying the fixtures: no network."""

from __future__ import annotations

import base64
import email.message
import io
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from deskpulse.connectors.freshdesk_backfill import (
    BackfillError,
    FreshdeskClient,
    backfill,
    next_link,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import query
from tests.connectors.test_freshdesk import PERIOD

FIXTURES = Path(__file__).parent / "fixtures" / "freshdesk"
BASE = "https://acme.freshdesk.com"
KEY = "abcdefghij1234567890"


def fixture(name: str) -> list[dict[str, Any]]:
    loaded = json.loads((FIXTURES / name).read_text())
    return loaded if isinstance(loaded, list) else [loaded]


@dataclass
class Answer:
    status: int
    body: bytes
    headers: email.message.Message

    def read(self) -> bytes:
        return self.body


def headers(**values: str) -> email.message.Message:
    message = email.message.Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


@dataclass
class FakeFreshdesk:
    """Answers like Freshdesk: JSON arrays, Link rel="next", 401 without the key."""

    throttle: list[str] = field(default_factory=list)  # Retry-After values to answer first
    requests: list[str] = field(default_factory=list)
    base: str = BASE  # where the Link headers point
    forbidden: set[str] = field(default_factory=set)  # paths answering 403

    def __call__(self, request: urllib.request.Request, timeout: float) -> Answer:
        url = request.full_url
        self.requests.append(url)
        expected = "Basic " + base64.b64encode(f"{KEY}:X".encode()).decode()
        if request.get_header("Authorization") != expected:
            raise urllib.error.HTTPError(url, 401, "Unauthorized", headers(), io.BytesIO(b"{}"))
        if self.throttle:
            wait = self.throttle.pop(0)
            raise urllib.error.HTTPError(
                url, 429, "Too Many Requests", headers(Retry_After=wait), io.BytesIO(b"{}")
            )
        parts = urlsplit(url)
        params = parse_qs(parts.query)
        assert params["per_page"] == ["100"]
        path = parts.path.removeprefix("/api/v2/")
        if path in self.forbidden:
            raise urllib.error.HTTPError(url, 403, "Forbidden", headers(), io.BytesIO(b"{}"))
        link = None
        if path == "agents":
            body: list[Any] = fixture("agents.json")
        elif path == "tickets":
            assert params["include"] == ["stats"]
            assert params["updated_since"] == ["2000-01-01T00:00:00Z"]
            if params.get("page") == ["2"]:
                body = fixture("ticket_1.json")
            else:
                body = fixture("tickets_page_1.json")
                link = f'<{self.base}/api/v2/tickets?{parts.query}&page=2>; rel="next"'
        elif path == "surveys/satisfaction_ratings":
            if params.get("page") == ["2"]:
                body = fixture("satisfaction_ratings_docs.json")
            else:
                body = fixture("satisfaction_ratings.json")
                link = f'<{self.base}/api/v2/{path}?{parts.query}&page=2>; rel="next"'
        elif path.startswith("tickets/"):
            _, ticket, kind = path.split("/")
            name = FIXTURES / f"{kind}_{ticket}.json"
            if kind == "time_entries" and ticket == "1":
                body = [e for e in fixture("time_entries.json") if e["ticket_id"] == 1]
            else:
                body = fixture(name.name) if name.exists() else []
            if kind == "conversations":
                body = [{k: v for k, v in c.items() if k != "ticket_id"} for c in body]
        else:
            raise urllib.error.HTTPError(url, 404, "Not Found", headers(), io.BytesIO(b"{}"))
        extra = {"Link": link} if link else {}
        return Answer(200, json.dumps(body).encode(), headers(**extra))


def client(fake: FakeFreshdesk, key: str = KEY, **kwargs: Any) -> FreshdeskClient:
    waits: list[float] = []
    made = FreshdeskClient("acme", key, opener=fake, sleep=waits.append, **kwargs)
    made.waits = waits  # type: ignore[attr-defined]
    return made


def test_backfill_pages_maps_and_gives_the_hand_computed_numbers(store: Store) -> None:
    fake = FakeFreshdesk()
    result = backfill(store, client(fake))
    assert (result.tickets, result.conversations, result.time_entries) == (4, 10, 4)
    assert (result.ratings, result.agents) == (4, 2)
    # agents, 2 ticket pages, 4 x (conversations + time entries), 2 rating pages
    assert result.requests == len(fake.requests) == 1 + 2 + 8 + 2
    assert [(r.kind, r.record_id, r.field) for r in result.rejected] == [
        ("rating", "112", "updated_at")
    ]
    # The numbers worked out in test_freshdesk.py for the same records.
    values = {k: v.as_json() for k, v in query(store, PERIOD).single().metrics.items()}
    assert values["conversations"] == {"value": 3, "n": 3}
    assert values["first_response_median"] == {"value": 1050.0, "n": 2}
    assert values["full_resolution_median"] == {"value": 9000.0, "n": 2}
    assert values["reopen_rate"]["value"] == pytest.approx(0.5)
    assert values["aht_mean"] == {"value": 2850.0, "n": 2}
    assert values["csat_mean"]["value"] == pytest.approx(3.5)

    again = backfill(store, client(FakeFreshdesk()))
    assert again.accepted == 0
    assert again.duplicates == result.accepted


def test_rate_limit_waits_retry_after_within_bounds(duckdb_store: Store) -> None:
    fake = FakeFreshdesk(throttle=["3", "3600"])
    made = client(fake, max_wait=30.0)
    result = backfill(duckdb_store, made)
    assert made.waits == [3.0, 30.0]  # type: ignore[attr-defined]
    assert result.waited_seconds == 33.0
    assert result.tickets == 4


def test_rate_limit_gives_up_after_max_retries(duckdb_store: Store) -> None:
    fake = FakeFreshdesk(throttle=["1"] * 10)
    made = client(fake, max_retries=3)
    with pytest.raises(BackfillError, match="still rate-limited"):
        backfill(duckdb_store, made)
    assert made.waits == [1.0, 1.0, 1.0]  # type: ignore[attr-defined]
    assert len(fake.requests) == 4


def test_wrong_key_is_an_http_error(duckdb_store: Store) -> None:
    with pytest.raises(BackfillError, match="HTTP 401"):
        backfill(duckdb_store, client(FakeFreshdesk(), key="wrong"))


def test_next_link_to_another_host_is_refused() -> None:
    def opener(request: urllib.request.Request, timeout: float) -> Answer:
        link = '<https://evil.example.com/api/v2/agents?page=2>; rel="next"'
        return Answer(200, b"[]", headers(Link=link))

    made = FreshdeskClient("acme", KEY, opener=opener)
    with pytest.raises(BackfillError, match="another host"):
        made.all("agents")


def test_next_link_parsing() -> None:
    header = '<https://acme.freshdesk.com/api/v2/tickets?page=2&per_page=100>; rel="next"'
    assert next_link(header) == "https://acme.freshdesk.com/api/v2/tickets?page=2&per_page=100"
    assert next_link(None) is None
    assert next_link('<https://acme.freshdesk.com/x>; rel="prev"') is None


def test_domain_or_full_url() -> None:
    assert FreshdeskClient("acme", KEY).base == "https://acme.freshdesk.com"
    assert FreshdeskClient("help.acme.com", KEY).base == "https://help.acme.com"
    assert FreshdeskClient("https://help.acme.test/", KEY).base == "https://help.acme.test"
    for bad in ("acme/../x", "", "ftp://acme.test", "acme freshdesk"):
        with pytest.raises(ValueError, match="--domain"):
            FreshdeskClient(bad, KEY)


def test_next_link_dropping_to_plain_http_is_refused() -> None:
    def opener(request: urllib.request.Request, timeout: float) -> Answer:
        link = '<http://acme.freshdesk.com/api/v2/agents?page=2>; rel="next"'
        return Answer(200, b"[]", headers(Link=link))

    with pytest.raises(BackfillError, match="another host"):
        FreshdeskClient("acme", KEY, opener=opener).all("agents")


@pytest.mark.parametrize(("retry_after", "waited"), [("nan", 30.0), ("Wed, 21 Oct 2015", 30.0)])
def test_unusable_retry_after_waits_the_bound(retry_after: str, waited: float) -> None:
    fake = FakeFreshdesk(throttle=[retry_after])
    made = client(fake, max_wait=30.0)
    assert len(made.all("agents")) == 2
    assert made.waits == [waited]  # type: ignore[attr-defined]


def test_a_timeout_is_a_backfill_error() -> None:
    def opener(request: urllib.request.Request, timeout: float) -> Answer:
        raise TimeoutError("timed out")

    with pytest.raises(BackfillError, match="timed out"):
        FreshdeskClient("acme", KEY, opener=opener).all("agents")


def test_agents_the_key_may_not_list_are_skipped_and_tickets_still_read(
    duckdb_store: Store,
) -> None:
    fake = FakeFreshdesk(forbidden={"agents"})
    result = backfill(duckdb_store, client(fake))
    assert (result.agents, result.tickets) == (0, 4)
    assert result.skipped["agents: HTTP 403, not read"] == 1
    assert result.accepted == 33  # 35 less the two agents


def test_forbidden_tickets_stop_the_backfill(duckdb_store: Store) -> None:
    with pytest.raises(BackfillError, match="HTTP 403") as raised:
        backfill(duckdb_store, client(FakeFreshdesk(forbidden={"tickets"})))
    assert raised.value.status == 403
