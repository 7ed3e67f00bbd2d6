"""`deskpulse serve` and `deskpulse demo`: the web app and JSON API on gunicorn, and a
demo install (generated or real sample data, models, an experiment, alert rules, sign-ins
and a token) served in one command.

The server is the one owner of a DuckDB data folder while it runs (data_folder.py); it
leaves a token in server.json for this machine's CLI, which then reads through it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from deskpulse import clock
from deskpulse.cli.alerts import define_demo as define_demo_alerts
from deskpulse.cli.context import Cli
from deskpulse.cli.experiments import define_demo as define_demo_experiment
from deskpulse.cli.loading import (
    generate_events,
    import_files,
    import_with_mapping,
    load_mapping,
    print_import,
    print_mapped,
)
from deskpulse.cli.people import agent_directory

LOCAL_CLI_TOKEN = "deskpulse CLI on this machine"


# -- serve ----------------------------------------------------------------------------------


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app and JSON API on a production WSGI server (gunicorn)."""
    cli = Cli.of(ctx)
    cli.become_server()
    cli.django()
    _warn_if_pinned(cli)
    _serve(cli, host, port, announce=True)


def _serve(cli: Cli, host: str, port: int, *, announce: bool = False) -> None:
    """Serve until stopped, as the one owner of a DuckDB data folder (data_folder.py)."""
    from deskpulse.data_folder import FolderInUseError, claimed, describe_server
    from deskpulse.web.server import serve

    settings = cli.settings
    try:
        with claimed(settings):
            if announce:
                cli.console.print(
                    f"deskpulse serving {settings.data_dir} at [bold]http://{host}:{port}/[/]"
                )
            token = _local_cli_token()
            describe_server(settings, _reachable_url(host, port), token)
            try:
                serve(settings, host=host, port=port)
            finally:
                _revoke_local_cli_tokens()
    except FolderInUseError as error:
        raise cli.fail(str(error)) from error


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


def _warn_if_pinned(cli: Cli) -> None:
    pinned = clock.pinned()
    if pinned is not None:
        cli.console.print(
            f"[yellow]the clock is pinned at {pinned.isoformat()} by {clock.ENVIRONMENT_VARIABLE}:"
            " every relative period ends there (unset it for live data)[/]"
        )


# -- demo -----------------------------------------------------------------------------------


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
    cli = Cli.of(ctx)
    samples = _real_samples(cli, real_data) if real else None
    cli.settings.data_dir.mkdir(parents=True, exist_ok=True)
    with cli.store() as store:
        loaded = store.count("events")
    if loaded and not fresh:
        cli.console.print(f"{cli.settings.data_dir} already holds {loaded:,} events; reusing them")
    else:
        if loaded:
            raise cli.fail(
                f"{cli.settings.data_dir} already holds events; --fresh needs an empty folder "
                "(use --data to pick another)"
            )
        if samples is not None:
            _load_real(cli, samples)
        else:
            path = cli.settings.data_dir / "demo-events.jsonl"
            summary = generate_events(
                cli, path, conversations=conversations, days=120, seed=seed, end=None
            )
            cli.console.print(f"generated {summary.events:,} events")
            imported = import_files(cli, [str(path)])
            print_import(cli, imported)
    _demo_models(cli)
    cli.become_server()
    cli.django()
    define_demo_experiment(cli)
    define_demo_alerts(cli)
    secret = _demo_token(cli)
    url = f"http://{host}:{port}/"
    logins = _demo_logins(cli, url)
    data_dir = cli.settings.data_dir
    cli.console.print()
    # soft_wrap: the URL must stay on one line to be clickable and copyable.
    if serve:
        cli.console.print(f"[bold green]deskpulse demo ready:[/] {url}analytics/", soft_wrap=True)
    else:
        cli.console.print(
            f"[bold green]deskpulse demo loaded;[/] `deskpulse serve` serves it at {url}analytics/",
            soft_wrap=True,
        )
    # Plain prints: these lines are for copying, and rich would wrap them.
    if samples is not None:
        # The samples are years old: the default "last 30 days" would show nothing.
        for source, last_day in _latest_days(cli).items():
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
    print(f"  CLI           deskpulse --data {data_dir} report --period 30d", flush=True)
    _warn_if_pinned(cli)
    if serve:
        _serve(cli, host, port)


def _demo_models(cli: Cli) -> None:
    """Train the prediction models once, so the performance pages show predictions.

    A folder that already has a model version keeps it (the weekly job retrains).
    """
    from deskpulse.models.training import TrainingError, train
    from deskpulse.models.versions import current_version

    if current_version(cli.settings) is not None:
        return
    with cli.store() as store, cli.bar() as bar:
        task = bar.add_task("training models", total=None)
        try:
            report = train(
                store,
                cli.settings,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                on_step=lambda step: bar.update(task, description=step),
            )
        except TrainingError as error:
            # Real samples may carry no outcome to learn from: the pages then show
            # measured rates and say so, which is the documented fallback.
            cli.console.print(f"models not trained ({error.message}); showing measured rates")
            return
    # Each outcome falls back on its own, so name what each channel predicts.
    predicting = [
        f"{card.channel} ({' and '.join(card.predicted)})"
        for card in report.cards.channels
        if card.predicted
    ]
    cli.console.print(
        f"trained model version {report.version} in {report.seconds:.1f} s; "
        f"predicting: {', '.join(predicting) or 'nothing (measured rates shown)'}",
        highlight=False,
    )


def _latest_days(cli: Cli) -> dict[str, str]:
    """Each source's (conversation id prefix's) last day with a new conversation."""
    with cli.store() as store:
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


def _real_samples(cli: Cli, folder: Path | None) -> list[tuple[Path, str]]:
    # Default: ../shared/realdata beside the repository (src/deskpulse/cli/serve.py -> repo).
    where = folder or Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
    found = [(where / name, mapping) for name, mapping in REAL_SAMPLES.items()]
    missing = [str(path) for path, _mapping in found if not path.is_file()]
    if missing:
        raise cli.fail(
            f"--real: no {', '.join(missing)} (point --real-data or DESKPULSE_REALDATA "
            "at the folder holding the samples)"
        )
    return found


def _load_real(cli: Cli, samples: list[tuple[Path, str]]) -> None:
    with cli.store() as store:
        for path, name in samples:
            cli.console.print(f"loading {path.name} with the {name} mapping")
            mapped = import_with_mapping(cli, store, load_mapping(cli, name), [path], None)
            print_mapped(cli, mapped)


DEMO_OWNER_EMAIL = "owner@deskpulse.local"
DEMO_DOMAIN = "deskpulse.local"


def _demo_logins(cli: Cli, url: str) -> list[str]:
    """Sign-in lines for the demo's owner and one agent, created on the first run only.

    A password is printed only when its account is made: it is stored hashed, so a later
    run can only say how to set a new one.
    """
    from deskpulse.web.accounts.people import PersonError, add_user

    login_url = f"{url}accounts/login/"
    lines: list[str] = []
    directory = agent_directory(cli.settings) or {}
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
                    f"deskpulse --data {cli.settings.data_dir} user password --email {email}"
                )
            else:  # the agent id is already linked to someone added by hand
                lines.append(f"no {role} login {email}: {error.message}")
            continue
        assert password is not None
        lines.append(f"Sign in at {login_url} as {email} / {password}   ({what})")
    return lines


def _demo_token(cli: Cli) -> str:
    """A read+ingest token for the demo, created once; its secret is kept in the folder."""
    from deskpulse.web.accounts.tokens import create_token

    saved = cli.settings.data_dir / "demo-token.txt"
    if saved.exists():
        return saved.read_text().strip()
    _token, secret = create_token(
        name=f"demo {secrets.token_hex(2)}", scopes=["ingest", "read"], user_email=None
    )
    saved.write_text(secret + "\n")
    saved.chmod(0o600)
    return secret
