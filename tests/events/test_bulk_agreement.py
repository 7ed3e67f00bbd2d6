"""Property: the column-wise validator decides exactly like the contract.

For generated events (valid ones of every type, and mutations of them) the bulk path
and `parse_event` + the one-currency rule make the same accept/reject decision, name
the same field, and produce identical rows for accepted events.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskpulse import clock
from deskpulse.events import contract as c
from deskpulse.events.bulk import validate_batch
from deskpulse.events.columns import event_to_row, rows_to_table
from deskpulse.events.ingest import currency_rejection
from deskpulse.events.reader import RawBatch

NOW = clock.now()
CURRENCY = "USD"

# -- values -------------------------------------------------------------------------------

_CHARS = st.characters(codec="utf-8")  # any code point JSON can carry, surrogates aside
_plain_ids = st.text(st.sampled_from("abcxyz019-_"), min_size=1, max_size=10)
identifiers = st.one_of(
    _plain_ids,
    _plain_ids,
    _plain_ids,
    st.text(_CHARS, min_size=1, max_size=8),
    st.sampled_from(['quo"te', "back\\slash", "tab\tnew\nline", "\u0000", "é" * 129, "x" * 256]),
    st.sampled_from(["", "x" * 257, "é" * 256]),  # too short, too long, long in bytes only
)
free_text = st.one_of(st.text(_CHARS, max_size=40), st.just("a" * 100_001))


def enum_of(literal: Any) -> st.SearchStrategy[str]:
    return st.sampled_from(list(literal.__args__))


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """Mostly RFC 3339 spelled in the everyday ways, sometimes in odd but legal ones."""
    moment = draw(
        st.one_of(
            st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
            # Before the lower bound (DESKPULSE_EARLIEST_EVENT, 2000-01-01 by default)...
            st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(1999, 12, 31)),
            # ...and right at it, where an offset decides which side a moment falls on.
            st.datetimes(min_value=datetime(1999, 12, 31, 10), max_value=datetime(2000, 1, 1, 14)),
        )
    )
    digits = draw(st.one_of(st.integers(0, 6), st.just(7)))
    fraction = (
        f".{moment.microsecond:06d}{'0' * max(0, digits - 6)}"[: digits + 1] if digits else ""
    )
    separator = draw(st.sampled_from(["T", "T", "T", "T", " ", "t"]))
    minutes = draw(st.one_of(st.just(0), st.integers(-(23 * 60 + 59), 23 * 60 + 59)))
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    offset = draw(
        st.sampled_from(
            ["Z", "Z", "z", "+00:00", "-00:00", "+0000"]
            if minutes == 0
            else [f"{sign}{hours:02d}:{rest:02d}"] * 3 + [f"{sign}{hours:02d}{rest:02d}"]
        )
    )
    return f"{moment:%Y-%m-%d}{separator}{moment:%H:%M:%S}{fraction}{offset}"


amounts = st.one_of(
    st.from_regex(r"\A(0|[1-9][0-9]{0,13})(\.[0-9]{1,8})?\Z"),
    st.integers(0, 10**13),
    st.floats(min_value=0, max_value=1e13, allow_nan=False),
    st.decimals(min_value=0, max_value=10**6, places=6).map(lambda d: float(d)),
)
seconds = st.one_of(st.integers(0, 90_000), st.floats(0, 90_000), st.floats(-1e3, 1e308))

# -- valid events -------------------------------------------------------------------------

Fields = tuple[dict[str, st.SearchStrategy[Any]], dict[str, st.SearchStrategy[Any]]]


def _opt(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


TYPES: dict[str, Fields] = {
    "agent.upserted": (
        {"agent_id": identifiers, "name": identifiers},
        {
            "email": _opt(identifiers),
            "kind": enum_of(c.AgentKind),
            "team_ids": st.lists(identifiers, max_size=3),
            "active": st.booleans(),
        },
    ),
    "conversation.created": (
        {
            "conversation_id": identifiers,
            "channel": enum_of(c.Channel),
            "inbox_id": identifiers,
            "customer_id": identifiers,
        },
        {
            "inquiry": _opt(identifiers),
            "priority": _opt(identifiers),
            "customer_tier": _opt(identifiers),
            "language": _opt(identifiers),
            "subject": _opt(free_text),
        },
    ),
    "conversation.updated": (
        {"conversation_id": identifiers},
        {
            "inquiry": _opt(identifiers),
            "priority": _opt(identifiers),
            "customer_tier": _opt(identifiers),
            "language": _opt(identifiers),
            "inbox_id": _opt(identifiers),
        },
    ),
    "conversation.assigned": (
        {"conversation_id": identifiers},
        {"agent_id": _opt(identifiers), "team_id": _opt(identifiers)},
    ),
    "message.created": (
        {
            "message_id": identifiers,
            "conversation_id": identifiers,
            "direction": enum_of(c.Direction),
            "author_kind": enum_of(c.AuthorKind),
        },
        {
            "agent_id": _opt(identifiers),
            "ai_assist": enum_of(c.AiAssist),
            "mentions": st.lists(identifiers, max_size=3),
            "text": _opt(free_text),
        },
    ),
    "conversation.status_changed": (
        {"conversation_id": identifiers, "status": enum_of(c.Status)},
        {"agent_id": _opt(identifiers)},
    ),
    "conversation.escalated": (
        {"conversation_id": identifiers, "from_agent_id": identifiers},
        {
            "to_agent_id": _opt(identifiers),
            "to_team_id": _opt(identifiers),
            "reason": _opt(identifiers),
        },
    ),
    "work.logged": (
        {"conversation_id": identifiers, "agent_id": identifiers, "seconds": seconds},
        {"kind": enum_of(c.WorkKind)},
    ),
    "survey.responded": (
        {
            "conversation_id": identifiers,
            "survey": enum_of(c.SurveyKind),
            "score": st.integers(-1, 11),
        },
        {"comment": _opt(free_text)},
    ),
    "cost.recorded": (
        {"conversation_id": identifiers, "amount": amounts, "currency": st.just(CURRENCY)},
        {"kind": enum_of(c.CostKind), "tokens": _opt(st.integers(0, 2**64))},
    ),
    "experiment.exposed": (
        {"experiment": identifiers, "variant": identifiers},
        {"conversation_id": _opt(identifiers), "customer_id": _opt(identifiers)},
    ),
    "business_hours.set": (
        {
            "inbox_id": identifiers,
            "timezone": st.sampled_from(["UTC", "Europe/Berlin", "Mars/Olympus"]),
            "intervals": st.lists(
                st.fixed_dictionaries(
                    {
                        "day": st.sampled_from(["mon", "tue", "sun", "xyz"]),
                        "start": st.sampled_from(["08:00", "09:30", "25:00"]),
                        "end": st.sampled_from(["12:00", "17:00", "24:00"]),
                    }
                ),
                max_size=3,
            ),
        },
        {"holidays": st.lists(st.sampled_from(["2025-12-25", "2025-02-30"]), max_size=2)},
    ),
    # Written by deskpulse only: both paths refuse it from a source, naming `type`.
    "event.retracted": (
        {"event_id": identifiers, "reason": identifiers, "retracted_by": identifiers},
        {"conversation_id": _opt(identifiers)},
    ),
}
assert set(TYPES) == set(c.EVENT_MODELS)


@st.composite
def events(draw: st.DrawFn, kinds: list[str] | None = None) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds or sorted(TYPES)))
    required, optional = TYPES[kind]
    body = draw(st.fixed_dictionaries(required, optional=optional))
    return {"id": draw(identifiers), "type": kind, "occurred_at": draw(timestamps()), **body}


# -- mutations ------------------------------------------------------------------------------

wrong_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**65), 2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """One JSON text: a valid event, or one spoiled in one of the ways bad input is."""
    event = draw(events())
    how = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "drop",
                "wrong type",
                "score",
                "naive time",
                "unknown type",
                "bad enum",
                "not an object",
                "future",
                "past",
                "currency",
                "extra key",
                "repeated key",
                "non-JSON number",
                "trailing comma",
            ]
        )
    )
    if how == "drop":
        del event[draw(st.sampled_from(sorted(event)))]
    elif how == "wrong type":
        event[draw(st.sampled_from(sorted(event)))] = draw(wrong_values)
    elif how == "score":
        event["score"] = draw(
            st.one_of(st.integers(-100, 100), st.floats(-1, 12), st.text(max_size=2))
        )
    elif how == "naive time":
        event["occurred_at"] = draw(st.datetimes()).isoformat()
    elif how == "unknown type":
        event["type"] = draw(st.one_of(st.text(max_size=20), wrong_values))
    elif how == "bad enum":
        for name in (
            "channel",
            "direction",
            "author_kind",
            "ai_assist",
            "status",
            "kind",
            "survey",
        ):
            if name in event:
                event[name] = draw(
                    st.one_of(st.text(max_size=10), st.sampled_from(["Chat", " chat"]))
                )
                break
    elif how == "not an object":
        return json.dumps(draw(st.one_of(wrong_values, st.lists(st.just(event), max_size=1))))
    elif how == "future":
        ahead = draw(st.integers(25 * 3600, 10**9))
        event["occurred_at"] = (NOW + timedelta(seconds=ahead)).isoformat()
    elif how == "past":
        # Zero dates and near-zero years: once accepted, they stopped the facts for good.
        event["occurred_at"] = draw(
            st.sampled_from(
                [
                    "0001-01-01T00:00:00Z",
                    "0002-06-01T00:00:00Z",
                    "0001-01-01T00:00:00+14:00",
                    "1970-01-01T00:00:00Z",
                    "1999-12-31T23:59:59.999999Z",
                    "2000-01-01T00:59:59+01:00",
                ]
            )
        )
    elif how == "currency":
        event["currency"] = draw(st.sampled_from(["EUR", "usd", "US", "USDX", 840]))
    elif how == "extra key":
        event[draw(st.text(max_size=6))] = draw(st.one_of(wrong_values, st.just(event.copy())))
    text = _serialise(event, draw(st.sampled_from(["compact", "ascii", "spaced"])))
    if how == "repeated key":
        name = draw(st.sampled_from(sorted(event)))
        text = (
            text[:-1]
            + ("," if len(event) else "")
            + f"{json.dumps(name)}:{json.dumps(draw(wrong_values))}}}"
        )
    elif how == "non-JSON number":
        literal = draw(
            st.sampled_from(["NaN", "nan", "Infinity", "-inf", "1e400", "1E+309", "1" * 400])
        )
        text = text[:-1] + ("," if len(event) else "") + f'"x":{literal}}}'
    elif how == "trailing comma":
        text = text[:-1] + ",}"
    return text


def _serialise(event: dict[str, Any], style: str) -> str:
    if style == "compact":
        return json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    if style == "ascii":  # non-ASCII as \\u escapes, as Python's json writes by default
        return json.dumps(event)
    return json.dumps(event, ensure_ascii=False, separators=(" , ", " : "))


# -- the reference: the contract, event by event ---------------------------------------------


def reference(
    text: str, earliest: datetime | None = None
) -> dict[str, Any] | tuple[str | None, str]:
    """What the per-event path makes of one text: a stored row, or (field, reason)."""
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return (None, f"malformed JSON: {error}")
    parsed = c.parse_event(raw, earliest=earliest)
    if isinstance(parsed, c.Rejection):
        return (parsed.field, parsed.reason)
    refused = currency_rejection(parsed, 0, CURRENCY)
    if refused is not None:
        return (refused.field, refused.reason)
    if parsed.occurred_at - NOW > c.MAX_FUTURE:
        return ("occurred_at", "is more than 24 hours in the future")
    row = event_to_row(parsed)
    try:
        rows_to_table([row])
    except (pa.ArrowInvalid, OverflowError) as error:
        return (None, f"cannot be stored: {error}")
    return row


def validate(
    texts: list[str], earliest: datetime | None = None
) -> dict[int, dict[str, Any] | tuple[str | None, str]]:
    batch = RawBatch(
        texts=pa.chunked_array([pa.array(texts, pa.large_string())]),
        positions=pa.chunked_array([pa.array(range(len(texts)), pa.int64())]),
    )
    result = validate_batch(
        batch, currency=CURRENCY, now=NOW, source="generated", earliest=earliest
    )
    outcome: dict[int, dict[str, Any] | tuple[str | None, str]] = {}
    for position, row in zip(result.positions, result.table.to_pylist(), strict=True):
        outcome[position] = row
    for refused in result.rejected:
        assert refused.position not in outcome
        assert refused.raw == texts[refused.position]
        outcome[refused.position] = (refused.field, refused.reason)
    return outcome


AGREEMENT = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@AGREEMENT
@given(st.lists(mutated(), min_size=1, max_size=40))
def test_column_wise_path_agrees_with_the_contract(texts: list[str]) -> None:
    outcome = validate(texts)
    assert sorted(outcome) == list(range(len(texts)))
    for position, text in enumerate(texts):
        assert outcome[position] == reference(text), text


@AGREEMENT
@given(
    st.lists(
        events([k for k in TYPES if k not in ("business_hours.set", "event.retracted")]),
        min_size=1,
        max_size=20,
    ),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)),
    st.data(),
)
def test_both_paths_hold_a_configured_lower_bound(
    records: list[dict[str, Any]], earliest: datetime, data: st.DataObject
) -> None:
    # DESKPULSE_EARLIEST_EVENT moves the bound; both paths must move with it, to the
    # microsecond and whatever the offset an event is written with.
    bound = earliest.replace(tzinfo=UTC)
    texts = []
    for record in records:
        shift = data.draw(st.integers(-3 * 3600 * 10**6, 3 * 3600 * 10**6))
        hours = data.draw(st.integers(-12, 14))
        moment = (bound + timedelta(microseconds=shift)).astimezone(
            timezone(timedelta(hours=hours))
        )
        record["occurred_at"] = moment.isoformat()
        texts.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    outcome = validate(texts, earliest=bound)
    for position, text in enumerate(texts):
        assert outcome[position] == reference(text, earliest=bound), text


def _provable(value: Any, name: str) -> Any:
    """The same value (valid or not alike) in the spelling the fast path proves."""
    if name == "amount" and isinstance(value, int | float) and not isinstance(value, bool):
        value = format(Decimal(repr(value) if isinstance(value, float) else value), "f")
    if name == "amount" and isinstance(value, str):
        # "1.5000000" is 1.5 to the contract; the fast path reads up to 6 places.
        exact = Decimal(value)
        if exact == exact.quantize(Decimal("0.000001")):
            return format(exact.quantize(Decimal("0.000001")), "f")
    if isinstance(value, str) and len(value.encode()) > 256 >= len(value):
        return "x" * len(value)  # as many characters, fewer bytes
    if isinstance(value, list):
        return [_provable(item, name) for item in value]
    return value


@AGREEMENT
@given(
    st.lists(
        events([k for k in TYPES if k not in ("business_hours.set", "event.retracted")]),
        min_size=1,
        max_size=25,
    )
)
def test_valid_events_take_the_fast_path(records: list[dict[str, Any]]) -> None:
    # Without this the agreement above could hold merely because everything fell
    # through to the contract: here every event the contract accepts must be proven
    # by the fast path, when written in the usual way.
    texts = []
    for record in records:
        record = {name: _provable(value, name) for name, value in record.items()}
        record["occurred_at"] = NOW.replace(microsecond=123000).isoformat()
        texts.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    expected = [reference(t) for t in texts]
    batch = RawBatch(
        texts=pa.chunked_array([pa.array(texts, pa.large_string())]),
        positions=pa.chunked_array([pa.array(range(len(texts)), pa.int64())]),
    )
    result = validate_batch(batch, currency=CURRENCY, now=NOW, source="generated")
    accepted = [e for e in expected if isinstance(e, dict)]
    assert result.table.to_pylist() == accepted
    assert result.slow == len(texts) - len(accepted)
