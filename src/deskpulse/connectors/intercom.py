"""Intercom conversations as contract events (pure mapping), and the file import.

Shapes are Intercom's REST API 2.x `conversation` object as `GET /conversations/{id}`
returns it (with `conversation_parts`, at most 500) and as list pages
(`GET /conversations`, `type: conversation.list`, no parts). See
tests/connectors/fixtures/intercom/README.md for where each field comes from, and
docs/connectors-intercom.md for what is mapped and why.

Every event id is derived from Intercom's ids (conversation, part), so importing a file
twice, or a file and then a backfill of the same workspace, stores each fact once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskpulse.connectors.chatwoot import MappingError, parse_time

if TYPE_CHECKING:
    from deskpulse.events.store import Store

# `source.type` -> contract channel. Intercom's Messenger is "conversation".
CHANNELS = {
    "conversation": "chat",
    "chat": "chat",
    "email": "email",
    "facebook": "social",
    "instagram": "social",
    "twitter": "social",
    "whatsapp": "chat",
    "sms": "sms",
    "phone_call": "voice",
    "phone_switch": "voice",
    "call": "voice",
}
CUSTOMER_TYPES = frozenset({"user", "lead", "contact"})
# Parts that hand the conversation to someone. `assign_and_*` also change its state.
ASSIGNMENT_PARTS = frozenset(
    {
        "assignment",
        "default_assignment",
        "away_mode_assignment",
        "assign_and_reopen",
        "assign_and_unsnooze",
    }
)
# Part type -> the status it leaves the conversation in.
STATE_PARTS = {
    "close": "resolved",
    "open": "open",
    "snoozed": "snoozed",
    "unsnoozed": "open",
    "timer_unsnooze": "open",
    "assign_and_reopen": "open",
    "assign_and_unsnooze": "open",
}
STATES = {"open": "open", "closed": "resolved", "snoozed": "snoozed"}
# The first ai_agent.resolution_state that names why Fin handed over.
HANDOFF_REASONS = frozenset({"routed_to_team"})


@dataclass(frozen=True)
class IntercomOptions:
    """What the conversation objects cannot say themselves."""

    # Intercom's ids are unique per workspace; set this when one install imports
    # several workspaces so their conversations stay apart.
    workspace: str | None = None
    # Tag name -> inquiry. Empty: the first of Intercom's `topics` is the inquiry and
    # tags are not used (tags are often workflow markers, not the customer's question).
    tag_map: Mapping[str, str] = field(default_factory=dict)


# -- small readers ---------------------------------------------------------------------


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MappingError(path, "must be an object")
    return value


def _optional(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ident(value: Any, path: str) -> str:
    """Intercom ids are strings ("1295"); some clients store them as integers."""
    if isinstance(value, bool) or value is None:
        raise MappingError(path, "is required")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise MappingError(path, "must be an id (a string)")


def _time(container: Mapping[str, Any], key: str, path: str) -> datetime:
    value = container.get(key)
    if value is None:
        raise MappingError(path, "is required")
    return parse_time(value, path)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:12]


def _text(value: Any) -> str | None:
    return value[:100_000] if isinstance(value, str) and value else None


# -- who wrote a part ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Author:
    kind: str  # customer | agent | ai | system
    agent_id: str | None
    name: str | None
    email: str | None


def _author(raw: Any, path: str) -> _Author:
    """A part's author: contacts are customers; bots, and any part Intercom marks as sent
    by its AI agent (`from_ai_agent`, Fin), are AI agents; admins are humans; a team or
    an author without type is the system."""
    author = _optional(raw)
    kind = author.get("type")
    if kind in CUSTOMER_TYPES:
        return _Author("customer", None, None, None)
    email = author.get("email") if isinstance(author.get("email"), str) else None
    name = author.get("name") if isinstance(author.get("name"), str) else None
    if kind == "bot" or author.get("from_ai_agent") is True:
        ident = _ident(author.get("id"), f"{path}.id")
        return _Author("ai", f"intercom:bot:{ident}", name or "Fin", email)
    if kind == "admin":
        ident = _ident(author.get("id"), f"{path}.id")
        return _Author("agent", f"intercom:admin:{ident}", name or f"Intercom admin {ident}", email)
    if kind in (None, "team", "nobody_admin"):
        return _Author("system", None, None, None)
    raise MappingError(f"{path}.type", f"unknown author type {kind!r}")


def _agent_event(author: _Author, at: datetime) -> dict[str, Any]:
    assert author.agent_id is not None
    name = (author.name or author.agent_id)[:256]
    kind = "ai" if author.kind == "ai" else "human"
    return {
        # Changes only when what we know of the agent changes (the latest wins).
        "id": f"{author.agent_id}:agent:{_digest(name, author.email, kind)}",
        "type": "agent.upserted",
        "occurred_at": _iso(at),
        "agent_id": author.agent_id,
        "name": name,
        "email": author.email,
        "kind": kind,
    }


# -- one conversation ----------------------------------------------------------------------


class _Timeline:
    """Walks a conversation's parts in order, remembering what the contract needs to
    know about what came before (status, whether an AI agent is answering)."""

    def __init__(self, conversation_id: str) -> None:
        self.cid = conversation_id
        self.events: list[dict[str, Any]] = []
        self.status = "open"
        self.ai_agent: str | None = None  # the AI agent answering, until a handoff
        self.escalations = 0

    def agent(self, author: _Author, at: datetime) -> None:
        if author.agent_id is not None:
            self.events.append(_agent_event(author, at))

    def message(self, key: str, at: datetime, author: _Author, *, note: bool, body: Any) -> None:
        direction = "inbound" if author.kind == "customer" else "note" if note else "outbound"
        self.agent(author, at)
        self.events.append(
            {
                "id": f"{self.cid}:{key}",
                "type": "message.created",
                "occurred_at": _iso(at),
                "message_id": f"{self.cid}:{key}",
                "conversation_id": self.cid,
                "direction": direction,
                "author_kind": author.kind,
                "agent_id": author.agent_id,
                "text": _text(body),
            }
        )
        if author.kind == "ai" and not note:
            self.ai_agent = author.agent_id
        if author.kind == "customer" and self.status in ("resolved", "snoozed"):
            # Intercom reopens a closed (or wakes a snoozed) conversation when the
            # customer writes again; the part list has no `open` part for it.
            self.set_status(at, "open", None)

    def set_status(self, at: datetime, status: str, agent_id: str | None) -> None:
        if status == self.status:
            return
        self.status = status
        self.events.append(
            {
                # Keyed by status and second, not by part: a list page's `state` (closed
                # at statistics.last_close_at) and the retrieved conversation's `close`
                # part are one fact, and must not make two resolutions.
                "id": f"{self.cid}:status:{status}:{int(at.timestamp())}",
                "type": "conversation.status_changed",
                "occurred_at": _iso(at),
                "conversation_id": self.cid,
                "status": status,
                "agent_id": agent_id,
            }
        )

    def assign(
        self,
        key: str,
        at: datetime,
        by: _Author,
        to: Mapping[str, Any],
        path: str,
        reason: str | None,
    ) -> None:
        kind = to.get("type")
        agent_id: str | None = None
        team_id: str | None = None
        if kind == "admin" and str(to.get("id")) not in ("0", "None"):
            agent_id = f"intercom:admin:{_ident(to.get('id'), f'{path}.id')}"
        elif kind == "team" and str(to.get("id")) not in ("0", "None"):
            team_id = f"intercom:team:{_ident(to.get('id'), f'{path}.id')}"
        elif kind == "bot":
            agent_id = f"intercom:bot:{_ident(to.get('id'), f'{path}.id')}"
        elif kind not in (None, "nobody_admin", "admin", "team"):
            raise MappingError(f"{path}.type", f"unknown assignee type {kind!r}")
        if by.kind == "agent":
            self.agent(by, at)
        self.events.append(
            {
                "id": f"{self.cid}:{key}:assigned",
                "type": "conversation.assigned",
                "occurred_at": _iso(at),
                "conversation_id": self.cid,
                "agent_id": agent_id,
                "team_id": team_id,
            }
        )
        human_target = team_id is not None or (agent_id or "").startswith("intercom:admin:")
        if self.ai_agent is not None and human_target:
            # The AI agent answered and now a person or a team takes over: Fin's handoff.
            self.events.append(
                {
                    "id": f"{self.cid}:{key}:escalated",
                    "type": "conversation.escalated",
                    "occurred_at": _iso(at),
                    "conversation_id": self.cid,
                    "from_agent_id": self.ai_agent,
                    "to_agent_id": agent_id,
                    "to_team_id": team_id,
                    "reason": reason if self.escalations == 0 else None,
                }
            )
            self.escalations += 1
            self.ai_agent = None


def conversation_key(conversation_id: str, options: IntercomOptions) -> str:
    if options.workspace:
        return f"intercom:{options.workspace}:{conversation_id}"
    return f"intercom:{conversation_id}"


def _parts(conversation: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    raw = conversation.get("conversation_parts")
    if raw is None:
        return []  # list pages carry no parts
    if isinstance(raw, Mapping):
        raw = raw.get("conversation_parts")
    if not isinstance(raw, list):
        raise MappingError("conversation_parts.conversation_parts", "must be a list")
    return [
        (index, _object(part, f"conversation_parts.conversation_parts.{index}"))
        for index, part in enumerate(raw)
    ]


def _customer_id(conversation: Mapping[str, Any], source: Mapping[str, Any]) -> str:
    contacts = _optional(conversation.get("contacts")).get("contacts")
    if isinstance(contacts, list) and contacts:
        first = _object(contacts[0], "contacts.contacts.0")
        return _ident(first.get("id"), "contacts.contacts.0.id")
    author = _optional(source.get("author"))
    if author.get("type") in CUSTOMER_TYPES:
        return _ident(author.get("id"), "source.author.id")
    raise MappingError("contacts.contacts", "is required (the conversation's customer)")


def _inquiry(conversation: Mapping[str, Any], options: IntercomOptions) -> str | None:
    if options.tag_map:
        tags = _optional(conversation.get("tags")).get("tags")
        for tag in tags if isinstance(tags, list) else []:
            name = _optional(tag).get("name")
            if isinstance(name, str) and name in options.tag_map:
                return options.tag_map[name]
        return None
    topics = _optional(conversation.get("topics")).get("topics")
    for topic in topics if isinstance(topics, list) else []:
        name = _optional(topic).get("name")
        if isinstance(name, str) and name:
            return name
    return None


def _handoff_reason(conversation: Mapping[str, Any]) -> str | None:
    state = _optional(conversation.get("ai_agent")).get("resolution_state")
    return state if state in HANDOFF_REASONS else None


def map_conversation(
    conversation: Any, options: IntercomOptions | None = None
) -> list[dict[str, Any]]:
    """Contract events for one Intercom conversation object.

    Raises MappingError naming the field (a dotted path inside the object) when the
    conversation cannot be used; then none of its events are made.
    """
    options = options or IntercomOptions()
    conversation = _object(conversation, "conversation")
    if conversation.get("type") not in (None, "conversation"):
        raise MappingError("type", f"{conversation.get('type')!r} is not a conversation")
    cid = conversation_key(_ident(conversation.get("id"), "id"), options)
    created = _time(conversation, "created_at", "created_at")
    source = _object(conversation.get("source"), "source")
    raw_type = source.get("type")
    source_type = raw_type if isinstance(raw_type, str) and raw_type else "other"
    channel = CHANNELS.get(source_type, "other")
    customer = _customer_id(conversation, source)
    ws = f"{options.workspace}:" if options.workspace else ""
    priority = conversation.get("priority")
    timeline = _Timeline(cid)
    events = timeline.events
    events.append(
        {
            "id": f"{cid}:created",
            "type": "conversation.created",
            "occurred_at": _iso(created),
            "conversation_id": cid,
            "channel": channel,
            # Intercom has no inboxes in its API: one per source type (Messenger, email…).
            "inbox_id": f"intercom:{ws}inbox:{source_type}",
            "customer_id": f"intercom:{ws}contact:{customer}",
            "inquiry": _inquiry(conversation, options),
            "priority": "priority" if priority == "priority" else None,
            "subject": _text(source.get("subject")) or _text(conversation.get("title")),
        }
    )

    # The source message opens the conversation.
    delivered = source.get("delivered_as")
    author = _author(source.get("author"), "source.author")
    if delivered == "customer_initiated" or author.kind == "customer":
        author = _Author("customer", None, None, None)
    elif delivered == "automated" and author.kind == "agent":
        # Sent by a rule or an outbound campaign in an admin's name: nobody replied.
        timeline.agent(author, created)
        author = _Author("system", None, None, None)
    source_id = source.get("id")
    key = f"source:{_ident(source_id, 'source.id')}" if source_id is not None else "source"
    timeline.message(key, created, author, note=False, body=source.get("body"))

    reason = _handoff_reason(conversation)
    ordered = sorted(
        _parts(conversation),
        key=lambda item: (
            _time(
                item[1], "created_at", f"conversation_parts.conversation_parts.{item[0]}.created_at"
            ),
            item[0],
        ),
    )
    for index, part in ordered:
        path = f"conversation_parts.conversation_parts.{index}"
        part_id = _ident(part.get("id"), f"{path}.id")
        at = _time(part, "created_at", f"{path}.created_at")
        part_type = part.get("part_type")
        if not isinstance(part_type, str) or not part_type:
            raise MappingError(f"{path}.part_type", "is required")
        who = _author(part.get("author"), f"{path}.author")
        pkey = f"part:{part_id}"
        if part_type == "comment":
            timeline.message(pkey, at, who, note=False, body=part.get("body"))
        elif part_type == "note":
            if who.kind == "customer":
                raise MappingError(f"{path}.author.type", "a note must come from a teammate")
            timeline.message(pkey, at, who, note=True, body=part.get("body"))
        if part_type in ASSIGNMENT_PARTS:
            target = _optional(part.get("assigned_to"))
            timeline.assign(pkey, at, who, target, f"{path}.assigned_to", reason)
        if part_type in STATE_PARTS:
            if who.kind == "agent":
                timeline.agent(who, at)
            timeline.set_status(at, STATE_PARTS[part_type], who.agent_id)

    _final_state(conversation, timeline, created)
    rating = _csat(conversation, cid)
    if rating is not None:
        events.append(rating)
    return _unique(events)


def _final_state(conversation: Mapping[str, Any], timeline: _Timeline, created: datetime) -> None:
    """The `state` field when the parts do not end there (list pages have no parts;
    retrieved conversations keep their newest 500 parts)."""
    state = conversation.get("state")
    if state is None:
        state = "open" if conversation.get("open") is not False else "closed"
    if state not in STATES:
        raise MappingError("state", f"{state!r} is not open, closed or snoozed")
    wanted = STATES[state]
    if wanted == timeline.status:
        return
    statistics = _optional(conversation.get("statistics"))
    moment: datetime | None = None
    if wanted == "resolved" and statistics.get("last_close_at") is not None:
        moment = parse_time(statistics["last_close_at"], "statistics.last_close_at")
    elif conversation.get("updated_at") is not None:
        moment = parse_time(conversation["updated_at"], "updated_at")
    timeline.set_status(max(moment or created, created), wanted, None)


def _csat(conversation: Mapping[str, Any], cid: str) -> dict[str, Any] | None:
    raw = conversation.get("conversation_rating")
    if raw is None:
        return None
    rating = _object(raw, "conversation_rating")
    score = rating.get("rating")
    if score is None:
        return None  # asked, not answered
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise MappingError("conversation_rating.rating", f"{score!r} is not a rating from 1 to 5")
    at = _time(rating, "created_at", "conversation_rating.created_at")
    return {
        # The score is in the id: a changed rating is a new answer (the latest wins).
        "id": f"{cid}:csat:{score}:{int(at.timestamp())}",
        "type": "survey.responded",
        "occurred_at": _iso(at),
        "conversation_id": cid,
        "survey": "csat",
        "score": score,
        "comment": _text(rating.get("remark")),
    }


def _unique(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One event per id (an admin who assigned and replied is upserted once)."""
    seen: set[str] = set()
    kept: list[dict[str, Any]] = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            kept.append({k: v for k, v in event.items() if v is not None})
    return kept


# -- files ------------------------------------------------------------------------------


def conversations_in(value: Any) -> list[Any]:
    """The conversation objects of one decoded file: a conversation, a list page
    (`conversation.list`), or a JSON array of either."""
    if isinstance(value, list):
        found: list[Any] = []
        for item in value:
            found += conversations_in(item) if _is_page(item) else [item]
        return found
    if _is_page(value):
        items = value.get("conversations")
        if not isinstance(items, list):
            raise MappingError("conversations", "must be a list")
        return list(items)
    return [value]


def _is_page(value: Any) -> bool:
    return isinstance(value, Mapping) and (
        value.get("type") == "conversation.list" or "conversations" in value
    )


def export_files(paths: Iterable[Path | str]) -> list[Path]:
    """The .json files named, or inside the folders named, in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    return found


@dataclass(frozen=True)
class Rejected:
    """A record that could not be used, and why."""

    file: str
    record_id: str | None
    field: str | None
    reason: str


@dataclass
class ImportSummary:
    files_read: int = 0
    conversations_read: int = 0
    conversations_without_parts: int = 0
    events_made: int = 0
    accepted: int = 0
    duplicates: int = 0
    conversations: int = 0
    agents: int = 0
    rejected: list[Rejected] = field(default_factory=list)


@dataclass
class Mapped:
    events: list[dict[str, Any]] = field(default_factory=list)
    # (file, raw record, Rejected) of the conversations that could not be mapped.
    refused: list[tuple[Any, Rejected]] = field(default_factory=list)
    files: int = 0
    read: int = 0
    without_parts: int = 0


def map_files(paths: Iterable[Path | str], options: IntercomOptions | None = None) -> Mapped:
    """Read and map every conversation in the files; bad ones are set aside, not fatal."""
    options = options or IntercomOptions()
    mapped = Mapped()
    seen: set[str] = set()
    for path in export_files(paths):
        mapped.files += 1
        try:
            decoded = json.loads(path.read_bytes())
            records = conversations_in(decoded)
        except (ValueError, MappingError) as error:
            where = error.field if isinstance(error, MappingError) else None
            message = error.message if isinstance(error, MappingError) else f"not JSON: {error}"
            mapped.refused.append(
                (path.read_text(errors="replace"), Rejected(str(path), None, where, message))
            )
            continue
        for record in records:
            mapped.read += 1
            ident = _optional(record).get("id")
            try:
                events = map_conversation(record, options)
            except MappingError as error:
                rejected = Rejected(
                    str(path), None if ident is None else str(ident), error.field, error.message
                )
                mapped.refused.append((record, rejected))
                continue
            if _optional(record).get("conversation_parts") is None:
                mapped.without_parts += 1
            # An agent seen in many conversations is announced once per import.
            fresh = [e for e in events if e["id"] not in seen]
            seen.update(e["id"] for e in fresh)
            mapped.events += fresh
    return mapped


def _batches(items: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def store_refused(store: Store, refused: Sequence[tuple[Any, Rejected]], source: str) -> None:
    """Keep each refused record with its reason (`deskpulse rejected` lists them)."""
    from deskpulse.events.ingest import ingest_objects

    if not refused:
        return
    ingest_objects(
        store,
        [{"intercom_record": raw} for raw, _ in refused],
        source,
        refused={
            index: f"conversation {r.record_id or '?'}: {r.field or '-'}: {r.reason}"
            for index, (_, r) in enumerate(refused)
        },
    )


def import_intercom(
    store: Store,
    paths: Iterable[Path | str],
    options: IntercomOptions | None = None,
    *,
    batch_size: int = 5_000,
    refresh: bool = True,
    progress: Callable[[int], None] | None = None,
    on_events: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read, map, store and refresh the facts: the whole file import."""
    from deskpulse.events.ingest import ingest_objects

    mapped = map_files(paths, options)
    summary = ImportSummary(
        files_read=mapped.files,
        conversations_read=mapped.read,
        conversations_without_parts=mapped.without_parts,
        events_made=len(mapped.events),
        rejected=[r for _, r in mapped.refused],
        conversations=len(
            {e["conversation_id"] for e in mapped.events if e["type"] == "conversation.created"}
        ),
        agents=len({e["agent_id"] for e in mapped.events if e["type"] == "agent.upserted"}),
    )
    if on_events is not None:
        on_events(len(mapped.events))
    store_refused(store, mapped.refused, "intercom:import")
    for batch in _batches(mapped.events, batch_size):
        result = ingest_objects(store, batch, "intercom:import")
        summary.accepted += result.accepted
        summary.duplicates += result.duplicates
        for r in result.rejected:
            summary.rejected.append(Rejected("(mapped events)", r.id, r.field, r.reason))
        if progress is not None:
            progress(len(batch))
    if refresh and summary.accepted:
        from deskpulse.facts.build import refresh_facts

        refresh_facts(store)
    return summary


__all__ = [
    "CHANNELS",
    "ImportSummary",
    "IntercomOptions",
    "Mapped",
    "MappingError",
    "Rejected",
    "conversation_key",
    "conversations_in",
    "export_files",
    "import_intercom",
    "map_conversation",
    "map_files",
]
