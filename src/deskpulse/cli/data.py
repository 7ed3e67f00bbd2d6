"""The `deskpulse` command.

Every subcommand works on one data folder (`--data`, or DESKPULSE_DATA, default
./deskpulse-data). Long jobs show a progress bar; errors are one line naming the
problem, with a non-zero exit code. While `deskpulse serve` holds the folder, the read
commands and `import` work through it (cli_remote.py).
"""

from __future__ import annotations

import getpass
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from deskpulse import clock
from deskpulse.ai_report_cli import register as register_ai_report_command
from deskpulse.alerts_cli import define_demo as define_demo_alerts
from deskpulse.alerts_cli import register as register_alert_commands
from deskpulse.cli_options import AsOfOption, FromOption, PeriodOption, ToOption
from deskpulse.cli_remote import (
    RemoteError,
    ServerClient,
    as_served,
    client_for,
    window_params,
    write_json,
)
from deskpulse.connectors.cli import connect_app
from deskpulse.experiments_cli import define_demo as define_demo_experiment
from deskpulse.experiments_cli import register as register_experiment_commands
from deskpulse.models.cli import register as register_model_commands
from deskpulse.settings import Settings, load_settings

if TYPE_CHECKING:
    from deskpulse.metrics.window import Window

app = typer.Typer(
    name="deskpulse",
    help="Performance analytics and coaching for support teams of human and AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
user_app = typer.Typer(
    help="Add people, link them to agent ids, reset passwords.", no_args_is_help=True
)
app.add_typer(user_app, name="user")

# Helpdesk connectors: `deskpulse connect chatwoot …`, `deskpulse connect zendesk …`.
app.add_typer(connect_app, name="connect")

# Trained models: `deskpulse train`, `deskpulse score`, `deskpulse topics …`.
register_model_commands(app)

# AI agents and their quality report: `deskpulse ai-report`.
register_ai_report_command(app)

# A/B experiments: `deskpulse experiments list|show|define`.
register_experiment_commands(app)

# Regression alerts: `deskpulse alerts list|add|check|history`.
register_alert_commands(app)

console = Console()
errors = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@app.callback()
def main_options(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="DESKPULSE_DATA",
            help="Data folder (events, facts, app database, models).",
            show_default="./deskpulse-data",
        ),
    ] = None,
) -> None:
    try:
        ctx.obj = load_settings(data)
    except Exception as error:  # a misspelt time zone or backend URL
        raise fail(str(error)) from error


@contextmanager
def opened_store(settings: Settings) -> Iterator[Any]:
    from deskpulse.data_folder import running_server
    from deskpulse.events.store import open_store

    server = running_server(settings)
    if server is not None:
        raise fail(
            f"{server.describe()} holds {settings.data_dir}, so this command cannot open it: "
            "stop the server first (the read commands and import work through it)"
        )
    try:
        store = open_store(settings)
    except Exception as error:
        raise fail(f"cannot open the event store: {error}") from error
    try:
        yield store
    finally:
        store.close()


def _refuse_while_served(settings: Settings, what_to_do: str) -> None:
    """One line saying why this command cannot run beside the server, and what to do."""
    from deskpulse.data_folder import running_server

    server = running_server(settings)
    if server is not None:
        raise fail(f"{server.describe()} holds {settings.data_dir}: {what_to_do}")


def _bar(*, bytes_mode: bool = False) -> Progress:
    amount = DownloadColumn() if bytes_mode else MofNCompleteColumn()
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        amount,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=False,
    )


def _steps() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=errors,
    )


# -- generate -------------------------------------------------------------------------------


def _generate(
    out: Path | None,
    *,
    conversations: int,
    days: int,
    seed: int,
    end: datetime | None,
    stream: Any = None,
    planted: bool = True,
) -> Any:
    from deskpulse.generator import generate

    with _bar() as progress:
        task = progress.add_task("generating conversations", total=conversations)
        summary = generate(
            stream if stream is not None else out,  # type: ignore[arg-type]
            seed=seed,
            conversations=conversations,
            days=days,
            end=end,
            progress=lambda n: progress.advance(task, n),
            planted=planted,
        )
    return summary


@app.command("generate")
def generate_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="JSON Lines file to write; '-' for stdout."),
    ] = None,
    conversations: Annotated[int, typer.Option(min=1, help="Conversations to simulate.")] = 50_000,
    days: Annotated[int, typer.Option(min=1, help="Days of history.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
    end: Annotated[
        datetime | None,
        typer.Option(help="End of the simulated window (UTC). Default: now, to the hour."),
    ] = None,
    planted: Annotated[
        bool,
        typer.Option(
            "--planted/--no-planted",
            help="Plant the stories (degrading queues, incident, experiment, AI regression, "
            "volume trend, staff turnover); --no-planted gives a stable data set.",
        ),
    ] = True,
) -> None:
    """Write a realistic synthetic support organisation's events as JSON Lines."""
    settings = settings_of(ctx)
    end_at = end.replace(tzinfo=UTC) if end is not None and end.tzinfo is None else end
    if out is not None and str(out) == "-":
        _generate(
            None,
            conversations=conversations,
            days=days,
            seed=seed,
            end=end_at,
            stream=sys.stdout.buffer,
            planted=planted,
        )
        return
    target = out or settings.data_dir / "generated.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    summary = _generate(
        target, conversations=conversations, days=days, seed=seed, end=end_at, planted=planted
    )
    console.print(
        f"wrote [bold]{summary.events:,}[/] events for {summary.conversations:,} conversations "
        f"and {summary.agents} agents to {target}"
    )


# -- import ---------------------------------------------------------------------------------


def _import(settings: Settings, files: list[str]) -> Any:
    from deskpulse.events.bulk import import_sources, total_bytes

    for name in files:
        if name != "-" and not Path(name).is_file():
            raise fail(f"no such file: {name}")
    client = client_for(settings)
    if client is not None:
        summary, stopped = _import_through_server(client, settings, files)
        if stopped is not None:
            _print_import(summary)
            raise fail(
                f"{stopped}; the import stopped there: the {summary.accepted:,} events "
                "accepted before it are stored (importing the files again skips them as "
                "duplicates)"
            )
        return summary
    with opened_store(settings) as store:
        totals = [total_bytes(name) for name in files]
        known = all(t is not None for t in totals)
        with _bar(bytes_mode=True) as progress:
            task = progress.add_task(
                "importing events",
                total=sum(t or 0 for t in totals) if known else None,
            )
            summary = import_sources(
                store,
                ["-" if name == "-" else Path(name) for name in files],
                progress=lambda read: progress.advance(task, read),
            )
        _refresh(store)
    return summary


# Events read per batch and sent per request while a server holds the folder.
SERVED_IMPORT_BATCH = 10_000


def _import_through_server(
    client: ServerClient, settings: Settings, files: list[str]
) -> tuple[Any, str | None]:
    """Send the files' events to the running server's ingest, a batch per request.

    The files are read here (JSON Lines or an array, gzip, stdin) and validated, stored
    and turned into facts by the server. Returns the summary and, when a request
    failed, why: every batch answered before it is stored, so nothing is lost.
    """
    from deskpulse.events.bulk import ImportSummary
    from deskpulse.events.reader import read_batches, total_bytes

    summary = ImportSummary()
    unread = 0
    totals = [total_bytes(name) for name in files]
    known = all(t is not None for t in totals)
    per_request = min(SERVED_IMPORT_BATCH, settings.max_events_per_request)
    # Half the server's body limit: room for a line much longer than the average.
    request_bytes = settings.max_request_bytes // 2
    with _bar(bytes_mode=True) as progress:
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
        errors.print(
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


def _refresh(store: Any, *, full: bool = False) -> Any:
    from deskpulse.facts.build import refresh_facts

    with _steps() as progress:
        task = progress.add_task("building facts", total=None)
        summary = refresh_facts(
            store,
            full=full,
            progress=lambda step: progress.update(task, description=f"building facts: {step}"),
        )
        progress.update(task, description=f"facts {summary.mode}")
    if summary.quarantined:
        errors.print(
            f"[bold yellow]{summary.quarantined:,} conversation"
            f"{'s' if summary.quarantined != 1 else ''} quarantined:[/] their facts cannot be "
            "computed; the rest are up to date. Why: [bold]deskpulse rejected[/]",
            highlight=False,
        )
    return summary


def _print_import(summary: Any) -> None:
    table = Table(title="import", show_header=False)
    table.add_row("events read", f"{summary.read:,}")
    table.add_row("accepted", f"{summary.accepted:,}")
    table.add_row("duplicates", f"{summary.duplicates:,}")
    table.add_row("rejected", f"{summary.rejected:,}")
    console.print(table)
    if summary.rejections:
        top = Table(title="rejected, by reason")
        top.add_column("field")
        top.add_column("reason")
        top.add_column("events", justify="right")
        for (field, reason), count in summary.rejections.most_common(10):
            top.add_row(field or "-", reason, f"{count:,}")
        console.print(top)
        console.print("every rejected event, with its reason: [bold]deskpulse rejected[/]")


@app.command("import")
def import_command(
    ctx: typer.Context,
    files: Annotated[
        list[str], typer.Argument(help="JSON Lines or JSON array files; '-' = stdin.")
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Mapping file (TOML) or shipped mapping name (see `deskpulse mappings`): "
            "import CSV / JSON exports that are not contract events."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="With --mapping: show mapped events and every problem; store nothing."
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="With --mapping: read at most N rows per file.")
    ] = None,
) -> None:
    """Validate and store events from files (gzip accepted), then update the facts."""
    if mapping is None:
        if dry_run or limit is not None:
            raise fail("--dry-run and --limit need --mapping")
        summary = _import(settings_of(ctx), files)
        _print_import(summary)
        return
    chosen = _load_mapping(mapping)
    paths = _mapped_paths(files)
    if dry_run:
        _dry_run(chosen, paths, limit)
        return
    _refuse_while_served(
        settings_of(ctx),
        "import --mapping stores through this machine's event store: stop the server "
        "first (--dry-run works while it runs)",
    )
    with opened_store(settings_of(ctx)) as store:
        mapped = _import_with_mapping(store, chosen, paths, limit)
    _print_mapped(mapped)


# -- import through a mapping -----------------------------------------------------------------


def _load_mapping(name: str) -> Any:
    from deskpulse.connectors.mapping import MappingError, load_mapping

    try:
        return load_mapping(name)
    except MappingError as error:
        raise fail(str(error)) from error


def _mapped_paths(files: list[str]) -> list[Path]:
    for name in files:
        if name == "-":
            raise fail("--mapping reads files, not stdin")
        if not Path(name).is_file():
            raise fail(f"no such file: {name}")
    return [Path(name) for name in files]


def _import_with_mapping(store: Any, mapping: Any, paths: list[Path], limit: int | None) -> Any:
    from deskpulse.connectors.mapping import MappingError, check_reopens, import_mapped

    with _steps() as progress:
        task = progress.add_task(f"mapping and storing ({mapping.name})", total=None)
        try:
            summary = import_mapped(store, mapping, paths, limit=limit)
        except MappingError as error:
            raise fail(str(error)) from error
        progress.update(task, description=f"{summary.events_made:,} events from {mapping.name}")
    _refresh(store)
    if summary.reopen_counts:
        # Checked against the built facts: what every page will show.
        summary.reopens = check_reopens(store, summary.reopen_counts)
    return summary


def _problem_table(summary: Any, title: str) -> Table:
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


def _print_mapped(summary: Any) -> None:
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


def _dry_run(mapping: Any, paths: list[Path], limit: int | None, shown: int = 15) -> None:
    from deskpulse.connectors.mapping import (
        MappingError,
        map_sources,
        summarise,
        validate_events,
    )

    try:
        mapped = map_sources(mapping, paths, limit=limit)
    except MappingError as error:
        raise fail(str(error)) from error
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


@app.command("mappings")
def mappings_command() -> None:
    """List the mappings shipped with deskpulse (use one with import --mapping NAME)."""
    from deskpulse.connectors.mapping import load_mapping, shipped_mappings

    table = Table(title="shipped mappings")
    for column in ("name", "recipe", "description", "file"):
        table.add_column(column, overflow="fold")
    for name, path in shipped_mappings().items():
        mapping = load_mapping(path)
        table.add_row(name, mapping.recipe, mapping.description, str(path))
    console.print(table)


# -- rebuild --------------------------------------------------------------------------------


@app.command("rebuild")
def rebuild_command(
    ctx: typer.Context,
    incremental: Annotated[
        bool, typer.Option(help="Only recompute conversations touched since the last build.")
    ] = False,
) -> None:
    """Recompute the facts from the stored events."""
    _refuse_while_served(
        settings_of(ctx),
        "the server refreshes the facts itself after every import; to rebuild them all "
        "from the events, stop it first",
    )
    with opened_store(settings_of(ctx)) as store:
        summary = _refresh(store, full=not incremental)
        console.print(
            f"facts {summary.mode}: {summary.conversations:,} conversations "
            f"in {summary.seconds:.1f} s"
        )


# -- report ---------------------------------------------------------------------------------


# What the core's one reading of a period calls a parameter, as the CLI names the option.
OPTION_OF_FIELD = {"period": "--period", "as_of": "--as-of", "from": "--from", "to": "--to"}


def _period_error(error: Any) -> typer.Exit:
    message = error.message.replace("from and to", "--from and --to")
    return fail(f"{OPTION_OF_FIELD.get(error.field, error.field)}: {message}")


def _parse_time(settings: Settings, value: str | None, option: str) -> datetime | None:
    """`--as-of`: a date means through the end of that day (reporting time zone), a
    timestamp with its offset exactly that instant (metrics/window.py)."""
    from deskpulse.metrics.periods import PeriodInputError
    from deskpulse.metrics.window import read_moment

    field = next((f for f, o in OPTION_OF_FIELD.items() if o == option), option)
    try:
        return read_moment(value, field, settings.tz, day_end=True, earliest=settings.earliest_day)
    except PeriodInputError as error:
        raise _period_error(error) from None


def _window(
    settings: Settings, period: str, as_of: str | None, start: str | None, end: str | None
) -> Window:
    """The period options as a Window, read exactly as the API and the pages read them."""
    from deskpulse.metrics.periods import PeriodInputError
    from deskpulse.metrics.window import read_window

    try:
        return read_window(
            period=period,
            as_of=as_of,
            start=start,
            end=end,
            tz=settings.tz,
            earliest=settings.earliest_day,
        )
    except PeriodInputError as error:
        raise _period_error(error) from None


@app.command("report")
def report_command(
    ctx: typer.Context,
    period: PeriodOption = "30d",
    as_of: AsOfOption = None,
    start: FromOption = None,
    end: ToOption = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    inquiry: Annotated[str | None, typer.Option(help="Only this inquiry.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """Team KPIs and the agent leaderboard for a period, each number with its sample size."""
    window = _window(settings_of(ctx), period, as_of, start, end)
    filters = {"team": team, "channel": channel, "inquiry": inquiry}
    report = _report_data(settings_of(ctx), window, filters)
    if output is OutputFormat.json:
        write_json(report)
        return
    _print_report(report)


def _report_data(
    settings: Settings, window: Window, filters: dict[str, str | None]
) -> dict[str, Any]:
    """GET /api/v1/report's answer: from the running server, else from the store."""
    from pydantic import ValidationError

    from deskpulse.metrics.query import Filters, QueryError
    from deskpulse.metrics.report import build_report

    client = client_for(settings)
    if client is not None:
        found: dict[str, Any] = client.get_json(
            "/api/v1/report", {**window_params(window), **filters}
        )
        return found
    with opened_store(settings) as store:
        from deskpulse.facts.build import facts_exist

        if not facts_exist(store):
            raise fail("no facts yet: import events first (deskpulse import FILE)")
        try:
            report = build_report(
                store,
                period=window.period,
                as_of=window.as_of,
                start=window.start,
                end=window.end,
                filters=Filters(**filters),
            )
        except ValidationError as error:
            first = error.errors()[0]
            raise fail(f"{'.'.join(map(str, first['loc'])) or 'query'}: {first['msg']}") from error
        except QueryError as error:
            raise fail(str(error)) from error
    served: dict[str, Any] = as_served(report)
    return served


def _print_report(report: dict[str, Any]) -> None:
    from deskpulse.metrics.format import format_value
    from deskpulse.metrics.registry import REGISTRY

    span = report["period"]
    console.print(f"[bold]deskpulse report[/]  {span['from']} → {span['to']}")
    kpis = Table(title="team")
    kpis.add_column("metric")
    kpis.add_column("value", justify="right")
    kpis.add_column("n", justify="right")
    kpis.add_column("previous", justify="right")
    estimated = report["team"].get("aht_estimated_rate", {}).get("value") or 0
    for name, cell in report["team"].items():
        metric = REGISTRY[name]
        before = report["team_previous"].get(name, {"value": None})
        label = metric.label
        if name == "aht_mean" and estimated > 0:
            label += f" (estimated for {100 * estimated:.0f}%)"
        kpis.add_row(
            label,
            format_value(metric, cell["value"]),
            f"{cell['n']:,}",
            format_value(metric, before["value"]),
        )
    console.print(kpis)
    board = Table(title="agents (by conversations handled; not a ranking)")
    columns = (
        ("handled", "handled"),
        ("first_response_median", "median first response"),
        ("csat_mean", "CSAT"),
        ("ai_handled_rate", "AI drafts"),
        ("mentions", "mentions"),
    )
    board.add_column("agent")
    for _name, label in columns:
        board.add_column(label, justify="right")
    for agent in report["agents"]:
        cells = []
        for name, _label in columns:
            cell = agent["metrics"][name]
            text = format_value(REGISTRY[name], cell["value"])
            if name == "csat_mean":
                text += f" ({cell['n']})"
                if 0 < cell["n"] < 10:
                    text += " few"
            cells.append(text)
        label = agent["name"] + (
            " (AI)" if agent["kind"] == "ai" and "AI" not in agent["name"] else ""
        )
        board.add_row(label, *cells)
    console.print(board)


# -- signals --------------------------------------------------------------------------------


@app.command("signals")
def signals_command(
    ctx: typer.Context,
    period: PeriodOption = "30d",
    as_of: AsOfOption = None,
    start: FromOption = None,
    end: ToOption = None,
    team: Annotated[str | None, typer.Option(help="Only this team's conversations.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the strongest N.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """Friction signals: where, by queue, inquiry and channel, the numbers moved beyond chance."""
    window = _window(settings_of(ctx), period, as_of, start, end)
    with errors.status("testing every queue, inquiry and channel"):
        report = _signals_data(settings_of(ctx), window, team=team, limit=limit)
    if output is OutputFormat.json:
        write_json(report)
        return
    _print_signals(report)


def _signals_data(
    settings: Settings, window: Window, *, team: str | None, limit: int | None
) -> dict[str, Any]:
    """GET /api/v1/signals' answer: from the running server, else from the store."""
    from deskpulse.analysis.signals import compute_signals
    from deskpulse.metrics.query import Filters, QueryError

    # The period as the conversations links carry it: the moments as read here, so a
    # link shows exactly the period these signals cover.
    period = window_params(window)
    client = client_for(settings)
    if client is not None:
        found: dict[str, Any] = client.get_json(
            "/api/v1/signals", {**period, "team": team, "limit": limit}
        )
        return found
    with opened_store(settings) as store:
        from deskpulse.facts.build import facts_exist

        if not facts_exist(store):
            raise fail("no facts yet: import events first (deskpulse import FILE)")
        try:
            report = compute_signals(store, window, filters=Filters(team=team))
        except QueryError as error:
            raise fail(str(error)) from error
    link = {name: value for name, value in period.items() if value}
    served: dict[str, Any] = as_served(report.as_json(link, limit))
    return served


def _day(moment: str) -> str:
    """The reporting day of a moment the API gave with its offset."""
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d")


def _print_signals(report: dict[str, Any]) -> None:
    span, before = report["period"], report["previous_period"]
    console.print(
        f"[bold]friction signals[/]  {_day(span['from'])} → {_day(span['to'])}, against "
        f"{_day(before['from'])} → {_day(before['to'])}"
    )
    shown = report["signals"]
    colour = {"worse": "red", "mixed": "yellow", "better": "green"}
    for signal in shown:
        also = ", ".join(segment["label"] for segment in signal["also"])
        console.print(
            f"\n[bold {colour[signal['verdict']]}]{signal['title']}[/] · "
            f"{signal['segment']['label']}" + (f" (also {also})" if also else "")
        )
        console.print(signal["sentence"], highlight=False)
        console.print(f"[dim]where to look:[/] {signal['coaching']}", highlight=False)
    if not report["total"]:
        console.print("\nNothing is creaking: no queue, inquiry or channel moved significantly.")
    elif len(shown) < report["total"]:
        console.print(f"\n… and {report['total'] - len(shown)} more (drop --limit)")
    method = report["method"]
    note = f"\n[dim]{report['tests']} comparisons, Holm-corrected at {method['alpha']:g}"
    if report["too_small"]:
        note += f"; {report['too_small']} with fewer than {method['min_sample']} a side not tested"
    if not report["volume_compared"]:
        note += "; volume not compared (history does not reach back over the previous period)"
    console.print(note + "[/]")


# -- rejected -------------------------------------------------------------------------------


@app.command("rejected")
def rejected_command(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many to list, newest first.")
    ] = 50,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """List rejected events, quarantined conversations and retracted events, with why
    (through the running server when one holds the data folder)."""
    found = _data_health(settings_of(ctx), limit)
    if output is OutputFormat.json:
        write_json(found)
        return
    counts = found["counts"]
    table = Table(title=f"rejected events ({counts['rejected']:,} in all, newest first)")
    for column in ("received", "source", "position", "event id", "type", "field", "reason"):
        table.add_column(column)
    for row in found["rejected"]:
        table.add_row(
            str(row["received_at"])[:19].replace("T", " "),
            str(row["source"]),
            str(row["position"]),
            str(row["event_id"] or "-"),
            str(row["type"] or "-"),
            str(row["field"] or "-"),
            str(row["reason"]),
        )
    console.print(table)
    quarantine = Table(
        title=f"quarantined conversations ({counts['quarantined']:,}): left out of the facts "
        "until an "
        "event to them computes"
    )
    for column in ("conversation", "since", "last failed", "reason"):
        quarantine.add_column(column)
    for item in found["quarantined"]:
        quarantine.add_row(
            str(item["conversation_id"]),
            str(item["first_seen_at"])[:19],
            str(item["last_seen_at"])[:19],
            str(item["reason"]),
        )
    console.print(quarantine)
    retracted = Table(title=f"retracted events ({counts['retracted']:,}, newest first)")
    for column in ("retracted", "event id", "type", "conversation", "by", "reason"):
        retracted.add_column(column)
    for item in found["retracted"]:
        retracted.add_row(
            str(item["retracted_at"])[:19],
            str(item["event_id"]),
            str(item["event_type"] or "-"),
            str(item["conversation_id"] or "-"),
            str(item["retracted_by"]),
            str(item["reason"]),
        )
    console.print(retracted)


@app.command("retract")
def retract_command(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The id of the accepted event to retract.")],
    reason: Annotated[str, typer.Option(help="Why it should not count (kept with it).")],
    by: Annotated[
        str | None,
        typer.Option(help="Who retracts it, as recorded (default: cli:<your login>)."),
    ] = None,
) -> None:
    """Retract an accepted event: a tombstone is stored, nothing is deleted, and the facts
    of its conversation are recomputed without it."""
    from deskpulse.events.retraction import RetractionError, retract_event

    who = by.strip() if by and by.strip() else f"cli:{getpass.getuser()}"
    with opened_store(settings_of(ctx)) as store:
        try:
            done = retract_event(store, event_id, reason=reason, retracted_by=who)
        except RetractionError as error:
            raise fail(error.message) from None
        _refresh(store)
    where = f" on conversation {done.conversation_id}" if done.conversation_id else ""
    console.print(
        f"retracted [bold]{done.event_id}[/] ({done.event_type}{where}) by {done.retracted_by}: "
        f"{done.reason}",
        highlight=False,
    )
    console.print("the facts are recomputed without it; the audit trail: deskpulse rejected")


def _data_health(settings: Settings, limit: int) -> dict[str, Any]:
    """GET /api/v1/data-health's answer: from the running server, else from the store."""
    from deskpulse.facts.data_health import health_summary

    client = client_for(settings)
    if client is not None:
        found: dict[str, Any] = client.get_json("/api/v1/data-health", {"limit": limit})
        return found
    with opened_store(settings) as store:
        served: dict[str, Any] = as_served(health_summary(store, limit=limit))
    return served


# -- tokens ---------------------------------------------------------------------------------


def _django(settings: Settings) -> None:
    from deskpulse.web.bootstrap import setup_django
    from deskpulse.web.frontdoor import FrontDoorSettingError

    try:
        setup_django(settings)
    except FrontDoorSettingError as error:  # a DESKPULSE_PUBLIC_URL or login limit typo
        raise fail(str(error)) from error


class Scope(StrEnum):
    ingest = "ingest"
    read = "read"
    write = "write"


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'zendesk sync'.")],
    scope: Annotated[
        list[Scope], typer.Option("--scope", help="ingest, read and/or write (repeatable).")
    ] = [Scope.ingest],  # noqa: B006 - typer reads the default, it is never mutated
    user: Annotated[
        str | None, typer.Option(help="Owner's e-mail (default: service user).")
    ] = None,
) -> None:
    """Create a token; its secret is shown once."""
    _django(settings_of(ctx))
    from deskpulse.web.accounts.tokens import create_token

    try:
        token, secret = create_token(name=name, scopes=[s.value for s in scope], user_email=user)
    except ValueError as error:
        raise fail(str(error)) from error
    console.print(f"token [bold]{token.prefix}[/] created with scopes {', '.join(token.scopes)}")
    console.print("its secret, shown only now:")
    sys.stdout.write(secret + "\n")


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """List tokens (never their secrets)."""
    _django(settings_of(ctx))
    from deskpulse.web.accounts.tokens import list_tokens

    table = Table(title="API tokens")
    for column in ("prefix", "name", "scopes", "user", "created", "last used", "revoked"):
        table.add_column(column)
    for token in list_tokens():
        table.add_row(
            token.prefix,
            token.name,
            ", ".join(token.scopes),
            token.user.email or token.user.username,
            str(token.created_at)[:19],
            str(token.last_used_at or "-")[:19],
            str(token.revoked_at or "-")[:19],
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token: Annotated[str, typer.Argument(help="The token's prefix or id.")],
) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    _django(settings_of(ctx))
    from deskpulse.web.accounts.tokens import revoke_token

    try:
        revoked = revoke_token(token)
    except (LookupError, ValueError) as error:
        raise fail(str(error)) from error
    console.print(f"token {revoked.prefix} revoked")


# -- users ----------------------------------------------------------------------------------

# PersonError.field -> the option a CLI user typed, so errors name what to fix.
_PERSON_OPTIONS = {
    "email": "--email",
    "name": "--name",
    "role": "--role",
    "agent_id": "--agent-id",
    "password": "--password",
}


def _person_failure(error: Any) -> typer.Exit:
    option = _PERSON_OPTIONS.get(error.field)
    return fail(f"{option}: {error.message}" if option else str(error.message))


def _agent_directory(settings: Settings) -> dict[str, dict[str, Any]] | None:
    """The agents the events know, or None when the store cannot be opened (a running
    server holds the DuckDB file); the check it feeds is only a warning."""
    from deskpulse.events.store import open_store
    from deskpulse.metrics.report import agent_directory

    try:
        store = open_store(settings)
    except Exception:
        return None
    try:
        return agent_directory(store)
    except Exception:
        return None
    finally:
        store.close()


def _print_password(email: str, password: str) -> None:
    console.print(f"password for [bold]{email}[/], shown only now:", highlight=False)
    # Plain write: the line is for copying, and rich would wrap or colour it.
    sys.stdout.write(password + "\n")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Their email; they sign in with it.")],
    role: Annotated[str, typer.Option(help="owner, admin or agent.")],
    agent_id: Annotated[
        str | None,
        typer.Option("--agent-id", help="The agent_id their events carry (required for agents)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Their name, for lists.")] = "",
    password: Annotated[
        str | None, typer.Option(help="Their password (default: generate one, shown once).")
    ] = None,
) -> None:
    """Add a person with a role; an agent is linked to their agent id from the events."""
    settings = settings_of(ctx)
    _django(settings)
    from deskpulse.web.accounts.people import PersonError, add_user

    try:
        user, generated = add_user(
            email=email, role=role, agent_id=agent_id, name=name, password=password
        )
    except PersonError as error:
        raise _person_failure(error) from error
    console.print(f"added [bold]{user.email}[/] as {user.profile.role}", highlight=False)
    linked = user.profile.agent_id
    if linked:
        known = _agent_directory(settings)
        if known is not None and linked not in known:
            errors.print(
                f"[yellow]warning:[/] no agent {linked!r} in the events yet; their numbers "
                "appear once the helpdesk sends an agent.upserted with that id",
                highlight=False,
            )
    if generated is not None:
        _print_password(user.email, generated)


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """List people with their role, agent id and last sign-in."""
    _django(settings_of(ctx))
    from deskpulse.web.accounts.people import list_people

    table = Table(title="people")
    for column in ("email", "name", "role", "agent id", "active", "last sign-in"):
        table.add_column(column)
    for person in list_people():
        table.add_row(
            person.email,
            person.name or "-",
            person.role or "no role",
            person.agent_id or "-",
            "yes" if person.is_active else "no",
            str(person.last_login or "never")[:16],
        )
    console.print(table)


@user_app.command("password")
def user_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Whose password to set.")],
    password: Annotated[
        str | None, typer.Option(help="The new password (default: generate one, shown once).")
    ] = None,
) -> None:
    """Set a new password for someone (for a forgotten one, too)."""
    _django(settings_of(ctx))
    from deskpulse.web.accounts.people import PersonError, find_person, set_password

    try:
        user = find_person(email)
        generated = set_password(user, password)
    except PersonError as error:
        raise _person_failure(error) from error
    console.print(f"new password set for [bold]{user.email}[/]", highlight=False)
    if generated is not None:
        _print_password(user.email, generated)


@user_app.command("remove")
def user_remove(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Who to deactivate.")],
) -> None:
    """Deactivate someone: no sign-in, no API; their history stays."""
    _django(settings_of(ctx))
    from deskpulse.web.accounts.people import PersonError, deactivate

    try:
        user = deactivate(email)
    except PersonError as error:
        raise _person_failure(error) from error
    console.print(
        f"{user.email} is deactivated; their API tokens stop working too", highlight=False
    )


@user_app.command("unlock")
def user_unlock(
    ctx: typer.Context,
    email: Annotated[
        str | None, typer.Option(help="Whose account to unlock, from every address.")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="An IP address to unlock for every account (the lockout page shows it)."),
    ] = None,
) -> None:
    """Lift a sign-in lockout: forget the failed sign-ins of an account or an address."""
    if not email and not address:
        raise fail("give --email (an account) or --address (an IP address), or both")
    _django(settings_of(ctx))
    from deskpulse.web.accounts.people import PersonError, find_person
    from deskpulse.web.accounts.throttle import unlock_account, unlock_address

    if email:
        try:
            user = find_person(email)
        except PersonError as error:
            raise _person_failure(error) from error
        unlock_account(user)
        console.print(
            f"[bold]{user.email}[/] can sign in again: their failed sign-ins are forgotten",
            highlight=False,
        )
    if address:
        try:
            unlock_address(address)
        except ValueError as error:
            raise fail(f"--address: {error}") from error
        console.print(f"sign-in from {address.strip()} is open again", highlight=False)


# -- serve and demo -------------------------------------------------------------------------


LOCAL_CLI_TOKEN = "deskpulse CLI on this machine"


def _serve(settings: Settings, host: str, port: int, *, announce: bool = False) -> None:
    """Serve until stopped, as the one owner of a DuckDB data folder (data_folder.py)."""
    from deskpulse.data_folder import FolderInUseError, claimed, describe_server
    from deskpulse.web.server import serve

    try:
        with claimed(settings):
            if announce:
                console.print(
                    f"deskpulse serving {settings.data_dir} at [bold]http://{host}:{port}/[/]"
                )
            token = _local_cli_token()
            describe_server(settings, _reachable_url(host, port), token)
            try:
                serve(settings, host=host, port=port)
            finally:
                _revoke_local_cli_tokens()
    except FolderInUseError as error:
        raise fail(str(error)) from error


def _reachable_url(host: str, port: int) -> str:
    """Where a CLI on this machine reaches a server listening on `host`."""
    if host in {"0.0.0.0", ""}:
        host = "127.0.0.1"
    elif host in {"::", "[::]"}:
        host = "::1"
    return f"http://[{host.strip('[]')}]:{port}" if ":" in host else f"http://{host}:{port}"


def _local_cli_token() -> str:
    """A fresh token for the CLI of this machine to work through the server; the
    previous server's (if it was killed) stops working."""
    from deskpulse.web.accounts.tokens import create_token

    _revoke_local_cli_tokens()
    _token, secret = create_token(name=LOCAL_CLI_TOKEN, scopes=["read", "ingest", "write"])
    return secret


def _revoke_local_cli_tokens() -> None:
    from deskpulse.web.accounts.models import ApiToken

    ApiToken.objects.filter(name=LOCAL_CLI_TOKEN, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


def _warn_if_pinned() -> None:
    pinned = clock.pinned()
    if pinned is not None:
        console.print(
            f"[yellow]the clock is pinned at {pinned.isoformat()} by {clock.ENVIRONMENT_VARIABLE}:"
            " every relative period ends there (unset it for live data)[/]"
        )


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app and JSON API on a production WSGI server (gunicorn)."""
    settings = settings_of(ctx).for_server()
    _django(settings)
    _warn_if_pinned()
    _serve(settings, host, port, announce=True)


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    conversations: Annotated[int, typer.Option(min=100, help="Conversations to simulate.")] = (
        60_000
    ),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    fresh: Annotated[
        bool, typer.Option(help="Generate and import again even if the folder has data.")
    ] = False,
    serve: Annotated[bool, typer.Option(help="Serve after loading (--no-serve to stop).")] = True,
    real: Annotated[
        bool,
        typer.Option(
            "--real", help="Load the real public samples (TWCS, ServiceNow) instead of generating."
        ),
    ] = False,
    real_data: Annotated[
        Path | None,
        typer.Option(
            "--real-data",
            envvar="DESKPULSE_REALDATA",
            help="Folder of the real samples for --real.",
            show_default="../shared/realdata next to the repository",
        ),
    ] = None,
) -> None:
    """Generate a realistic support team's data, import it, and serve it."""
    settings = settings_of(ctx)
    samples = _real_samples(real_data) if real else None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with opened_store(settings) as store:
        loaded = store.count("events")
    if loaded and not fresh:
        console.print(f"{settings.data_dir} already holds {loaded:,} events; reusing them")
    else:
        if loaded:
            raise fail(
                f"{settings.data_dir} already holds events; --fresh needs an empty folder "
                "(use --data to pick another)"
            )
        if samples is not None:
            _load_real(settings, samples)
        else:
            path = settings.data_dir / "demo-events.jsonl"
            summary = _generate(path, conversations=conversations, days=120, seed=seed, end=None)
            console.print(f"generated {summary.events:,} events")
            imported = _import(settings, [str(path)])
            _print_import(imported)
    _demo_models(settings)
    settings = settings.for_server()
    _django(settings)
    define_demo_experiment(settings)
    define_demo_alerts(settings)
    secret = _demo_token(settings)
    url = f"http://{host}:{port}/"
    logins = _demo_logins(settings, url)
    console.print()
    # soft_wrap: the URL must stay on one line to be clickable and copyable.
    if serve:
        console.print(f"[bold green]deskpulse demo ready:[/] {url}analytics/", soft_wrap=True)
    else:
        console.print(
            f"[bold green]deskpulse demo loaded;[/] `deskpulse serve` serves it at {url}analytics/",
            soft_wrap=True,
        )
    # Plain prints: these lines are for copying, and rich would wrap them.
    if samples is not None:
        # The samples are years old: the default "last 30 days" would show nothing.
        for source, last_day in _latest_days(settings).items():
            print(f"  {source:<13} {url}analytics/?period=90d&as_of={last_day}", flush=True)
    for line in logins:
        print(f"  {line}", flush=True)
    print(f"  performance   {url}performance/  (agent pages, coaching plans)", flush=True)
    print(f"  models        {url}models/", flush=True)
    print(f"  signals       {url}analytics/signals/  (where the system is creaking)", flush=True)
    print(f"  AI agents     {url}ai-agents/  (quality report: {url}ai-agents/quality/)", flush=True)
    print(f"  experiments   {url}experiments/", flush=True)
    print(f"  alerts        {url}alerts/", flush=True)
    print(f"  API docs      {url}api/v1/docs", flush=True)
    print(f"  API token     {secret}", flush=True)
    print(f"  team report   curl -H 'Authorization: Bearer {secret}' {url}api/v1/report")
    print(f"  CLI           deskpulse --data {settings.data_dir} report --period 30d", flush=True)
    _warn_if_pinned()
    if serve:
        _serve(settings, host, port)


def _demo_models(settings: Settings) -> None:
    """Train the prediction models once, so the performance pages show predictions.

    A folder that already has a model version keeps it (the weekly job retrains).
    """
    from deskpulse.models.training import TrainingError, train
    from deskpulse.models.versions import current_version

    if current_version(settings) is not None:
        return
    with opened_store(settings) as store, _bar() as bar:
        task = bar.add_task("training models", total=None)
        try:
            report = train(
                store,
                settings,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                on_step=lambda step: bar.update(task, description=step),
            )
        except TrainingError as error:
            # Real samples may carry no outcome to learn from: the pages then show
            # measured rates and say so, which is the documented fallback.
            console.print(f"models not trained ({error.message}); showing measured rates")
            return
    # Each outcome falls back on its own, so name what each channel predicts.
    predicting = [
        f"{card.channel} ({' and '.join(card.predicted)})"
        for card in report.cards.channels
        if card.predicted
    ]
    console.print(
        f"trained model version {report.version} in {report.seconds:.1f} s; "
        f"predicting: {', '.join(predicting) or 'nothing (measured rates shown)'}",
        highlight=False,
    )


def _latest_days(settings: Settings) -> dict[str, str]:
    """Each source's (conversation id prefix's) last day with a new conversation."""
    with opened_store(settings) as store:
        facts = store.con.table("conversation_facts")
        source = facts.conversation_id.split(":")[0]
        latest = (
            facts.group_by(source=source)
            .aggregate(last=facts.created_at.max())
            .order_by("source")
            .to_pyarrow()
            .to_pylist()
        )
    return {row["source"]: row["last"].date().isoformat() for row in latest if row["last"]}


# The real public samples `demo --real` loads: file name -> shipped mapping.
REAL_SAMPLES = {
    "twcs_sample.csv": "twcs",
    "servicenow_incident_event_log_sample.csv": "servicenow",
}


def _real_samples(folder: Path | None) -> list[tuple[Path, str]]:
    # Default: ../shared/realdata beside the repository (src/deskpulse/cli.py -> repo).
    where = folder or Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
    found = [(where / name, mapping) for name, mapping in REAL_SAMPLES.items()]
    missing = [str(path) for path, _mapping in found if not path.is_file()]
    if missing:
        raise fail(
            f"--real: no {', '.join(missing)} (point --real-data or DESKPULSE_REALDATA "
            "at the folder holding the samples)"
        )
    return found


def _load_real(settings: Settings, samples: list[tuple[Path, str]]) -> None:
    with opened_store(settings) as store:
        for path, name in samples:
            console.print(f"loading {path.name} with the {name} mapping")
            _print_mapped(_import_with_mapping(store, _load_mapping(name), [path], None))


DEMO_OWNER_EMAIL = "owner@deskpulse.local"
DEMO_DOMAIN = "deskpulse.local"


def _demo_logins(settings: Settings, url: str) -> list[str]:
    """Sign-in lines for the demo's owner and one agent, created on the first run only.

    A password is printed only when its account is made: it is stored hashed, so a later
    run can only say how to set a new one.
    """
    from deskpulse.web.accounts.people import PersonError, add_user

    login_url = f"{url}accounts/login/"
    lines: list[str] = []
    directory = _agent_directory(settings) or {}
    humans = sorted(
        agent_id
        for agent_id, row in directory.items()
        if (row.get("kind") or "human") == "human" and row.get("active", True)
    )
    wanted: list[tuple[str, str, str | None, str]] = [
        ("owner", DEMO_OWNER_EMAIL, None, "Demo Owner")
    ]
    if humans:
        first = humans[0]
        name = directory[first].get("name") or first
        wanted.append(("agent", f"{first}@{DEMO_DOMAIN}", first, str(name)))
    for role, email, agent_id, name in wanted:
        what = "owner" if role == "owner" else f"agent {name}: their own numbers"
        try:
            _user, password = add_user(email=email, role=role, agent_id=agent_id, name=name)
        except PersonError as error:
            if error.field == "email":
                lines.append(
                    f"{email} exists ({what}); to set a new password: "
                    f"deskpulse --data {settings.data_dir} user password --email {email}"
                )
            else:  # the agent id is already linked to someone added by hand
                lines.append(f"no {role} login {email}: {error.message}")
            continue
        assert password is not None
        lines.append(f"Sign in at {login_url} as {email} / {password}   ({what})")
    return lines


def _demo_token(settings: Settings) -> str:
    """A read+ingest token for the demo, created once; its secret is kept in the folder."""
    from deskpulse.web.accounts.tokens import create_token

    saved = settings.data_dir / "demo-token.txt"
    if saved.exists():
        return saved.read_text().strip()
    _token, secret = create_token(
        name=f"demo {secrets.token_hex(2)}", scopes=["ingest", "read"], user_email=None
    )
    saved.write_text(secret + "\n")
    saved.chmod(0o600)
    return secret


# -- scheduled jobs ---------------------------------------------------------------------------

jobs_app = typer.Typer(
    help="Scheduled jobs (coaching-plan refresh, model retraining): list them, run them from cron.",
    no_args_is_help=True,
)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list(ctx: typer.Context) -> None:
    """Each job with its interval, its last run and when it runs next."""
    _django(settings_of(ctx))

    from deskpulse.web.jobs import ensure_states, registered

    states = ensure_states(clock.now())
    table = Table(title="Scheduled jobs")
    for column in ("job", "every", "last run (UTC)", "status", "next run (UTC)", "what it does"):
        table.add_column(column)
    for job in registered():
        state = states[job.name]
        last = "-" if state.last_started_at is None else str(state.last_started_at)[:19]
        status = state.last_status or "-"
        if state.lease_until is not None and state.lease_until > clock.now():
            status = "running"
        if state.last_message and status not in {"-", "running"}:
            status = f"{status}: {state.last_message}"
        table.add_row(
            job.name, job.every_text, last, status, str(state.next_run_at)[:19], job.description
        )
    console.print(table)


@jobs_app.command("run")
def jobs_run(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Run this job now, due or not (see `jobs list`).")
    ] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every job now, due or not.")] = False,
) -> None:
    """Run the jobs that are due (for cron), one job by name, or --all.

    A job already running elsewhere (the server, another cron run) is left alone. Set
    DESKPULSE_SCHEDULER=off for the server when cron runs the jobs instead.
    """
    settings = settings_of(ctx)
    _django(settings)

    from deskpulse.web.jobs import JobContext, job_named, registered, run_job

    if name is not None and run_all:
        raise fail("give a job name or --all, not both")
    try:
        chosen = [job_named(name)] if name is not None else registered()
    except KeyError as error:
        raise fail(str(error.args[0])) from error
    force = name is not None or run_all
    failed = False
    with opened_store(settings) as store, _bar() as bar:
        for job in chosen:
            task = bar.add_task(job.name, total=None)
            steps = {"total": 1}

            def progress(done: int, total: int, task: Any = task, steps: Any = steps) -> None:
                steps["total"] = max(total, 1)
                bar.update(task, completed=done, total=total)

            context = JobContext(settings, clock.now(), lambda: store, progress)
            result = run_job(job, context, force=force)
            bar.update(task, completed=steps["total"], total=steps["total"])
            colour = {"ok": "green", "failed": "red", "skipped": "yellow"}.get(result.outcome)
            label = f"[{colour}]{result.outcome}[/]" if colour else result.outcome
            bar.console.print(f"{job.name}: {label} - {result.message}", highlight=False)
            failed = failed or result.outcome == "failed"
    if failed:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
