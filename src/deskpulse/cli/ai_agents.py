"""`deskpulse ai-report`: the AI agents' numbers and the quality report in a terminal.

The targets are the install's (set at /settings/ai-targets/), read from the app
database. The data is the API's (`GET /api/v1/ai-agents…`), read from the store, or
from the running server while one holds the data folder (remote.py); the tables are
printed from that JSON, so both print the same.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from deskpulse.cli.context import Cli
from deskpulse.cli.options import (
    AsOfOption,
    FromOption,
    PeriodOption,
    ReportFormat,
    ToOption,
    day_of,
    read_period,
)
from deskpulse.cli.remote import ServerClient, as_served, client_for, window_params, write_json

if TYPE_CHECKING:
    from deskpulse.metrics.window import Window


def ai_report_command(
    ctx: typer.Context,
    period: PeriodOption = "30d",
    as_of: AsOfOption = None,
    start: FromOption = None,
    end: ToOption = None,
    agent: Annotated[
        str | None, typer.Option("--agent", help="One AI agent (its agent id).")
    ] = None,
    output: Annotated[ReportFormat, typer.Option("--format", help="table, json or csv.")] = (
        ReportFormat.table
    ),
) -> None:
    """AI agents: resolution, escalation (with reasons), CSAT, cost and turns, each with
    its sample size, and the quality report against the install's targets."""
    cli = Cli.of(ctx)
    window = read_period(cli.settings, period, as_of, start, end)
    client = client_for(cli.settings)
    if client is not None:
        found = _from_server(cli, client, window, agent, output)
    else:
        found = _from_store(cli, window, agent, output)
    if isinstance(found, str):
        sys.stdout.write(found)
    elif output is ReportFormat.json:
        write_json(found)
    else:
        _print(cli, found, cli.settings.currency)


def _not_an_ai_agent(agent: str | None) -> str:
    return f"--agent: {agent!r} is not an AI agent"


def _from_server(
    cli: Cli, client: ServerClient, window: Window, agent: str | None, output: ReportFormat
) -> str | dict[str, Any]:
    """The API's answers: the quality report as CSV, or {"report", "quality"}."""
    params = {**window_params(window), "agent": agent}
    missing = _not_an_ai_agent(agent)
    with cli.errors.status(f"asking {client.server.url}"):
        if output is ReportFormat.csv:
            return client.get_text("/api/v1/ai-agents/quality.csv", params, missing=missing)
        path = "/api/v1/ai-agents" + ("" if agent is None else f"/{quote(agent, safe='')}")
        report = client.get_json(path, window_params(window), missing=missing)
        quality = client.get_json("/api/v1/ai-agents/quality", params, missing=missing)
    return {"report": report, "quality": quality}


def _from_store(
    cli: Cli, window: Window, agent: str | None, output: ReportFormat
) -> str | dict[str, Any]:
    """What the API would answer, read from the store: CSV, or {"report", "quality"}."""
    from deskpulse.analysis.ai_agents import ai_agents_report
    from deskpulse.analysis.ai_quality import build_quality_report, quality_csv
    from deskpulse.facts.build import facts_exist
    from deskpulse.metrics.query import NotVisibleError, QueryError, QueryTimeoutError

    cli.django()
    from deskpulse.web.ai_agents.models import current_targets

    targets = current_targets()
    # Errors are raised out of the progress display, so their line is the last one.
    try:
        with cli.store() as store:
            if not facts_exist(store):
                raise cli.fail("no facts yet: import events first (deskpulse import FILE)")
            with cli.steps() as progress:
                step = progress.add_task("measuring the AI agents", total=None)
                report = ai_agents_report(
                    store, window, agent_id=agent, half_life_days=targets.half_life_days
                )
                progress.update(step, description="checking the targets")
                quality = build_quality_report(report, targets)
                progress.update(step, description="done")
    except NotVisibleError:
        raise cli.fail(_not_an_ai_agent(agent)) from None
    except (QueryError, QueryTimeoutError) as error:
        raise cli.fail(str(error)) from error
    if output is ReportFormat.csv:
        csv: str = quality_csv(quality)
        return csv
    from deskpulse.web.ai_agents.api import quality_json, report_json

    served: dict[str, Any] = as_served(
        {"report": report_json(report), "quality": quality_json(quality)}
    )
    return served


def _print(cli: Cli, found: dict[str, Any], currency: str) -> None:
    """The report as tables, from the JSON `--format json` prints."""
    from rich.table import Table

    from deskpulse.analysis.ai_agents import AI_METRICS
    from deskpulse.analysis.ai_quality import STATUS_LABELS
    from deskpulse.metrics.format import EMPTY, format_value
    from deskpulse.metrics.registry import REGISTRY

    console = cli.console
    report, quality = found["report"], found["quality"]
    span = report["period"]

    def shown(name: str, reading: dict[str, Any]) -> str:
        text: str = format_value(REGISTRY[name], reading["value"], currency)
        return text

    who = report["agent"]["name"] if report["agent"] is not None else "all AI agents"
    console.print(
        f"[bold]deskpulse AI report[/] · {who} · {day_of(span['from'])} → {day_of(span['to'])}",
        highlight=False,
    )
    numbers = Table(title="AI agents and people only (team aggregate)")
    numbers.add_column("metric")
    numbers.add_column("AI agents", justify="right")
    numbers.add_column("n", justify="right")
    numbers.add_column("people only", justify="right")
    numbers.add_column("n", justify="right")
    overall, humans = report["overall"], report["humans_only"]
    people_cost = humans["cost_total"]["n"] > 0
    for name in AI_METRICS:
        human = humans.get(name)
        if name.startswith("cost_") and not people_cost:
            human = None  # no cost recorded on people's conversations: not $0
        label = REGISTRY[name].label
        if name == "csat_recency_weighted":
            label = f"CSAT, half-life {report['half_life_days']:g} days"
        numbers.add_row(
            label,
            shown(name, overall[name]),
            f"{overall[name]['n']:,}",
            "" if human is None else shown(name, human),
            "" if human is None else f"{human['n']:,}",
        )
    console.print(numbers)

    if report["agent"] is None and report["agents"]:
        agents = Table(title="each AI agent (busiest first)")
        columns = ("conversations", "ai_resolved_rate", "escalation_rate", "csat_mean")
        agents.add_column("AI agent")
        for name in (*columns, "cost_per_conversation"):
            agents.add_column(REGISTRY[name].label, justify="right")
        agents.add_column("top escalation reason")
        for row in report["agents"]:
            metrics = row["metrics"]
            cells = [shown(name, metrics[name]) for name in columns]
            cells[-1] += f" ({metrics['csat_mean']['n']})"
            reasons = row["escalation_reasons"]
            agents.add_row(
                row["name"],
                *cells,
                shown("cost_per_conversation", metrics["cost_per_conversation"]),
                reasons[0]["label"] if reasons else EMPTY,
            )
        console.print(agents)

    if report["escalation_reasons"]:
        reasons = Table(title=f"escalation reasons ({report['escalated']} escalated)")
        reasons.add_column("reason")
        reasons.add_column("escalations", justify="right")
        reasons.add_column("share", justify="right")
        for reason in report["escalation_reasons"]:
            share = EMPTY if reason["share"] is None else f"{100 * reason['share']:.1f}%"
            reasons.add_row(reason["label"], str(reason["count"]), share)
        console.print(reasons)

    summary = quality["summary"]
    cost = REGISTRY["cost_total"]
    saved = (
        EMPTY
        if summary["cost_saved"] is None
        else format_value(cost, summary["cost_saved"], currency)
    )
    difference = (
        EMPTY if summary["csat_difference"] is None else f"{summary['csat_difference']:+.2f}"
    )
    console.print("\n[bold]executive summary[/]")
    console.print(
        f"cost saved {saved} = {summary['ai_handled_conversations']} AI-handled conversations x "
        f"{format_value(cost, summary['human_cost_per_conversation'], currency)}"
        f" - {shown('cost_total', summary['ai_cost_total'])} the AI agents cost in all "
        "(handed-over conversations included)",
        highlight=False,
    )
    console.print(
        f"AI handled {shown('ai_handled_rate', summary['ai_share'])} of all conversations "
        f"({summary['ai_handled_conversations']} of {summary['all_conversations']})",
        highlight=False,
    )
    csat_ai, csat_human = summary["csat_ai"], summary["csat_human"]
    console.print(
        f"CSAT AI - people {difference} ({shown('csat_mean', csat_ai)}, n "
        f"{csat_ai['n']} vs {shown('csat_mean', csat_human)}, n {csat_human['n']})",
        highlight=False,
    )
    for note in quality["notes"]:
        console.print(f"[yellow]{note}[/]", highlight=False)

    console.print("\n[bold]quality checks[/]")
    colour = {"high": "red", "medium": "yellow", "low": "cyan"}
    for check in quality["checks"]:
        reading = check["current"]
        console.print(
            f"[{colour[check['severity']]}]{check['area']}[/] {shown(check['metric'], reading)} "
            f"(n {reading['n']}) · {STATUS_LABELS[check['status']].lower()}"
            + (" · few samples" if check["few"] else ""),
            highlight=False,
        )
        if check["recommendation"]:
            console.print(f"  [dim]what to do:[/] {check['recommendation']}", highlight=False)
