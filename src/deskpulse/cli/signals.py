"""`deskpulse signals`: where, by queue, inquiry and channel, the numbers moved beyond chance.

The data is the API's (`GET /api/v1/signals`), read from the store, or from the running
server while one holds the data folder (remote.py); the text is printed from that JSON,
so both print the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from deskpulse.cli.context import Cli
from deskpulse.cli.options import (
    AsOfOption,
    FormatOption,
    FromOption,
    OutputFormat,
    PeriodOption,
    ToOption,
    day_of,
    read_period,
)
from deskpulse.cli.remote import as_served, client_for, window_params, write_json

if TYPE_CHECKING:
    from deskpulse.metrics.window import Window


def signals_command(
    ctx: typer.Context,
    period: PeriodOption = "30d",
    as_of: AsOfOption = None,
    start: FromOption = None,
    end: ToOption = None,
    team: Annotated[str | None, typer.Option(help="Only this team's conversations.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the strongest N.")] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Friction signals: where, by queue, inquiry and channel, the numbers moved beyond chance."""
    cli = Cli.of(ctx)
    window = read_period(cli.settings, period, as_of, start, end)
    with cli.errors.status("testing every queue, inquiry and channel"):
        report = _signals_data(cli, window, team=team, limit=limit)
    if output is OutputFormat.json:
        write_json(report)
        return
    _print_signals(cli, report)


def _signals_data(
    cli: Cli, window: Window, *, team: str | None, limit: int | None
) -> dict[str, Any]:
    """GET /api/v1/signals' answer: from the running server, else from the store."""
    from deskpulse.analysis.signals import compute_signals
    from deskpulse.facts.build import facts_exist
    from deskpulse.metrics.query import Filters, QueryError

    # The period as the conversations links carry it: the moments as read here, so a
    # link shows exactly the period these signals cover.
    period = window_params(window)
    client = client_for(cli.settings)
    if client is not None:
        found: dict[str, Any] = client.get_json(
            "/api/v1/signals", {**period, "team": team, "limit": limit}
        )
        return found
    with cli.store() as store:
        if not facts_exist(store):
            raise cli.fail("no facts yet: import events first (deskpulse import FILE)")
        try:
            report = compute_signals(store, window, filters=Filters(team=team))
        except QueryError as error:
            raise cli.fail(str(error)) from error
    link = {name: value for name, value in period.items() if value}
    served: dict[str, Any] = as_served(report.as_json(link, limit))
    return served


def _print_signals(cli: Cli, report: dict[str, Any]) -> None:
    console = cli.console
    span, before = report["period"], report["previous_period"]
    console.print(
        f"[bold]friction signals[/]  {day_of(span['from'])} → {day_of(span['to'])}, against "
        f"{day_of(before['from'])} → {day_of(before['to'])}"
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
