"""`deskpulse experiments`: list, show and define A/B experiments from a terminal.

Definitions live in the app database, like the web app's, and are validated by the same
form; results come from the same analysis code.

`list` and `show` answer with the API's JSON (`/api/v1/experiments…`): read from the
store, or from the running server while one holds the data folder (remote.py), and
print from it, so both print the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from deskpulse.cli.context import Cli
from deskpulse.cli.options import FormatOption, OutputFormat, read_time
from deskpulse.cli.remote import as_served, client_for, moment_param, write_json

if TYPE_CHECKING:
    from deskpulse.events.store import Store

experiments_app = typer.Typer(
    help="A/B experiments: list them, show a result, define one.", no_args_is_help=True
)

# Form field -> the option a CLI user typed, so errors name what to fix.
_OPTIONS = {
    "key": "KEY",
    "name": "--name",
    "hypothesis": "--hypothesis",
    "control": "--control",
    "treatment": "--treatment",
    "primary_metric": "--primary",
    "guardrail_metrics": "--guardrail",
    "start_date": "--start",
    "end_date": "--end",
    "alpha": "--alpha",
    "mde_percent": "--mde",
    "treatment_percent": "--treatment-share",
}


def _list_data(cli: Cli, as_of: datetime | None) -> dict[str, Any]:
    """GET /api/v1/experiments' answer: from the running server, else from the store."""
    client = client_for(cli.settings)
    if client is not None:
        found: dict[str, Any] = client.get_json(
            "/api/v1/experiments", {"as_of": moment_param(as_of)}
        )
        return found
    cli.django()
    from deskpulse.web.experiments.models import Experiment
    from deskpulse.web.experiments.service import summary_json

    experiments = list(Experiment.objects.all())
    with cli.store() as store:
        _facts_for(store, experiments)
        listed = [summary_json(store, experiment, as_of) for experiment in experiments]
    served: dict[str, Any] = as_served({"experiments": listed})
    return served


def _show_data(cli: Cli, key: str, as_of: datetime | None) -> dict[str, Any]:
    """GET /api/v1/experiments/KEY's answer: from the running server, else the store."""
    missing = f"no experiment with the key {key!r} (see: deskpulse experiments list)"
    client = client_for(cli.settings)
    if client is not None:
        found: dict[str, Any] = client.get_json(
            f"/api/v1/experiments/{quote(key, safe='')}",
            {"as_of": moment_param(as_of)},
            missing=missing,
        )
        return found
    cli.django()
    from deskpulse.web.experiments.service import (
        ExperimentNotFoundError,
        experiment_for,
        result_of,
    )

    try:
        experiment = experiment_for(key)
    except ExperimentNotFoundError:
        raise cli.fail(missing) from None
    with cli.store() as store:
        _facts_for(store, [experiment])
        result = result_of(store, experiment, as_of)
    served: dict[str, Any] = as_served(
        {"experiment": experiment.as_json(), "result": result.as_json()}
    )
    return served


def _facts_for(store: Store, experiments: list[Any]) -> None:
    from deskpulse.facts.build import facts_exist, refresh_facts

    if experiments and not facts_exist(store):
        refresh_facts(store)  # an empty install: every variant reads n = 0


@experiments_app.command("list")
def list_command(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Read results at this moment (default: now).")
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Every experiment with its status, exposures per variant and current verdict."""
    from rich.table import Table

    cli = Cli.of(ctx)
    moment = read_time(cli.settings, as_of, "--as-of")
    found = _list_data(cli, moment)
    if output == OutputFormat.json:
        write_json(found)
        return
    table = Table(title="Experiments")
    for column in ("key", "name", "status", "dates", "exposures", "verdict"):
        table.add_column(column)
    for experiment in found["experiments"]:
        dates = f"{experiment['start_date']} to {experiment['end_date'] or 'open'}"
        exposures = ", ".join(
            f"{variant} {units:,}" for variant, units in experiment["exposures"].items()
        )
        table.add_row(
            experiment["key"],
            experiment["name"],
            experiment["status"],
            dates,
            exposures,
            experiment["recommendation"],
        )
    if not table.row_count:
        cli.console.print("no experiments defined yet: deskpulse experiments define KEY …")
        return
    cli.console.print(table)


@experiments_app.command("show")
def show_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The experiment's key.")],
    output: FormatOption = OutputFormat.table,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Read results at this moment (default: now).")
    ] = None,
) -> None:
    """One experiment's result: every metric per variant, SRM, power and the verdict."""
    cli = Cli.of(ctx)
    moment = read_time(cli.settings, as_of, "--as-of")
    found = _show_data(cli, key, moment)
    if output == OutputFormat.json:
        write_json(found)
        return
    _print_result(cli, found, cli.settings.currency)


def _print_result(cli: Cli, found: dict[str, Any], currency: str) -> None:
    """The result as tables, from the JSON `--format json` prints."""
    from rich.table import Table

    from deskpulse.analysis.experiments import ExperimentResult
    from deskpulse.web.experiments import present

    experiment = found["experiment"]
    # Read back into the result it describes: the pages' formatting applies unchanged.
    result = ExperimentResult.from_json(found["result"])
    console = cli.console
    console.print(
        f"[bold]{experiment['name']}[/] ({experiment['key']}) · {result.status} · "
        f"{experiment['start_date']} to {experiment['end_date'] or 'open'}",
        highlight=False,
    )
    console.print(f"[bold]{result.headline}[/]", highlight=False)
    for reason in result.verdict.reasons:
        console.print(f"  why: {reason}", highlight=False)
    for warning in result.warnings:
        console.print(f"  [yellow]data quality:[/] {warning}", highlight=False)
    table = Table(title="Metrics (difference: treatment - control; lift: treatment / control - 1)")
    table.add_column("metric")
    for variant in result.definition.variants:
        table.add_column(variant, justify="right")
    for column in ("difference", "lift", "p", "Holm p", "test", "reading"):
        table.add_column(column)
    for row in present.metric_rows(result, currency):
        table.add_row(
            f"{row['label']} ({row['role'].lower()})",
            *(f"{v['text']} (n {v['n']})" for v in row["values"]),
            row["difference"],
            f"{row['lift']} ({row['lift_ci']})" if row["lift_ci"] else row["lift"],
            row["p_value"],
            row["adjusted_p_value"],
            row["test"],
            row["finding"],
        )
    console.print(table)
    console.print(f"SRM: {result.verdict.srm.message}", highlight=False)
    power = present.power_context(result, currency)
    if power is not None:
        console.print(
            f"power: {power['required']} per variant needed to detect {power['mde']} with "
            f"{power['target_power']} power; {power['current']} so far ({power['achieved_power']}"
            f" power); {power['daily']} per variant per day; days to decision: {power['days']}",
            highlight=False,
        )


@experiments_app.command("define")
def define_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The `experiment` value the exposures carry.")],
    control: Annotated[str, typer.Option(help="The control variant's name.")],
    treatment: Annotated[str, typer.Option(help="The treatment variant's name.")],
    primary: Annotated[str, typer.Option(help="The primary metric (listed below).")],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    guardrail: Annotated[
        list[str] | None, typer.Option("--guardrail", help="A guardrail metric (repeatable).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: open).")] = None,
    name: Annotated[str | None, typer.Option(help="A readable name (default: the key).")] = None,
    hypothesis: Annotated[str, typer.Option(help="What you expect, and why.")] = "",
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    mde: Annotated[float, typer.Option(help="Minimum detectable lift, percent.")] = 5.0,
    treatment_share: Annotated[
        float, typer.Option(help="Planned share of units in the treatment, percent.")
    ] = 50.0,
    sequential: Annotated[
        bool, typer.Option(help="Always-valid intervals (safe to read daily).")
    ] = False,
    mann_whitney: Annotated[
        bool, typer.Option(help="Mann-Whitney instead of Welch for mean metrics.")
    ] = False,
) -> None:
    """Define an experiment, or change the one with this key.

    Metrics: ai_resolved_rate, escalation_rate, resolution_rate, reopen_rate,
    csat_satisfied_rate, csat_mean, cost_per_conversation, turns_mean,
    first_resolution_mean, aht_mean.
    """
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.experiments.forms import ExperimentForm
    from deskpulse.web.experiments.models import Experiment

    existing = Experiment.objects.filter(key=key).first()
    data = {
        "key": key,
        "name": name or (existing.name if existing else key),
        "hypothesis": hypothesis or (existing.hypothesis if existing else ""),
        "control": control,
        "treatment": treatment,
        "primary_metric": primary,
        "guardrail_metrics": list(guardrail or []),
        "start_date": start,
        "end_date": end or "",
        "alpha": alpha,
        "mde_percent": mde,
        "treatment_percent": treatment_share,
        "sequential": sequential,
        "mann_whitney": mann_whitney,
    }
    form = ExperimentForm(data=data, instance=existing)
    if not form.is_valid():
        field, message = form.first_error()
        option = _OPTIONS.get(field)
        raise cli.fail(f"{option}: {message.partition(': ')[2]}" if option else message)
    saved = form.save(None)
    verb = "changed" if existing else "defined"
    cli.console.print(
        f"experiment [bold]{saved.key}[/] {verb}: {saved.control} against {saved.treatment}, "
        f"primary {saved.primary_metric}"
        + (f", guardrails {', '.join(saved.guardrail_metrics)}" if saved.guardrail_metrics else ""),
        highlight=False,
    )


def define_demo(cli: Cli) -> None:
    """`deskpulse demo`: define the generator's experiment (once), if its data has one."""
    from deskpulse.web.experiments.demo import define_demo_experiment

    with cli.store() as store:
        defined = define_demo_experiment(store, cli.settings.tz)
    if defined is not None:
        cli.console.print(
            f"experiment {defined.key} defined ({defined.control} against "
            f"{defined.treatment}): /experiments/{defined.key}/",
            highlight=False,
        )
