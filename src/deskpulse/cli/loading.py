"""Getting events in, with progress: generating them, importing files (into the store, or
through the running server's ingest), importing exports through a mapping, and bringing
the facts up to date afterwards. The `generate`, `import` and `demo` commands share it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from rich.table import Table

from deskpulse.cli.context import Cli
from deskpulse.cli.remote import RemoteError, ServerClient, client_for

if TYPE_CHECKING:
    from deskpulse.connectors.mapping import MappingFile, MappingSummary
    from deskpulse.events.bulk import ImportSummary
    from deskpulse.events.store import Store
    from deskpulse.facts.build import FactsSummary
    from deskpulse.generator.writer import GenerationSummary

# Events read per batch and sent per request while a server holds the folder.
SERVED_IMPORT_BATCH = 10_000


# -- generate -------------------------------------------------------------------------------


def generate_events(
    cli: Cli,
    out: Path | None,
    *,
    conversations: int,
    days: int,
    seed: int,
    end: datetime | None,
    stream: BinaryIO | None = None,
    planted: bool = True,
) -> GenerationSummary:
    """The generator's events written to `out` (or `stream`), with a progress bar."""
    from deskpulse.generator import generate

    target: Path | BinaryIO | None = stream if stream is not None else out
    assert target is not None, "generate to a file or a stream"
    with cli.bar() as progress:
        task = progress.add_task("generating conversations", total=conversations)
        summary = generate(
            target,
            seed=seed,
            conversations=conversations,
            days=days,
            end=end,
            progress=lambda n: progress.advance(task, n),
            planted=planted,
        )
    return summary


# -- import ---------------------------------------------------------------------------------


def import_files(cli: Cli, files: list[str]) -> ImportSummary:
    """Contract events from files ('-' = stdin) into the store, or through the running
    server's ingest while one holds the folder; then the facts are brought up to date."""
    from deskpulse.events.bulk import import_sources, total_bytes

    for name in files:
        if name != "-" and not Path(name).is_file():
            raise cli.fail(f"no such file: {name}")
    client = client_for(cli.settings)
    if client is not None:
        summary, stopped = _import_through_server(cli, client, files)
        if stopped is not None:
            print_import(cli, summary)
            raise cli.fail(
                f"{stopped}; the import stopped there: the {summary.accepted:,} events "
                "accepted before it are stored (importing the files again skips them as "
                "duplicates)"
            )
        return summary
    with cli.store() as store:
        totals = [total_bytes(name) for name in files]
        known = all(t is not None for t in totals)
        with cli.bar(bytes_mode=True) as progress:
            task = progress.add_task(
                "importing events",
                total=sum(t or 0 for t in totals) if known else None,
            )
            summary = import_sources(
                store,
                ["-" if name == "-" else Path(name) for name in files],
                progress=lambda read: progress.advance(task, read),
            )
        refresh(cli, store)
    return summary


def _import_through_server(
    cli: Cli, client: ServerClient, files: list[str]
) -> tuple[ImportSummary, str | None]:
    """Send the files' events to the running server's ingest, a batch per request.

    The files are read here (JSON Lines or an array, gzip, stdin) and validated, stored
    and turned into facts by the server. Returns the summary and, when a request
    failed, why: every batch answered before it is stored, so nothing is lost.
    """
    from deskpulse.events.bulk import ImportSummary
    from deskpulse.events.reader import read_batches, total_bytes

    settings = cli.settings
    summary = ImportSummary()
    unread = 0
    totals = [total_bytes(name) for name in files]
    known = all(t is not None for t in totals)
    per_request = min(SERVED_IMPORT_BATCH, settings.max_events_per_request)
    # Half the server's body limit: room for a line much longer than the average.
    request_bytes = settings.max_request_bytes // 2
    with cli.bar(bytes_mode=True) as progress:
        task = progress.add_task(
            f"importing through {client.server.url}",
            total=sum(t or 0 for t in totals) if known else None,
        )
        for name in files:
            done = 0
            for batch in read_batches(name, per_request):
                summary.read += len(batch)
                for failure in batch.failures:  # not even JSON text: nothing to send
                    unread += 1
                    summary.rejected += 1
                    summary.rejections[(None, failure.reason)] += 1
                texts = [str(text).strip(" \t\r\n") for text in batch.texts.to_pylist()]
                for lines in _requests(texts, request_bytes):
                    try:
                        answer = client.post_events(lines)
                    except RemoteError as error:
                        return summary, f"{name}: {error.message}"
                    summary.accepted += int(answer["accepted"])
                    summary.duplicates += int(answer["duplicates"])
                    summary.rejected += len(answer["rejected"])
                    summary.rejections.update(
                        (found.get("field"), str(found["reason"])) for found in answer["rejected"]
                    )
                progress.advance(task, batch.bytes_read - done)
                done = batch.bytes_read
    if unread:
        cli.errors.print(
            f"[yellow]{unread:,} records could not be read as text and were not sent; "
            "they are counted as rejected here and are not kept by the server[/]",
            highlight=False,
        )
    return summary, None


def _requests(texts: list[str], limit: int) -> list[list[str]]:
    """The texts cut into requests of at most `limit` bytes (a longer text goes alone)."""
    requests: list[list[str]] = []
    current: list[str] = []
    size = 0
    for text in texts:
        length = len(text.encode("utf-8")) + 1
        if current and size + length > limit:
            requests.append(current)
            current, size = [], 0
        current.append(text)
        size += length
    if current:
        requests.append(current)
    return requests


def refresh(cli: Cli, store: Store, *, full: bool = False) -> FactsSummary:
    """The facts brought up to date with the stored events (all of them with `full`)."""
    from deskpulse.facts.build import refresh_facts

    with cli.steps() as progress:
        task = progress.add_task("building facts", total=None)
        summary = refresh_facts(
            store,
            full=full,
            progress=lambda step: progress.update(task, description=f"building facts: {step}"),
        )
        progress.update(task, description=f"facts {summary.mode}")
    if summary.quarantined:
        cli.errors.print(
            f"[bold yellow]{summary.quarantined:,} conversation"
            f"{'s' if summary.quarantined != 1 else ''} quarantined:[/] their facts cannot be "
            "computed; the rest are up to date. Why: [bold]deskpulse rejected[/]",
            highlight=False,
        )
    return summary


def print_import(cli: Cli, summary: ImportSummary) -> None:
    table = Table(title="import", show_header=False)
    table.add_row("events read", f"{summary.read:,}")
    table.add_row("accepted", f"{summary.accepted:,}")
    table.add_row("duplicates", f"{summary.duplicates:,}")
    table.add_row("rejected", f"{summary.rejected:,}")
    cli.console.print(table)
    if summary.rejections:
        top = Table(title="rejected, by reason")
        top.add_column("field")
        top.add_column("reason")
        top.add_column("events", justify="right")
        for (field, reason), count in summary.rejections.most_common(10):
            top.add_row(field or "-", reason, f"{count:,}")
        cli.console.print(top)
        cli.console.print("every rejected event, with its reason: [bold]deskpulse rejected[/]")


# -- import through a mapping -----------------------------------------------------------------


def load_mapping(cli: Cli, name: str) -> MappingFile:
    """A mapping file, or a shipped mapping by name (`deskpulse mappings`)."""
    from deskpulse.connectors.mapping import MappingError
    from deskpulse.connectors.mapping import load_mapping as load

    try:
        return load(name)
    except MappingError as error:
        raise cli.fail(str(error)) from error


def mapped_paths(cli: Cli, files: list[str]) -> list[Path]:
    for name in files:
        if name == "-":
            raise cli.fail("--mapping reads files, not stdin")
        if not Path(name).is_file():
            raise cli.fail(f"no such file: {name}")
    return [Path(name) for name in files]


def import_with_mapping(
    cli: Cli, store: Store, mapping: MappingFile, paths: list[Path], limit: int | None
) -> MappingSummary:
    from deskpulse.connectors.mapping import MappingError, check_reopens, import_mapped

    with cli.steps() as progress:
        task = progress.add_task(f"mapping and storing ({mapping.name})", total=None)
        try:
            summary = import_mapped(store, mapping, paths, limit=limit)
        except MappingError as error:
            raise cli.fail(str(error)) from error
        progress.update(task, description=f"{summary.events_made:,} events from {mapping.name}")
    refresh(cli, store)
    if summary.reopen_counts:
        # Checked against the built facts: what every page will show.
        summary.reopens = check_reopens(store, summary.reopen_counts)
    return summary


def _problem_table(summary: MappingSummary, title: str) -> Table:
    table = Table(title=title)
    table.add_column("field")
    table.add_column("reason")
    table.add_column("rows", justify="right")
    table.add_column("first row", justify="right")
    first: dict[tuple[str | None, str], int | None] = {}
    for problem in summary.problems:
        first.setdefault((problem.field, problem.reason), problem.row)
    for (field, reason), count in summary.rejected_by_reason().most_common():
        row = first[(field, reason)]
        table.add_row(field or "-", reason, f"{count:,}", "-" if row is None else str(row))
    return table


def print_mapped(cli: Cli, summary: MappingSummary) -> None:
    console = cli.console
    table = Table(title=f"import with mapping {summary.mapping}", show_header=False)
    table.add_row("rows read", f"{summary.rows_read:,}")
    table.add_row("events made", f"{summary.events_made:,}")
    table.add_row("accepted", f"{summary.accepted:,}")
    table.add_row("duplicates", f"{summary.duplicates:,}")
    table.add_row("rejected rows", f"{summary.rows_rejected:,}")
    table.add_row("rejected events", f"{summary.events_rejected:,}")
    table.add_row("conversations", f"{summary.conversations:,}")
    table.add_row("agents", f"{summary.agents:,}")
    for kind, count in sorted(summary.events_by_type.items()):
        table.add_row(f"  {kind}", f"{count:,}")
    console.print(table)
    if summary.problems:
        console.print(_problem_table(summary, "rejected, by reason"))
        console.print("every rejected row, with its reason: [bold]deskpulse rejected[/]")
    check = summary.reopens
    if check is not None:
        console.print(
            f"reopen check: {check.matches:,} of {check.checked:,} match the export's "
            f"reopen count; {len(check.mismatches):,} do not",
            highlight=False,
        )
        for conversation, expected, derived in check.mismatches[:10]:
            console.print(
                f"  {conversation}: export says {expected}, events show {derived}",
                highlight=False,
            )


def dry_run(
    cli: Cli, mapping: MappingFile, paths: list[Path], limit: int | None, shown: int = 15
) -> None:
    """How the rows map: the first events and every problem; nothing is stored."""
    from deskpulse.connectors.mapping import (
        MappingError,
        map_sources,
        summarise,
        validate_events,
    )

    console = cli.console
    try:
        mapped = map_sources(mapping, paths, limit=limit)
    except MappingError as error:
        raise cli.fail(str(error)) from error
    summary = summarise(mapping, mapped)
    refused = validate_events(mapped, mapping.name)
    events = Table(title=f"first {min(shown, len(mapped.events))} of {len(mapped.events):,} events")
    for column in ("row", "type", "occurred_at", "conversation", "details"):
        events.add_column(column, overflow="fold")
    keys = {"id", "type", "occurred_at", "conversation_id", "text"}
    # By source row: the dry run is about how rows map, so the first rows come first.
    ordered = sorted(
        zip(mapped.events, mapped.event_rows, strict=True), key=lambda pair: pair[1] or 0
    )
    for event, row in ordered[:shown]:
        details = ", ".join(f"{k}={v}" for k, v in event.items() if k not in keys)
        events.add_row(
            "-" if row is None else str(row),
            event["type"],
            event["occurred_at"],
            str(event.get("conversation_id", "-")),
            details,
        )
    console.print(events)
    problems = Table(title=f"every problem ({len(summary.problems) + len(refused):,})")
    for column in ("row", "field", "reason"):
        problems.add_column(column, overflow="fold")
    for problem in summary.problems:
        problems.add_row(
            "-" if problem.row is None else str(problem.row), problem.field or "-", problem.reason
        )
    for event, rejection in refused:
        problems.add_row(
            "-", rejection.field or "-", f"event {event.get('id')}: {rejection.reason}"
        )
    console.print(problems)
    console.print(
        f"dry run: {summary.rows_read:,} rows read, {summary.events_made:,} events made, "
        f"{summary.rows_rejected:,} rows rejected, {len(refused):,} events the contract "
        f"refuses, {summary.conversations:,} conversations, {summary.agents:,} agents; "
        "nothing stored",
        highlight=False,
    )
