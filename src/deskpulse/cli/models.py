"""`deskpulse train`, `deskpulse score` and `deskpulse topics …`: the install's models.

The models package is imported when a command runs: scikit-learn should not slow down
every other command's start.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from deskpulse.cli.context import Cli, fail

if TYPE_CHECKING:
    from deskpulse.models.cards import ModelCards
    from deskpulse.models.scoring import ScoreSummary
    from deskpulse.models.topics import TopicBook, TopicError
    from deskpulse.settings import Settings

topics_app = typer.Typer(
    help="Topics proposed for installs without inquiry labels: list, name, merge, ignore.",
    no_args_is_help=True,
)

_TOPIC_OPTIONS = {"name": "NAME", "topic": "TOPIC", "topics": "TOPICS", "k": "--k"}


def _topic_failure(error: TopicError) -> typer.Exit:
    option = _TOPIC_OPTIONS.get(error.field)
    return fail(f"{option}: {error.message}" if option else error.message)


# -- train and score -------------------------------------------------------------------------


def train_command(
    ctx: typer.Context,
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel",
            help="Retrain only this channel's models (repeatable); the others are kept.",
        ),
    ] = None,
    k: Annotated[
        int,
        typer.Option("--k", min=2, max=40, help="Topics to propose when there are no labels."),
    ] = 8,
) -> None:
    """Train the inquiry classifier and each channel's prediction models, then score.

    With no inquiry labels it proposes topics instead. The last 5 versions are kept.
    """
    from deskpulse.models.training import TrainingError, train
    from deskpulse.models.versions import ModelVersionError

    cli = Cli.of(ctx)
    settings = cli.settings
    with cli.store() as store, cli.bar() as bar:
        task = bar.add_task("training", total=None)
        try:
            report = train(
                store,
                settings,
                channels=channel or None,
                topics_k=k,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                on_step=lambda step: bar.update(task, description=step),
            )
        except TrainingError as error:
            raise cli.fail(f"--{error.field}: {error.message}") from error
        except ModelVersionError as error:
            raise cli.fail(str(error)) from error
    _print_cards(cli, report.cards)
    if report.topics_note:
        cli.console.print(f"topics: {report.topics_note}", highlight=False)
    scored = report.scored
    cli.console.print(
        f"version [bold]{report.version}[/] saved in {settings.data_dir / 'models'}; "
        f"scored {scored.rows:,} agent-conversation rows ({_split(scored)}) in "
        f"{report.seconds:.1f} s",
        highlight=False,
    )


def score_command(ctx: typer.Context) -> None:
    """Rewrite the effectiveness facts with the current models.

    A channel without models good enough gets its measured outcomes instead.
    """
    from deskpulse.models.scoring import score
    from deskpulse.models.versions import ModelVersionError

    cli = Cli.of(ctx)
    settings = cli.settings
    with cli.store() as store, cli.bar() as bar:
        task = bar.add_task("scoring conversations", total=None)
        try:
            summary = score(
                store,
                settings,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except ModelVersionError as error:
            raise cli.fail(str(error)) from error
    sources = ", ".join(f"{source} {count:,}" for source, count in summary.inquiry_sources.items())
    cli.console.print(
        f"scored {summary.rows:,} rows for {summary.conversations:,} conversations with "
        f"{'model version ' + summary.model_version if summary.model_version else 'no models'}:"
        f" {_split(summary)}; "
        f"inquiries by source: {sources or 'none'}; {summary.seconds:.1f} s",
        highlight=False,
    )


def _split(summary: ScoreSummary) -> str:
    """How many rows carry predictions, per outcome."""
    return (
        f"satisfaction predicted on {summary.satisfaction_predicted_rows:,}, resolution "
        f"predicted on {summary.resolution_predicted_rows:,}; both measured on "
        f"{summary.measured_rows:,}"
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_cards(cli: Cli, cards: ModelCards) -> None:
    from rich.table import Table

    console = cli.console
    classifier = cards.classifier
    table = Table(title="inquiry classifier (stratified held-out 20%)", show_header=False)
    if classifier is None or classifier.status != "ok":
        table.add_row("status", classifier.reason if classifier else "not trained")
    else:
        table.add_row("macro-F1", _percent(classifier.macro_f1))
        table.add_row("majority baseline macro-F1", _percent(classifier.baseline_macro_f1))
        table.add_row("accuracy", _percent(classifier.accuracy))
        table.add_row("inquiry labels", str(classifier.classes))
        table.add_row(
            "conversations", f"{classifier.train_size:,} train / {classifier.test_size:,} held out"
        )
        if classifier.left_out:
            left = ", ".join(f"{k} ({v})" for k, v in classifier.left_out.items())
            table.add_row("too few to learn", left)
    console.print(table)
    models = Table(title="prediction models per channel (held out: the newest 20%)")
    for column in ("channel", "model", "status", "labels +/-", "AUC", "Brier", "constant Brier"):
        models.add_column(column, justify="right" if column[0].isupper() else "left")
    for card in cards.channels:
        for outcome in (card.satisfaction, card.resolution):
            models.add_row(
                card.channel,
                outcome.outcome,
                "predicts"
                if card.outcome_status(outcome.outcome).status == "ok"
                else "measured instead",
                f"{outcome.positives:,} / {outcome.negatives:,}",
                _percent(outcome.auc),
                _percent(outcome.brier),
                _percent(outcome.baseline_brier),
            )
    console.print(models)
    for card in cards.channels:
        console.print(f"  {card.reason}", highlight=False)


# -- topics ----------------------------------------------------------------------------------


def _book_or_fail(settings: Settings) -> TopicBook:
    from deskpulse.models.topics import TopicError, load_book

    try:
        book = load_book(settings)
    except TopicError as error:
        raise _topic_failure(error) from error
    if book is None:
        raise fail(
            "no topics yet: `deskpulse topics discover` proposes some (and `deskpulse train` "
            "does when no conversation carries an inquiry)"
        )
    return book


@topics_app.command("list")
def topics_list(
    ctx: typer.Context,
    output: Annotated[
        str, typer.Option("--format", help="table or json.", show_default=True)
    ] = "table",
) -> None:
    """The proposed topics with their top terms, size, status and an example."""
    from rich.table import Table

    from deskpulse.models.topics import book_to_json

    cli = Cli.of(ctx)
    if output not in ("table", "json"):
        raise cli.fail(f"--format: {output!r} is not one of table, json")
    book = _book_or_fail(cli.settings)
    if output == "json":
        print(json.dumps(book_to_json(book), indent=2, ensure_ascii=False))
        return
    table = Table(
        title=f"{len(book.topics)} topics from {book.conversations:,} conversations "
        f"(discovered {book.discovered_at[:16]})"
    )
    for column in ("id", "status", "name", "size", "top terms", "example"):
        table.add_column(column, overflow="fold")
    for topic in book.topics:
        example = topic.examples[0].text if topic.examples else "-"
        table.add_row(
            str(topic.topic_id),
            topic.status,
            topic.name or "-",
            f"{topic.size:,}",
            ", ".join(topic.terms[:8]),
            example[:80],
        )
    cli.console.print(table)


@topics_app.command("name")
def topics_name(
    ctx: typer.Context,
    topic: Annotated[int, typer.Argument(help="The topic's id (see `topics list`).")],
    name: Annotated[str, typer.Argument(help="The inquiry label its conversations get.")],
) -> None:
    """Name a topic: its conversations without an inquiry get this label."""
    from deskpulse.models.topics import TopicError, name_topic

    cli = Cli.of(ctx)
    try:
        book = name_topic(cli.settings, topic, name)
    except TopicError as error:
        raise _topic_failure(error) from error
    named = book.topic(topic)
    cli.console.print(
        f"topic {topic} is now the inquiry [bold]{named.name}[/]; conversations get it at the "
        "next scoring (deskpulse score, or the next page that shows effectiveness)",
        highlight=False,
    )


@topics_app.command("merge")
def topics_merge(
    ctx: typer.Context,
    topics: Annotated[list[int], typer.Argument(help="Two or more topic ids.")],
    name: Annotated[str, typer.Option("--name", help="The inquiry label they become.")],
) -> None:
    """Merge topics under one name: together they become one inquiry label."""
    from deskpulse.models.topics import TopicError, merge_topics

    cli = Cli.of(ctx)
    try:
        book = merge_topics(cli.settings, topics, name)
    except TopicError as error:
        raise _topic_failure(error) from error
    label = book.topic(topics[0]).name
    ids = ", ".join(str(t) for t in sorted(set(topics)))
    cli.console.print(f"topics {ids} are now the inquiry [bold]{label}[/]", highlight=False)


@topics_app.command("ignore")
def topics_ignore(
    ctx: typer.Context,
    topic: Annotated[int, typer.Argument(help="The topic's id (see `topics list`).")],
) -> None:
    """Ignore a topic: it labels no conversation."""
    from deskpulse.models.topics import TopicError, ignore_topic

    cli = Cli.of(ctx)
    try:
        ignore_topic(cli.settings, topic)
    except TopicError as error:
        raise _topic_failure(error) from error
    cli.console.print(f"topic {topic} is ignored: it labels no conversation", highlight=False)


@topics_app.command("discover")
def topics_discover(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", min=2, max=40, help="How many topics.")] = 8,
    force: Annotated[
        bool, typer.Option("--force", help="Replace topics that admins already named.")
    ] = False,
) -> None:
    """Propose k topics among the conversations that carry no inquiry."""
    from deskpulse.models.topics import TopicError, load_book
    from deskpulse.models.training import discover_topics

    cli = Cli.of(ctx)
    settings = cli.settings
    try:
        existing = load_book(settings)
    except TopicError:
        existing = None  # unreadable: a new discovery replaces it
    decided = [t for t in existing.topics if t.status != "proposed"] if existing else []
    if decided and not force:
        raise cli.fail(
            f"{len(decided)} topics are already named or ignored; --force replaces them "
            "(and those decisions) with a new discovery"
        )
    with cli.store() as store, cli.steps() as steps:
        steps.add_task(f"discovering {k} topics", total=None)
        try:
            book = discover_topics(store, settings, k=k)
        except TopicError as error:
            raise _topic_failure(error) from error
    cli.console.print(
        f"{len(book.topics)} topics proposed from {book.conversations:,} conversations; "
        "see them with `deskpulse topics list` or at /models/topics/",
        highlight=False,
    )
