"""Event contract v1, as pydantic models.

This module is the single written definition of what a valid event is. The JSON Schema
published at /api/v1/schema/events.json and in docs/events.md is generated from it, the
HTTP ingest path validates with it, and the column-wise bulk validator
(`deskpulse.events.bulk`) is tested to accept and reject exactly what these models do.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from deskpulse import clock
from deskpulse.settings import (
    EARLIEST_EVENT_VARIABLE,
    earliest_event_from_environment,
    format_instant,
)

CONTRACT_VERSION = "v1"

# How far ahead of the server clock an event may claim to have happened. The lower
# bound is the install's `earliest_event` setting (DESKPULSE_EARLIEST_EVENT), passed in
# the validation context as "earliest" (see parse_event); without one, the environment's.
MAX_FUTURE = timedelta(hours=24)


def earliest_of(info: ValidationInfo | None) -> datetime:
    """The lower bound on timestamps for this validation: the context's, else the
    environment's."""
    context = info.context if info is not None else None
    if isinstance(context, dict) and isinstance(context.get("earliest"), datetime):
        earliest: datetime = context["earliest"]
        return earliest
    return earliest_event_from_environment()


def too_early_reason(earliest: datetime) -> str:
    """The one wording of the lower bound's rejection, shared by both validation paths."""
    return (
        f"is before {format_instant(earliest)}, the earliest time this install accepts "
        f"({EARLIEST_EVENT_VARIABLE})"
    )


Channel = Literal["chat", "email", "voice", "social", "sms", "other"]
Direction = Literal["inbound", "outbound", "note"]
AuthorKind = Literal["customer", "agent", "ai", "system"]
AiAssist = Literal["none", "draft_as_is", "draft_edited"]
Status = Literal["open", "pending", "snoozed", "resolved"]
WorkKind = Literal["talk", "hold", "wrap", "work"]
SurveyKind = Literal["csat", "nps", "ces"]
CostKind = Literal["inference", "tools", "telephony", "other"]
AgentKind = Literal["human", "ai"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

SURVEY_RANGES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}

Id = Annotated[str, Field(min_length=1, max_length=256, strict=True)]
Text = Annotated[str, Field(max_length=100_000, strict=True)]
Label = Annotated[str, Field(min_length=1, max_length=256, strict=True)]

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)

    id: Id
    # Each event type narrows this to its Literal; the discriminated union keys on it.
    type: str
    occurred_at: AwareDatetime = Field(
        description="RFC 3339 timestamp with an offset; stored as UTC.",
    )

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339_string(cls, value: Any) -> Any:
        # JSON carries timestamps as strings; a bare number is almost always an
        # epoch in an unknown unit, so refuse it rather than guess.
        # pydantic's lax datetime parsing also reads "1700000000" as Unix time; only
        # the RFC 3339 shape is the contract.
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise ValueError("must be an RFC 3339 string with an offset")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _in_accepted_range(cls, value: datetime, info: ValidationInfo) -> datetime:
        try:
            in_utc = value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 falls before year 1 in UTC
            raise ValueError("is outside the range of representable times") from None
        if in_utc - clock.now() > MAX_FUTURE:
            raise ValueError("is more than 24 hours in the future")
        earliest = earliest_of(info)
        if in_utc < earliest:
            # A year-0001 "zero date" once stopped every facts refresh for good.
            raise ValueError(too_early_reason(earliest))
        return in_utc


class AgentUpserted(_Event):
    """An agent (human or AI) appeared or changed. The latest by occurred_at wins."""

    type: Literal["agent.upserted"]
    agent_id: Id
    name: Label
    email: Label | None = None
    kind: AgentKind = "human"
    team_ids: list[Id] = Field(default_factory=list)
    active: StrictBool = True


class ConversationCreated(_Event):
    type: Literal["conversation.created"]
    conversation_id: Id
    channel: Channel
    inbox_id: Id
    customer_id: Id
    inquiry: Label | None = None
    priority: Label | None = None
    customer_tier: Label | None = None
    language: Label | None = None
    subject: Text | None = None


class ConversationUpdated(_Event):
    type: Literal["conversation.updated"]
    conversation_id: Id
    inquiry: Label | None = None
    priority: Label | None = None
    customer_tier: Label | None = None
    language: Label | None = None
    inbox_id: Id | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ConversationUpdated:
        if all(
            getattr(self, name) is None
            for name in ("inquiry", "priority", "customer_tier", "language", "inbox_id")
        ):
            raise ValueError(
                "needs at least one of inquiry, priority, customer_tier, language, inbox_id"
            )
        return self


class ConversationAssigned(_Event):
    type: Literal["conversation.assigned"]
    conversation_id: Id
    agent_id: Id | None = Field(default=None, description="null means unassigned")
    team_id: Id | None = None


class MessageCreated(_Event):
    type: Literal["message.created"]
    message_id: Id
    conversation_id: Id
    direction: Direction
    author_kind: AuthorKind
    agent_id: Id | None = None
    ai_assist: AiAssist = "none"
    mentions: list[Id] = Field(default_factory=list)
    text: Text | None = None

    @model_validator(mode="after")
    def _consistent_author(self) -> MessageCreated:
        if self.author_kind in ("agent", "ai") and self.agent_id is None:
            raise ValueError("agent_id: is required when author_kind is agent or ai")
        if (self.direction == "inbound") != (self.author_kind == "customer"):
            raise ValueError(
                "direction: inbound messages come from the customer and only from them"
            )
        return self


class ConversationStatusChanged(_Event):
    type: Literal["conversation.status_changed"]
    conversation_id: Id
    status: Status
    agent_id: Id | None = None


class ConversationEscalated(_Event):
    type: Literal["conversation.escalated"]
    conversation_id: Id
    from_agent_id: Id
    to_agent_id: Id | None = None
    to_team_id: Id | None = None
    reason: Label | None = None


class WorkLogged(_Event):
    type: Literal["work.logged"]
    conversation_id: Id
    agent_id: Id
    seconds: Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False)]
    kind: WorkKind = "work"

    @field_validator("seconds", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number of seconds")
        return value


class SurveyResponded(_Event):
    type: Literal["survey.responded"]
    conversation_id: Id
    survey: SurveyKind
    score: StrictInt
    comment: Text | None = None

    @model_validator(mode="after")
    def _score_in_range(self) -> SurveyResponded:
        low, high = SURVEY_RANGES[self.survey]
        if not low <= self.score <= high:
            raise ValueError(f"score: {self.survey} scores run from {low} to {high}")
        return self


class CostRecorded(_Event):
    type: Literal["cost.recorded"]
    conversation_id: Id
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", strict=True)]
    kind: CostKind = "other"
    # le: the stored column is BIGINT; a larger count made rows_to_table raise.
    tokens: Annotated[StrictInt, Field(ge=0, le=2**63 - 1)] | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _decimal_text_or_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("must be a decimal number or a decimal string")
        return value


class ExperimentExposed(_Event):
    type: Literal["experiment.exposed"]
    conversation_id: Id | None = None
    customer_id: Id | None = None
    experiment: Label
    variant: Label

    @model_validator(mode="after")
    def _has_subject(self) -> ExperimentExposed:
        if self.conversation_id is None and self.customer_id is None:
            raise ValueError("conversation_id: one of conversation_id or customer_id is required")
        return self


class BusinessInterval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: Weekday
    start: Annotated[str, Field(pattern=_CLOCK.pattern, strict=True)]
    end: Annotated[str, Field(pattern=_CLOCK.pattern, strict=True)]

    @model_validator(mode="after")
    def _ordered(self) -> BusinessInterval:
        if self.end <= self.start:
            raise ValueError("end must be after start (split overnight shifts in two)")
        return self


class BusinessHoursSet(_Event):
    type: Literal["business_hours.set"]
    inbox_id: Id = Field(description='an inbox id, or "*" for every inbox without its own')
    timezone: Label
    intervals: list[BusinessInterval] = Field(min_length=1)
    holidays: list[date] = Field(default_factory=list)

    @field_validator("holidays")
    @classmethod
    def _holidays_in_range(cls, value: list[date], info: ValidationInfo) -> list[date]:
        # The same lower bound as occurred_at, on the date of its instant in UTC.
        earliest = earliest_of(info)
        for day in value:
            if day < earliest.date():
                raise ValueError(
                    f"{day.isoformat()} is before {earliest.date().isoformat()}, the earliest "
                    f"date this install accepts ({EARLIEST_EVENT_VARIABLE})"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"{value!r} is not an IANA time zone") from error
        return value


class EventRetracted(_Event):
    """A tombstone: an owner took an accepted event back. Nothing is deleted; every fact
    computation leaves the retracted event out (the `live_events` view).

    Written by deskpulse itself (`deskpulse retract`, POST /api/v1/events/{id}/retract),
    never sent by a source: POST /api/v1/events and `deskpulse import` refuse it.
    """

    type: Literal["event.retracted"]
    event_id: Id = Field(description="the id of the retracted event")
    reason: Annotated[str, Field(min_length=1, max_length=1000, strict=True)]
    retracted_by: Label = Field(description="who retracted it (an owner's e-mail or name)")
    conversation_id: Id | None = Field(
        default=None,
        description="the retracted event's conversation, filled in by deskpulse so that "
        "its facts are recomputed",
    )


Event = Annotated[
    AgentUpserted
    | ConversationCreated
    | ConversationUpdated
    | ConversationAssigned
    | MessageCreated
    | ConversationStatusChanged
    | ConversationEscalated
    | WorkLogged
    | SurveyResponded
    | CostRecorded
    | ExperimentExposed
    | BusinessHoursSet
    | EventRetracted,
    Field(discriminator="type"),
]

EVENT_MODELS: dict[str, type[_Event]] = {
    model.model_fields["type"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (
        AgentUpserted,
        ConversationCreated,
        ConversationUpdated,
        ConversationAssigned,
        MessageCreated,
        ConversationStatusChanged,
        ConversationEscalated,
        WorkLogged,
        SurveyResponded,
        CostRecorded,
        ExperimentExposed,
        BusinessHoursSet,
        EventRetracted,
    )
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_MODELS)
RETRACTION_TYPE = "event.retracted"
# What a source (the API, an import, a connector) may send: retractions are deskpulse's.
SOURCE_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t != RETRACTION_TYPE)

_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class Rejection(BaseModel):
    """Why one event was refused. `field` names the offending field when there is one."""

    model_config = ConfigDict(frozen=True)

    index: int
    id: str | None
    field: str | None
    reason: str


def parse_event(
    raw: Any, index: int = 0, *, earliest: datetime | None = None
) -> _Event | Rejection:
    """Validate one decoded JSON value; never raises on bad input.

    `earliest` is the install's lower bound on timestamps (Settings.earliest_event);
    without it, DESKPULSE_EARLIEST_EVENT or its default.
    """
    if not isinstance(raw, dict):
        return Rejection(index=index, id=None, field=None, reason="event must be a JSON object")
    event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    kind = raw.get("type")
    if kind is None:
        return Rejection(index=index, id=event_id, field="type", reason="is required")
    if not isinstance(kind, str):
        return Rejection(index=index, id=event_id, field="type", reason="must be a string")
    if kind not in EVENT_MODELS:
        return Rejection(
            index=index,
            id=event_id,
            field="type",
            reason=f"unknown event type {kind!r}; expected one of {', '.join(SOURCE_TYPES)}",
        )
    if kind == RETRACTION_TYPE:
        # An ingest token is not an owner: retracting goes through its own door.
        return Rejection(
            index=index,
            id=event_id,
            field="type",
            reason="event.retracted is written by deskpulse when an owner retracts an event "
            "(deskpulse retract, POST /api/v1/events/{id}/retract); a source cannot send it",
        )
    try:
        context = None if earliest is None else {"earliest": earliest}
        return EVENT_MODELS[kind].model_validate(raw, context=context)
    except ValidationError as error:
        field, reason = describe_error(error)
        return Rejection(index=index, id=event_id, field=field, reason=reason)


def describe_error(error: ValidationError) -> tuple[str | None, str]:
    """The first problem, as (field path, one-line reason)."""
    first = error.errors(include_url=False)[0]
    location = [str(part) for part in first["loc"]]
    message = str(first["msg"])
    message = message.removeprefix("Value error, ")
    # Model-level checks name their field as "field: reason".
    if not location and ": " in message:
        field, _, message = message.partition(": ")
        return field, message
    if first["type"] == "missing":
        message = "is required"
    return (".".join(location) or None), message


def events_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of one event: a oneOf over the types, keyed by `type`."""
    schema = _ADAPTER.json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"deskpulse event ({CONTRACT_VERSION})"
    schema["description"] = (
        "One event. Send a JSON array or JSON Lines of these to POST /api/v1/events. "
        "`id` is the idempotency key; `occurred_at` needs an offset."
    )
    return schema
