"""`deskpulse alerts`: list, add and check regression alert rules, and read their history.

Rules live in the app database, like the web app's, and are validated by the same form;
checks run the same service as the hourly job, so a check from here notifies (once)
exactly as one from the server would.

`list`, `history` and `check` answer with the API's JSON (`/api/v1/alerts…`): from this
process, or from the running server while one holds the data folder (remote.py), and
print from it, so both print the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from deskpulse import clock
from deskpulse.analysis.alerts import ValueFormat, format_value
from deskpulse.cli.context import Cli
from deskpulse.cli.options import FormatOption, OutputFormat, read_time
from deskpulse.cli.remote import as_served, client_for, moment_param, write_json

alerts_app = typer.Typer(
    help="Regression alerts: list rules, add one, run the checks, read the history.",
    no_args_is_help=True,
)

# Form field -> the option a CLI user typed, so errors name what to fix.
_OPTIONS = {
    "name": "--name",
    "metric": "METRIC",
    "segment_dimension": "--segment",
    "segment_value": "--segment",
    "baseline_kind": "--fixed/--trailing-days",
    "baseline_value": "--fixed",
    "baseline_days": "--trailing-days",
    "current_days": "--current-days",
    "warning_percent": "--warning",
    "critical_percent": "--critical",
    "min_sample": "--min-sample",
    "pending_for": "--pending-for",
}


def _rules_data(cli: Cli) -> dict[str, Any]:
    """GET /api/v1/alerts/rules' answer: from the running server, else the app database."""
    client = client_for(cli.settings)
    if client is not None:
        found: dict[str, Any] = client.get_json("/api/v1/alerts/rules")
        return found
    cli.django()
    from deskpulse.cli.people import agent_directory
    from deskpulse.web.alerts import present
    from deskpulse.web.alerts.models import AlertRule

    rules = AlertRule.objects.prefetch_related("states")
    names = {
        agent_id: str(row.get("name") or agent_id)
        for agent_id, row in (agent_directory(cli.settings) or {}).items()
    }
    served: dict[str, Any] = as_served(
        {"rules": [present.rule_json(rule, names) for rule in rules]}
    )
    return served


def _change(deviation: float | None) -> str:
    return "" if deviation is None else f"{deviation * 100:+.1f}%"


def _reading(value: dict[str, Any], fmt: ValueFormat) -> str:
    """A value with its n, as the alert pages write it: "2.00 (n=8)"."""
    text = format_value(value["value"], fmt)
    return text if value["n"] is None else f"{text} (n={value['n']:,})"


@alerts_app.command("list")
def list_command(
    ctx: typer.Context,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Every rule with its state, latest value and baseline (with n)."""
    from rich.table import Table

    cli = Cli.of(ctx)
    found = _rules_data(cli)
    if output is OutputFormat.json:
        write_json(found)
        return
    table = Table(title="Alert rules")
    for column in ("id", "name", "metric", "segment", "state", "latest", "baseline", "change"):
        table.add_column(column)
    for rule in found["rules"]:
        record = rule["state"]
        severity = "none" if record is None else record["severity"]
        state = rule["state_label"] + (f" ({severity})" if severity != "none" else "")
        latest = baseline = change = ""
        if record is not None:
            fmt = rule["value_format"]
            latest = _reading(record["current"], fmt)
            baseline = _reading(record["baseline"], fmt)
            change = _change(record["deviation"]) + (" (better)" if record["improvement"] else "")
        table.add_row(
            str(rule["id"]),
            rule["name"],
            rule["metric"],
            # An older server answers without segment_name.
            rule.get("segment_name") or rule["segment_label"],
            state,
            latest,
            baseline,
            change,
        )
    if not table.row_count:
        cli.console.print("no alert rules yet: deskpulse alerts add METRIC --name …")
        return
    cli.console.print(table)


@alerts_app.command("add")
def add_command(
    ctx: typer.Context,
    metric: Annotated[str, typer.Argument(help="A metric key, e.g. csat_mean.")],
    name: Annotated[str, typer.Option(help="What the rule is called.")],
    segment: Annotated[
        str | None, typer.Option(help="DIMENSION=VALUE, e.g. inbox=inbox-app-chat.")
    ] = None,
    fixed: Annotated[
        float | None, typer.Option(help="A fixed baseline value (default: trailing).")
    ] = None,
    trailing_days: Annotated[int, typer.Option(help="Trailing baseline days.")] = 28,
    current_days: Annotated[int, typer.Option(help="Current window days.")] = 7,
    warning: Annotated[float, typer.Option(help="Warning at this % the bad way.")] = 10.0,
    critical: Annotated[float, typer.Option(help="Critical at this % the bad way.")] = 25.0,
    min_sample: Annotated[int, typer.Option(help="Samples needed in each window.")] = 30,
    pending_for: Annotated[int, typer.Option(help="Checks held pending before firing.")] = 1,
) -> None:
    """Define an alert rule (validated like the /alerts/new/ form)."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.alerts.forms import RULE_DEFAULTS, AlertRuleForm

    dimension, value = "", ""
    if segment is not None:
        dimension, _, value = segment.partition("=")
        if not value:
            raise cli.fail(f"--segment: {segment!r} is not DIMENSION=VALUE")
    data: dict[str, Any] = {
        **RULE_DEFAULTS,
        "name": name,
        "metric": metric,
        "segment_dimension": dimension.strip(),
        "segment_value": value.strip(),
        "baseline_kind": "fixed" if fixed is not None else "trailing",
        "baseline_value": fixed,
        "baseline_days": trailing_days,
        "current_days": current_days,
        "warning_percent": warning,
        "critical_percent": critical,
        "min_sample": min_sample,
        "pending_for": pending_for,
    }
    form = AlertRuleForm(data={k: v for k, v in data.items() if v is not None})
    if not form.is_valid():
        field, message = form.first_error()
        option = _OPTIONS.get(field, field)
        raise cli.fail(f"{option}: {message.removeprefix(field + ': ')}")
    rule = form.save(None)
    cli.console.print(
        f"alert rule {rule.pk} defined: {rule.name} ({rule.metric}, {rule.segment_label})",
        highlight=False,
    )


def _check_data(cli: Cli, as_of: datetime | None) -> dict[str, Any]:
    """POST /api/v1/alerts/check's answer: the running server checks, else this process."""
    client = client_for(cli.settings)
    if client is not None:
        # The server refuses a future --as-of itself, in the same words.
        with cli.errors.status(f"checking alert rules on {client.server.url}"):
            found: dict[str, Any] = client.post_json(
                "/api/v1/alerts/check", {"as_of": moment_param(as_of)}
            )
        return found
    cli.django()
    from deskpulse.facts.build import facts_exist
    from deskpulse.web.alerts.service import FUTURE_TOLERANCE, check_rules

    if as_of is not None and as_of > clock.now() + FUTURE_TOLERANCE:
        # Refused before the store opens: a future check would silence every rule.
        raise cli.fail(f"--as-of: {as_of.isoformat()} is in the future")

    with cli.store() as store:
        if not facts_exist(store):
            raise cli.fail("no facts yet: import events first (deskpulse import FILE)")
        with cli.bar() as bar:
            task = bar.add_task("checking alert rules", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = check_rules(store, as_of or clock.now(), progress=progress)
    served: dict[str, Any] = as_served(summary.as_json())
    return served


@alerts_app.command("check")
def check_command(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Check as of this moment (default: now).")
    ] = None,
) -> None:
    """Run every enabled rule now (or --as-of), store the states and notify once."""
    cli = Cli.of(ctx)
    moment = read_time(cli.settings, as_of, "--as-of")
    summary = _check_data(cli, moment)
    for change in summary["changes"]:
        cli.console.print(
            f"{change['rule_name']}: {change['previous']} -> {change['state']} "
            f"({change['severity']}): {change['reason']}",
            highlight=False,
        )
    cli.console.print(summary["summary"], highlight=False)
    if summary["errors"]:
        raise typer.Exit(1)


def _history_data(cli: Cli, rule: int | None, limit: int) -> dict[str, Any]:
    """GET /api/v1/alerts/history's answer: from the running server, else the app database."""
    client = client_for(cli.settings)
    if client is not None:
        found: dict[str, Any] = client.get_json(
            "/api/v1/alerts/history", {"rule": rule, "limit": limit}
        )
        return found
    cli.django()
    from deskpulse.web.alerts import present

    served: dict[str, Any] = as_served(present.history_json(rule, limit=limit))
    return served


@alerts_app.command("history")
def history_command(
    ctx: typer.Context,
    rule: Annotated[int | None, typer.Option(help="One rule's events (its id).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many events, newest first.")] = 50,
    output: FormatOption = OutputFormat.table,
    as_json: Annotated[
        bool, typer.Option("--json", hidden=True, help="The same as --format json.")
    ] = False,
) -> None:
    """Alert events, newest first, with each notification's delivery outcome."""
    from rich.table import Table

    cli = Cli.of(ctx)
    found = _history_data(cli, rule, limit)
    if as_json or output is OutputFormat.json:
        write_json(found)
        return
    table = Table(title=f"Alert history ({found['total']:,} in all, newest first)")
    for column in ("when", "rule", "event", "value", "baseline", "change", "webhook", "e-mail"):
        table.add_column(column)
    for event in found["events"]:
        fmt = event["value_format"]
        severity = event["severity"]
        delivery = event["delivery"]
        table.add_row(
            f"{datetime.fromisoformat(event['at']):%Y-%m-%d %H:%M}",
            event["rule_name"],
            event["kind_label"] + (f" ({severity})" if severity != "none" else ""),
            _reading(event["current"], fmt),
            _reading(event["baseline"], fmt),
            _change(event["deviation"]),
            delivery["webhook"]["label"],
            delivery["email"]["label"],
        )
    if not table.row_count:
        cli.console.print("no alert events yet")
        return
    cli.console.print(table)


def define_demo(cli: Cli) -> None:
    """`deskpulse demo`: the demo's alert rules and a month of replayed checks (once)."""
    from deskpulse.web.alerts.demo import define_demo_alerts

    with cli.store() as store, cli.bar() as bar:
        task = bar.add_task("replaying a month of alert checks", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        found = define_demo_alerts(store, progress=progress)
    if found.created:
        firing = ", ".join(found.firing) or "none"
        cli.console.print(
            f"{len(found.created)} alert rules defined, {found.checks} daily checks replayed; "
            f"fired: {firing}: /alerts/",
            highlight=False,
        )
