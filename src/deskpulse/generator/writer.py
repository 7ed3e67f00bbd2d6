"""`generate()`: run the simulation and write JSON Lines.

The hot path never touches pydantic: events are plain dicts serialised with orjson, and
timestamps are integer epoch seconds turned into text by table lookups. Output is
deterministic for given arguments (including `end`): all randomness comes from one
`random.Random(seed)`, nothing iterates over string sets, and nothing reads the clock
except for the default `end`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, BinaryIO

import orjson

from deskpulse import clock
from deskpulse.generator.conversations import (
    BUSINESS_HOURS_INBOX,
    BUSINESS_SHIFTS,
    BUSINESS_TIMEZONE,
    INCIDENT_VOLUME,
    Event,
    Simulator,
)
from deskpulse.generator.org import MAX_TEAMS, Org, build_org
from deskpulse.generator.timeline import DAY, TREND, TimestampFormatter, creation_times

PROGRESS_EVERY = 1_000
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class GenerationSummary:
    events: int
    conversations: int
    agents: int
    teams: int
    first_event_at: datetime | None
    last_event_at: datetime | None
    path: Path | None


def default_end() -> datetime:
    """Now in UTC, floored to the hour."""
    return clock.now().replace(minute=0, second=0, microsecond=0)


def generate(
    out: Path | str | BinaryIO,
    *,
    seed: int = 7,
    conversations: int = 50_000,
    days: int = 120,
    end: datetime | None = None,
    agents: int = 60,
    ai_agents: int = 2,
    teams: int = 4,
    progress: Callable[[int], None] | None = None,
    planted: bool = True,
) -> GenerationSummary:
    """Write a realistic synthetic event stream as JSON Lines to a path or binary stream.

    The simulated window is [end - days, end); no event is at or after `end`.
    `planted=False` leaves out the planted stories (degrading queues, incident,
    experiment, AI regression, volume trend, staff turnover): a stable data set.
    `progress(n)` is called with the number of conversations completed since the last
    call, every 1,000 conversations and once at the end.
    """
    if end is None:
        end = default_end()
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError("end must be an aware datetime")
    if conversations < 0:
        raise ValueError("conversations must be >= 0")
    if days < 1:
        raise ValueError("days must be >= 1")
    if not 1 <= teams <= MAX_TEAMS:
        raise ValueError(f"teams must be between 1 and {MAX_TEAMS}")
    if ai_agents < 0:
        raise ValueError("ai_agents must be >= 0")
    if agents - ai_agents < teams:
        raise ValueError("need at least one human agent per team (agents - ai_agents >= teams)")

    # Whole seconds: the last allowed instant is the last full second before `end`.
    end_ts = end.timestamp()
    end_s = int(end_ts) if end_ts == int(end_ts) else int(end_ts) + 1
    start_s = int((end - timedelta(days=days)).timestamp())
    if (end - timedelta(days=days)).timestamp() != start_s:
        start_s += 1  # first whole second inside the window

    if isinstance(out, str | os.PathLike):
        path = Path(out)
        with path.open("wb", buffering=1 << 20) as stream:
            summary = _run(
                stream,
                seed,
                conversations,
                start_s,
                end_s,
                agents,
                ai_agents,
                teams,
                progress,
                planted,
            )
        return replace(summary, path=path)
    return _run(
        out, seed, conversations, start_s, end_s, agents, ai_agents, teams, progress, planted
    )


def _run(
    stream: BinaryIO,
    seed: int,
    conversations: int,
    start: int,
    end: int,
    agents: int,
    ai_agents: int,
    teams: int,
    progress: Callable[[int], None] | None,
    planted: bool = True,
) -> GenerationSummary:
    rng = Random(seed)
    org = build_org(
        rng,
        agents=agents,
        ai_agents=ai_agents,
        teams=teams,
        start=start,
        end=end,
        turnover=planted,
    )
    sim = Simulator(org, rng, start=start, end=end, conversations=conversations, planted=planted)
    incident = sim.incident
    bursts = [(incident[0], incident[1], INCIDENT_VOLUME)] if incident is not None else []
    arrivals = creation_times(
        rng, conversations, start, end, bursts, trend=TREND if planted else 0.0
    )
    fmt = TimestampFormatter(start, end)
    dumps = orjson.dumps
    prefix = f"ev-{seed}-"
    count = 0
    last_t = -1
    lines: list[bytes] = []

    def emit(t: int, d: dict[str, Any]) -> None:
        nonlocal count, last_t
        count += 1
        d["id"] = prefix + str(count)
        d["occurred_at"] = fmt(t)
        lines.append(dumps(d))
        if t > last_t:
            last_t = t

    for agent in org.agents:
        emit(start, _agent_upserted(org, agent.index, True))
    hours: dict[str, Any] = {
        "id": None,
        "type": "business_hours.set",
        "occurred_at": None,
        "inbox_id": BUSINESS_HOURS_INBOX,
        "timezone": BUSINESS_TIMEZONE,
        "intervals": [
            {"day": day, "start": open_at, "end": close_at}
            for day in _WEEKDAYS
            for open_at, close_at in BUSINESS_SHIFTS
        ],
        "holidays": [d.isoformat() for d in sim.holidays],
    }
    emit(start, hours)

    # Leavers get a second upsert (active: false) when the stream reaches their last day.
    append = lines.append
    day_prefixes, hms, first_day = fmt.prefixes, fmt.hms, fmt.first_day
    departures = sorted((a.active_until, a.index) for a in org.agents if a.active_until < end)
    next_departure = 0
    done_since_report = 0
    conversation = sim.conversation
    for number, t0 in enumerate(arrivals, start=1):
        while next_departure < len(departures) and departures[next_departure][0] <= t0:
            at, who = departures[next_departure]
            emit(at, _agent_upserted(org, who, False))
            next_departure += 1
        events: list[Event] = conversation(number, t0)
        events.sort(key=_time)
        # emit() inlined: this loop runs once per event (~10M times at 1M conversations).
        for t, d in events:
            if t >= end:
                break  # sorted: everything after happens after the window
            count += 1
            d["id"] = prefix + str(count)
            day, second = divmod(t, DAY)
            d["occurred_at"] = day_prefixes[day - first_day] + hms[second]
            append(dumps(d))
            if t > last_t:
                last_t = t
        done_since_report += 1
        if done_since_report == PROGRESS_EVERY:
            stream.write(b"\n".join(lines) + b"\n")
            lines.clear()
            if progress is not None:
                progress(done_since_report)
            done_since_report = 0
    while next_departure < len(departures):
        at, who = departures[next_departure]
        emit(at, _agent_upserted(org, who, False))
        next_departure += 1
    if lines:
        stream.write(b"\n".join(lines) + b"\n")
    if progress is not None and done_since_report:
        progress(done_since_report)
    stream.flush()

    return GenerationSummary(
        events=count,
        conversations=conversations,
        agents=len(org.agents),
        teams=len(org.teams),
        first_event_at=datetime.fromtimestamp(start, UTC) if count else None,
        last_event_at=datetime.fromtimestamp(last_t, UTC) if count else None,
        path=None,
    )


def _time(event: Event) -> int:
    return event[0]


def _agent_upserted(org: Org, index: int, active: bool) -> dict[str, Any]:
    agent = org.agents[index]
    return {
        "id": None,
        "type": "agent.upserted",
        "occurred_at": None,
        "agent_id": agent.agent_id,
        "name": agent.name,
        "email": agent.email,
        "kind": agent.kind,
        "team_ids": [org.teams[agent.team].team_id],
        "active": active,
    }
