"""Backfill from Chatwoot's REST API (Application API, `api_access_token` header).

    GET {url}/api/v1/accounts/{account_id}/conversations?status=all&assignee_type=all&page=N
        -> {"data": {"meta": {"all_count": …}, "payload": [conversation, …]}}
    GET {url}/api/v1/accounts/{account_id}/conversations/{display_id}/messages?after=ID
        -> {"meta": {…}, "payload": [message, …]}   (ascending, up to 100 with id > ID)
    GET {url}/api/v1/accounts/{account_id}/inboxes
        -> {"payload": [inbox, …]}   (api/v1/models/_inbox: working_hours_enabled, timezone,
                                      working_hours)

Shapes: Chatwoot's `conversations/index.json.jbuilder` and
`conversations/messages/index.json.jbuilder` (MessageFinder#messages_after). Without
`status=all` the list holds open conversations only. Records go through the same mapping
as the webhooks (`map_api_conversation`), so a backfill after webhooks, or twice, stores
each fact once. Each inbox with working hours enabled gives a `business_hours.set`
(`map_inbox_working_hours`). Standard library HTTP: no new dependency for a handful of GETs.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskpulse import clock
from deskpulse.connectors.chatwoot import (
    ChatwootOptions,
    MappingError,
    map_api_conversation,
    map_inbox_working_hours,
)


class BackfillError(RuntimeError):
    """Chatwoot could not be read (HTTP error, not JSON, unexpected shape)."""


@dataclass
class BackfillResult:
    conversations: int = 0
    messages: int = 0
    inboxes: int = 0
    schedules: int = 0  # business_hours.set events mapped from inbox working hours
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    # (conversation display id, or "inbox <id>", field, reason) of what could not be mapped.
    problems: list[tuple[str, str, str]] = field(default_factory=list)


class ChatwootClient:
    """GET JSON from one Chatwoot account."""

    def __init__(self, url: str, token: str, account_id: int, *, timeout: float = 30.0) -> None:
        self.base = url.rstrip("/")
        self.token = token
        self.account_id = account_id
        self.timeout = timeout

    def get(self, path: str, params: Mapping[str, str | int]) -> Any:
        query = urllib.parse.urlencode(params)
        url = f"{self.base}/api/v1/accounts/{self.account_id}/{path}?{query}"
        request = urllib.request.Request(
            url, headers={"api_access_token": self.token, "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise BackfillError(f"GET {url}: HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise BackfillError(f"GET {url}: {error.reason}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise BackfillError(f"GET {url}: the answer is not JSON") from None

    def conversation_pages(self) -> Iterator[tuple[int | None, list[dict[str, Any]]]]:
        """(all_count, conversations) per page, until an empty page."""
        page = 1
        while True:
            answer = self.get(
                "conversations", {"status": "all", "assignee_type": "all", "page": page}
            )
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, dict) or not isinstance(data.get("payload"), list):
                raise BackfillError(f"conversations page {page}: no data.payload list")
            meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
            count = meta.get("all_count") if isinstance(meta, dict) else None
            if not data["payload"]:
                return
            yield (count if isinstance(count, int) else None), list(data["payload"])
            page += 1

    def inboxes(self) -> list[dict[str, Any]]:
        """The account's inboxes (one unpaged list)."""
        answer = self.get("inboxes", {})
        payload = answer.get("payload") if isinstance(answer, dict) else None
        if not isinstance(payload, list):
            raise BackfillError("inboxes: no payload list")
        return [inbox for inbox in payload if isinstance(inbox, dict)]

    def messages(self, display_id: str) -> list[dict[str, Any]]:
        """Every message of a conversation, oldest first, paging with `after`."""
        found: list[dict[str, Any]] = []
        after = 0
        while True:
            answer = self.get(f"conversations/{display_id}/messages", {"after": after})
            payload = answer.get("payload") if isinstance(answer, dict) else None
            if not isinstance(payload, list):
                raise BackfillError(f"messages of conversation {display_id}: no payload list")
            fresh = [m for m in payload if isinstance(m, dict) and isinstance(m.get("id"), int)]
            fresh = [m for m in fresh if m["id"] > after]
            if not fresh:
                return found
            found += fresh
            after = max(m["id"] for m in fresh)


def backfill(
    store: Any,
    client: ChatwootClient,
    *,
    options: ChatwootOptions | None = None,
    progress: bool = True,
    batch_events: int = 5_000,
    now: datetime | None = None,
) -> BackfillResult:
    """Read every conversation and message of the account, and the working hours of its
    inboxes, and store them as events. `now` dates the schedules (default: the clock)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from deskpulse.events.ingest import ingest_objects
    from deskpulse.facts.build import refresh_facts

    options = options or ChatwootOptions(account_id=client.account_id)
    result = BackfillResult()
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if not pending:
            return
        stored = ingest_objects(store, pending, "chatwoot:backfill")
        result.accepted += stored.accepted
        result.duplicates += stored.duplicates
        result.rejected += len(stored.rejected)
        pending.clear()

    at = now or clock.now()
    for inbox in client.inboxes():
        result.inboxes += 1
        try:
            schedules = map_inbox_working_hours(inbox, account_id=client.account_id, at=at)
        except MappingError as error:
            name = f"inbox {inbox.get('id')}"
            result.problems.append((name, error.field, error.message))
            ingest_objects(
                store,
                [{"inbox": inbox}],
                "chatwoot:backfill",
                refused={0: f"{name}: {error.field}: {error.message}"},
            )
            continue
        result.schedules += len(schedules)
        pending += schedules

    with Progress(
        TextColumn("chatwoot conversations"),
        BarColumn(),
        MofNCompleteColumn(),
        disable=not progress,
    ) as bar:
        task = bar.add_task("backfill", total=None)
        for total, conversations in client.conversation_pages():
            if total is not None:
                bar.update(task, total=total)
            for conversation in conversations:
                display = str(conversation.get("id"))
                messages = client.messages(display)
                try:
                    pending += map_api_conversation(conversation, messages, options=options)
                except MappingError as error:
                    result.problems.append((display, error.field, error.message))
                    # Kept with its reason, like any refused event: nothing vanishes.
                    ingest_objects(
                        store,
                        [{"conversation": conversation, "messages": messages}],
                        "chatwoot:backfill",
                        refused={0: f"conversation {display}: {error.field}: {error.message}"},
                    )
                result.conversations += 1
                result.messages += len(messages)
                bar.advance(task)
                if len(pending) >= batch_events:
                    flush()
        flush()
    if result.accepted:
        refresh_facts(store)
    return result
