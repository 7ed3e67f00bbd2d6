"""The `deskpulse` command.

Every subcommand works on one data folder (`--data`, or DESKPULSE_DATA, default
./deskpulse-data). Long jobs show a progress bar; errors are one line naming the
problem, with a non-zero exit code. While `deskpulse serve` holds the folder, the read
commands and `import` work through it (remote.py).

This module is the app: its callback makes the one context every command reaches
(context.py), and the whole command tree is registered below, one module per feature.
Nothing else in deskpulse imports this package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deskpulse.cli import (
    ai_agents,
    alerts,
    connectors,
    data,
    digest,
    experiments,
    jobs,
    models,
    people,
    report,
    serve,
    signals,
)
from deskpulse.cli.context import Cli, fail
from deskpulse.settings import load_settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="deskpulse",
    help="Performance analytics and coaching for support teams of human and AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
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
        settings = load_settings(data_dir)
    except Exception as error:  # a misspelt time zone or backend URL
        raise fail(str(error)) from error
    ctx.obj = Cli(settings)


# The order of `deskpulse --help`: commands first, then the groups.
app.command("train")(models.train_command)
app.command("score")(models.score_command)
app.command("ai-report")(ai_agents.ai_report_command)
app.command("generate")(data.generate_command)
app.command("import")(data.import_command)
app.command("mappings")(data.mappings_command)
app.command("rebuild")(data.rebuild_command)
app.command("report")(report.report_command)
app.command("signals")(signals.signals_command)
app.command("rejected")(data.rejected_command)
app.command("retract")(data.retract_command)
app.command("serve")(serve.serve_command)
app.command("demo")(serve.demo_command)
app.add_typer(people.token_app, name="token")
app.add_typer(people.user_app, name="user")
app.add_typer(connectors.connect_app, name="connect")
app.add_typer(models.topics_app, name="topics")
app.add_typer(experiments.experiments_app, name="experiments")
app.add_typer(alerts.alerts_app, name="alerts")
app.add_typer(jobs.jobs_app, name="jobs")
app.add_typer(digest.digest_app, name="digest")


def main() -> None:
    app()
