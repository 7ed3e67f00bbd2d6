"""The mapping language and what a recipe reads and fills.

A mapping file (TOML) is parsed into `MappingFile`; its rules turn one source row's
values into event fields (`evaluate`); recipes (connectors/recipes.py) read
`SourceRow`s and fill a `Mapped` with events and `Problem`s. This module is a leaf of
the connectors: connectors/mapping.py (reading sources, importing) and recipes both
build on it, and it imports neither.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from deskpulse.errors import DeskpulseError
from deskpulse.events.contract import SOURCE_TYPES

# -- the mapping language -----------------------------------------------------------------

ValueType = Literal["str", "int", "float", "bool", "timestamp"]

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


class MappingError(DeskpulseError, ValueError):
    """A mapping file that cannot be used; the message names the offending key."""


def _column_shorthand(value: Any) -> Any:
    # `author = "author_id"` is the common case; it means `{ column = "author_id" }`.
    return {"column": value} if isinstance(value, str) else value


class Rule(BaseModel):
    """How to get one value out of a row: from a column, a constant or a template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    value: str | int | float | bool | None = None
    # Python format syntax over the raw row: "INC-{number}".
    template: str | None = None
    type: ValueType = "str"
    # strptime format for type = "timestamp"; "iso" reads ISO 8601 / RFC 3339.
    format: str = "iso"
    # For timestamps written without an offset: the zone they were written in.
    timezone: str | None = None
    # Raw value -> value. "" as a target means missing (so `"-100" = ""` drops a value).
    map: dict[str, str] | None = None
    # What to do with a value the map does not list: refuse the row, keep it, or treat
    # it as missing.
    unmapped: Literal["error", "keep", "missing"] = "error"
    # A regex with one group (or a group named `value`): keep only that part.
    extract: str | None = None
    # Raw values meaning "no value" on top of the mapping-wide `missing_values`.
    missing: list[str] = Field(default_factory=list)
    default: str | int | float | bool | None = None
    required: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Rule:
        given = [n for n in ("column", "value", "template") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of column, value, template")
        if self.timezone is not None:
            _zone(self.timezone)
        if self.extract is not None:
            try:
                re.compile(self.extract)
            except re.error as error:
                raise ValueError(f"extract: not a regular expression: {error}") from None
        return self


RuleSpec = Annotated[Rule, BeforeValidator(_column_shorthand)]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: {name!r} is not an IANA time zone") from None


class SourceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["csv", "jsonl", "json", "auto"] = "auto"
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"


class Emit(BaseModel):
    """One event a row of the `rows` recipe produces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    # The event's id; default: "<id_prefix>:<type>:<row key>".
    id: RuleSpec | None = None
    # Emit only when this field of the row has a value.
    when: str | None = None
    fields: dict[str, RuleSpec] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in SOURCE_TYPES:
            raise ValueError(f"{value!r} is not an event type; expected one of {SOURCE_TYPES}")
        return value


class RowsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The field (of [fields]) whose value identifies a row in event ids; default: the
    # row number, which is stable only while the export is re-imported unchanged.
    key: str | None = None
    emit: list[Emit] = Field(min_length=1)


class ReplyThreadsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = "social"
    # Applied in turn to the end of a reply before looking for a signature: links and
    # "2/2" counters often follow it.
    signature_strip: list[str] = Field(default_factory=list)
    # Tried in order; the group named `sig` (or the first group) is the signature.
    signature_patterns: list[str] = Field(default_factory=list)
    unsigned_agent: str = "unsigned"
    # The agent id from the brand and the signature (or `unsigned_agent`). The default
    # keeps ids usable as the local part of a sign-in e-mail.
    agent_id: str = "{brand}.{signature}"
    mention_pattern: str = r"@(\w+)"

    @field_validator("agent_id")
    @classmethod
    def _agent_template(cls, value: str) -> str:
        try:
            value.format(brand="b", signature="s")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may use only {brand} and {signature}") from None
        return value

    @field_validator("signature_strip", "signature_patterns")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        for index, pattern in enumerate(values):
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"[{index}] is not a regular expression: {error}") from None
        return values


class StateHistoryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # When the last resolution has a stamp of its own (ServiceNow's resolved_at), it
    # dates that status change; the state log's row time only says when the row was
    # saved.
    resolution_time_field: str | None = "resolved_at"
    default_channel: str = "other"
    default_inbox: str = "default"


RECIPE_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # recipe -> (required fields, optional fields)
    "rows": (set(), set()),
    "reply_threads": (
        {"message_id", "author", "inbound", "occurred_at", "in_reply_to"},
        {"text"},
    ),
    "state_history": (
        {"ticket", "state", "updated_at", "opened_at"},
        {
            "sequence",
            "resolved_at",
            "assigned_to",
            "resolved_by",
            "reopen_count",
            "customer",
            "inquiry",
            "priority",
            "inbox",
            "channel",
        },
    ),
}


class MappingFile(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    recipe: Literal["rows", "reply_threads", "state_history"] = "rows"
    # Prefix of every event id and of derived conversation ids: keeps two sources
    # with overlapping keys apart.
    id_prefix: str = Field(min_length=1)
    missing_values: list[str] = Field(default_factory=lambda: [""])
    source: SourceOptions = Field(default_factory=SourceOptions)
    fields: dict[str, RuleSpec] = Field(default_factory=dict)
    rows: RowsOptions | None = None
    reply_threads: ReplyThreadsOptions | None = None
    state_history: StateHistoryOptions | None = None

    @model_validator(mode="after")
    def _recipe_has_what_it_needs(self) -> MappingFile:
        required, optional = RECIPE_FIELDS[self.recipe]
        missing = sorted(required - set(self.fields))
        if missing:
            raise ValueError(f"fields.{missing[0]}: is required by recipe {self.recipe!r}")
        if self.recipe != "rows":
            unknown = sorted(set(self.fields) - required - optional)
            if unknown:
                raise ValueError(
                    f"fields.{unknown[0]}: recipe {self.recipe!r} does not use it "
                    f"(it reads {', '.join(sorted(required | optional))})"
                )
        if self.recipe == "rows" and self.rows is None:
            raise ValueError("rows: recipe 'rows' needs [[rows.emit]] tables")
        if self.recipe == "rows" and self.rows is not None:
            if self.rows.key is not None and self.rows.key not in self.fields:
                raise ValueError(f"rows.key: {self.rows.key!r} is not a key of [fields]")
            for index, emit in enumerate(self.rows.emit):
                if emit.when is not None and emit.when not in self.fields:
                    raise ValueError(
                        f"rows.emit[{index}].when: {emit.when!r} is not a key of [fields]"
                    )
        return self

    def options(self) -> Any:
        """The recipe's own options table (defaults when the file has none)."""
        if self.recipe == "reply_threads":
            return self.reply_threads or ReplyThreadsOptions()
        if self.recipe == "state_history":
            return self.state_history or StateHistoryOptions()
        return self.rows


def parse_mapping(data: Mapping[str, Any], origin: str = "mapping") -> MappingFile:
    """Validate a decoded mapping; errors name the key, e.g. `fields.state.map`."""
    try:
        return MappingFile.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        location = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required"
        elif first["type"] == "extra_forbidden":
            message = "is not a mapping key (misspelt?)"
        # Model-level checks put the key in the message ("fields.x: ...").
        if not location and ": " in message:
            location, _, message = message.partition(": ")
        elif ": " in message and message.split(": ", 1)[0].replace(".", "").isidentifier():
            head, _, message = message.partition(": ")
            location = f"{location}.{head}" if location else head
        raise MappingError(f"{origin}: {location or 'mapping'}: {message}") from None


def load_mapping(path_or_name: str | Path) -> MappingFile:
    """Read a mapping file, or a shipped mapping by name ("twcs", "servicenow")."""
    shipped = shipped_mappings()
    path = Path(path_or_name)
    if not path.exists() and str(path_or_name) in shipped:
        path = shipped[str(path_or_name)]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError(f"{path}: cannot read the mapping: {error.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path}: not valid TOML: {error}") from None
    return parse_mapping(data, str(path))


def shipped_mappings() -> dict[str, Path]:
    """The mappings that come with deskpulse, by name."""
    folder = resources.files("deskpulse.connectors") / "mappings"
    found: dict[str, Path] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name.removesuffix(".toml")] = Path(str(entry))
    return dict(sorted(found.items()))


# -- evaluating rules ---------------------------------------------------------------------


class FieldError(Exception):
    """A value a rule cannot turn into what the mapping asks for."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _lookup(row: Mapping[str, Any], column: str) -> Any:
    if column in row:
        return row[column]
    # JSON sources: "customer.id" reaches into nested objects.
    value: Any = row
    for part in column.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _ABSENT
        value = value[part]
    return value


_ABSENT = object()


class _Template(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


def evaluate(rule: Rule, row: Mapping[str, Any], name: str, missing_values: Sequence[str]) -> Any:
    """The rule's value for this row (None when missing), or raise FieldError."""
    if rule.value is not None:
        raw: Any = rule.value
    elif rule.template is not None:
        try:
            raw = rule.template.format_map(_Template(row))
        except KeyError as error:
            raise FieldError(name, f"template names an unknown column {error}") from None
    else:
        assert rule.column is not None
        raw = _lookup(row, rule.column)
        if raw is _ABSENT:
            raise FieldError(name, f"column {rule.column!r} is not in the source")
    if isinstance(raw, str):
        raw = raw.strip()
        if raw in missing_values or raw in rule.missing:
            raw = None
    if raw is not None and rule.extract is not None:
        match = re.search(rule.extract, str(raw))
        if match is None:
            raw = None
        else:
            raw = match.groupdict().get("value") or (match.group(1) if match.groups() else "")
    if raw is not None and rule.map is not None:
        key = str(raw)
        if key in rule.map:
            raw = rule.map[key] or None
        elif rule.unmapped == "missing":
            raw = None
        elif rule.unmapped == "error":
            listed = ", ".join(repr(k) for k in list(rule.map)[:8])
            raise FieldError(name, f"value {key!r} is not in the value map ({listed})")
    if raw is None:
        if rule.default is not None:
            raw = rule.default
        elif rule.required:
            raise FieldError(name, "is missing")
        else:
            return None
    return _convert(rule, raw, name)


def _convert(rule: Rule, raw: Any, name: str) -> Any:
    if rule.type == "str":
        return raw if isinstance(raw, str) else str(raw)
    if rule.type == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FieldError(name, f"{raw!r} is not a boolean")
    if rule.type in ("int", "float"):
        try:
            number = float(raw) if not isinstance(raw, int | float) else raw
        except ValueError:
            raise FieldError(name, f"{raw!r} is not a number") from None
        if rule.type == "float":
            return float(number)
        # Exports written by pandas turn integer ids with gaps into "3.0".
        if number != int(number):
            raise FieldError(name, f"{raw!r} is not a whole number")
        return int(number)
    return _timestamp(rule, raw, name)


def _timestamp(rule: Rule, raw: Any, name: str) -> str:
    text = str(raw)
    try:
        if rule.format == "iso":
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            moment = datetime.strptime(text, rule.format)
    except ValueError:
        expected = "ISO 8601" if rule.format == "iso" else repr(rule.format)
        raise FieldError(name, f"{text!r} does not match the format {expected}") from None
    if moment.tzinfo is None:
        if rule.timezone is None:
            raise FieldError(name, f"{text!r} has no offset and the mapping declares no timezone")
        moment = moment.replace(tzinfo=ZoneInfo(rule.timezone))
    return moment.astimezone(UTC).isoformat()


# -- what recipes read and fill -----------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One record of a source: its 1-based number, its values, or why it is unreadable."""

    number: int
    values: dict[str, Any] | None
    raw: str
    error: str | None = None


@dataclass(frozen=True)
class Problem:
    """Why one source row (or one derived event) could not be used."""

    source: str
    row: int | None
    field: str | None
    reason: str
    raw: str | None = None


@dataclass
class Mapped:
    """What mapping produced, before anything is stored."""

    events: list[dict[str, Any]] = field(default_factory=list)
    # event_rows[k]: the source row events[k] came from (the first, for a derived one).
    event_rows: list[int | None] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    # Rows refused as a whole (each has at least one problem).
    rows_rejected: int = 0
    conversations: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    # conversation id -> the export's own reopen count (state_history only).
    reopen_counts: dict[str, int] = field(default_factory=dict)
    # Mapped values of the first rows, shown by the dry run: row number -> values.
    samples: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add(self, event: dict[str, Any], row: int | None) -> None:
        self.events.append(event)
        self.event_rows.append(row)
        if event.get("conversation_id"):
            self.conversations.add(str(event["conversation_id"]))
        # Every agent id an event names counts, announced by agent.upserted or not.
        if event.get("agent_id"):
            self.agents.add(str(event["agent_id"]))


def stable_id(*parts: object) -> str:
    """An event id from the source's own keys: the same row always gets the same id."""
    return ":".join(str(p) for p in parts)
