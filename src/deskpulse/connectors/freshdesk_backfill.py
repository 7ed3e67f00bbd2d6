"""Backfill from Freshdesk's REST API v2 (HTTP basic auth with the API key: `key:X`).

    GET https://{domain}.freshdesk.com/api/v2/agents?per_page=100
    GET …/api/v2/tickets?updated_since=…&include=stats&order_by=updated_at&order_type=asc
    GET …/api/v2/tickets/{id}/conversations?per_page=100
    GET …/api/v2/tickets/{id}/time_entries?per_page=100
    GET …/api/v2/surveys/satisfaction_ratings?created_since=…&per_page=100

Every list answers a JSON array and, while there is more, a `Link: <…>; rel="next"`
header, which is followed as given (only on the same host: the key goes with every
request). A 429 answer carries `Retry-After` (seconds): the client waits that long, at
most `max_wait` seconds per wait and `max_retries` times in a row, then gives up with a
`BackfillError`. Without `updated_since` Freshdesk lists only the last 30 days' tickets,
so the backfill always sends one.

Records go through the same mapping as the file import (`freshdesk.map_bundle`), one
ticket at a time, so a backfill after an import, or twice, stores each fact once. The
HTTP opener is injectable, so the tests replay documented answers without a network.
Standard library HTTP: no new dependency for a handful of GETs.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from deskpulse.connectors.freshdesk import (
    Bundle,
    FreshdeskOptions,
    ImportSummary,
    Rejected,
    add_page,
    import_bundle,
)


class BackfillError(RuntimeError):
    """Freshdesk could not be read (HTTP error, not JSON, unexpected shape, rate limit)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, when Freshdesk answered with an error


class Response(Protocol):
    """What an opener returns: urllib's HTTPResponse has all three."""

    status: int
    headers: Any  # .get(name) -> str | None

    def read(self) -> bytes: ...


Opener = Callable[[urllib.request.Request, float], Response]


def _urlopen(request: urllib.request.Request, timeout: float) -> Response:
    response: Response = urllib.request.urlopen(request, timeout=timeout)
    return response


_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def next_link(header: str | None) -> str | None:
    """The rel="next" URL of a Link header, if any."""
    if not header:
        return None
    for part in header.split(","):
        if match := _NEXT.search(part):
            return match.group(1).strip()
    return None


_SUBDOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}")


def base_url(domain: str) -> str:
    """'acme' -> https://acme.freshdesk.com; 'help.acme.com' -> https://help.acme.com; a
    full URL (custom domains, the tests' local stub) as given."""
    text = domain.strip().rstrip("/")
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        if parts.scheme in ("https", "http") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    elif _SUBDOMAIN.fullmatch(text):
        return f"https://{text}.freshdesk.com"
    elif _HOST.fullmatch(text):
        return f"https://{text}"
    raise ValueError(f"--domain: {domain!r} is not a Freshdesk account name, host or URL")


@dataclass
class BackfillResult:
    tickets: int = 0
    conversations: int = 0
    time_entries: int = 0
    ratings: int = 0
    agents: int = 0
    requests: int = 0
    waited_seconds: float = 0.0  # on 429 answers
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, summary: ImportSummary) -> None:
        self.accepted += summary.accepted
        self.duplicates += summary.duplicates
        self.rejected += summary.rejected
        for reason, count in summary.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count


class FreshdeskClient:
    """GET JSON lists from one Freshdesk account."""

    def __init__(
        self,
        domain: str,
        api_key: str,
        *,
        opener: Opener | None = None,
        timeout: float = 30.0,
        per_page: int = 100,
        max_retries: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = base_url(domain)
        parts = urllib.parse.urlsplit(self.base)
        self.origin = (parts.scheme, parts.netloc)
        token = base64.b64encode(f"{api_key}:X".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self.opener = opener or _urlopen
        self.timeout = timeout
        self.per_page = per_page
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.requests = 0
        self.waited = 0.0

    def _get(self, url: str) -> tuple[Any, str | None]:
        """(decoded JSON, Link header) of one GET, waiting out 429s within the bounds."""
        parts = urllib.parse.urlsplit(url)
        if (parts.scheme, parts.netloc) != self.origin:
            raise BackfillError(f"refusing to follow a link to another host: {url}")
        request = urllib.request.Request(
            url, headers={"Authorization": self._authorization, "Accept": "application/json"}
        )
        for attempt in range(self.max_retries + 1):
            self.requests += 1
            try:
                response = self.opener(request, self.timeout)
                body = response.read()
                link = response.headers.get("Link")
                break
            except urllib.error.HTTPError as error:
                if error.code != 429:
                    raise BackfillError(
                        f"GET {url}: HTTP {error.code} {error.reason}", error.code
                    ) from None
                if attempt == self.max_retries:
                    raise BackfillError(
                        f"GET {url}: still rate-limited (HTTP 429) after "
                        f"{self.max_retries} waits; try again later"
                    ) from None
                self._wait(error.headers.get("Retry-After") if error.headers else None)
            except urllib.error.URLError as error:
                raise BackfillError(f"GET {url}: {error.reason}") from None
            except OSError as error:  # timeouts, resets while reading
                raise BackfillError(f"GET {url}: {error}") from None
        try:
            return json.loads(body), link
        except ValueError:
            raise BackfillError(f"GET {url}: the answer is not JSON") from None

    def _wait(self, retry_after: str | None) -> None:
        try:
            seconds = float(retry_after) if retry_after is not None else self.max_wait
        except ValueError:
            seconds = self.max_wait
        if not math.isfinite(seconds):
            seconds = self.max_wait
        seconds = min(max(seconds, 0.0), self.max_wait)
        self.waited += seconds
        self.sleep(seconds)

    def pages(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[Any]:
        """Each page's JSON array of objects, following Link rel="next"."""
        query = urllib.parse.urlencode({**(params or {}), "per_page": self.per_page})
        url: str | None = f"{self.base}/api/v2/{path}?{query}"
        while url is not None:
            answer, link = self._get(url)
            if not isinstance(answer, list):
                raise BackfillError(f"GET {url}: expected a JSON array")
            yield [row for row in answer if isinstance(row, dict)]
            url = next_link(link)

    def all(self, path: str, params: Mapping[str, str | int] | None = None) -> list[Any]:
        return [row for page in self.pages(path, params) for row in page]


def backfill(
    store: Any,
    client: FreshdeskClient,
    *,
    updated_since: str = "2000-01-01T00:00:00Z",
    options: FreshdeskOptions | None = None,
    on_ticket: Callable[[int], None] | None = None,
) -> BackfillResult:
    """Read the account's agents, the tickets updated since `updated_since` with their
    conversations and time entries, and the satisfaction ratings since then, and store
    them as events; refresh the facts once at the end. `on_ticket` is told how many
    tickets are done after each (for a progress display)."""
    from deskpulse.facts.build import refresh_facts

    result = BackfillResult()

    def store_pages(name: str, *pages: Any) -> None:
        bundle = Bundle()
        for page in pages:
            add_page(bundle, page, name)
        result.add(import_bundle(store, bundle, options, refresh=False))

    def optional(path: str, params: Mapping[str, str | int] | None = None) -> list[Any]:
        """Agents and ratings add names and CSAT; a key that may not list them (403), or
        an account without surveys (404), still gets its tickets."""
        try:
            return client.all(path, params)
        except BackfillError as error:
            if error.status not in (403, 404):
                raise
            result.skipped[f"{path}: HTTP {error.status}, not read"] = 1
            return []

    agents = optional("agents")
    result.agents = len(agents)
    store_pages("agents", agents)
    params = {
        "updated_since": updated_since,
        "include": "stats",
        "order_by": "updated_at",
        "order_type": "asc",
    }
    for page in client.pages("tickets", params):
        for ticket in page:
            ticket_id = ticket.get("id")
            if isinstance(ticket_id, int) and not isinstance(ticket_id, bool):
                conversations = client.all(f"tickets/{ticket_id}/conversations")
                entries = client.all(f"tickets/{ticket_id}/time_entries")
            else:
                conversations, entries = [], []  # the mapping rejects the ticket
            for row in conversations + entries:
                row.setdefault("ticket_id", ticket_id)
            result.tickets += 1
            result.conversations += len(conversations)
            result.time_entries += len(entries)
            store_pages(f"ticket {ticket_id}", [ticket], conversations, entries)
            if on_ticket is not None:
                on_ticket(result.tickets)
    # Ratings together: whether a survey is custom shows across its answers.
    ratings = optional("surveys/satisfaction_ratings", {"created_since": updated_since})
    result.ratings = len(ratings)
    store_pages("satisfaction ratings", ratings)
    result.requests = client.requests
    result.waited_seconds = client.waited
    if result.accepted:
        refresh_facts(store)
    return result


__all__ = [
    "BackfillError",
    "BackfillResult",
    "FreshdeskClient",
    "backfill",
    "base_url",
    "next_link",
]
