"""Backfill from Intercom's REST API (an access token, `Authorization: Bearer`).

    GET {url}/conversations?per_page=N[&starting_after=CURSOR]
        -> {"type": "conversation.list", "pages": {"next": {"starting_after": …}} | no next,
            "total_count": …, "conversations": [conversation without parts, …]}
    GET {url}/conversations/{id}?display_as=plaintext
        -> the conversation with `conversation_parts` (Intercom returns at most 500)

Records go through the same mapping as the file import (`map_conversation`), so a
backfill after an import, or twice, stores each fact once. Rate limits: a 429 is waited
out (`Retry-After` seconds, else until `X-RateLimit-Reset`, an epoch second), at most
`max_wait` seconds a time and `max_retries` times in a row, then the backfill stops with
an error; what was stored by then stays. Standard library HTTP, with an injectable opener
so tests replay local fixtures and never touch the network.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from deskpulse import clock
from deskpulse.connectors.intercom import (
    IntercomOptions,
    MappingError,
    Rejected,
    map_conversation,
    store_refused,
)

DEFAULT_URL = "https://api.intercom.io"
API_VERSION = "2.11"


class BackfillError(RuntimeError):
    """Intercom could not be read (HTTP error, not JSON, unexpected shape)."""


class NotFoundError(BackfillError):
    """A 404: a conversation deleted between the list and its retrieval, say."""


class Response(Protocol):
    def read(self) -> bytes: ...

    def __enter__(self) -> Response: ...

    def __exit__(self, *args: object) -> None: ...


Opener = Callable[[urllib.request.Request, float], Response]


def _default_opener(request: urllib.request.Request, timeout: float) -> Response:
    response: Response = urllib.request.urlopen(request, timeout=timeout)
    return response


@dataclass
class BackfillResult:
    conversations: int = 0
    parts: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    waits: int = 0  # times a rate limit was waited out
    waited_seconds: float = 0.0
    problems: list[Rejected] = field(default_factory=list)


class IntercomClient:
    """GET JSON from one Intercom workspace, waiting out rate limits."""

    def __init__(
        self,
        token: str,
        url: str = DEFAULT_URL,
        *,
        opener: Opener | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        per_page: int = 50,
        max_wait: float = 60.0,
        max_retries: int = 5,
    ) -> None:
        self.base = url.rstrip("/")
        self.token = token
        self.opener = opener or _default_opener
        self.sleep = sleep
        self.timeout = timeout
        self.per_page = per_page
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.waits = 0
        self.waited = 0.0

    def get(self, path: str, params: Mapping[str, str | int]) -> Any:
        query = urllib.parse.urlencode(params)
        url = f"{self.base}/{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(
            url,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "Intercom-Version": API_VERSION,
            },
        )
        for attempt in range(self.max_retries + 1):
            try:
                with self.opener(request, self.timeout) as response:
                    body = response.read()
                break
            except urllib.error.HTTPError as error:
                if error.code == 429 and attempt < self.max_retries:
                    self._wait(error.headers)
                    continue
                if error.code == 429:
                    raise BackfillError(
                        f"GET {url}: still rate limited after {self.max_retries} waits"
                    ) from None
                kind = NotFoundError if error.code == 404 else BackfillError
                raise kind(f"GET {url}: HTTP {error.code} {error.reason}") from None
            except urllib.error.URLError as error:
                raise BackfillError(f"GET {url}: {error.reason}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise BackfillError(f"GET {url}: the answer is not JSON") from None

    def _wait(self, headers: Any) -> None:
        """How long Intercom asks us to wait, bounded to [1, max_wait] seconds."""
        seconds: float | None = None
        retry_after = headers.get("Retry-After") if headers is not None else None
        reset = headers.get("X-RateLimit-Reset") if headers is not None else None
        try:
            if retry_after is not None:
                seconds = float(retry_after)
            elif reset is not None:
                seconds = float(reset) - clock.now().timestamp()
        except ValueError:
            seconds = None
        wait = min(max(seconds if seconds is not None else self.max_wait, 1.0), self.max_wait)
        self.waits += 1
        self.waited += wait
        self.sleep(wait)

    def conversation_pages(self) -> Iterator[tuple[int | None, list[dict[str, Any]]]]:
        """(total_count, conversations) per list page, following `pages.next`."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, str | int] = {"per_page": self.per_page}
            if cursor:
                params["starting_after"] = cursor
            answer = self.get("conversations", params)
            items = answer.get("conversations") if isinstance(answer, dict) else None
            if not isinstance(items, list):
                raise BackfillError("conversations: no conversations list")
            total = answer.get("total_count")
            yield (
                (total if isinstance(total, int) else None),
                [c for c in items if isinstance(c, dict)],
            )
            pages = answer.get("pages") if isinstance(answer.get("pages"), dict) else {}
            following = pages.get("next") if isinstance(pages, dict) else None
            cursor = following.get("starting_after") if isinstance(following, dict) else None
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                return  # no next page (or a cursor that would loop)
            seen.add(cursor)

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        answer = self.get(
            f"conversations/{urllib.parse.quote(conversation_id, safe='')}",
            {"display_as": "plaintext"},
        )
        if not isinstance(answer, dict):
            raise BackfillError(f"conversation {conversation_id}: not an object")
        return answer


def backfill(
    store: Any,
    client: IntercomClient,
    *,
    options: IntercomOptions | None = None,
    progress: bool = True,
    batch_events: int = 5_000,
) -> BackfillResult:
    """Read every conversation of the workspace with its parts and store them as events."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from deskpulse.events.ingest import ingest_objects
    from deskpulse.facts.build import refresh_facts

    options = options or IntercomOptions()
    result = BackfillResult()
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if not pending:
            return
        stored = ingest_objects(store, pending, "intercom:backfill")
        result.accepted += stored.accepted
        result.duplicates += stored.duplicates
        result.rejected += len(stored.rejected)
        pending.clear()

    try:
        with Progress(
            TextColumn("intercom conversations"),
            BarColumn(),
            MofNCompleteColumn(),
            disable=not progress,
        ) as bar:
            task = bar.add_task("backfill", total=None)
            for total, conversations in client.conversation_pages():
                if total is not None:
                    bar.update(task, total=total)
                for summary in conversations:
                    raw_id = summary.get("id")
                    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
                        result.problems.append(
                            Rejected("intercom API", None, "id", "a listed conversation has no id")
                        )
                        continue
                    ident = str(raw_id)
                    try:
                        full = client.conversation(ident)
                    except NotFoundError as error:
                        # Gone since it was listed: nothing to store, the rest goes on.
                        result.problems.append(Rejected("intercom API", ident, "id", str(error)))
                        continue
                    parts = full.get("conversation_parts")
                    listed = parts.get("conversation_parts") if isinstance(parts, dict) else None
                    result.parts += len(listed) if isinstance(listed, list) else 0
                    try:
                        pending += map_conversation(full, options)
                    except MappingError as error:
                        problem = Rejected("intercom API", ident, error.field, error.message)
                        result.problems.append(problem)
                        result.rejected += 1
                        # Kept with its reason, like any refused event: nothing vanishes.
                        store_refused(store, [(full, problem)], "intercom:backfill")
                    result.conversations += 1
                    bar.advance(task)
                    if len(pending) >= batch_events:
                        flush()
    finally:
        # Whatever was read before an error is stored, not dropped.
        flush()
        result.waits = client.waits
        result.waited_seconds = client.waited
        if result.accepted:
            refresh_facts(store)
    return result
