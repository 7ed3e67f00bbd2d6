"""Generic CSV / JSON import driven by a mapping file.

A mapping (TOML) says how the columns of someone else's export become contract
events: which column holds what, how timestamps are written and in which time zone,
which raw values mean what (a value map; "?" as missing), and how rows group into
conversations. Simple exports (one row, one or a few events) are fully declarative
through the `rows` recipe; exports that need real logic use a named recipe configured
by the same file (`reply_threads` for Twitter-style reply chains, `state_history` for
ticket state logs, see `deskpulse.connectors.recipes`).

Mapping never writes anything by itself: `map_sources` gives events and problems, and
`import_mapped` stores them (events through the contract, problem rows through the
store's rejection table, so no row disappears silently). Event ids are derived from the
source's own keys, so importing the same export again stores nothing twice.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from deskpulse.connectors import recipes
from deskpulse.connectors.mapping_file import (
    FieldError,
    Mapped,
    MappingError,
    MappingFile,
    Problem,
    ReplyThreadsOptions,
    RowsOptions,
    Rule,
    SourceOptions,
    SourceRow,
    StateHistoryOptions,
    evaluate,
    load_mapping,
    parse_mapping,
    shipped_mappings,
    stable_id,
)
from deskpulse.events.contract import Rejection, _Event, parse_event

# The mapping language lives in a leaf module shared with the recipes
# (connectors/mapping_file.py); its names stay importable from here.
__all__ = [
    "FieldError",
    "Mapped",
    "MappingError",
    "MappingFile",
    "Problem",
    "ReplyThreadsOptions",
    "RowsOptions",
    "Rule",
    "SourceOptions",
    "SourceRow",
    "StateHistoryOptions",
    "evaluate",
    "load_mapping",
    "parse_mapping",
    "shipped_mappings",
    "stable_id",
]


# -- reading sources ----------------------------------------------------------------------


def _lines(handle: io.TextIOBase, chunk: int = 1 << 20) -> Iterator[str]:
    """Lines ending at "\\n" only.

    Iterating the file itself would also end lines at a bare "\\r"; then a carriage
    return inside an unquoted field (TWCS has one) silently splits a row in three,
    and the csv module can no longer tell that the row is malformed.
    """
    pending = ""
    while block := handle.read(chunk):
        pending += block
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    if pending:
        yield pending


# Stands in for a bare carriage return while the csv module parses a line (it would
# stop at one inside an unquoted field); a private-use character no export writes.
_BARE_CR = "\ue000"
_BARE_CR_PATTERN = re.compile(r"\r(?!\n)")


def _restore_cr(field: str) -> str:
    return field.replace(_BARE_CR, "\r") if _BARE_CR in field else field


def read_csv(path: Path, options: SourceOptions) -> Iterator[SourceRow]:
    """Stream a CSV file's rows as dicts keyed by the header.

    Records end at "\n" (or "\r\n") only: a bare "\r" inside a field, quoted or not,
    is part of the text, as pandas and spreadsheet programs read it (TWCS row 2485).
    """
    with path.open(encoding=options.encoding, newline="") as handle:
        lines = _lines(handle)
        seen: list[str] = []

        def remember() -> Iterator[str]:
            for line in lines:
                seen.append(line)
                if "\r" in line and _BARE_CR not in line:
                    line = _BARE_CR_PATTERN.sub(_BARE_CR, line)
                yield line

        reader = csv.reader(remember(), delimiter=options.delimiter, strict=True)
        try:
            header = [_restore_cr(name) for name in next(reader)]
        except StopIteration:
            return
        except csv.Error as error:
            raise MappingError(f"{path}: the header row cannot be read: {error}") from None
        seen.clear()
        number = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                number += 1
                raw = "".join(seen).rstrip("\n")
                seen.clear()
                reason = str(error)
                if "new-line character" in reason:
                    # The csv module's own advice (universal-newline mode) would split
                    # the row silently instead.
                    reason = "a line break inside an unquoted field"
                yield SourceRow(number, None, raw, f"malformed CSV: {reason}")
                continue
            raw = "".join(seen).rstrip("\n")
            seen.clear()
            if not record:  # a blank line is not a row
                continue
            number += 1
            if len(record) != len(header):
                yield SourceRow(
                    number,
                    None,
                    raw,
                    f"malformed CSV: {len(record)} fields where the header has {len(header)}",
                )
                continue
            fields = [_restore_cr(field) for field in record]
            yield SourceRow(number, dict(zip(header, fields, strict=True)), raw)


def read_json(path: Path, options: SourceOptions) -> Iterator[SourceRow]:
    """A JSON array of objects, or JSON Lines (one object per line)."""
    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    if head.startswith(b"["):
        try:
            items = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as error:
            raise MappingError(f"{path}: not valid JSON: {error}") from None
        for number, item in enumerate(items, 1):
            raw = orjson.dumps(item).decode()
            if isinstance(item, dict):
                yield SourceRow(number, item, raw)
            else:
                yield SourceRow(number, None, raw, "not a JSON object")
        return
    with path.open(encoding=options.encoding) as lines:
        number = 0
        for line in lines:
            if not line.strip():
                continue
            number += 1
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                yield SourceRow(number, None, line.rstrip("\n"), f"malformed JSON: {error}")
                continue
            if isinstance(item, dict):
                yield SourceRow(number, item, line.rstrip("\n"))
            else:
                yield SourceRow(number, None, line.rstrip("\n"), "not a JSON object")


def read_source(path: Path, options: SourceOptions) -> Iterator[SourceRow]:
    kind = options.format
    if kind == "auto":
        suffix = path.suffix.lower()
        kind = "csv" if suffix in (".csv", ".tsv", ".txt") else "jsonl"
    if kind == "csv":
        return read_csv(path, options)
    return read_json(path, options)


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReopenCheck:
    """The export's own reopen count against the reopens the events show."""

    checked: int
    matches: int
    # (conversation id, the export's count, the derived count)
    mismatches: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass
class MappingSummary:
    """What an import did; every number the CLI prints comes from here."""

    mapping: str
    rows_read: int = 0
    events_made: int = 0
    rows_rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    conversations: int = 0
    agents: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    # Filled in by import_mapped (a dry run stores nothing).
    accepted: int = 0
    duplicates: int = 0
    # Events the contract refused (a mapping that makes invalid events).
    events_rejected: int = 0
    reopens: ReopenCheck | None = None
    # conversation id -> the export's reopen count, for check_reopens after facts.
    reopen_counts: dict[str, int] = field(default_factory=dict)

    def rejected_by_reason(self) -> Counter[tuple[str | None, str]]:
        return Counter((p.field, p.reason) for p in self.problems)


# -- mapping a source ---------------------------------------------------------------------


def map_sources(mapping: MappingFile, paths: Sequence[Path], *, limit: int | None = None) -> Mapped:
    """Read every source and build contract events (unvalidated dicts) and problems.

    `limit` caps the rows read from each source (the dry run reads a few).
    """
    mapped = Mapped()
    for path in paths:
        rows = read_source(path, mapping.source)
        if mapping.recipe == "rows":
            recipes.rows(mapping, path.name, _capped(rows, limit), mapped)
        elif mapping.recipe == "reply_threads":
            recipes.reply_threads(mapping, path.name, _capped(rows, limit), mapped)
        else:
            recipes.state_history(mapping, path.name, _capped(rows, limit), mapped)
    return mapped


def _capped(rows: Iterator[SourceRow], limit: int | None) -> Iterator[SourceRow]:
    for count, row in enumerate(rows):
        if limit is not None and count >= limit:
            return
        yield row


def validate_events(mapped: Mapped, source: str) -> list[tuple[dict[str, Any], Rejection]]:
    """The events the contract refuses, with its reason (the dry run shows them)."""
    refused: list[tuple[dict[str, Any], Rejection]] = []
    for index, event in enumerate(mapped.events):
        parsed = parse_event(event, index)
        if not isinstance(parsed, _Event):
            refused.append((event, parsed))
    return refused


def summarise(mapping: MappingFile, mapped: Mapped) -> MappingSummary:
    return MappingSummary(
        mapping=mapping.name,
        rows_read=mapped.rows_read,
        events_made=len(mapped.events),
        rows_rejected=mapped.rows_rejected,
        problems=list(mapped.problems),
        conversations=len(mapped.conversations),
        agents=len(mapped.agents),
        events_by_type=Counter(e["type"] for e in mapped.events),
        reopen_counts=dict(mapped.reopen_counts),
        reopens=derived_reopen_check(mapped),
    )


def import_mapped(
    store: Any,
    mapping: MappingFile,
    paths: Sequence[Path],
    *,
    limit: int | None = None,
    batch_size: int = 20_000,
) -> MappingSummary:
    """Map the sources and store the events; problem rows go to the rejection table."""
    from deskpulse.events.ingest import ingest_objects
    from deskpulse.events.store import RejectedRecord

    mapped = map_sources(mapping, paths, limit=limit)
    summary = summarise(mapping, mapped)
    source = f"mapping:{mapping.name}"
    for start in range(0, len(mapped.events), batch_size):
        result = ingest_objects(store, mapped.events[start : start + batch_size], source)
        summary.accepted += result.accepted
        summary.duplicates += result.duplicates
        summary.events_rejected += len(result.rejected)
        for rejection in result.rejected:
            summary.problems.append(
                Problem(source, None, rejection.field, f"event {rejection.id}: {rejection.reason}")
            )
    if mapped.problems:
        store.reject(
            [
                RejectedRecord(
                    source=f"{source}:{p.source}",
                    position=p.row,
                    event_id=None,
                    type=None,
                    field=p.field,
                    reason=p.reason,
                    raw=p.raw,
                )
                for p in mapped.problems
            ]
        )
    return summary


def derived_reopen_check(mapped: Mapped) -> ReopenCheck | None:
    """Reopens counted in the built status events against the export's column."""
    if not mapped.reopen_counts:
        return None
    history: dict[str, list[tuple[str, str]]] = {}
    for event in mapped.events:
        if event["type"] == "conversation.status_changed":
            history.setdefault(event["conversation_id"], []).append(
                (event["occurred_at"], event["status"])
            )
    derived: dict[str, int] = {}
    for conversation, changes in history.items():
        changes.sort()
        statuses = [status for _at, status in changes]
        derived[conversation] = sum(
            1
            for before, after in itertools.pairwise(statuses)
            if before == "resolved" and after != "resolved"
        )
    return compare_reopens(mapped.reopen_counts, derived)


def compare_reopens(expected: Mapping[str, int], derived: Mapping[str, int]) -> ReopenCheck:
    mismatches = [
        (conversation, count, derived.get(conversation, 0))
        for conversation, count in sorted(expected.items())
        if derived.get(conversation, 0) != count
    ]
    return ReopenCheck(len(expected), len(expected) - len(mismatches), mismatches)


def check_reopens(store: Any, expected: Mapping[str, int]) -> ReopenCheck:
    """The export's reopen counts against the `reopens` of the built conversation facts."""
    facts = store.con.table("conversation_facts")
    wanted = list(expected)
    derived: dict[str, int] = {}
    for start in range(0, len(wanted), 5_000):
        chunk = wanted[start : start + 5_000]
        rows = (
            facts.filter(facts.conversation_id.isin(chunk))
            .select("conversation_id", "reopens")
            .to_pyarrow()
            .to_pylist()
        )
        for row in rows:
            derived[row["conversation_id"]] = int(row["reopens"] or 0)
    return compare_reopens(expected, derived)
