"""`deskpulse ai-report`: the AI agents' numbers and the quality report in a terminal.

Registered on the main command by `register(app)` in deskpulse/cli.py. The shared
helpers (settings, store, progress, one-line errors) are deskpulse.cli's, imported when
the command runs: that module imports this one. The targets are the install's (set at
/settings/ai-targets/), read from the app database.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deskpulse.cli_options import AsOfOption, FromOption, PeriodOption, ToOption

if TYPE_CHECKING:
    from deskpulse.analysis.ai_agents import AiAgentsReport
    from deskpulse.analysis.ai_quality import QualityReport


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    app.command("ai-report")(ai_report_command)


def _main() -> Any:
    from deskpulse import cli

    return cli


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
    from deskpulse.analysis.ai_agents import ai_agents_report
    from deskpulse.analysis.ai_quality import build_quality_report, quality_csv
    from deskpulse.facts.build import facts_exist
    from deskpulse.metrics.query import NotVisibleError, QueryError, QueryTimeoutError

    cli = _main()
    window = cli._window(period, as_of, start, end)
    settings = cli.settings_of(ctx)
    with cli._steps() as progress:
        step = progress.add_task("reading the targets", total=None)
        cli._django(settings)
        from deskpulse.web.ai_agents.models import current_targets

        targets = current_targets()
        with cli.opened_store(settings) as store:
            if not facts_exist(store):
                raise cli.fail("no facts yet: import events first (deskpulse import FILE)")
            progress.update(step, description="measuring the AI agents")
            try:
                report = ai_agents_report(
                    store, window, agent_id=agent, half_life_days=targets.half_life_days
                )
            except NotVisibleError:
                raise cli.fail(f"--agent: {agent!r} is not an AI agent") from None
            except (QueryError, QueryTimeoutError) as error:
                raise cli.fail(str(error)) from error
        progress.update(step, description="checking the targets")
        quality = build_quality_report(report, targets)
        progress.update(step, description="done")
    if output is ReportFormat.csv:
        sys.stdout.write(quality_csv(quality))
        return
    if output is ReportFormat.json:
        from deskpulse.web.api_ai_agents import quality_json, report_json

        body = {"report": report_json(report), "quality": quality_json(quality)}
        sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
        return
    _print(report, quality, settings.currency)


def _print(report: AiAgentsReport, quality: QualityReport, currency: str) -> None:
    from rich.table import Table

    from deskpulse.analysis.ai_agents import AI_METRICS
    from deskpulse.metrics.format import EMPTY, format_value
    from deskpulse.metrics.registry import REGISTRY

    console = _main().console
    span = report.period

    def shown(name: str, reading: Any) -> str:
        text: str = format_value(REGISTRY[name], reading.value, currency)
        return text

    who = report.agent.name if report.agent is not None else "all AI agents"
    console.print(
        f"[bold]deskpulse AI report[/] · {who} · {span.start:%Y-%m-%d} → {span.end:%Y-%m-%d}",
        highlight=False,
    )
    numbers = Table(title="AI agents and people only (team aggregate)")
    numbers.add_column("metric")
    numbers.add_column("AI agents", justify="right")
    numbers.add_column("n", justify="right")
    numbers.add_column("people only", justify="right")
    numbers.add_column("n", justify="right")
    people_cost = report.humans["cost_total"].n > 0
    for name in AI_METRICS:
        human = report.humans.get(name)
        if name.startswith("cost_") and not people_cost:
            human = None  # no cost recorded on people's conversations: not $0
        label = REGISTRY[name].label
        if name == "csat_recency_weighted":
            label = f"CSAT, half-life {report.half_life_days:g} days"
        numbers.add_row(
            label,
            shown(name, report.overall[name]),
            f"{report.overall[name].n:,}",
            "" if human is None else shown(name, human),
            "" if human is None else f"{human.n:,}",
        )
    console.print(numbers)

    if report.agent is None and report.agents:
        agents = Table(title="each AI agent (busiest first)")
        columns = ("conversations", "ai_resolved_rate", "escalation_rate", "csat_mean")
        agents.add_column("AI agent")
        for name in (*columns, "cost_per_conversation"):
            agents.add_column(REGISTRY[name].label, justify="right")
        agents.add_column("top escalation reason")
        for row in report.agents:
            cells = [shown(name, row.metrics[name]) for name in columns]
            csat = row.metrics["csat_mean"]
            cells[-1] += f" ({csat.n})"
            agents.add_row(
                row.name,
                *cells,
                shown("cost_per_conversation", row.metrics["cost_per_conversation"]),
                row.reasons[0].label if row.reasons else EMPTY,
            )
        console.print(agents)

    if report.reasons:
        reasons = Table(title=f"escalation reasons ({report.escalated} escalated)")
        reasons.add_column("reason")
        reasons.add_column("escalations", justify="right")
        reasons.add_column("share", justify="right")
        for reason in report.reasons:
            share = EMPTY if reason.share is None else f"{100 * reason.share:.1f}%"
            reasons.add_row(reason.label, str(reason.count), share)
        console.print(reasons)

    summary = quality.summary
    saved = (
        EMPTY
        if summary.cost_saved is None
        else format_value(REGISTRY["cost_total"], summary.cost_saved, currency)
    )
    difference = EMPTY if summary.csat_difference is None else f"{summary.csat_difference:+.2f}"
    console.print("\n[bold]executive summary[/]")
    console.print(
        f"cost saved {saved} = {summary.ai_handled_conversations} AI-handled conversations x "
        f"({format_value(REGISTRY['cost_total'], summary.human_cost_per_conversation, currency)}"
        f" - {shown('cost_per_conversation', summary.ai_cost_per_conversation)})",
        highlight=False,
    )
    console.print(
        f"AI handled {shown('ai_handled_rate', summary.ai_share)} of all conversations "
        f"({summary.ai_handled_conversations} of {summary.all_conversations})",
        highlight=False,
    )
    console.print(
        f"CSAT AI - people {difference} ({shown('csat_mean', summary.csat_ai)}, n "
        f"{summary.csat_ai.n} vs {shown('csat_mean', summary.csat_human)}, n "
        f"{summary.csat_human.n})",
        highlight=False,
    )
    for note in quality.notes:
        console.print(f"[yellow]{note}[/]", highlight=False)

    console.print("\n[bold]quality checks[/]")
    colour = {"high": "red", "medium": "yellow", "low": "cyan"}
    for check in quality.checks:
        reading = shown(check.metric, check.reading)
        console.print(
            f"[{colour[check.severity]}]{check.area}[/] {reading} (n {check.reading.n}) · "
            f"{check.status_label.lower()}" + (" · few samples" if check.few else ""),
            highlight=False,
        )
        if check.recommendation:
            console.print(f"  [dim]what to do:[/] {check.recommendation}", highlight=False)
