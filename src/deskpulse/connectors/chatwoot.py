"""Chatwoot webhooks and API records as contract events (pure mapping, no I/O).

Shapes follow Chatwoot's own source (chatwoot/chatwoot): `Message#webhook_data`
(message_created / message_updated: `message_type` a string, `created_at` ISO 8601,
`sender` the user / contact / agent_bot / captain_assistant `webhook_data`), the
conversation `webhook_data` = `Conversations::EventDataPresenter#push_data`
(conversation_*: `id` is the *display* id, timestamps are epoch seconds, embedded
`messages[]` are `Message#push_event_data` with an integer `message_type`), and the
REST API partials (`api/v1/models/_message`, `api/v1/conversations/partials/_conversation`)
used by the backfill. See tests/connectors/fixtures/chatwoot/README.md for each source.

Every event id is derived from Chatwoot's ids (and, for changes, the change's own
timestamp), so a redelivered webhook, or a webhook and a backfill of the same account,
store each fact once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deskpulse.errors import DeskpulseError

logger = logging.getLogger("deskpulse.connectors.chatwoot")

CONVERSATION_EVENTS = frozenset(
    {
        "conversation_created",
        "conversation_updated",
        "conversation_status_changed",
        # Older Chatwoot versions send these instead of conversation_status_changed
        # (documented as "to be deprecated"); they carry the same conversation payload.
        "conversation_resolved",
        "conversation_opened",
    }
)
MESSAGE_EVENTS = frozenset({"message_created", "message_updated"})
HANDLED_EVENTS = CONVERSATION_EVENTS | MESSAGE_EVENTS

# Message#message_type enum: { incoming: 0, outgoing: 1, activity: 2, template: 3 }.
MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
STATUSES = frozenset({"open", "pending", "snoozed", "resolved"})
# Conversation#priority enum values; anything else is passed on as a label.
CHANNELS = {
    "Channel::WebWidget": "chat",
    "Channel::Api": "other",
    "Channel::Email": "email",
    "Channel::FacebookPage": "social",
    "Channel::Instagram": "social",
    "Channel::TwitterProfile": "social",
    "Channel::Tiktok": "social",
    "Channel::Whatsapp": "chat",
    "Channel::Telegram": "chat",
    "Channel::Line": "chat",
    "Channel::Sms": "sms",
    "Channel::TwilioSms": "sms",
    "Channel::Voice": "voice",
}
# The keys of `changed_attributes` that say who a conversation is assigned to.
_ASSIGNMENT_KEYS = frozenset({"assignee_id", "assignee_agent_bot_id", "team_id"})
_ATTRIBUTE_KEYS = frozenset({"label_list", "priority", "additional_attributes"})


class MappingError(DeskpulseError, ValueError):
    """A payload that cannot become contract events; `field` names the culprit."""

    field: str  # always named

    code = "unmappable_payload"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class ChatwootOptions:
    """Per-connector settings the payloads cannot supply themselves."""

    # Chatwoot's conversation payloads carry no account id (only the message payloads
    # do, under `account`); a connector bound to one account fills the gap.
    account_id: int | None = None
    # Label -> inquiry. Empty: the first label is the inquiry. Otherwise the first
    # label of the conversation that the map knows.
    label_map: Mapping[str, str] = field(default_factory=dict)
    # When a CSAT answer was given is not in message_updated unless the embedded copy
    # of the message has `updated_at`; then the moment the webhook arrived is used.
    received_at: datetime | None = None


# -- small readers ---------------------------------------------------------------------


def _require(container: Mapping[str, Any], key: str, path: str) -> Any:
    value = container.get(key)
    if value is None:
        raise MappingError(path, "is required")
    return value


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MappingError(path, "must be an object")
    return value


def _optional_object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ident(value: Any, path: str) -> str:
    """A Chatwoot id: an integer, or (in some documented samples) a digit string."""
    if isinstance(value, bool):
        raise MappingError(path, "must be an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return str(int(value.strip()))
    if value is None:
        raise MappingError(path, "is required")
    raise MappingError(path, "must be an id (an integer)")


def parse_time(value: Any, path: str) -> datetime:
    """Chatwoot timestamps: epoch seconds (int or float) or ISO 8601 strings.

    `push_data` sends `created_at.to_i` and `updated_at.to_f`; `webhook_data` and
    `changed_attributes` send Rails' JSON time ("2021-07-23T18:02:48.000Z"); the docs'
    sample also shows "2020-03-03 13:05:57 UTC". Times without a zone are UTC, as
    Chatwoot stores them.
    """
    if isinstance(value, bool) or value is None:
        raise MappingError(path, "must be a timestamp")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise MappingError(path, "is not a representable epoch timestamp") from None
    if not isinstance(value, str) or not value.strip():
        raise MappingError(path, "must be a timestamp")
    text = value.strip()
    if text.replace(".", "", 1).isdigit():
        return parse_time(float(text), path)
    if text.endswith(" UTC"):
        text = text[: -len(" UTC")] + "+00:00"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MappingError(path, f"{value!r} is neither epoch seconds nor ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    # Whole seconds: the same message comes as ISO with milliseconds (webhook_data) and
    # as truncated epoch seconds (push_event_data); both must give the same event.
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:12]


# -- conversations ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Conversation:
    account_id: str
    inbox_id: str
    display_id: str

    @property
    def id(self) -> str:
        return f"chatwoot:{self.account_id}:{self.inbox_id}:{self.display_id}"


def _account_id(
    payload: Mapping[str, Any], conversation: Mapping[str, Any], options: ChatwootOptions
) -> str:
    account = payload.get("account")
    if isinstance(account, Mapping) and account.get("id") is not None:
        return _ident(account["id"], "account.id")
    # The REST API's conversation partial (and some versions' webhook_data) have it.
    for source, path in ((conversation, "account_id"), (payload, "account_id")):
        if source.get("account_id") is not None:
            return _ident(source["account_id"], path)
    messages = conversation.get("messages")
    if isinstance(messages, list):
        for index, message in enumerate(messages):
            if isinstance(message, Mapping) and message.get("account_id") is not None:
                return _ident(message["account_id"], f"messages.{index}.account_id")
    if options.account_id is not None:
        return str(options.account_id)
    raise MappingError(
        "account_id",
        "the payload names no account and the connector has no account id "
        "(create it with --account-id)",
    )


def _conversation_ref(
    payload: Mapping[str, Any],
    conversation: Mapping[str, Any],
    options: ChatwootOptions,
    prefix: str,
) -> _Conversation:
    # The docs' message sample spells the display id out; push_data puts it in `id`.
    if conversation.get("display_id") is not None:
        display = _ident(conversation["display_id"], f"{prefix}display_id")
    else:
        display = _ident(conversation.get("id"), f"{prefix}id")
    inbox = conversation.get("inbox_id")
    if inbox is None:
        inbox = _optional_object(payload.get("inbox")).get("id")
    return _Conversation(
        account_id=_account_id(payload, conversation, options),
        inbox_id=_ident(inbox, f"{prefix}inbox_id"),
        display_id=display,
    )


def _channel(conversation: Mapping[str, Any]) -> str:
    raw = conversation.get("channel") or _optional_object(conversation.get("meta")).get("channel")
    return CHANNELS.get(raw, "other") if isinstance(raw, str) else "other"


def _customer_id(ref: _Conversation, conversation: Mapping[str, Any], prefix: str) -> str:
    sender = _optional_object(_optional_object(conversation.get("meta")).get("sender"))
    contact = sender.get("id")
    if contact is None:
        contact = _optional_object(conversation.get("contact_inbox")).get("contact_id")
    if contact is None:
        raise MappingError(f"{prefix}meta.sender.id", "is required (the conversation's contact)")
    return f"chatwoot:{ref.account_id}:contact:{_ident(contact, f'{prefix}meta.sender.id')}"


def _created_event(
    ref: _Conversation, conversation: Mapping[str, Any], prefix: str
) -> list[dict[str, Any]]:
    """conversation.created from any payload that embeds the conversation.

    Only fields that never change go here, so whichever payload arrives first gives the
    same event (same id, same content): delivery order cannot change the facts. Older
    Chatwoot versions (the docs' samples) send no `created_at`; then no payload can date
    the creation and none is emitted from it.
    """
    if conversation.get("created_at") is None:
        return []
    created = parse_time(conversation["created_at"], f"{prefix}created_at")
    return [
        {
            "id": f"{ref.id}:created",
            "type": "conversation.created",
            "occurred_at": _iso(created),
            "conversation_id": ref.id,
            "channel": _channel(conversation),
            "inbox_id": f"chatwoot:{ref.account_id}:inbox:{ref.inbox_id}",
            "customer_id": _customer_id(ref, conversation, prefix),
        }
    ]


def _inquiry(labels: Any, options: ChatwootOptions) -> str | None:
    if not isinstance(labels, list):
        return None
    names = [label for label in labels if isinstance(label, str) and label]
    if options.label_map:
        return next((options.label_map[n] for n in names if n in options.label_map), None)
    return names[0] if names else None


def _changes(payload: Mapping[str, Any]) -> dict[str, Mapping[str, Any]] | None:
    """`changed_attributes` as {key: {previous_value, current_value}}; None when absent.

    Chatwoot sends a list of one-key objects (BaseListener#extract_changed_attributes).
    """
    raw = payload.get("changed_attributes")
    if raw is None:
        return None
    found: dict[str, Mapping[str, Any]] = {}
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else []
    for item in items:
        if isinstance(item, Mapping):
            for key, value in item.items():
                found[str(key)] = _optional_object(value)
    return found


def _change_time(
    conversation: Mapping[str, Any], changes: Mapping[str, Mapping[str, Any]] | None
) -> datetime:
    """When a conversation change happened: the saved updated_at, else last activity."""
    if changes and changes.get("updated_at", {}).get("current_value") is not None:
        return parse_time(changes["updated_at"]["current_value"], "changed_attributes.updated_at")
    for key in ("updated_at", "timestamp", "last_activity_at"):
        if conversation.get(key) is not None:
            return parse_time(conversation[key], key)
    raise MappingError("updated_at", "is required to date a conversation change")


def _actor(raw: Any, type_hint: str | None = None) -> tuple[str, str, str] | None:
    """(author_kind, agent_id, name) of a sender/assignee object; None for a contact.

    user -> a human agent; agent_bot and captain_assistant -> AI agents. AgentBot and
    Captain::Assistant ids come from different tables, so the assistant's id is
    prefixed to keep the two apart.
    """
    actor = _optional_object(raw)
    if not actor or actor.get("id") is None:
        return None
    kind = actor.get("type") or type_hint or "user"
    ident = _ident(actor["id"], "sender.id")
    name = actor.get("name") or actor.get("available_name")
    if kind == "contact":
        return None
    if kind == "user":
        return "agent", f"chatwoot:user:{ident}", str(name or f"Chatwoot user {ident}")
    if kind == "agent_bot":
        return "ai", f"chatwoot:bot:{ident}", str(name or f"Chatwoot bot {ident}")
    if kind == "captain_assistant":
        return "ai", f"chatwoot:bot:captain-{ident}", str(name or f"Captain {ident}")
    raise MappingError("sender.type", f"unknown sender type {kind!r}")


def _agent_event(actor: tuple[str, str, str], email: Any, at: datetime) -> dict[str, Any]:
    author_kind, agent_id, name = actor
    mail = email if isinstance(email, str) and email else None
    kind = "ai" if author_kind == "ai" else "human"
    # The id changes only when what we know of the agent changes: redeliveries dedupe,
    # a rename becomes a new event, and the latest by occurred_at wins either way.
    return {
        "id": f"{agent_id}:agent:{_digest(name, mail, kind)}",
        "type": "agent.upserted",
        "occurred_at": _iso(at),
        "agent_id": agent_id,
        "name": name[:256],
        "email": mail,
        "kind": kind,
    }


_ASSIGNEE_TYPES = {
    "User": "user",
    "AgentBot": "agent_bot",
    "Captain::Assistant": "captain_assistant",
}


def _assignment_events(
    ref: _Conversation, conversation: Mapping[str, Any], at: datetime
) -> list[dict[str, Any]]:
    meta = _optional_object(conversation.get("meta"))
    hint = _ASSIGNEE_TYPES.get(str(meta.get("assignee_type")))
    actor = _actor(meta.get("assignee"), hint)
    team = _optional_object(meta.get("team")).get("id")
    agent_id = actor[1] if actor else None
    team_id = f"chatwoot:{ref.account_id}:team:{_ident(team, 'meta.team.id')}" if team else None
    events: list[dict[str, Any]] = []
    if actor:
        events.append(_agent_event(actor, _optional_object(meta.get("assignee")).get("email"), at))
    events.append(
        {
            "id": f"{ref.id}:assigned:{agent_id or '-'}:{team_id or '-'}:{_iso(at)}",
            "type": "conversation.assigned",
            "occurred_at": _iso(at),
            "conversation_id": ref.id,
            "agent_id": agent_id,
            "team_id": team_id,
        }
    )
    return events


def _attribute_event(
    ref: _Conversation, conversation: Mapping[str, Any], at: datetime, options: ChatwootOptions
) -> dict[str, Any] | None:
    fields: dict[str, Any] = {}
    inquiry = _inquiry(conversation.get("labels"), options)
    if inquiry:
        fields["inquiry"] = inquiry[:256]
    priority = conversation.get("priority")
    if isinstance(priority, str) and priority:
        fields["priority"] = priority
    language = _optional_object(conversation.get("additional_attributes")).get(
        "conversation_language"
    )
    if isinstance(language, str) and language:
        fields["language"] = language
    if not fields:
        return None
    return {
        "id": f"{ref.id}:updated:{_digest(sorted(fields.items()))}:{_iso(at)}",
        "type": "conversation.updated",
        "occurred_at": _iso(at),
        "conversation_id": ref.id,
        **fields,
    }


def _status_event(ref: _Conversation, status: Any, at: datetime) -> dict[str, Any]:
    if status not in STATUSES:
        raise MappingError("status", f"{status!r} is not one of {', '.join(sorted(STATUSES))}")
    return {
        "id": f"{ref.id}:status:{status}:{_iso(at)}",
        "type": "conversation.status_changed",
        "occurred_at": _iso(at),
        "conversation_id": ref.id,
        "status": status,
    }


def map_conversation(
    payload: Mapping[str, Any],
    *,
    event: str,
    options: ChatwootOptions,
    include_messages: bool = True,
) -> list[dict[str, Any]]:
    """A conversation_* webhook (or an API conversation record, event="backfill")."""
    ref = _conversation_ref(payload, payload, options, "")
    events = _created_event(ref, payload, "")
    created_at = (
        parse_time(payload["created_at"], "created_at")
        if payload.get("created_at") is not None
        else _change_time(payload, None)
    )
    changes = _changes(payload)
    status = payload.get("status")
    if event in ("conversation_created", "backfill"):
        events += _assignment_events(ref, payload, created_at) if _has_assignee(payload) else []
        attributes = _attribute_event(ref, payload, created_at, options)
        events += [attributes] if attributes else []
        if status is not None and status != "open":
            # Backfill only knows the current status; the last activity (the moment
            # Chatwoot logged the status change) dates it.
            at = created_at if event == "conversation_created" else _change_time(payload, None)
            events.append(_status_event(ref, status, at))
    else:
        at = _change_time(payload, changes)
        status_changed = event != "conversation_updated" or (
            changes is not None and "status" in changes
        )
        if status_changed:
            events.append(_status_event(ref, _require(payload, "status", "status"), at))
            events += _handoff_events(ref, payload, changes, at)
        if event == "conversation_updated":
            keys = set(changes) if changes is not None else _ASSIGNMENT_KEYS | _ATTRIBUTE_KEYS
            if keys & _ASSIGNMENT_KEYS:
                events += _assignment_events(ref, payload, at)
            if keys & _ATTRIBUTE_KEYS:
                attributes = _attribute_event(ref, payload, at, options)
                events += [attributes] if attributes else []
    if include_messages:
        events += _embedded_messages(payload, ref, options)
    return events


def _handoff_events(
    ref: _Conversation,
    conversation: Mapping[str, Any],
    changes: Mapping[str, Mapping[str, Any]] | None,
    at: datetime,
) -> list[dict[str, Any]]:
    """A bot handoff as Chatwoot's reports define it: the status going pending -> open
    (the CONVERSATION_BOT_HANDOFF event behind ReportingEventListener's
    conversation_bot_handoff; Chatwoot's first response after a handoff starts there).
    An agent bot keeps its conversations pending while it answers, so this change is the
    bot giving the conversation to humans.

    The payload does not name the bot: `performed_by` when an agent bot is given, else
    the inbox's agent bot (one per inbox in Chatwoot), as an AI agent of that inbox.
    """
    status = (changes or {}).get("status")
    if not status or status.get("previous_value") != "pending":
        return []
    if status.get("current_value") != "open":
        return []
    performer = _actor(conversation.get("performed_by"))
    events: list[dict[str, Any]] = []
    if performer is not None and performer[0] == "ai":
        bot = performer
    else:
        bot = (
            "ai",
            f"chatwoot:{ref.account_id}:inbox:{ref.inbox_id}:agent-bot",
            f"Agent bot of inbox {ref.inbox_id}",
        )
    events.append(_agent_event(bot, None, at))
    meta = _optional_object(conversation.get("meta"))
    hint = _ASSIGNEE_TYPES.get(str(meta.get("assignee_type")))
    assignee = _actor(meta.get("assignee"), hint)
    team = _optional_object(meta.get("team")).get("id")
    handoff: dict[str, Any] = {
        "id": f"{ref.id}:escalated:{_iso(at)}",
        "type": "conversation.escalated",
        "occurred_at": _iso(at),
        "conversation_id": ref.id,
        "from_agent_id": bot[1],
        "to_agent_id": assignee[1] if assignee and assignee[0] == "agent" else None,
        "to_team_id": (
            f"chatwoot:{ref.account_id}:team:{_ident(team, 'meta.team.id')}" if team else None
        ),
    }
    # No reason: the status change carries none in Chatwoot's payload.
    events.append(handoff)
    return events


def _has_assignee(conversation: Mapping[str, Any]) -> bool:
    meta = _optional_object(conversation.get("meta"))
    return bool(_optional_object(meta.get("assignee")) or _optional_object(meta.get("team")))


# -- messages --------------------------------------------------------------------------


def _message_type(value: Any, path: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value in MESSAGE_TYPES:
        return MESSAGE_TYPES[value]
    if isinstance(value, str) and value in MESSAGE_TYPES.values():
        return value
    if isinstance(value, str) and value.isdigit() and int(value) in MESSAGE_TYPES:
        return MESSAGE_TYPES[int(value)]
    raise MappingError(path, f"{value!r} is not incoming, outgoing, activity or template (0-3)")


_SENDER_TYPES = {
    "User": "user",
    "Contact": "contact",
    "AgentBot": "agent_bot",
    "Captain::Assistant": "captain_assistant",
}


def _sender(message: Mapping[str, Any]) -> tuple[Any, str | None]:
    sender = message.get("sender")
    if isinstance(sender, Mapping) and sender.get("id") is not None:
        return sender, None
    # push_event_data leaves out `sender` for some senders but keeps the columns.
    kind = _SENDER_TYPES.get(str(message.get("sender_type")))
    if kind and message.get("sender_id") is not None:
        return {"id": message["sender_id"], "type": kind}, kind
    return None, None


def map_message(
    message: Mapping[str, Any],
    ref: _Conversation,
    options: ChatwootOptions,
    *,
    prefix: str = "",
    embedded_copy: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One Chatwoot message (webhook_data, push_event_data or the API partial)."""
    message_id = _ident(message.get("id"), f"{prefix}id")
    kind = _message_type(message.get("message_type"), f"{prefix}message_type")
    created = parse_time(
        _require(message, "created_at", f"{prefix}created_at"), f"{prefix}created_at"
    )
    events: list[dict[str, Any]] = []
    if kind == "activity":
        # "Conversation was resolved by …" and the like: Chatwoot's own log lines,
        # already covered by the status and assignment events.
        return events
    sender, _ = _sender(message)
    actor = _actor(sender) if sender else None
    private = message.get("private") is True
    if kind == "incoming":
        direction, author_kind, agent_id = "inbound", "customer", None
    else:
        author_kind = actor[0] if actor else "system"
        agent_id = actor[1] if actor else None
        direction = "note" if private else "outbound"
    if actor and _optional_object(sender).get("name"):
        # Only a sender object with a name says who the agent is; sender_type/sender_id
        # alone would announce a placeholder name that could outrank the real one.
        events.append(_agent_event(actor, _optional_object(sender).get("email"), created))
    content = message.get("content")
    events.append(
        {
            "id": f"chatwoot:message:{message_id}",
            "type": "message.created",
            "occurred_at": _iso(created),
            "message_id": f"chatwoot:{message_id}",
            "conversation_id": ref.id,
            "direction": direction,
            "author_kind": author_kind,
            "agent_id": agent_id,
            "text": content[:100_000] if isinstance(content, str) else None,
        }
    )
    survey = _csat_event(message, ref, message_id, created, options, prefix, embedded_copy)
    if survey:
        events.append(survey)
    return events


def _csat_event(
    message: Mapping[str, Any],
    ref: _Conversation,
    message_id: str,
    created: datetime,
    options: ChatwootOptions,
    prefix: str,
    embedded_copy: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    if message.get("content_type") != "input_csat":
        return None
    attributes = _optional_object(message.get("content_attributes"))
    response = _optional_object(
        _optional_object(attributes.get("submitted_values")).get("csat_survey_response")
    )
    if not response:
        return None  # the survey was sent but not answered yet
    path = f"{prefix}content_attributes.submitted_values.csat_survey_response.rating"
    rating = response.get("rating")
    if isinstance(rating, str) and rating.strip().isdigit():
        rating = int(rating)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise MappingError(path, f"{rating!r} is not a CSAT rating from 1 to 5")
    # When the customer answered: the message's updated_at when a payload carries it.
    answered: datetime | None = None
    for source in (message, embedded_copy or {}):
        if source.get("updated_at") is not None:
            answered = parse_time(source["updated_at"], f"{prefix}updated_at")
            break
    if answered is None:
        answered = options.received_at or created
    comment = response.get("feedback_message")
    return {
        # The rating is in the id: an answer changed later is a new response (the
        # latest wins), a redelivered one is a duplicate.
        "id": f"chatwoot:csat:{message_id}:{rating}",
        "type": "survey.responded",
        "occurred_at": _iso(max(answered, created)),
        "conversation_id": ref.id,
        "survey": "csat",
        "score": rating,
        "comment": comment[:100_000] if isinstance(comment, str) and comment else None,
    }


def _embedded_messages(
    conversation: Mapping[str, Any], ref: _Conversation, options: ChatwootOptions
) -> list[dict[str, Any]]:
    """The last chat message that push_data embeds (integer message_type, epoch times).

    Its event has the same id as the message_created webhook's, so a lost
    message_created is made good and a delivered one is a duplicate.
    """
    messages = conversation.get("messages")
    events: list[dict[str, Any]] = []
    if not isinstance(messages, list):
        return events
    for index, raw in enumerate(messages):
        message = _object(raw, f"messages.{index}")
        events += map_message(message, ref, options, prefix=f"messages.{index}.")
    return events


def map_message_payload(
    payload: Mapping[str, Any], *, options: ChatwootOptions
) -> list[dict[str, Any]]:
    """A message_created / message_updated webhook (Message#webhook_data)."""
    conversation = _object(payload.get("conversation"), "conversation")
    ref = _conversation_ref(payload, conversation, options, "conversation.")
    events = _created_event(ref, conversation, "conversation.")
    copies = conversation.get("messages")
    embedded = next(
        (
            m
            for m in (copies if isinstance(copies, list) else [])
            if isinstance(m, Mapping) and str(m.get("id")) == str(payload.get("id"))
        ),
        None,
    )
    events += map_message(payload, ref, options, embedded_copy=embedded)
    return events


def map_webhook(
    payload: dict[str, Any],
    *,
    connector: str,
    options: ChatwootOptions | None = None,
) -> list[dict[str, Any]]:
    """Contract events for one Chatwoot webhook; [] for events deskpulse does not use.

    `connector` names the connector the webhook came in on (for logs); it is not part
    of any id, so two connectors of the same account store each fact once.
    Raises MappingError naming the field when the payload cannot be used.
    """
    if not isinstance(payload, Mapping):
        raise MappingError("payload", "must be a JSON object")
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise MappingError("event", "is required")
    options = options or ChatwootOptions()
    if event in CONVERSATION_EVENTS:
        events = map_conversation(payload, event=event, options=options)
    elif event in MESSAGE_EVENTS:
        events = map_message_payload(payload, options=options)
    else:
        return []
    logger.debug("chatwoot %s on %s: %d events", event, connector, len(events))
    return _unique(events)


def _unique(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeats of one id within a payload (an agent who assigned and wrote)."""
    seen: set[str] = set()
    kept: list[dict[str, Any]] = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            kept.append({k: v for k, v in event.items() if v is not None})
    return kept


def map_api_conversation(
    conversation: Mapping[str, Any],
    messages: Sequence[Mapping[str, Any]],
    *,
    options: ChatwootOptions,
) -> list[dict[str, Any]]:
    """A conversation from the REST API and its messages (for the backfill)."""
    events = map_conversation(
        conversation, event="backfill", options=options, include_messages=False
    )
    ref = _conversation_ref(conversation, conversation, options, "")
    for index, message in enumerate(messages):
        events += map_message(message, ref, options, prefix=f"payload.{index}.")
    return _unique(events)


# -- inbox working hours -----------------------------------------------------------------

# WorkingHour#day_of_week is Ruby's Date#wday: 0 = Sunday … 6 = Saturday.
_WORKING_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEK_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _whole(value: Any, path: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise MappingError(path, f"{value!r} is not an integer from 0 to {high}")
    return value


def map_inbox_working_hours(
    inbox: Mapping[str, Any], *, account_id: int, at: datetime
) -> list[dict[str, Any]]:
    """One `business_hours.set` from an inbox of `GET /api/v1/accounts/{id}/inboxes`.

    Chatwoot's inbox partial (`api/v1/models/_inbox.json.jbuilder`) carries
    `working_hours_enabled`, `timezone` and `working_hours` = `weekly_schedule`
    (OutOfOffisable): one object per day with `day_of_week` (0 = Sunday), `closed_all_day`,
    `open_all_day`, `open_hour`/`open_minutes`, `close_hour`/`close_minutes`. Nothing when
    working hours are off: the inbox then keeps the default schedule (or calendar time).
    `open_all_day` is 00:00-24:00 (Chatwoot stores it as 00:00-23:59). A missing day is
    closed. The id hashes the schedule, so a rerun stores nothing new and a changed
    schedule is a new event, dated `at` (the backfill), which then wins.
    """
    if not isinstance(inbox, Mapping):
        raise MappingError("inbox", "must be an object")
    inbox_id = _ident(inbox.get("id"), "id")
    if inbox.get("working_hours_enabled") is not True:
        return []
    zone = inbox.get("timezone")
    if not isinstance(zone, str) or not zone:
        raise MappingError("timezone", "is required when working hours are enabled")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError("timezone", f"{zone!r} is not an IANA time zone") from None
    hours = inbox.get("working_hours")
    if not isinstance(hours, list):
        raise MappingError("working_hours", "must be a list")
    intervals: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for index, raw in enumerate(hours):
        path = f"working_hours.{index}"
        hour = _object(raw, path)
        day = _WORKING_DAYS[_whole(hour.get("day_of_week"), f"{path}.day_of_week", 6)]
        if day in seen:
            raise MappingError(f"{path}.day_of_week", f"{day} appears twice")
        seen.add(day)
        if hour.get("closed_all_day") is True:
            continue
        if hour.get("open_all_day") is True:
            start, end = "00:00", "24:00"
        else:
            opens = (
                _whole(hour.get("open_hour"), f"{path}.open_hour", 23),
                _whole(hour.get("open_minutes"), f"{path}.open_minutes", 59),
            )
            closes = (
                _whole(hour.get("close_hour"), f"{path}.close_hour", 23),
                _whole(hour.get("close_minutes"), f"{path}.close_minutes", 59),
            )
            if closes <= opens:
                raise MappingError(f"{path}.close_hour", "must be after the opening time")
            start = f"{opens[0]:02d}:{opens[1]:02d}"
            end = f"{closes[0]:02d}:{closes[1]:02d}"
        intervals[day] = {"day": day, "start": start, "end": end}
    if not intervals:
        raise MappingError("working_hours", "no open day: a schedule needs one interval")
    ordered = [intervals[day] for day in _WEEK_ORDER if day in intervals]
    content = json.dumps({"timezone": zone, "intervals": ordered}, sort_keys=True)
    return [
        {
            "id": f"chatwoot:{account_id}:inbox:{inbox_id}:hours:{_digest(content)}",
            "type": "business_hours.set",
            "occurred_at": _iso(at),
            "inbox_id": f"chatwoot:{account_id}:inbox:{inbox_id}",
            "timezone": zone,
            "intervals": ordered,
            "holidays": [],
        }
    ]
