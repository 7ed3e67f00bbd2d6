"""Event factories for tests: contract-valid event dicts built like a timeline.

    f = Events(start=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    f.agent("alice", name="Alice", teams=["t1"]); f.agent("bot", name="Bot", kind="ai")
    c = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c.customer(at=0.5).assign("alice", team="t1", at=1).reply("alice", at=3)
    f.events  # list of dicts, in creation order

Times are minutes (floats allowed) after `start`; `f.t(minutes)` gives the naive UTC
datetime the fact tables store for that moment. Event ids are `ev-1`, `ev-2`, … and
message ids `m-1`, `m-2`, … in creation order, so a scenario is fully deterministic.

Also here: `ingest_and_build`, `facts` (rows of a fact table as sorted dicts),
`scratch_store` (an empty store on a given backend) and `assert_same_facts`.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from deskpulse.events.ingest import ingest_objects
from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings

Event = dict[str, Any]
Row = dict[str, Any]

DEFAULT_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTES_PER_DAY = 24 * 60

# Columns that identify a row of each fact table; rows are sorted by them.
KEYS: dict[str, tuple[str, ...]] = {
    "conversation_facts": ("conversation_id",),
    "agent_conversation_facts": ("conversation_id", "agent_id"),
    "resolution_facts": ("conversation_id", "resolved_at"),
    "agents": ("agent_id",),
}
TABLES: tuple[str, ...] = tuple(KEYS)


class Events:
    """Builds a list of events; every method appends and returns a builder."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("start needs a time zone")
        self.start = start
        self.events: list[Event] = []
        self._event_seq = 0
        self._message_seq = 0

    # -- time and ids --------------------------------------------------------------------

    def at(self, minutes: float) -> datetime:
        """The aware moment `minutes` after start."""
        return self.start + timedelta(minutes=minutes)

    def t(self, minutes: float) -> datetime:
        """The moment as the fact tables store it: naive UTC."""
        return self.at(minutes).astimezone(UTC).replace(tzinfo=None)

    def next_id(self) -> str:
        self._event_seq += 1
        return f"ev-{self._event_seq}"

    def next_message_id(self) -> str:
        self._message_seq += 1
        return f"m-{self._message_seq}"

    def add(self, type_: str, at: float, **fields: Any) -> Event:
        """Append one event; fields that are None are left out (the contract default)."""
        event: Event = {"id": self.next_id(), "type": type_, "occurred_at": self.at(at).isoformat()}
        event.update({key: value for key, value in fields.items() if value is not None})
        self.events.append(event)
        return event

    # -- events without a conversation ---------------------------------------------------

    def agent(
        self,
        agent_id: str,
        *,
        name: str | None = None,
        kind: str = "human",
        teams: Sequence[str] = (),
        email: str | None = None,
        active: bool = True,
        at: float = 0,
    ) -> Events:
        self.add(
            "agent.upserted",
            at,
            agent_id=agent_id,
            name=name or agent_id.title(),
            email=email,
            kind=kind,
            team_ids=list(teams),
            active=active,
        )
        return self

    def business_hours(
        self,
        inbox: str,
        *,
        timezone: str = "UTC",
        intervals: Sequence[tuple[str, str, str]] = (("mon", "09:00", "17:00"),),
        holidays: Sequence[str] = (),
        at: float = 0,
    ) -> Events:
        self.add(
            "business_hours.set",
            at,
            inbox_id=inbox,
            timezone=timezone,
            intervals=[{"day": d, "start": s, "end": e} for d, s, e in intervals],
            holidays=list(holidays),
        )
        return self

    def conversation(
        self,
        conversation_id: str,
        *,
        customer: str = "u1",
        channel: str = "chat",
        inquiry: str | None = None,
        inbox: str = "web",
        at: float = 0,
        priority: str | None = None,
        customer_tier: str | None = None,
        language: str | None = None,
        subject: str | None = None,
    ) -> Conversation:
        self.add(
            "conversation.created",
            at,
            conversation_id=conversation_id,
            channel=channel,
            inbox_id=inbox,
            customer_id=customer,
            inquiry=inquiry,
            priority=priority,
            customer_tier=customer_tier,
            language=language,
            subject=subject,
        )
        return Conversation(self, conversation_id, customer=customer)

    def on(self, conversation_id: str, customer: str = "u1") -> Conversation:
        """A builder for a conversation without emitting conversation.created."""
        return Conversation(self, conversation_id, customer=customer)


class Conversation:
    """Events about one conversation."""

    def __init__(self, events: Events, conversation_id: str, *, customer: str) -> None:
        self.f = events
        self.id = conversation_id
        self.customer_id = customer

    def _add(self, type_: str, at: float, **fields: Any) -> Conversation:
        self.f.add(type_, at, conversation_id=self.id, **fields)
        return self

    def _message(self, at: float, **fields: Any) -> Conversation:
        return self._add("message.created", at, message_id=self.f.next_message_id(), **fields)

    # -- messages ------------------------------------------------------------------------

    def customer(self, *, at: float, text: str | None = None) -> Conversation:
        """An inbound message from the customer."""
        return self._message(at, direction="inbound", author_kind="customer", text=text)

    def reply(
        self, agent: str, *, at: float, ai_assist: str = "none", text: str | None = None
    ) -> Conversation:
        """A public reply by a human agent."""
        return self._message(
            at,
            direction="outbound",
            author_kind="agent",
            agent_id=agent,
            ai_assist=ai_assist,
            text=text,
        )

    def ai_reply(self, agent: str, *, at: float, text: str | None = None) -> Conversation:
        """A public reply by an AI agent."""
        return self._message(at, direction="outbound", author_kind="ai", agent_id=agent, text=text)

    def note(
        self,
        agent: str,
        *,
        at: float,
        mentions: Sequence[str] = (),
        text: str | None = None,
        author_kind: str = "agent",
    ) -> Conversation:
        """An internal note (never a public reply)."""
        return self._message(
            at,
            direction="note",
            author_kind=author_kind,
            agent_id=agent,
            mentions=list(mentions),
            text=text,
        )

    # -- conversation state --------------------------------------------------------------

    def assign(self, agent: str | None, *, at: float, team: str | None = None) -> Conversation:
        # agent_id is sent explicitly, even as null ("unassigned").
        self.f.add("conversation.assigned", at, conversation_id=self.id, team_id=team)[
            "agent_id"
        ] = agent
        return self

    def escalate(
        self,
        *,
        from_agent: str,
        at: float,
        to_agent: str | None = None,
        to_team: str | None = None,
        reason: str | None = None,
    ) -> Conversation:
        return self._add(
            "conversation.escalated",
            at,
            from_agent_id=from_agent,
            to_agent_id=to_agent,
            to_team_id=to_team,
            reason=reason,
        )

    def status(self, status: str, *, at: float, by: str | None = None) -> Conversation:
        return self._add("conversation.status_changed", at, status=status, agent_id=by)

    def resolve(self, *, at: float, by: str | None = None) -> Conversation:
        return self.status("resolved", at=at, by=by)

    def reopen(self, *, at: float, by: str | None = None) -> Conversation:
        return self.status("open", at=at, by=by)

    def update(self, *, at: float, **fields: str) -> Conversation:
        """conversation.updated with any of inquiry, priority, customer_tier, language,
        inbox_id."""
        return self._add("conversation.updated", at, **fields)

    # -- measurements --------------------------------------------------------------------

    def work(self, agent: str, *, seconds: float, at: float, kind: str = "work") -> Conversation:
        return self._add("work.logged", at, agent_id=agent, seconds=seconds, kind=kind)

    def survey(
        self, survey: str, score: int, *, at: float, comment: str | None = None
    ) -> Conversation:
        return self._add("survey.responded", at, survey=survey, score=score, comment=comment)

    def cost(
        self,
        amount: str,
        *,
        at: float,
        kind: str = "other",
        tokens: int | None = None,
        currency: str = "USD",
    ) -> Conversation:
        return self._add(
            "cost.recorded", at, amount=amount, currency=currency, kind=kind, tokens=tokens
        )

    def exposed(self, experiment: str, variant: str, *, at: float) -> Conversation:
        return self._add("experiment.exposed", at, experiment=experiment, variant=variant)


# -- running events through the store --------------------------------------------------


def ingest(store: Store, events: Iterable[Event]) -> None:
    """Ingest events, failing loudly if the contract refuses any of them."""
    result = ingest_objects(store, list(events), "test")
    assert not result.rejected, [r.model_dump() for r in result.rejected]


def refresh(store: Store, *, full: bool = False) -> Any:
    from deskpulse.facts.build import refresh_facts  # the builder under test

    return refresh_facts(store, full=full)


def ingest_and_build(store: Store, events: Iterable[Event]) -> None:
    ingest(store, events)
    refresh(store)


def _sort_key(value: Any) -> tuple[Any, ...]:
    # Nulls first; values of one column share a type, so they compare directly.
    return (0,) if value is None else (1, value)


def facts(store: Store, table: str) -> list[Row]:
    """Every row of a fact table as dicts of Python values, sorted by the table's key."""
    columns = list(store.con.table(table).columns)
    select = ", ".join(f'"{name}"' for name in columns)
    rows = [
        dict(zip(columns, (_plain(v) for v in row), strict=True))
        for row in store.execute(f"SELECT {select} FROM {table}")
    ]
    key = KEYS.get(table, tuple(columns))
    return sorted(
        rows,
        key=lambda row: tuple(_sort_key(row.get(name)) for name in (*key, *columns)),
    )


def _plain(value: Any) -> Any:
    """Driver values as plain Python: arrays as lists, aware times as naive UTC."""
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "tolist"):  # numpy arrays from some drivers
        return value.tolist()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def row_of(store: Store, table: str, **where: Any) -> Row:
    """The one row of `table` matching all of `where`."""
    found = [r for r in facts(store, table) if all(r[k] == v for k, v in where.items())]
    assert len(found) == 1, f"{len(found)} rows of {table} match {where}: {found}"
    return found[0]


def rows_of(store: Store, table: str, **where: Any) -> list[Row]:
    return [r for r in facts(store, table) if all(r[k] == v for k, v in where.items())]


# -- comparing whole fact sets ---------------------------------------------------------


def snapshot(store: Store) -> dict[str, list[Row]]:
    return {table: facts(store, table) for table in TABLES}


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    return bool(type(a) is type(b) and a == b) or (a is None and b is None)


def differences(
    left: dict[str, list[Row]], right: dict[str, list[Row]], limit: int = 20
) -> list[str]:
    """Human-readable differences between two snapshots (empty when they agree)."""
    found: list[str] = []
    for table in TABLES:
        a, b = left.get(table, []), right.get(table, [])
        if len(a) != len(b):
            keys_a = [tuple(r.get(k) for k in KEYS[table]) for r in a]
            keys_b = [tuple(r.get(k) for k in KEYS[table]) for r in b]
            found.append(f"{table}: {len(a)} rows vs {len(b)}: {keys_a} vs {keys_b}")
            continue
        for row_a, row_b in zip(a, b, strict=True):
            if row_a.keys() != row_b.keys():
                found.append(f"{table}: columns {sorted(row_a)} vs {sorted(row_b)}")
                break
            for column in row_a:
                if not _same_value(row_a[column], row_b[column]):
                    where = {k: row_a.get(k) for k in KEYS[table]}
                    found.append(
                        f"{table} {where} {column}: {row_a[column]!r} vs {row_b[column]!r}"
                    )
    return found[:limit]


def expect(row: Row, expected: dict[str, Any]) -> None:
    """Assert several columns at once, reporting every mismatch (not just the first)."""
    wrong = [
        f"{column}: got {row.get(column, '<missing>')!r}, expected {value!r}"
        for column, value in expected.items()
        if column not in row or not _same_value(row[column], value)
    ]
    keys = {k: row.get(k) for k in ("conversation_id", "agent_id", "resolved_at") if k in row}
    assert not wrong, f"{keys}:\n  " + "\n  ".join(wrong)


def assert_same_facts(left: dict[str, list[Row]], right: dict[str, list[Row]]) -> None:
    diff = differences(left, right)
    assert not diff, "fact tables differ:\n" + "\n".join(diff)


# -- stores ------------------------------------------------------------------------------


@contextmanager
def scratch_store(backend: str, data_dir: Path, **settings: Any) -> Iterator[Store]:
    """An empty store on `backend` ("duckdb", "postgres" or "spark"), closed (and its
    PostgreSQL or Spark database dropped) afterwards; `settings` override Settings
    fields. PostgreSQL needs DESKPULSE_TEST_POSTGRES_URL; Spark runs in local mode (keep
    Spark running around many of these: the `spark` fixture in tests/metrics/test_spark.py)."""
    if backend == "duckdb":
        opened = open_store(Settings(data_dir=data_dir, **settings))
        try:
            yield opened
        finally:
            opened.close()
        return
    if backend == "spark":
        database = f"deskpulse_test_{uuid.uuid4().hex[:12]}"
        url = f"spark://local[2]/{database}"
        opened = open_store(Settings(data_dir=data_dir, backend_url=url, **settings))
        try:
            yield opened
        finally:
            opened.execute(f"DROP DATABASE IF EXISTS {database} CASCADE")
            opened.close()
        return
    import psycopg

    server = os.environ.get("DESKPULSE_TEST_POSTGRES_URL")
    if not server:
        # As the `store` fixture does: skip outside scripts/test, fail under CI.
        if os.environ.get("CI"):
            pytest.fail("DESKPULSE_TEST_POSTGRES_URL is not set: run the suite with scripts/test")
        pytest.skip("no PostgreSQL server: run the suite with scripts/test to include it")
    name = f"deskpulse_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = server.rpartition("/")
    try:
        opened = open_store(Settings(data_dir=data_dir, backend_url=f"{base}/{name}", **settings))
        try:
            yield opened
        finally:
            opened.close()
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def by_time(events: Iterable[Event]) -> list[Event]:
    """Events sorted by occurred_at (then id), the order a well-behaved source sends."""
    return sorted(
        events,
        key=lambda e: (datetime.fromisoformat(e["occurred_at"]).astimezone(UTC), e["id"]),
    )


def generated_organisation_numbers(
    backend: str, folder: Path, *, conversations: int, seed: int = 11
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(90-day report, 30-day dashboard) of a generated organisation on `backend`.

    The backend agreement tests compare these across backends: the same events must
    give the same numbers everywhere. The dashboard also carries, under "business", its
    business-time reading and every business-time twin over the report's period (the
    generated organisation has a schedule with holidays), so the twins are compared too.
    """
    import io

    from deskpulse.events.bulk import import_sources
    from deskpulse.facts.build import refresh_facts
    from deskpulse.generator import generate
    from deskpulse.metrics.dashboard import dashboard_payload
    from deskpulse.metrics.query import TEAM_VIEWER, Query, query
    from deskpulse.metrics.registry import BUSINESS_TWINS
    from deskpulse.metrics.report import build_report

    end = datetime(2026, 3, 1, tzinfo=UTC)
    buffer = io.BytesIO()
    generate(buffer, seed=seed, conversations=conversations, end=end)
    folder.mkdir(parents=True, exist_ok=True)
    events = folder / "events.jsonl"
    events.write_bytes(buffer.getvalue())
    with scratch_store(backend, folder / backend) as store:
        imported = import_sources(store, [events])
        assert imported.rejected == 0
        refresh_facts(store)
        twins = query(
            store,
            Query(
                metrics=list(BUSINESS_TWINS.values()),
                group_by=["channel"],
                period="90d",
                as_of=end,
            ),
            TEAM_VIEWER,
        )
        per_agent = query(
            store,
            Query(
                metrics=["first_response_median_business", "agent_first_response_median_business"],
                group_by=["agent"],
                period="90d",
                as_of=end,
            ),
            TEAM_VIEWER,
        )
        dashboard = dashboard_payload(store, period="30d", as_of=end)
        dashboard["business"] = {
            "dashboard": dashboard_payload(store, period="30d", as_of=end, time="business"),
            "twins": twins.as_json(),
            "per_agent": per_agent.as_json(),
        }
        return build_report(store, period="90d", as_of=end), dashboard
