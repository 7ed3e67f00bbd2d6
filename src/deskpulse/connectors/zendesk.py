"""Zendesk Incremental Export files -> contract events.

A support team exports its Zendesk history with the Incremental Export API (tickets,
ticket events with the `comment_events` sideload, or per-ticket audits), the Satisfaction
Ratings API, the Ticket Metrics API and the users export, saving each page as it comes.
This module reads those pages, recognises each by its top-level key, and maps the records
to contract v1 events (docs/connectors-zendesk.md has the mapping table and the reasons).

Every event id is derived from Zendesk's own ids, so importing the same pages twice, or
overlapping pages of two exports, stores each event once. A record that cannot be mapped
is rejected with the field and the reason, and the rest still import.

Ticket metrics make no events: Zendesk computes its own reply time and reopen count, and
after the import we compare them with the facts deskpulse derived, so a support lead can
see where (and why) the two tools disagree before trusting either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from deskpulse.events.ingest import ingest_objects
from deskpulse.events.store import Store

Record = dict[str, Any]
ContractEvent = dict[str, Any]

SOURCE = "zendesk"

# The top-level key of each saved page, and the kind of record it holds.
KINDS: dict[str, str] = {
    "tickets": "ticket",
    "ticket_events": "ticket_event",
    "audits": "audit",
    "satisfaction_ratings": "satisfaction_rating",
    "ticket_metrics": "ticket_metric",
    "users": "user",
}
# Single-object responses (GET /tickets/{id}/metrics, /satisfaction_ratings/{id}, …).
SINGLE_KINDS: dict[str, str] = {
    "ticket": "ticket",
    "audit": "audit",
    "satisfaction_rating": "satisfaction_rating",
    "ticket_metric": "ticket_metric",
    "user": "user",
}

# via.channel -> contract channel. Zendesk has dozens of channels; the ones not listed
# (web form, api, rule, sample tickets, closed-ticket follow-ups …) are "other": they are
# not a live conversation medium a support lead would compare with chat or email.
CHANNELS: dict[str, str] = {
    "email": "email",
    "chat": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
    "mobile_sdk": "chat",
    "web_widget": "chat",
    "sunshine_conversations_api": "chat",
    "voice": "voice",
    "phone": "voice",
    "phone_call_inbound": "voice",
    "phone_call_outbound": "voice",
    "voicemail": "voice",
    "twitter": "social",
    "twitter_dm": "social",
    "facebook": "social",
    "facebook_post": "social",
    "facebook_messenger": "social",
    "instagram_dm": "social",
    "whatsapp": "social",
    "line": "social",
    "wechat": "social",
    "sms": "sms",
    "text": "sms",
}

# Zendesk status -> contract status. "hold" is waiting on a third party, "pending" on the
# customer: both stop being the agent's move, which is what `pending` means here.
STATUSES: dict[str, str] = {
    "new": "open",
    "open": "open",
    "pending": "pending",
    "hold": "pending",
    "solved": "resolved",
    "closed": "resolved",
}

# Legacy CSAT is two-valued. good -> 5 and bad -> 1 keep the 1-5 scale's meaning at
# both ends: "% satisfied" (4-5) equals Zendesk's own satisfaction score (good / (good +
# bad)), and the mean reads as 1 + 4 x that share. Alternatives are in the docs.
CSAT_SCORES: dict[str, int] = {"good": 5, "bad": 1}
UNANSWERED_SCORES = frozenset({"offered", "unoffered"})

AGENT_ROLES = frozenset({"agent", "admin"})
# Zendesk writes trigger and automation comments as user -1.
SYSTEM_USER = -1


@dataclass(frozen=True)
class ZendeskOptions:
    """Choices a team makes once for its Zendesk account."""

    # Custom ticket field that holds the inquiry type (e.g. "Contact reason"); when
    # unset or empty on a ticket, its first tag is used instead.
    inquiry_field_id: int | None = None
    # What a deskpulse inbox is: the Zendesk brand (default) or the group.
    inbox_from: Literal["brand", "group"] = "brand"


@dataclass(frozen=True)
class Rejected:
    """A Zendesk record (or a mapped event) that did not make it in, and why."""

    file: str
    kind: str
    record_id: str | None
    field: str | None
    reason: str
    raw: Any = None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "record_id": self.record_id,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class MetricCheck:
    """Zendesk's ticket metric next to the number deskpulse derived for the ticket."""

    ticket_id: str
    metric: str  # "reopens" or "first_reply_minutes"
    zendesk: float | None
    deskpulse: float | None
    agrees: bool
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "metric": self.metric,
            "zendesk": self.zendesk,
            "deskpulse": self.deskpulse,
            "agrees": self.agrees,
            "note": self.note,
        }


@dataclass
class ExportBundle:
    """Everything read from the export files, by kind, with the file it came from."""

    files: list[str] = field(default_factory=list)
    records: dict[str, list[tuple[str, Record]]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS.values()}
    )
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        return sum(len(rows) for rows in self.records.values())

    def of(self, kind: str) -> list[tuple[str, Record]]:
        return self.records[kind]


@dataclass
class Mapped:
    events: list[ContractEvent] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count, not errors
    conversations: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


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
    metric_checks: list[MetricCheck] = field(default_factory=list)

    @property
    def disagreements(self) -> list[MetricCheck]:
        return [check for check in self.metric_checks if not check.agrees]

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
            "metric_checks": [c.as_json() for c in self.metric_checks],
        }


# -- reading -------------------------------------------------------------------------------


def export_files(paths: Iterable[Path | str]) -> list[Path]:
    """The JSON files named, folders expanded (sorted, so imports are repeatable)."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        else:
            found.append(path)
    return found


def read_export(paths: Iterable[Path | str]) -> ExportBundle:
    """Read saved API pages; a file that is not one is rejected, the others still read."""
    bundle = ExportBundle()
    for path in export_files(paths):
        bundle.files.append(str(path))
        try:
            page = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            bundle.rejected.append(Rejected(str(path), "file", None, None, f"unreadable: {error}"))
            continue
        add_page(bundle, page, str(path))
    return bundle


def add_page(bundle: ExportBundle, page: Any, name: str) -> None:
    """Add one decoded page, recognised by its top-level key."""
    if not isinstance(page, dict):
        bundle.rejected.append(
            Rejected(name, "file", None, None, "not a Zendesk API page (expected a JSON object)")
        )
        return
    found = False
    for key, kind in KINDS.items():
        rows = page.get(key)
        if rows is None:
            continue
        found = True
        if not isinstance(rows, list):
            bundle.rejected.append(Rejected(name, kind, None, key, "must be a list"))
            continue
        for row in rows:
            if isinstance(row, dict):
                bundle.records[kind].append((name, row))
            else:
                bundle.rejected.append(
                    Rejected(name, kind, None, None, "record must be a JSON object", row)
                )
    for key, kind in SINGLE_KINDS.items():
        row = page.get(key)
        if isinstance(row, dict):
            found = True
            bundle.records[kind].append((name, row))
    if not found:
        keys = ", ".join(sorted(KINDS))
        bundle.rejected.append(
            Rejected(name, "file", None, None, f"no known top-level key (expected one of {keys})")
        )


# -- ids and small conversions -------------------------------------------------------------


def conversation_id(ticket_id: Any) -> str:
    return f"zd-{ticket_id}"


def person_id(user_id: Any) -> str:
    """Agents and customers share Zendesk's user id space; the prefix keeps them apart
    from other connectors' ids in the same store."""
    return f"zd-{user_id}"


def team_id(group_id: Any) -> str:
    return f"zd-group-{group_id}"


def _timestamp(value: Any) -> str | None:
    """An RFC 3339 string with an offset, or None. Zendesk writes UTC with a Z."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # ticket_events carry `timestamp` as Unix seconds next to `created_at`.
        return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return value


def _id_of(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _text(value: Any, limit: int = 100_000) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _label(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:256]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _channel_of(via: Any) -> str:
    channel = via.get("channel") if isinstance(via, dict) else via
    if isinstance(channel, str):
        return CHANNELS.get(channel.lower(), "other")
    return "other"


# -- mapping ---------------------------------------------------------------------------


@dataclass
class _Ticket:
    id: str
    requester: str | None
    group: str | None


class _Mapper:
    def __init__(self, bundle: ExportBundle, options: ZendeskOptions) -> None:
        self.bundle = bundle
        self.options = options
        self.out = Mapped()
        self.roles: dict[str, str] = {}
        self.tickets: dict[str, _Ticket] = {}
        # Tickets whose history (ticket events or audits) is in the export: their
        # status and assignee come from that history, not from the ticket snapshot.
        self.with_history: set[str] = set()
        # The group a ticket is in as its history is replayed, for assignment teams.
        self.current_group: dict[str, str | None] = {}

    # -- helpers ---------------------------------------------------------------------------

    def reject(
        self, file: str, kind: str, record: Record, field_name: str | None, reason: str
    ) -> None:
        record_id = _id_of(record.get("id"))
        self.out.rejected.append(Rejected(file, kind, record_id, field_name, reason, record))

    def emit(self, event: ContractEvent) -> None:
        self.out.events.append({k: v for k, v in event.items() if v is not None})
        if "conversation_id" in event:
            self.out.conversations.add(event["conversation_id"])

    def is_agent(self, user: str | None, ticket: _Ticket | None) -> bool | None:
        """True for agents and admins, False for end-users, None when nobody can tell."""
        if user is None:
            return None
        role = self.roles.get(user)
        if role is not None:
            return role in AGENT_ROLES
        if ticket is not None and ticket.requester is not None:
            # Without a users export: the requester is the customer, anyone else
            # writing on the ticket is staff (CCs are rare enough to accept the error).
            return user != ticket.requester
        return None

    # -- the passes ------------------------------------------------------------------------

    def run(self) -> Mapped:
        for file, user in self.bundle.of("user"):
            self.user(file, user)
        for file, ticket in self.bundle.of("ticket"):
            self.remember_ticket(file, ticket)
        for _file, event in self.bundle.of("ticket_event"):
            if (ticket_id := _id_of(event.get("ticket_id"))) is not None:
                self.with_history.add(ticket_id)
        for _file, audit in self.bundle.of("audit"):
            if (ticket_id := _id_of(audit.get("ticket_id"))) is not None:
                self.with_history.add(ticket_id)
        for file, ticket in self.bundle.of("ticket"):
            self.ticket(file, ticket)
        # History in time order, so group changes apply to the assignments after them.
        history = [(f, r, "ticket_event") for f, r in self.bundle.of("ticket_event")]
        history += [(f, r, "audit") for f, r in self.bundle.of("audit")]
        history.sort(
            key=lambda item: (str(item[1].get("created_at") or ""), str(item[1].get("id")))
        )
        for file, record, kind in history:
            self.update(file, record, kind)
        for file, rating in self.bundle.of("satisfaction_rating"):
            self.rating(file, rating)
        return self.out

    def user(self, file: str, user: Record) -> None:
        user_id = _id_of(user.get("id"))
        if user_id is None:
            self.reject(file, "user", user, "id", "is required")
            return
        role = user.get("role")
        if not isinstance(role, str):
            self.reject(file, "user", user, "role", "is required (end-user, agent or admin)")
            return
        self.roles[user_id] = role
        if role not in AGENT_ROLES:
            return
        at = _timestamp(user.get("updated_at")) or _timestamp(user.get("created_at"))
        if at is None:
            self.reject(file, "user", user, "updated_at", "needs updated_at or created_at")
            return
        name = _label(user.get("name")) or f"Zendesk user {user_id}"
        agent = person_id(user_id)
        self.out.agents.add(agent)
        self.emit(
            {
                # One event per version of the user: a later export with changes
                # upserts, the same version again dedupes.
                "id": f"zendesk:user:{user_id}:{at}",
                "type": "agent.upserted",
                "occurred_at": at,
                "agent_id": agent,
                "name": name,
                "email": _label(user.get("email")),
                "kind": "human",
                "team_ids": [],
                # Zendesk's `active` is false for deleted users; suspended agents
                # cannot work tickets either.
                "active": bool(user.get("active", True)) and not bool(user.get("suspended")),
            }
        )

    def remember_ticket(self, file: str, ticket: Record) -> None:
        ticket_id = _id_of(ticket.get("id"))
        if ticket_id is None:
            return
        self.tickets[ticket_id] = _Ticket(
            id=ticket_id,
            requester=_id_of(ticket.get("requester_id")),
            group=_id_of(ticket.get("group_id")),
        )

    def inquiry_of(self, ticket: Record) -> str | None:
        if self.options.inquiry_field_id is not None:
            for custom in ticket.get("custom_fields") or []:
                if not isinstance(custom, dict):
                    continue
                value = _label(custom.get("value"))
                if custom.get("id") == self.options.inquiry_field_id and value is not None:
                    return value
        tags = ticket.get("tags")
        if isinstance(tags, list) and tags:
            return _label(tags[0])
        return None

    def inbox_of(self, ticket: Record) -> str:
        brand = _id_of(ticket.get("brand_id"))
        group = _id_of(ticket.get("group_id"))
        if self.options.inbox_from == "brand" and brand is not None:
            return f"zd-brand-{brand}"
        if group is not None:
            return team_id(group)
        if brand is not None:
            return f"zd-brand-{brand}"
        return "zendesk"

    def ticket(self, file: str, ticket: Record) -> None:
        ticket_id = _id_of(ticket.get("id"))
        if ticket_id is None:
            self.reject(file, "ticket", ticket, "id", "is required")
            return
        created = _timestamp(ticket.get("created_at"))
        if created is None:
            self.reject(file, "ticket", ticket, "created_at", "must be a time with an offset")
            return
        requester = _id_of(ticket.get("requester_id"))
        if requester is None:
            self.reject(file, "ticket", ticket, "requester_id", "is required")
            return
        conversation = conversation_id(ticket_id)
        self.emit(
            {
                "id": f"zendesk:ticket:{ticket_id}:created",
                "type": "conversation.created",
                "occurred_at": created,
                "conversation_id": conversation,
                "channel": _channel_of(ticket.get("via")),
                "inbox_id": self.inbox_of(ticket),
                "customer_id": person_id(requester),
                "inquiry": self.inquiry_of(ticket),
                "priority": _label(ticket.get("priority")),
                "subject": _text(ticket.get("subject")),
            }
        )
        if ticket_id in self.with_history:
            return
        # No ticket events or audits for this ticket: its current assignee and status,
        # as of its last update, are all we know. Metrics needing the timeline (first
        # response) stay empty rather than guessed.
        self.out.skip("tickets imported without history (snapshot only)")
        updated = _timestamp(ticket.get("updated_at")) or created
        assignee = _id_of(ticket.get("assignee_id"))
        group = _id_of(ticket.get("group_id"))
        if assignee is not None:
            self.emit(
                {
                    "id": f"zendesk:ticket:{ticket_id}:assignee:{assignee}:{updated}",
                    "type": "conversation.assigned",
                    "occurred_at": updated,
                    "conversation_id": conversation,
                    "agent_id": person_id(assignee),
                    "team_id": team_id(group) if group else None,
                }
            )
        status = STATUSES.get(str(ticket.get("status")))
        if status is not None and status != "open":
            self.emit(
                {
                    "id": f"zendesk:ticket:{ticket_id}:status:{status}:{updated}",
                    "type": "conversation.status_changed",
                    "occurred_at": updated,
                    "conversation_id": conversation,
                    "status": status,
                }
            )

    def update(self, file: str, record: Record, kind: str) -> None:
        """One ticket update: an incremental ticket event or a ticket audit."""
        ticket_id = _id_of(record.get("ticket_id"))
        if ticket_id is None:
            self.reject(file, kind, record, "ticket_id", "is required")
            return
        at = _timestamp(record.get("created_at")) or _timestamp(record.get("timestamp"))
        if at is None:
            self.reject(file, kind, record, "created_at", "must be a time with an offset")
            return
        children = record.get("child_events" if kind == "ticket_event" else "events")
        if not isinstance(children, list):
            # Incremental ticket events without child events carry nothing we map.
            self.out.skip(f"{kind} without child events")
            return
        actor = _id_of(record.get("updater_id" if kind == "ticket_event" else "author_id"))
        ticket = self.tickets.get(ticket_id)
        self.current_group.setdefault(ticket_id, None)
        # Group changes first: an update that moves the ticket to a group and assigns
        # it in one go assigns within the new group.
        for child in children:
            if isinstance(child, dict) and (change := _field_change(child)) is not None:
                name, value, _previous = change
                if name == "group_id":
                    self.current_group[ticket_id] = _id_of(value)
        for child in children:
            if not isinstance(child, dict):
                continue
            self.child(file, kind, record, child, ticket_id, ticket, at, actor)

    def child(
        self,
        file: str,
        kind: str,
        record: Record,
        child: Record,
        ticket_id: str,
        ticket: _Ticket | None,
        at: str,
        actor: str | None,
    ) -> None:
        child_type = child.get("event_type") or child.get("type")
        child_id = _id_of(child.get("id"))
        conversation = conversation_id(ticket_id)
        # Without the comment_events sideload a comment is only flagged on the child
        # (comment_present / comment_public); the updater is its author.
        if child_type in ("Comment", "VoiceComment") or child.get("comment_present") is True:
            if child_id is None:
                self.reject(file, kind, record, "child_events.id", "comment needs an id")
                return
            self.comment(file, kind, record, child, child_id, ticket, conversation, at, actor)
            return
        change = _field_change(child)
        if change is None or child_id is None:
            return  # notifications, tags, SLA, custom fields …: nothing the contract holds
        name, value, previous = change
        when = _timestamp(child.get("created_at")) or at
        by_agent = self.is_agent(actor, ticket)
        changed_by = person_id(actor) if actor is not None and by_agent else None
        if name == "status":
            status = STATUSES.get(str(value))
            if status is None:
                self.reject(file, kind, record, "status", f"unknown Zendesk status {value!r}")
                return
            # new -> open, pending <-> hold and solved -> closed change nothing a
            # support lead measures; a closed-after-solved counted again would move
            # full resolution to the automation's close time.
            if previous is not None and STATUSES.get(str(previous)) == status:
                return
            if previous is None and status == "open":
                return  # a conversation with no status change is open
            self.emit(
                {
                    "id": f"zendesk:event:{child_id}",
                    "type": "conversation.status_changed",
                    "occurred_at": when,
                    "conversation_id": conversation,
                    "status": status,
                    "agent_id": changed_by,
                }
            )
        elif name == "assignee_id":
            assignee = _id_of(value)
            group = self.current_group.get(ticket_id) or (ticket.group if ticket else None)
            event: ContractEvent = {
                "id": f"zendesk:event:{child_id}",
                "type": "conversation.assigned",
                "occurred_at": when,
                "conversation_id": conversation,
                "team_id": team_id(group) if group else None,
            }
            self.emit(event)
            # agent_id is sent even when null: null means "unassigned".
            self.out.events[-1]["agent_id"] = person_id(assignee) if assignee else None

    def comment(
        self,
        file: str,
        kind: str,
        record: Record,
        child: Record,
        child_id: str,
        ticket: _Ticket | None,
        conversation: str,
        at: str,
        actor: str | None,
    ) -> None:
        author = _id_of(child.get("author_id")) or actor
        public = child.get("public", child.get("comment_public"))
        if not isinstance(public, bool):
            self.reject(file, kind, record, "public", "comment needs public true or false")
            return
        when = _timestamp(child.get("created_at")) or at
        message: ContractEvent = {
            "id": f"zendesk:event:{child_id}",
            "type": "message.created",
            "occurred_at": when,
            "message_id": f"zd-comment-{child_id}",
            "conversation_id": conversation,
            "text": _text(child.get("body")),
        }
        if author == str(SYSTEM_USER):
            # Triggers and automations: they never start or stop a response clock.
            message.update(direction="outbound" if public else "note", author_kind="system")
            self.emit(message)
            return
        agent = self.is_agent(author, ticket)
        if agent is None:
            self.reject(
                file,
                kind,
                record,
                "author_id",
                f"cannot tell whether user {author} is a customer or an agent: "
                "include the users export or the ticket",
            )
            return
        if agent:
            message.update(
                direction="outbound" if public else "note",
                author_kind="agent",
                agent_id=person_id(author),
            )
            self.out.agents.add(person_id(author))
        elif public:
            message.update(direction="inbound", author_kind="customer")
        else:
            # An end-user's private comment (a CC's reply made private): internal,
            # and the contract only lets customers write inbound messages.
            message.update(direction="note", author_kind="system")
        self.emit(message)

    def rating(self, file: str, rating: Record) -> None:
        score = rating.get("score")
        if score in UNANSWERED_SCORES:
            self.out.skip(f"satisfaction ratings {score} (no answer yet)")
            return
        if score not in CSAT_SCORES:
            self.reject(
                file, "satisfaction_rating", rating, "score", f"must be good or bad, got {score!r}"
            )
            return
        rating_id = _id_of(rating.get("id"))
        if rating_id is None:
            self.reject(file, "satisfaction_rating", rating, "id", "is required")
            return
        ticket_id = _id_of(rating.get("ticket_id"))
        if ticket_id is None:
            self.reject(file, "satisfaction_rating", rating, "ticket_id", "is required")
            return
        # updated_at: a customer can change their rating; the latest answer counts.
        at = _timestamp(rating.get("updated_at")) or _timestamp(rating.get("created_at"))
        if at is None:
            self.reject(
                file, "satisfaction_rating", rating, "updated_at", "needs updated_at or created_at"
            )
            return
        self.emit(
            {
                "id": f"zendesk:rating:{rating_id}:{at}",
                "type": "survey.responded",
                "occurred_at": at,
                "conversation_id": conversation_id(ticket_id),
                "survey": "csat",
                "score": CSAT_SCORES[str(score)],
                "comment": _text(rating.get("comment")),
            }
        )


def _field_change(child: Record) -> tuple[str, Any, Any] | None:
    """(field, new value, previous value) of a Create or Change child event.

    Audits name the field (`field_name`, `value`); incremental ticket events put the
    value under the field's own key (`"status": "solved"`). Both carry
    `previous_value` on changes.
    """
    child_type = child.get("event_type") or child.get("type")
    if child_type not in ("Create", "Change"):
        return None
    previous = child.get("previous_value")
    name = child.get("field_name")
    if isinstance(name, str):
        return name, child.get("value"), previous
    for key in ("status", "assignee_id", "group_id"):
        if key in child:
            return key, child[key], previous
    return None


def map_export(bundle: ExportBundle, options: ZendeskOptions | None = None) -> Mapped:
    """Contract events (sorted by time, then id) for everything in the export."""
    mapped = _Mapper(bundle, options or ZendeskOptions()).run()
    mapped.rejected = bundle.rejected + mapped.rejected
    mapped.events.sort(key=lambda e: (_sort_time(e["occurred_at"]), e["id"]))
    return mapped


def _sort_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


# -- importing -------------------------------------------------------------------------


def _batches(items: Sequence[ContractEvent], size: int) -> Iterator[Sequence[ContractEvent]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MappedRecords(Protocol):
    """What a file connector's mapping produced (Zendesk's and Freshdesk's `Mapped`)."""

    @property
    def events(self) -> Sequence[ContractEvent]: ...

    @property
    def rejected(self) -> Sequence[Rejected]: ...


class IngestCounts(Protocol):
    """The counters of a file connector's import summary that ingesting fills in."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]


def ingest_mapped(
    store: Store,
    mapped: MappedRecords,
    summary: IngestCounts,
    *,
    batch_size: int = 5_000,
    progress: Callable[[int], None] | None = None,
    source: str = SOURCE,
) -> None:
    """Store the events in batches; records refused by the mapping are kept with their
    reason in the store's rejected list too, where an admin looks for them. Shared by
    the file connectors (Zendesk, Freshdesk): `source` names the helpdesk."""
    if mapped.rejected:
        raws = [r.raw if r.raw is not None else {"file": r.file} for r in mapped.rejected]
        refused = {
            index: f"{source} {r.kind} {r.record_id or '?'} in {Path(r.file).name}: "
            + (f"{r.field}: " if r.field else "")
            + r.reason
            for index, r in enumerate(mapped.rejected)
        }
        ingest_objects(store, raws, source, refused=refused)
    for batch in _batches(mapped.events, batch_size):
        result = ingest_objects(store, list(batch), source)
        summary.accepted += result.accepted
        summary.duplicates += result.duplicates
        for rejection in result.rejected:
            event = batch[rejection.index]
            summary.rejected.append(
                Rejected(
                    "(mapped event)",
                    str(event.get("type")),
                    rejection.id,
                    rejection.field,
                    rejection.reason,
                    event,
                )
            )
        if progress is not None:
            progress(len(batch))


def cross_check(store: Store, bundle: ExportBundle) -> list[MetricCheck]:
    """Compare Zendesk's ticket metrics with deskpulse's conversation facts.

    Reply time: Zendesk counts from ticket creation to the first public agent comment,
    in whole minutes; deskpulse from the first customer message (creation when none),
    in seconds. They agree within a minute when the ticket starts with the customer's
    description, which is the usual case. Reopens: both count solved -> not solved.
    """
    metrics = [row for _file, row in bundle.of("ticket_metric")]
    if not metrics:
        return []
    facts: dict[str, dict[str, Any]] = {}
    if "conversation_facts" in set(store.con.list_tables()):
        wanted = sorted({conversation_id(t) for m in metrics if (t := _id_of(m.get("ticket_id")))})
        table = store.con.table("conversation_facts")
        chosen = table.filter(table.conversation_id.isin(wanted)).select(
            "conversation_id",
            "first_response_seconds",
            "reopens",
            "created_at",
            "first_message_at",
            "first_reply_at",
        )
        for row in chosen.to_pyarrow().to_pylist():
            facts[row["conversation_id"]] = row
    tickets = {
        ticket_id: ticket
        for _file, ticket in bundle.of("ticket")
        if (ticket_id := _id_of(ticket.get("id"))) is not None
    }
    checks: list[MetricCheck] = []
    for metric in metrics:
        ticket_id = _id_of(metric.get("ticket_id"))
        if ticket_id is None:
            continue
        ours = facts.get(conversation_id(ticket_id))
        missing = "ticket not imported" if ours is None else ""
        reopens = metric.get("reopens")
        if isinstance(reopens, int) and not isinstance(reopens, bool):
            mine = None if ours is None else ours.get("reopens")
            checks.append(
                MetricCheck(
                    ticket_id,
                    "reopens",
                    float(reopens),
                    None if mine is None else float(mine),
                    mine is not None and int(mine) == reopens,
                    missing
                    or (
                        ""
                        if mine is not None and int(mine) == reopens
                        else "Zendesk counts solved -> open; deskpulse counts resolved "
                        "(solved or closed) -> open or pending"
                    ),
                )
            )
        reply = metric.get("reply_time_in_minutes")
        calendar = reply.get("calendar") if isinstance(reply, dict) else None
        if isinstance(calendar, int | float) and not isinstance(calendar, bool):
            seconds = None if ours is None else ours.get("first_response_seconds")
            minutes = None if seconds is None else round(float(seconds) / 60, 2)
            # Zendesk reports whole minutes.
            agrees = minutes is not None and abs(minutes - float(calendar)) < 1
            note = missing or ("" if agrees else _reply_difference(ours, tickets.get(ticket_id)))
            check = MetricCheck(
                ticket_id, "first_reply_minutes", float(calendar), minutes, agrees, note
            )
            checks.append(check)
    return checks


def _reply_difference(ours: dict[str, Any] | None, ticket: Record | None) -> str:
    """Why Zendesk's first reply time and deskpulse's first response differ: the known
    definitional differences, most specific first."""
    if ours is None:
        return "ticket not imported"
    created = ours.get("created_at")
    first_message = ours.get("first_message_at")
    first_reply = ours.get("first_reply_at")
    if ours.get("first_response_seconds") is None:
        if first_reply is None:
            return "no public agent reply in the history (or only a snapshot was imported)"
        return (
            "opened by an agent's public comment with no customer message: deskpulse has no "
            "first response (nobody waited); Zendesk counts to a later agent comment"
        )
    submitter = None if ticket is None else _id_of(ticket.get("submitter_id"))
    requester = None if ticket is None else _id_of(ticket.get("requester_id"))
    agent_created = (submitter is not None and submitter != requester) or (
        first_reply is not None and first_message is not None and first_reply < first_message
    )
    if agent_created:
        return (
            "agent-created ticket: Zendesk measures from creation to the second public agent "
            "comment (the first is the ticket's description); deskpulse from the customer's "
            "first message to the agent reply after it"
        )
    if created is not None and first_message is not None and first_message > created:
        return (
            "different starting point: Zendesk counts from ticket creation, deskpulse from "
            "the customer's first message, which came later"
        )
    return (
        "no known definitional difference: compare the ticket's audits with its metric "
        "record (Zendesk may count a comment whose author role differs here)"
    )


def import_zendesk(
    store: Store,
    paths: Iterable[Path | str],
    options: ZendeskOptions | None = None,
    *,
    batch_size: int = 5_000,
    refresh: bool = True,
    progress: Callable[[int], None] | None = None,
    on_events: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read, map, store, refresh the facts and cross-check: the whole import.

    `on_events` is told how many events will be stored (for a progress bar) and
    `progress` how many each batch stored.
    """
    bundle = read_export(paths)
    mapped = map_export(bundle, options)
    summary = ImportSummary(
        files_read=len(bundle.files),
        records_read=bundle.records_read,
        records_by_kind={kind: len(rows) for kind, rows in bundle.records.items() if rows},
        events_made=len(mapped.events),
        rejected=list(mapped.rejected),
        skipped=dict(mapped.skipped),
        conversations=len(mapped.conversations),
        agents=len(mapped.agents),
    )
    if on_events is not None:
        on_events(len(mapped.events))
    ingest_mapped(store, mapped, summary, batch_size=batch_size, progress=progress)
    if refresh:
        from deskpulse.facts.build import refresh_facts

        refresh_facts(store)
        summary.metric_checks = cross_check(store, bundle)
    return summary


__all__ = [
    "CHANNELS",
    "CSAT_SCORES",
    "STATUSES",
    "ExportBundle",
    "ImportSummary",
    "Mapped",
    "MetricCheck",
    "Rejected",
    "ZendeskOptions",
    "add_page",
    "cross_check",
    "import_zendesk",
    "map_export",
    "read_export",
]
