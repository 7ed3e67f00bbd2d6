"""`deskpulse report`: the team's KPIs and the agent leaderboard for a period.

The data is the API's (`GET /api/v1/report`), read from the store, or from the running
server while one holds the data folder (remote.py); the tables are printed from that
JSON, so both print the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from deskpulse.cli.context import Cli
from deskpulse.cli.options import (
    AsOfOption,
    FormatOption,
    FromOption,
    OutputFormat,
    PeriodOption,
    ToOption,
    read_period,
)
from deskpulse.cli.remote import as_served, client_for, window_params, write_json

if TYPE_CHECKING:
    from deskpulse.metrics.window import Window


def report_command(
    ctx: typer.Context,
    period: PeriodOption = "30d",
    as_of: AsOfOption = None,
    start: FromOption = None,
    end: ToOption = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    inquiry: Annotated[str | None, typer.Option(help="Only this inquiry.")] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Team KPIs and the agent leaderboard for a period, each number with its sample size."""
    cli = Cli.of(ctx)
    window = read_period(cli.settings, period, as_of, start, end)
    filters = {"team": team, "channel": channel, "inquiry": inquiry}
    report = _report_data(cli, window, filters)
    if output is OutputFormat.json:
        write_json(report)
        return
    _print_report(cli, report)


def _report_data(cli: Cli, window: Window, filters: dict[str, str | None]) -> dict[str, Any]:
    """GET /api/v1/report's answer: from the running server, else from the store."""
    from pydantic import ValidationError

    from deskpulse.facts.build import facts_exist
    from deskpulse.metrics.query import Filters, QueryError
    from deskpulse.metrics.report import build_report

    client = client_for(cli.settings)
    if client is not None:
        found: dict[str, Any] = client.get_json(
            "/api/v1/report", {**window_params(window), **filters}
        )
        return found
    with cli.store() as store:
        if not facts_exist(store):
            raise cli.fail("no facts yet: import events first (deskpulse import FILE)")
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
            where = ".".join(map(str, first["loc"])) or "query"
            raise cli.fail(f"{where}: {first['msg']}") from error
        except QueryError as error:
            raise cli.fail(str(error)) from error
    served: dict[str, Any] = as_served(report)
    return served


def _print_report(cli: Cli, report: dict[str, Any]) -> None:
    from deskpulse.metrics.format import format_value
    from deskpulse.metrics.registry import REGISTRY

    console = cli.console
    span = report["period"]
    console.print(f"[bold]deskpulse report[/]  {span['from']} → {span['to']}")
    kpis = Table(title="team")
    kpis.add_column("metric")
    kpis.add_column("value", justify="right")
    kpis.add_column("n", justify="right")
    kpis.add_column("previous", justify="right")
    # Outcomes that mature (docs/metrics.md): rows not final yet, left out of value and n.
    kpis.add_column("still maturing", justify="right")
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
            f"{cell['pending']:,}" if cell.get("pending") else "",
        )
    console.print(kpis)
    board = Table(title="agents (by conversations handled; not a ranking)")
    columns = (
        ("handled", "handled"),
        ("first_response_median", "median first response"),
        ("csat_mean", "CSAT"),
        ("ai_drafted_rate", "AI-drafted replies"),
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
