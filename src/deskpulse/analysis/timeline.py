"""A conversation's timeline: why its numbers are what they are.

The clocks shown here are read from the facts, never recomputed: a page that measured
first response its own way could disagree with the tile it was opened from. What this
module adds is the link back to the raw events: the events that happened at the exact
instants the facts name (to the microsecond) and are of a type that can start or stop
that clock are marked. When no event fits, the clock says so rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from deskpulse.analysis.conversations import aware_utc
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.query import NotVisibleError, Viewer
from deskpulse.metrics.registry import AGENT_CONVERSATIONS, CONVERSATIONS
from deskpulse.names import agent_label, inquiry_label, reason_label

Row = dict[str, Any]
Names = Mapping[str, str]

# Shown at the top of the row, so kept out of `details`; text and comment go to `text`.
_NOT_DETAILS = frozenset({"id", "type", "occurred_at", "conversation_id", "text", "comment"})
_SURVEY_SCALES = {"csat": ("CSAT", 5), "nps": ("NPS", 10), "ces": ("CES", 7)}
_ASSIST_WORDS = {"draft_as_is": "AI draft, sent as is", "draft_edited": "AI draft, edited"}


@dataclass(frozen=True)
class TimelineEvent:
    event_id: str
    type: str
    occurred_at: datetime  # aware UTC
    actor: str | None  # agent id, "customer" or "system"
    summary: str  # one plain line a support lead reads
    text: str | None  # message text or survey comment, if any
    details: dict[str, Any]  # the event's non-null typed fields, JSON-serialisable
    marks: list[str]  # the clocks this event starts or stops


@dataclass(frozen=True)
class Clock:
    key: str  # first_response, ..., csat, agent_first_response:<agent_id>
    label: str
    seconds: float | None
    started_at: datetime | None
    stopped_at: datetime | None
    started_by: str | None  # id of the event that started the clock
    stopped_by: str | None  # id of the event that stopped it
    note: str  # how it was measured, or why there is no sample
    # The same span counted in the inbox's business hours (equal to `seconds` when the
    # inbox has no schedule); None for clocks that are not durations, or without a sample.
    business_seconds: float | None = None


@dataclass(frozen=True)
class ConversationDetail:
    conversation_id: str
    facts: dict[str, Any]  # the conversation_facts row; timestamps aware UTC
    agents: list[dict[str, Any]]  # agent_conversation_facts rows (agent viewer: their own)
    events: list[TimelineEvent]  # by occurred_at, then id
    clocks: list[Clock]


def conversation_detail(
    store: Store, conversation_id: str, viewer: Viewer, names: Names | None = None
) -> ConversationDetail:
    """The facts, the agents, every event and the clocks of one conversation, as
    `viewer` may see them.

    `names` (agent id -> name) words the summaries, labels and notes for a person; without
    it they name agents by id and inquiries by slug, as the API always has.
    """
    words = _Words(names)
    exists = facts_exist(store)
    found = _read(store, CONVERSATIONS, conversation_id) if exists else []
    agent_rows = _read(store, AGENT_CONVERSATIONS, conversation_id) if found else []
    raw_events = _read(store, "events", conversation_id) if found else []
    if not found:
        raise NotVisibleError("no such conversation")
    if viewer.is_agent:
        # Agents see a conversation only if they took part in it, and only their own
        # per-agent numbers; the conversation's own numbers name nobody.
        agent_rows = [row for row in agent_rows if row["agent_id"] == viewer.agent_id]
        if not agent_rows:
            raise NotVisibleError("no such conversation")
    facts = found[0]
    agent_rows.sort(key=lambda row: str(row["agent_id"]))
    raw_events.sort(key=lambda row: (row["occurred_at"], str(row["id"])))

    marks: dict[str, list[str]] = {}
    cap_minutes = store.settings.handle_time_estimate_cap_seconds / 60
    survey_days = store.settings.survey_window_days
    clocks = [
        _first_response(facts, raw_events, marks, words),
        _first_human_response(facts, raw_events, marks, words),
        _first_resolution(facts, raw_events, marks),
        _full_resolution(facts, raw_events, marks),
        _handle_time(facts, raw_events, marks, cap_minutes),
        _csat(facts, raw_events, marks, survey_days),
        *(_agent_first_response(row, raw_events, marks, words) for row in agent_rows),
    ]
    return ConversationDetail(
        conversation_id=conversation_id,
        facts=_plain_row(facts),
        agents=[_plain_row(row) for row in agent_rows],
        events=_timeline(raw_events, marks, words),
        clocks=clocks,
    )


def _read(store: Store, table: str, conversation_id: str) -> list[Row]:
    t = store.con.table(table)
    rows: list[Row] = t.filter(t.conversation_id == conversation_id).to_pyarrow().to_pylist()
    return rows


# -- matching fact instants to events ------------------------------------------------------

Accept = Callable[[Row], bool]


@dataclass(frozen=True)
class _Kind:
    """A type of event that can start or stop a clock, and how the note names it."""

    accepts: Accept
    describe: Callable[[Row], str]


class _Words:
    """How agents, inquiries and reasons are worded: by name for a page, by id otherwise."""

    def __init__(self, names: Names | None) -> None:
        self.readable = names is not None
        self.names: Names = names or {}

    def agent(self, agent_id: Any) -> str:
        return agent_label(agent_id, self.names) if self.readable else str(agent_id)

    def inquiry(self, slug: Any) -> str:
        return inquiry_label(slug) if self.readable else str(slug)

    def reason(self, slug: Any) -> str:
        return reason_label(slug) if self.readable else str(slug)


def _at(
    events: Sequence[Row], moment: datetime | None, kinds: Sequence[_Kind]
) -> tuple[Row | None, _Kind | None]:
    """The first event at exactly `moment` of the first kind that has one there.

    Kinds are in order of preference; among events of one kind, (occurred_at, id)
    order decides, the same tie-break the facts use.
    """
    if moment is None:
        return None, None
    here = [event for event in events if event["occurred_at"] == moment]
    for kind in kinds:
        for event in here:
            if kind.accepts(event):
                return event, kind
    return None, None


def _is_inbound(event: Row) -> bool:
    return bool(event["type"] == "message.created" and event["direction"] == "inbound")


def _is_created(event: Row) -> bool:
    return bool(event["type"] == "conversation.created")


def _is_handoff(event: Row) -> bool:
    return bool(event["type"] == "conversation.escalated")


def _is_reply(event: Row) -> bool:
    return bool(
        event["type"] == "message.created"
        and event["direction"] == "outbound"
        and event["author_kind"] in ("agent", "ai")
    )


def _is_human_reply(event: Row) -> bool:
    return _is_reply(event) and bool(event["author_kind"] == "agent")


def _is_resolution(event: Row) -> bool:
    return bool(event["type"] == "conversation.status_changed" and event["status"] == "resolved")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


_CUSTOMER_MESSAGE = _Kind(
    _is_inbound, lambda e: f"the customer's message at {_stamp(e['occurred_at'])}"
)
_CREATION_WITHOUT_MESSAGE = _Kind(
    _is_created, lambda e: "the conversation's creation (no customer message before)"
)
_CREATED = _Kind(
    _is_created, lambda e: f"the conversation's creation at {_stamp(e['occurred_at'])}"
)
_HANDOFF = _Kind(
    _is_handoff, lambda e: f"the AI handoff at {_stamp(e['occurred_at'])} (bot time excluded)"
)


def _reply(words: _Words) -> _Kind:
    return _Kind(_is_reply, lambda e: f"{words.agent(e['agent_id'])}'s public reply")


def _human_reply(words: _Words) -> _Kind:
    return _Kind(_is_human_reply, lambda e: f"{words.agent(e['agent_id'])}'s public reply")


_RESOLUTION = _Kind(_is_resolution, lambda e: f"the resolution at {_stamp(e['occurred_at'])}")


def _mark(marks: dict[str, list[str]], event: Row | None, text: str) -> str | None:
    if event is None:
        return None
    event_id = str(event["id"])
    marks.setdefault(event_id, []).append(text)
    return event_id


def _duration_clock(
    key: str,
    label: str,
    *,
    stopped_at: datetime | None,
    seconds: Any,
    events: Sequence[Row],
    marks: dict[str, list[str]],
    starts: Sequence[_Kind],
    stops: Sequence[_Kind],
    no_sample: str,
    extra_note: str = "",
    business_seconds: Any = None,
) -> Clock:
    """A clock whose stop instant and length come from the facts."""
    if stopped_at is None or seconds is None:
        return Clock(key, label, None, None, None, None, None, no_sample)
    length = float(seconds)
    started_at = stopped_at - timedelta(microseconds=round(length * 1_000_000))
    start_event, start_kind = _at(events, started_at, starts)
    stop_event, stop_kind = _at(events, stopped_at, stops)
    name = label[0].lower() + label[1:]
    started_by = _mark(marks, start_event, f"starts {name}")
    stopped_by = _mark(marks, stop_event, f"stops {name}")
    if start_event is not None and start_kind is not None:
        start_text = "from " + start_kind.describe(start_event)
    else:
        start_text = f"started at {_stamp(started_at)}, but no event at that instant could start it"
    if stop_event is not None and stop_kind is not None:
        stop_text = "to " + stop_kind.describe(stop_event)
    else:
        stop_text = f"stopped at {_stamp(stopped_at)}, but no event at that instant could stop it"
    note = f"{start_text}, {stop_text}" + (f"; {extra_note}" if extra_note else "")
    return Clock(
        key,
        label,
        length,
        aware_utc(started_at),
        aware_utc(stopped_at),
        started_by,
        stopped_by,
        note,
        None if business_seconds is None else float(business_seconds),
    )


# -- the clocks ----------------------------------------------------------------------------


def _first_response(
    facts: Row, events: Sequence[Row], marks: dict[str, list[str]], words: _Words
) -> Clock:
    return _duration_clock(
        "first_response",
        "First response",
        stopped_at=facts["first_response_at"],
        seconds=facts["first_response_seconds"],
        business_seconds=facts.get("first_response_business_seconds"),
        events=events,
        marks=marks,
        starts=(_CUSTOMER_MESSAGE, _CREATION_WITHOUT_MESSAGE),
        stops=(_reply(words),),
        no_sample="no sample: no public reply after the customer's first message yet",
    )


def _first_human_response(
    facts: Row, events: Sequence[Row], marks: dict[str, list[str]], words: _Words
) -> Clock:
    if facts["ai_handled"]:
        no_sample = "no sample: the AI agent handled it alone, no human replied publicly"
    else:
        no_sample = "no sample: no human has replied publicly since the clock started"
    return _duration_clock(
        "first_human_response",
        "First human response",
        stopped_at=facts["first_human_response_at"],
        seconds=facts["first_human_response_seconds"],
        business_seconds=facts.get("first_human_response_business_seconds"),
        events=events,
        marks=marks,
        # After an AI handoff the human clock starts there, so the handoff comes first.
        starts=(_HANDOFF, _CUSTOMER_MESSAGE, _CREATION_WITHOUT_MESSAGE),
        stops=(_human_reply(words),),
        no_sample=no_sample,
    )


def _first_resolution(facts: Row, events: Sequence[Row], marks: dict[str, list[str]]) -> Clock:
    return _duration_clock(
        "first_resolution",
        "First resolution",
        stopped_at=facts["first_resolved_at"],
        seconds=facts["first_resolution_seconds"],
        business_seconds=facts.get("first_resolution_business_seconds"),
        events=events,
        marks=marks,
        starts=(_CREATED,),
        stops=(_RESOLUTION,),
        no_sample="no sample: never resolved",
    )


def _full_resolution(facts: Row, events: Sequence[Row], marks: dict[str, list[str]]) -> Clock:
    reopens = int(facts["reopens"] or 0)
    if facts["first_resolved_at"] is not None and facts["full_resolved_at"] is None:
        no_sample = f"no sample: reopened after its last resolution and now {facts['status']}"
    else:
        no_sample = "no sample: never resolved"
    extra = ""
    if reopens:
        times = "once" if reopens == 1 else f"{reopens} times"
        extra = f"reopened {times}: the last resolution counts"
    return _duration_clock(
        "full_resolution",
        "Full resolution",
        stopped_at=facts["full_resolved_at"],
        seconds=facts["full_resolution_seconds"],
        business_seconds=facts.get("full_resolution_business_seconds"),
        events=events,
        marks=marks,
        starts=(_CREATED,),
        stops=(_RESOLUTION,),
        no_sample=no_sample,
        extra_note=extra,
    )


def _handle_time(
    facts: Row, events: Sequence[Row], marks: dict[str, list[str]], cap_minutes: float
) -> Clock:
    seconds = facts["handle_seconds"]
    if seconds is None:
        note = "no sample: no public reply and no work logged"
    elif facts["handle_time_estimated"]:
        note = (
            f"estimated from reply gaps, capped at {cap_minutes:g} min per reply (no work logged)"
        )
    else:
        logged = [event for event in events if event["type"] == "work.logged"]
        for event in logged:
            _mark(marks, event, "counts towards handle time")
        entries = (
            "1 work.logged entry" if len(logged) == 1 else f"{len(logged)} work.logged entries"
        )
        note = f"sum of {entries}"
    return Clock(
        "handle_time",
        "Handle time",
        None if seconds is None else float(seconds),
        None,
        None,
        None,
        None,
        note,
    )


def _csat(
    facts: Row, events: Sequence[Row], marks: dict[str, list[str]], survey_days: int
) -> Clock:
    score, answered_at = facts["csat_score"], facts["csat_at"]
    rule = f"the latest answer within {survey_days} days of resolution counts"
    if score is None or answered_at is None:
        return Clock("csat", "CSAT", None, None, None, None, None, f"no CSAT response; {rule}")
    survey, _kind = _at(
        events,
        answered_at,
        (
            _Kind(
                lambda e: (
                    e["type"] == "survey.responded"
                    and e["survey"] == "csat"
                    and e["score"] == score
                ),
                lambda e: "",
            ),
        ),
    )
    counted_by = _mark(marks, survey, "counted CSAT")
    note = f"score {score}/5; {rule}"
    if counted_by is None:
        note += f"; no CSAT survey event at {_stamp(answered_at)} matches"
    return Clock("csat", "CSAT", None, None, aware_utc(answered_at), None, counted_by, note)


def _agent_first_response(
    row: Row, events: Sequence[Row], marks: dict[str, list[str]], words: _Words
) -> Clock:
    agent = str(row["agent_id"])
    who = words.agent(agent)
    own_reply = _Kind(
        lambda e: _is_reply(e) and e["agent_id"] == agent, lambda e: f"{who}'s public reply"
    )
    assigned = _Kind(
        lambda e: e["type"] == "conversation.assigned" and e["agent_id"] == agent,
        lambda e: f"{who}'s assignment at {_stamp(e['occurred_at'])}",
    )
    if not row["handled"]:
        no_sample = f"no sample: {who} sent no public reply"
    else:
        no_sample = f"no sample: none of {who}'s replies answered anyone waiting"
    return _duration_clock(
        f"agent_first_response:{agent}",
        f"First response by {who}",
        stopped_at=row["agent_first_response_at"],
        seconds=row["agent_first_response_seconds"],
        business_seconds=row.get("agent_first_response_business_seconds"),
        events=events,
        marks=marks,
        # The clock starts at the later of the wait and the agent's assignment; when
        # both fall on one instant, the waiting customer is what the lead looks for.
        starts=(_CUSTOMER_MESSAGE, _HANDOFF, assigned),
        stops=(own_reply,),
        no_sample=no_sample,
    )


# -- events as a support lead reads them ---------------------------------------------------


def _timeline(
    events: Sequence[Row], marks: dict[str, list[str]], words: _Words
) -> list[TimelineEvent]:
    timeline = []
    last_status: str | None = None
    for event in events:
        reopened = False
        if event["type"] == "conversation.status_changed":
            reopened = last_status == "resolved" and event["status"] != "resolved"
            last_status = event["status"]
        occurred_at = aware_utc(event["occurred_at"])
        assert occurred_at is not None  # occurred_at is NOT NULL in the events table
        timeline.append(
            TimelineEvent(
                event_id=str(event["id"]),
                type=str(event["type"]),
                occurred_at=occurred_at,
                actor=_actor(event),
                summary=_summary(event, reopened, words),
                text=event.get("text") or event.get("comment"),
                details=_details(event),
                marks=marks.get(str(event["id"]), []),
            )
        )
    return timeline


def _actor(event: Row) -> str | None:
    kind = event["type"]
    if kind == "message.created":
        if event["author_kind"] == "customer":
            return "customer"
        if event["author_kind"] == "system":
            return "system"
        return event["agent_id"] or "system"
    if kind == "conversation.escalated":
        return event["from_agent_id"] or "system"
    if kind == "survey.responded":
        return "customer"
    if kind in ("conversation.status_changed", "work.logged"):
        return event["agent_id"] or "system"
    return "system"


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.0f}"


def _summary(event: Row, reopened: bool, words: _Words) -> str:
    kind = event["type"]
    if kind == "conversation.created":
        where = f"on {event['channel']}" + (
            f" (inbox {event['inbox_id']})" if event["inbox_id"] else ""
        )
        inquiry = f", inquiry {words.inquiry(event['inquiry'])}" if event["inquiry"] else ""
        return f"Conversation created {where}{inquiry}"
    if kind == "conversation.updated":
        changed = [
            f"{name.removesuffix('_id')} → "
            + (words.inquiry(event[name]) if name == "inquiry" else str(event[name]))
            for name in ("inquiry", "priority", "customer_tier", "language", "inbox_id")
            if event.get(name) is not None
        ]
        return "Details updated: " + (", ".join(changed) or "nothing")
    if kind == "conversation.assigned":
        team = f" (team {event['team_id']})" if event["team_id"] else ""
        if event["agent_id"] is None:
            return f"Unassigned{team}"
        return f"Assigned to {words.agent(event['agent_id'])}{team}"
    if kind == "message.created":
        return _message_summary(event, words)
    if kind == "conversation.status_changed":
        by = f" by {words.agent(event['agent_id'])}" if event["agent_id"] else ""
        return f"Status → {event['status']}{by}" + (" (reopened)" if reopened else "")
    if kind == "conversation.escalated":
        targets = [words.agent(event["to_agent_id"])] if event["to_agent_id"] else []
        if event["to_team_id"]:
            targets.append(f"team {event['to_team_id']}")
        to = f" to {' / '.join(targets)}" if targets else ""
        reason = f": {words.reason(event['reason'])}" if event["reason"] else ""
        source = event["from_agent_id"]
        origin = f" from {words.agent(source)}" if source else ""
        return f"Escalated{origin}{to}{reason}"
    if kind == "work.logged":
        return f"Work logged: {_number(float(event['seconds']))} s {event['kind']}"
    if kind == "survey.responded":
        name, top = _SURVEY_SCALES.get(event["survey"], (str(event["survey"]).upper(), 0))
        return f"{name} {event['score']}/{top}" if top else f"{name} {event['score']}"
    if kind == "cost.recorded":
        tokens = f", {event['tokens']} tokens" if event["tokens"] is not None else ""
        return f"Cost {_amount(event['amount'])} {event['currency']} ({event['kind']}{tokens})"
    if kind == "experiment.exposed":
        return f"In experiment {event['experiment']}: variant {event['variant']}"
    return str(kind)


def _message_summary(event: Row, words: _Words) -> str:
    author, direction = event["author_kind"], event["direction"]
    who = words.agent(event["agent_id"]) if event["agent_id"] else author
    if direction == "inbound":
        return "Customer wrote"
    if direction == "note":
        mentions = event["mentions"] or []
        mentioning = f" mentioning {', '.join(map(words.agent, mentions))}" if mentions else ""
        if author == "system":
            return f"System note{mentioning}"
        return f"Internal note by {who}{mentioning}"
    if author == "ai":
        return f"{who} replied (AI agent)"
    if author == "system":
        return "System message sent"
    assist = _ASSIST_WORDS.get(event["ai_assist"] or "none")
    return f"{who} replied" + (f" ({assist})" if assist else "")


def _amount(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _details(event: Row) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for name, value in event.items():
        if name in _NOT_DETAILS or value is None or value == []:
            continue
        details[name] = _json_value(value)
    return details


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return aware_utc(value)
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    return value


def _plain_row(row: Row) -> dict[str, Any]:
    """A facts row with aware UTC times and plain numbers (JSON-ready)."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, float) and value != value:
            value = None  # NaN is how some drivers say "no sample"
        out[name] = _json_value(value)
    return out


__all__ = ["Clock", "ConversationDetail", "TimelineEvent", "conversation_detail"]
