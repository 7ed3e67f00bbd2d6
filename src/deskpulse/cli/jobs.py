"""`deskpulse jobs list|run`: the scheduled jobs (web/jobs.py), for cron.

The server runs them itself unless DESKPULSE_SCHEDULER=off; `jobs run` runs the due
ones from cron instead, with the same lease, so a job never runs twice at once.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import TaskID
from rich.table import Table

from deskpulse import clock
from deskpulse.cli.context import Cli

jobs_app = typer.Typer(
    help="Scheduled jobs (coaching-plan refresh, model retraining): list them, run them from cron.",
    no_args_is_help=True,
)


@jobs_app.command("list")
def jobs_list(ctx: typer.Context) -> None:
    """Each job with its interval, its last run and when it runs next."""
    cli = Cli.of(ctx)
    cli.django()
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
    cli.console.print(table)


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
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.jobs import JobContext, job_named, registered, run_job

    if name is not None and run_all:
        raise cli.fail("give a job name or --all, not both")
    try:
        chosen = [job_named(name)] if name is not None else registered()
    except KeyError as error:
        raise cli.fail(str(error.args[0])) from error
    force = name is not None or run_all
    failed = False
    with cli.store() as store, cli.bar() as bar:
        for job in chosen:
            task = bar.add_task(job.name, total=None)
            steps = {"total": 1}

            def progress(
                done: int, total: int, task: TaskID = task, steps: dict[str, int] = steps
            ) -> None:
                steps["total"] = max(total, 1)
                bar.update(task, completed=done, total=total)

            context = JobContext(cli.settings, clock.now(), lambda: store, progress)
            result = run_job(job, context, force=force)
            bar.update(task, completed=steps["total"], total=steps["total"])
            colour = {"ok": "green", "failed": "red", "skipped": "yellow"}.get(result.outcome)
            label = f"[{colour}]{result.outcome}[/]" if colour else result.outcome
            bar.console.print(f"{job.name}: {label} - {result.message}", highlight=False)
            failed = failed or result.outcome == "failed"
    if failed:
        raise typer.Exit(1)
