"""Freshdesk REST API v2 objects -> contract events.

A team saves what Freshdesk's API returns (or lets `freshdesk_backfill` fetch it):
ticket list pages (`GET /api/v2/tickets?include=stats`), each ticket's conversations
(`/tickets/{id}/conversations`) and time entries (`/tickets/{id}/time_entries`), the
satisfaction ratings (`/surveys/satisfaction_ratings`) and, for names, the agents
(`/agents`). Freshdesk answers with bare JSON arrays, so each record is recognised by its
shape (a conversation has `incoming` and `private`, a time entry `time_spent`, …), not by
a top-level key. docs/connectors-freshdesk.md has the mapping table and the reasons.

Every event id is derived from Freshdesk's own ids, so importing the same files twice,
or a backfill after an import, stores each event once. A record that cannot be mapped
raises a `MappingError` naming the field; the import keeps it with its reason and maps
the rest.

Freshdesk's v2 API keeps no status history: a ticket carries its current status and, with
`include=stats`, the times it was last resolved, closed and reopened. The status events
are rebuilt from those (see `_Mapper.statuses`), which is all the API shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskpulse.connectors.chatwoot import MappingError
from deskpulse.connectors.zendesk import Mapped, Rejected, export_files, ingest_mapped
from deskpulse.events.store import Store

Record = dict[str, Any]
ContractEvent = dict[str, Any]

SOURCE = "freshdesk"

# Ticket `source` -> contract channel (Freshdesk: 1 Email, 2 Portal, 3 Phone, 4 Forum,
# 5 Twitter, 6 Facebook, 7 Chat, 8 Mobihelp, 9 Feedback Widget, 10 Outbound Email). The
# portal and the feedback widget are web forms: "other", as Zendesk's web form is.
CHANNELS: dict[int, str] = {
    1: "email",
    2: "other",
    3: "voice",
    4: "social",
    5: "social",
    6: "social",
    7: "chat",
    8: "chat",
    9: "other",
    10: "email",
}
OUTBOUND_EMAIL = 10

PRIORITIES: dict[int, str] = {1: "low", 2: "medium", 3: "high", 4: "urgent"}

OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5

# Satisfaction ratings, `ratings.default_question` (the survey's CSAT question) -> 1-5.
# Classic surveys answer 103 happy / 102 neutral / 101 unhappy: the ends keep the 1-5
# scale's ends, so "% satisfied" equals Freshdesk's happy share, and neutral is the middle.
CLASSIC_SCORES: dict[int, int] = {103: 5, 102: 3, 101: 1}
# Custom surveys (2-, 3-, 5- and 7-point) answer -103 … 103 (strongly disagree … strongly
# agree, 100 neutral; the 5-point scale skips ±101, the 3-point ±101 and ±102). Both
# sides fold symmetrically: any positive answer is "satisfied" (4-5), any negative 1-2.
CUSTOM_SCORES: dict[int, int] = {-103: 1, -102: 2, -101: 2, 100: 3, 101: 4, 102: 4, 103: 5}


@dataclass(frozen=True)
class FreshdeskOptions:
    """Choices a team makes once for its Freshdesk account."""

    # User ids whose public replies are an AI agent's (Freddy AI Agent or another bot
    # working as an agent): Freshdesk's conversation objects do not mark them.
    ai_agent_ids: frozenset[str] = frozenset()
    # Survey ids that are custom surveys (-103 … 103). Without it, a survey whose ratings
    # in the data include 100, a negative code or a second question is taken as custom,
    # the others as classic (101/102/103).
    custom_survey_ids: frozenset[str] = frozenset()


@dataclass
class Bundle:
    """Everything read, by kind, with the file (or API page) it came from."""

    files: list[str] = field(default_factory=list)
    records: dict[str, list[tuple[str, Record]]] = field(
        default_factory=lambda: {
            kind: [] for kind in ("ticket", "conversation", "time_entry", "rating", "agent")
        }
    )
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        return sum(len(rows) for rows in self.records.values())

    def of(self, kind: str) -> list[tuple[str, Record]]:
        return self.records[kind]


@dataclass
class ImportSummary:
    files_read: int = 0
    records_read: int = 0
    records_by_kind: dict[str, int] = field(default_factory=dict)
    events_made: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    conversations: int = 0
    agents: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "files_read": self.files_read,
            "records_read": self.records_read,
            "records_by_kind": self.records_by_kind,
            "events_made": self.events_made,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.as_json() for r in self.rejected],
            "skipped": self.skipped,
            "conversations": self.conversations,
            "agents": self.agents,
        }


# -- reading -------------------------------------------------------------------------------


def kind_of(record: Record) -> str | None:
    """Which Freshdesk object this is, by the fields only it has."""
    if "incoming" in record and "private" in record:
        return "conversation"
    if "time_spent" in record:
        return "time_entry"
    if "ratings" in record and "survey_id" in record:
        return "rating"
    if "requester_id" in record and ("status" in record or "source" in record):
        return "ticket"
    if isinstance(record.get("contact"), dict):
        return "agent"
    return None


def add_page(bundle: Bundle, page: Any, name: str) -> None:
    """Add one decoded API answer: a list of objects or a single object."""
    rows = page if isinstance(page, list) else [page]
    if not isinstance(page, list | dict):
        bundle.rejected.append(
            Rejected(name, "file", None, None, "not a Freshdesk API answer (a list or an object)")
        )
        return
    for row in rows:
        if not isinstance(row, dict):
            bundle.rejected.append(
                Rejected(name, "file", None, None, "record must be a JSON object", row)
            )
            continue
        kind = kind_of(row)
        if kind is None:
            bundle.rejected.append(
                Rejected(
                    name,
                    "file",
                    _id_of(row.get("id")),
                    None,
                    "not a ticket, conversation, time entry, satisfaction rating or agent",
                    row,
                )
            )
            continue
        bundle.records[kind].append((name, row))
        if kind == "ticket" and isinstance(row.get("conversations"), list):
            # GET /tickets/{id}?include=conversations embeds them (without ticket_id
            # on older accounts): they belong to this ticket.
            for conversation in row["conversations"]:
                if isinstance(conversation, dict):
                    conversation.setdefault("ticket_id", row.get("id"))
                    bundle.records["conversation"].append((name, conversation))


def read_files(paths: Iterable[Path | str]) -> Bundle:
    """Read saved API answers; a file that is not one is rejected, the others still read."""
    bundle = Bundle()
    for path in export_files(paths):
        bundle.files.append(str(path))
        try:
            page = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            bundle.rejected.append(Rejected(str(path), "file", None, None, f"unreadable: {error}"))
            continue
        add_page(bundle, page, str(path))
    return bundle


# -- ids and small conversions -------------------------------------------------------------


def conversation_id(ticket_id: Any) -> str:
    return f"fd-{ticket_id}"


def person_id(user_id: Any) -> str:
    """Agents and contacts share Freshdesk's user id space; the prefix keeps them apart
    from other connectors' ids in the same store."""
    return f"fd-{user_id}"


def team_id(group_id: Any) -> str:
    return f"fd-group-{group_id}"


def _id_of(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _required_id(record: Record, name: str) -> str:
    value = _id_of(record.get(name))
    if value is None:
        raise MappingError(name, "is required")
    return value


def _time(record: Record, name: str) -> str | None:
    """An RFC 3339 string with an offset; None when absent; MappingError when malformed."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return value
    raise MappingError(name, f"must be a time with an offset, got {value!r}")


def _required_time(record: Record, *names: str) -> str:
    for name in names:
        if (value := _time(record, name)) is not None:
            return value
    raise MappingError(names[0], "is required" if len(names) == 1 else f"or {names[1]} needed")


def _text(value: Any, limit: int = 100_000) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _label(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:256]
    return None


def time_spent_seconds(value: Any) -> int:
    """Freshdesk's "hh:mm" -> seconds."""
    if isinstance(value, str):
        hours, sep, minutes = value.partition(":")
        digits = sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
        if digits and int(minutes) < 60:
            return int(hours) * 3600 + int(minutes) * 60
    raise MappingError("time_spent", f'must be "hh:mm", got {value!r}')


def csat_score(code: Any, *, custom: bool) -> int:
    """A `ratings.default_question` code -> CSAT 1-5 (docs/connectors-freshdesk.md)."""
    scale = CUSTOM_SCORES if custom else CLASSIC_SCORES
    if isinstance(code, int) and not isinstance(code, bool) and code in scale:
        return scale[code]
    codes = "101, 102 or 103" if not custom else "-103 … 103"
    kind = "custom" if custom else "classic"
    raise MappingError("ratings.default_question", f"{kind} survey codes are {codes}, got {code!r}")


def custom_surveys(ratings: Iterable[Record], options: FreshdeskOptions) -> set[str]:
    """Survey ids answered with custom-survey codes (100 or negative) or with more than
    one question anywhere in the data, plus those named in the options."""
    found = set(options.custom_survey_ids)
    for rating in ratings:
        codes = rating.get("ratings")
        survey = _id_of(rating.get("survey_id"))
        if survey is None or not isinstance(codes, dict):
            continue
        # Classic surveys ask one question and answer 101-103.
        numbers = [c for c in codes.values() if isinstance(c, int) and not isinstance(c, bool)]
        if len(codes) > 1 or any(c <= 100 for c in numbers):
            found.add(survey)
    return found


# -- mapping ---------------------------------------------------------------------------


class _Mapper:
    def __init__(self, bundle: Bundle, options: FreshdeskOptions) -> None:
        self.bundle = bundle
        self.options = options
        self.out = Mapped()
        self.customs = custom_surveys((r for _f, r in bundle.of("rating")), options)
        # ticket id -> requester user id, to recognise the customer's own replies
        self.requesters: dict[str, str] = {}

    def emit(self, event: ContractEvent, *, keep_null: tuple[str, ...] = ()) -> None:
        self.out.events.append({k: v for k, v in event.items() if v is not None or k in keep_null})
        if "conversation_id" in event:
            self.out.conversations.add(event["conversation_id"])

    def each(self, kind: str, handle: Callable[[Record], None]) -> None:
        for file, record in self.bundle.of(kind):
            try:
                handle(record)
            except MappingError as error:
                self.out.rejected.append(
                    Rejected(
                        file, kind, _id_of(record.get("id")), error.field, error.message, record
                    )
                )

    def run(self) -> Mapped:
        self.each("agent", self.agent)
        self.each("ticket", self.ticket)
        self.each("conversation", self.conversation)
        self.each("time_entry", self.time_entry)
        self.each("rating", self.rating)
        return self.out

    def agent(self, agent: Record) -> None:
        agent_id = _required_id(agent, "id")
        contact = agent["contact"]
        at = _required_time(agent, "updated_at", "created_at")
        name = _label(contact.get("name")) or f"Freshdesk agent {agent_id}"
        groups = agent.get("group_ids")
        if not isinstance(groups, list):
            groups = []
        self.out.agents.add(person_id(agent_id))
        self.emit(
            {
                # One event per version of the agent: later changes upsert.
                "id": f"freshdesk:agent:{agent_id}:{at}",
                "type": "agent.upserted",
                "occurred_at": at,
                "agent_id": person_id(agent_id),
                "name": name,
                "email": _label(contact.get("email")),
                "kind": "ai" if agent_id in self.options.ai_agent_ids else "human",
                "team_ids": [team_id(g) for g in groups if _id_of(g) is not None],
                "active": contact.get("active", True) is not False,
            }
        )

    def ticket(self, ticket: Record) -> None:
        ticket_id = _required_id(ticket, "id")
        if ticket.get("spam") is True or ticket.get("deleted") is True:
            self.out.skip("spam or deleted tickets")
            return
        created = _required_time(ticket, "created_at")
        requester = _required_id(ticket, "requester_id")
        source = ticket.get("source")
        if source is not None and not isinstance(source, int):
            raise MappingError("source", f"must be a Freshdesk source number, got {source!r}")
        status = ticket.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            raise MappingError("status", f"must be a Freshdesk status number, got {status!r}")
        found = ticket.get("stats")
        stats: Record = found if isinstance(found, dict) else {}  # without include=stats
        # Check every time before emitting anything, so a bad ticket makes no events.
        times = {name: _time(stats, name) for name in ("resolved_at", "closed_at", "reopened_at")}
        times["pending_since"] = _time(stats, "pending_since")
        times["status_updated_at"] = _time(stats, "status_updated_at")
        updated = _time(ticket, "updated_at") or created
        conversation = conversation_id(ticket_id)
        priority = ticket.get("priority")
        product = _id_of(ticket.get("product_id"))
        tags = ticket.get("tags")
        inquiry = _label(ticket.get("type")) or (
            _label(tags[0]) if isinstance(tags, list) and tags else None
        )
        self.requesters[ticket_id] = requester
        self.emit(
            {
                "id": f"freshdesk:ticket:{ticket_id}:created",
                "type": "conversation.created",
                "occurred_at": created,
                "conversation_id": conversation,
                "channel": CHANNELS.get(source, "other") if isinstance(source, int) else "other",
                "inbox_id": f"fd-product-{product}" if product else "freshdesk",
                "customer_id": person_id(requester),
                "inquiry": inquiry,
                "priority": PRIORITIES.get(priority) if isinstance(priority, int) else None,
                "subject": _text(ticket.get("subject")),
            }
        )
        description = _text(ticket.get("description_text")) or _text(ticket.get("description"))
        if source == OUTBOUND_EMAIL:
            # An agent wrote the description to the customer: nobody waited for it.
            self.out.skip("outbound-email tickets: description is the agent's, not a message")
        else:
            # Every ticket starts with the requester's description; a ticket list page
            # may leave its text out, but the message is there anyway.
            self.emit(
                {
                    "id": f"freshdesk:ticket:{ticket_id}:description",
                    "type": "message.created",
                    "occurred_at": created,
                    "message_id": f"fd-ticket-{ticket_id}",
                    "conversation_id": conversation,
                    "direction": "inbound",
                    "author_kind": "customer",
                    "text": description,
                }
            )
        responder = _id_of(ticket.get("responder_id"))
        group = _id_of(ticket.get("group_id"))
        if responder is not None or group is not None:
            # The API shows only the current assignee and group, not when they were set:
            # they are recorded as of the ticket's last update, so they say who owns the
            # ticket without starting anybody's response clock early.
            self.emit(
                {
                    "id": f"freshdesk:ticket:{ticket_id}:assigned:{responder}:{group}:{updated}",
                    "type": "conversation.assigned",
                    "occurred_at": updated,
                    "conversation_id": conversation,
                    "agent_id": person_id(responder) if responder else None,
                    "team_id": team_id(group) if group else None,
                },
                keep_null=("agent_id",),
            )
        self.statuses(ticket_id, status, times, updated)

    def statuses(
        self, ticket_id: str, status: int, times: dict[str, str | None], updated: str
    ) -> None:
        """Status events from the current status and the stats' last-transition times.

        Freshdesk keeps only the latest resolution: when a resolved ticket is reopened,
        the earlier resolution time is gone. A ticket with `reopened_at` was resolved
        before it, so that resolution is recorded at the reopen instant, its latest
        possible time: the reopen counts, and the first resolution time is an upper bound.
        """
        conversation = conversation_id(ticket_id)
        resolved, closed, reopened = times["resolved_at"], times["closed_at"], times["reopened_at"]

        def change(name: str, at: str, to: str) -> None:
            self.emit(
                {
                    # The numbered names order a resolution and a reopen at one instant.
                    "id": f"freshdesk:ticket:{ticket_id}:status:{name}:{at}",
                    "type": "conversation.status_changed",
                    "occurred_at": at,
                    "conversation_id": conversation,
                    "status": to,
                }
            )

        if reopened is not None:
            earlier = resolved if resolved is not None and _after(reopened, resolved) else None
            if earlier is None:
                self.out.skip("reopened tickets: earlier resolution placed at the reopen")
            change("1-resolved", earlier or reopened, "resolved")
            change("2-reopened", reopened, "open")
        if status in (RESOLVED, CLOSED):
            # The latest resolution: resolved_at, else closed_at (closed without being
            # resolved first), else the last status change; after the reopen if any.
            candidates = (resolved, closed, times["status_updated_at"], updated)
            final = next(
                (
                    at
                    for at in candidates
                    if at is not None and (reopened is None or _after(at, reopened))
                ),
                None,
            )
            if final is not None:
                change("3-resolved", final, "resolved")
        elif status == PENDING:
            at = times["pending_since"] or times["status_updated_at"] or updated
            change("3-pending", at, "pending")
        elif status != OPEN:
            self.out.skip("custom statuses (kept as open)")

    def conversation(self, item: Record) -> None:
        item_id = _required_id(item, "id")
        ticket_id = _required_id(item, "ticket_id")
        at = _required_time(item, "created_at")
        incoming, private = item.get("incoming"), item.get("private")
        if not isinstance(incoming, bool):
            raise MappingError("incoming", "must be true or false")
        if not isinstance(private, bool):
            raise MappingError("private", "must be true or false")
        user = _id_of(item.get("user_id"))
        message: ContractEvent = {
            "id": f"freshdesk:conversation:{item_id}",
            "type": "message.created",
            "occurred_at": at,
            "message_id": f"fd-conversation-{item_id}",
            "conversation_id": conversation_id(ticket_id),
            "text": _text(item.get("body_text")) or _text(item.get("body")),
        }
        # The requester is the customer, whatever `incoming` says.
        by_requester = user is not None and self.requesters.get(ticket_id) == user
        if not private and (incoming or by_requester):
            message.update(direction="inbound", author_kind="customer")
        elif incoming:
            # A customer's mail kept as a private note (forwarded, or added by an
            # agent): internal, and the contract lets customers write inbound only.
            message.update(direction="note", author_kind="system")
        else:
            if user is None:
                raise MappingError("user_id", "an agent's reply or note needs its author")
            kind = "ai" if user in self.options.ai_agent_ids else "agent"
            message.update(
                direction="note" if private else "outbound",
                author_kind=kind,
                agent_id=person_id(user),
            )
            self.out.agents.add(person_id(user))
        self.emit(message)

    def time_entry(self, entry: Record) -> None:
        entry_id = _required_id(entry, "id")
        ticket_id = _required_id(entry, "ticket_id")
        agent = _required_id(entry, "agent_id")
        if entry.get("timer_running") is True:
            # time_spent grows until the timer stops; the stopped entry is imported then.
            self.out.skip("time entries with a running timer")
            return
        seconds = time_spent_seconds(entry.get("time_spent"))
        if seconds > 86_400:
            raise MappingError("time_spent", f"{entry['time_spent']} is more than 24 hours")
        at = _required_time(entry, "executed_at", "start_time")
        self.emit(
            {
                # Not versioned: work.logged adds up, so an edited entry imported again
                # must not count twice (the first imported value stays).
                "id": f"freshdesk:time_entry:{entry_id}",
                "type": "work.logged",
                "occurred_at": at,
                "conversation_id": conversation_id(ticket_id),
                "agent_id": person_id(agent),
                "seconds": seconds,
                "kind": "work",
            }
        )
        self.out.agents.add(person_id(agent))

    def rating(self, rating: Record) -> None:
        rating_id = _required_id(rating, "id")
        ticket_id = _required_id(rating, "ticket_id")
        codes = rating.get("ratings")
        if not isinstance(codes, dict) or "default_question" not in codes:
            raise MappingError("ratings.default_question", "is required")
        survey = _id_of(rating.get("survey_id"))
        score = csat_score(codes["default_question"], custom=survey in self.customs)
        # updated_at: a customer can change their answer; the latest counts.
        at = _required_time(rating, "updated_at", "created_at")
        self.emit(
            {
                "id": f"freshdesk:rating:{rating_id}:{at}",
                "type": "survey.responded",
                "occurred_at": at,
                "conversation_id": conversation_id(ticket_id),
                "survey": "csat",
                "score": score,
                "comment": _text(rating.get("feedback")),
            }
        )


def _after(later: str, earlier: str) -> bool:
    return _sort_time(later) > _sort_time(earlier)


def _sort_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def map_bundle(bundle: Bundle, options: FreshdeskOptions | None = None) -> Mapped:
    """Contract events (sorted by time, then id) for everything read."""
    mapped = _Mapper(bundle, options or FreshdeskOptions()).run()
    mapped.rejected = bundle.rejected + mapped.rejected
    mapped.events.sort(key=lambda e: (_sort_time(e["occurred_at"]), e["id"]))
    return mapped


# -- importing -------------------------------------------------------------------------


def summarise(bundle: Bundle, mapped: Mapped) -> ImportSummary:
    return ImportSummary(
        files_read=len(bundle.files),
        records_read=bundle.records_read,
        records_by_kind={kind: len(rows) for kind, rows in bundle.records.items() if rows},
        events_made=len(mapped.events),
        rejected=list(mapped.rejected),
        skipped=dict(mapped.skipped),
        conversations=len(mapped.conversations),
        agents=len(mapped.agents),
    )


def import_bundle(
    store: Store,
    bundle: Bundle,
    options: FreshdeskOptions | None = None,
    *,
    batch_size: int = 5_000,
    refresh: bool = True,
    progress: Callable[[int], None] | None = None,
    on_events: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Map, store and refresh the facts. `on_events` is told how many events will be
    stored (for a progress bar) and `progress` how many each batch stored."""
    mapped = map_bundle(bundle, options)
    summary = summarise(bundle, mapped)
    if on_events is not None:
        on_events(len(mapped.events))
    ingest_mapped(store, mapped, summary, batch_size=batch_size, progress=progress, source=SOURCE)
    if refresh and summary.accepted:
        from deskpulse.facts.build import refresh_facts

        refresh_facts(store)
    return summary


def import_freshdesk(
    store: Store,
    paths: Iterable[Path | str],
    options: FreshdeskOptions | None = None,
    *,
    batch_size: int = 5_000,
    refresh: bool = True,
    progress: Callable[[int], None] | None = None,
    on_events: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read saved API answers (files or folders of .json), map, store, refresh."""
    return import_bundle(
        store,
        read_files(paths),
        options,
        batch_size=batch_size,
        refresh=refresh,
        progress=progress,
        on_events=on_events,
    )


__all__ = [
    "CHANNELS",
    "CLASSIC_SCORES",
    "CUSTOM_SCORES",
    "Bundle",
    "FreshdeskOptions",
    "ImportSummary",
    "Mapped",
    "MappingError",
    "Rejected",
    "add_page",
    "csat_score",
    "import_bundle",
    "import_freshdesk",
    "kind_of",
    "map_bundle",
    "read_files",
    "time_spent_seconds",
]
