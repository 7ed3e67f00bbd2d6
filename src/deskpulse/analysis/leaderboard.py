"""The agent leaderboard: one row per agent with the per-agent readings of the period.

Every number comes from `query()`: one grouped-by-agent query for the rows and one
ungrouped query for the team CSAT the shrunk estimate leans on. This module only adds
names from the agent directory, shrinks CSAT toward the team mean, filters by team
membership and sorts. It is not a stack rank: there are no rank numbers, any column can
sort it, and empty samples always sort last (seed 000, DESIGN.md "signals, not scores").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from deskpulse.events.store import Store
from deskpulse.metrics.dashboard import TimeBasis, timed, timed_values
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import (
    TEAM_VIEWER,
    Filters,
    MetricValue,
    Query,
    QueryError,
    Viewer,
    query,
)
from deskpulse.metrics.report import agent_directory
from deskpulse.metrics.window import Window

FEW_CSAT_RESPONSES = 10  # under this, the CSAT cell is marked "few responses"
CSAT_PRIOR_RESPONSES = 10  # shrinkage weight: the team mean counts as this many responses

Direction = Literal["higher", "lower", "neutral"]

# The per-agent readings a row needs; every one has a per-agent source in the registry.
ROW_METRICS: tuple[str, ...] = (
    "handled",
    "replies",
    "first_response_median",
    "csat_mean",
    "ai_assist_as_is_rate",
    "ai_assist_edited_rate",
    "ai_assist_scratch_rate",
    "ai_drafted_rate",
    "mentions",
    "aht_mean",
    "aht_estimated_rate",
)


@dataclass(frozen=True)
class Column:
    """One leaderboard column as pages, the API and the CSV export show it."""

    key: str
    label: str
    metric: str | None  # the registry metric behind it; None when derived or not a number
    direction: Direction
    format: str  # "text", "count", "duration", "score", "percent" or "assist"
    unit_hint: str  # "seconds", "percent", "score", "count" or ""


COLUMNS: tuple[Column, ...] = (
    Column("agent", "Agent", None, "neutral", "text", ""),
    Column("handled", "Conversations handled", "handled", "neutral", "count", "count"),
    Column(
        "first_response_median",
        "Median first response",
        "first_response_median",
        "lower",
        "duration",
        "seconds",
    ),
    Column("csat_mean", "CSAT", "csat_mean", "higher", "score", "score"),
    # The CSAT sample size: context for the CSAT cell, not a performance reading, so it
    # gets no better/worse colouring even though the registry calls more responses better.
    Column("csat_responses", "CSAT responses", "csat_responses", "neutral", "count", "count"),
    Column("csat_shrunk", "CSAT adjusted for responses", None, "higher", "score", "score"),
    # Three shares in one bar (as is, edited, from scratch); sorts by the AI-draft share.
    Column("ai_assist", "AI assist activity", None, "neutral", "assist", "percent"),
    # How the agent writes (AI drafts among their replies), never labelled AI-handled:
    # that is a conversation reading, and the agent's conversations are all human ones.
    Column(
        "ai_drafted_rate", "AI-drafted replies", "ai_drafted_rate", "neutral", "percent", "percent"
    ),
    Column("mentions", "Mentions", "mentions", "neutral", "count", "count"),
)
COLUMN_KEYS: tuple[str, ...] = tuple(column.key for column in COLUMNS)

_CSV_UNITS = {"seconds": "s", "percent": "%"}
_ASSIST_PARTS: tuple[tuple[str, str], ...] = (
    ("as is", "assist_as_is"),
    ("edited", "assist_edited"),
    ("from scratch", "assist_scratch"),
)


def _plain(value: float | int | None, decimals: int, scale: float = 1.0) -> str:
    """A CSV number: fixed decimals, blank when there is no sample."""
    if value is None:
        return ""
    return f"{float(value) * scale:.{decimals}f}"


def _count(value: float | int | None) -> str:
    # A count over no rows is zero conversations or mentions, not a missing value.
    return "0" if value is None else str(int(value))


@dataclass(frozen=True)
class AgentRow:
    """One agent's readings for the period; every value carries its n."""

    agent_id: str
    name: str
    kind: str  # "human" | "ai"
    team_ids: tuple[str, ...]
    handled: MetricValue
    replies: MetricValue
    first_response_median: MetricValue  # the registry's per-agent reading
    csat_mean: MetricValue  # n = responses
    csat_shrunk: float | None  # (sum + k*team_mean)/(n + k), None without responses or team mean
    few_csat_responses: bool  # 0 < n < FEW_CSAT_RESPONSES (n == 0 shows "no responses")
    assist_as_is: MetricValue  # shares of the agent's human replies
    assist_edited: MetricValue
    assist_scratch: MetricValue
    ai_drafted_rate: MetricValue
    mentions: MetricValue
    aht_mean: MetricValue
    aht_estimated_rate: MetricValue

    @property
    def csat_responses(self) -> int:
        return self.csat_mean.n

    @property
    def ai_draft_share(self) -> float | None:
        """Share of the agent's replies that were AI drafts (as is + edited)."""
        if self.assist_as_is.value is None or self.assist_edited.value is None:
            return None
        return round(float(self.assist_as_is.value) + float(self.assist_edited.value), 9)

    def sort_value(self, key: str) -> float | str | None:
        """The value column `key` sorts by; None (no sample) always sorts last."""
        getter = _SORT_VALUES.get(key)
        if getter is None:
            raise QueryError("sort", f"unknown column {key!r}; columns: {', '.join(COLUMN_KEYS)}")
        return getter(self)

    def csv_cells(self) -> list[str]:
        """The row's CSV cells in COLUMNS order; ai_assist spreads over three cells
        (as is, edited, from scratch), matching `leaderboard_csv`'s header."""
        cells: list[str] = []
        for column in COLUMNS:
            match column.key:
                case "agent":
                    cells.append(self.name)
                case "handled":
                    cells.append(_count(self.handled.value))
                case "first_response_median":
                    cells.append(_plain(self.first_response_median.value, 1))
                case "csat_mean":
                    cells.append(_plain(self.csat_mean.value, 2))
                case "csat_responses":
                    # n is always known: 0 responses is a fact, not a missing value.
                    cells.append(str(self.csat_mean.n))
                case "csat_shrunk":
                    cells.append(_plain(self.csat_shrunk, 2))
                case "ai_assist":
                    cells.extend(
                        _plain(getattr(self, field).value, 1, 100.0) for _, field in _ASSIST_PARTS
                    )
                case "ai_drafted_rate":
                    cells.append(_plain(self.ai_drafted_rate.value, 1, 100.0))
                case "mentions":
                    cells.append(_count(self.mentions.value))
        return cells


def _value(row: AgentRow, field: str) -> float | None:
    reading: MetricValue = getattr(row, field)
    return None if reading.value is None else float(reading.value)


_SORT_VALUES: dict[str, Callable[[AgentRow], float | str | None]] = {
    "agent": lambda row: row.name.casefold(),
    # Counts: an empty sample is 0 (an agent listed for a CSAT answer on an older
    # conversation handled nothing this period), so it sorts as 0, not last.
    "handled": lambda row: _value(row, "handled") or 0.0,
    "first_response_median": lambda row: _value(row, "first_response_median"),
    "csat_mean": lambda row: _value(row, "csat_mean"),
    "csat_responses": lambda row: float(row.csat_mean.n),
    "csat_shrunk": lambda row: row.csat_shrunk,
    "ai_assist": lambda row: row.ai_draft_share,
    "ai_drafted_rate": lambda row: _value(row, "ai_drafted_rate"),
    "mentions": lambda row: _value(row, "mentions") or 0.0,
}
assert set(_SORT_VALUES) == set(COLUMN_KEYS)


@dataclass(frozen=True)
class Leaderboard:
    period: Period
    previous_period: Period | None
    team_csat_mean: MetricValue  # team-level CSAT over the same period (names nobody)
    rows: list[AgentRow]  # already sorted
    teams: tuple[str, ...]  # team ids known from the agent directory, for the team filter
    team: str | None
    sort: str
    descending: bool
    time: TimeBasis = "calendar"  # business: first response in business hours

    @property
    def columns(self) -> tuple[Column, ...]:
        return COLUMNS


def shrunk_csat(csat: MetricValue, team_mean: float | int | None) -> float | None:
    """CSAT pulled toward the team mean by CSAT_PRIOR_RESPONSES imaginary responses.

    (sum of the agent's scores + k * team mean) / (n + k). With k = 10 and a team mean
    of 4.2, a 4.8 on 5 responses (sum 24) reads (24 + 42) / 15 = 4.40, below a 4.6 on
    50 responses (sum 230) at (230 + 42) / 60 = 4.53. None when the agent has no
    responses (the team mean would pass for the agent's own score) or no team mean.
    """
    if team_mean is None or csat.value is None or csat.n == 0:
        return None
    # Scores are whole numbers, so the sum is too: rounding undoes the 9-decimal
    # rounding of the mean and gives the exact sum.
    total = round(float(csat.value) * csat.n)
    k = CSAT_PRIOR_RESPONSES
    return round((total + k * float(team_mean)) / (csat.n + k), 9)


def _sorted(rows: list[AgentRow], sort: str, descending: bool) -> list[AgentRow]:
    # Ties always read by name then id, in ascending order, whatever the direction:
    # sort by those first, then by the column with a stable sort (reverse keeps
    # stability in Python).
    by_name = sorted(rows, key=lambda row: (row.name.casefold(), row.name, row.agent_id))
    present = [row for row in by_name if row.sort_value(sort) is not None]
    empty = [row for row in by_name if row.sort_value(sort) is None]
    present.sort(key=lambda row: _sort_key(row.sort_value(sort)), reverse=descending)
    return present + empty


def _sort_key(value: float | str | None) -> tuple[float, str]:
    if isinstance(value, str):
        return (0.0, value)
    return (0.0 if value is None else float(value), "")


def leaderboard(
    store: Store,
    window: Window,
    viewer: Viewer = TEAM_VIEWER,
    *,
    team: str | None = None,
    sort: str = "handled",
    descending: bool = True,
    time: TimeBasis = "calendar",
    filters: Filters | None = None,
) -> Leaderboard:
    """The agent leaderboard for `window` as `viewer` may see it.

    An agent viewer gets only their own row (query() confines them); the team CSAT stays
    team-level because it names nobody. `team` keeps the agents who belong to that team
    in the agent directory (membership, not the conversations' team); an unknown team
    gives no rows. AI agents are listed too, with kind "ai".

    `filters` scope every reading to the conversations they select (the dashboard's
    team, channel, inbox… filters): a row then reads the agent's work on those
    conversations, and the CSAT the shrunk estimate leans on is that scope's.
    """
    if sort not in COLUMN_KEYS:
        raise QueryError("sort", f"unknown column {sort!r}; columns: {', '.join(COLUMN_KEYS)}")
    fields = window.query_fields()
    scope = filters or Filters()
    board = query(
        store,
        Query(
            metrics=[timed(name, time) for name in ROW_METRICS],
            group_by=["agent"],
            filters=scope,
            **fields,
        ),
        viewer,
    )
    # Ungrouped: the CSAT over the same period and the same conversations, whatever the
    # membership filter, so a row's adjusted CSAT does not change with `team` alone.
    team_csat = query(store, Query(metrics=["csat_mean"], filters=scope, **fields), viewer).single()
    team_csat_mean = team_csat.metrics["csat_mean"]
    directory = agent_directory(store)

    rows: list[AgentRow] = []
    for result_row in board.rows:
        agent_id = result_row.group.get("agent")
        if agent_id is None:
            continue  # rows without an agent (should not exist) name nobody to list
        known: dict[str, Any] = directory.get(agent_id, {})
        team_ids = tuple(str(t) for t in (known.get("team_ids") or ()))
        if team is not None and team not in team_ids:
            continue
        m = timed_values(result_row.metrics, ROW_METRICS, time)
        csat = m["csat_mean"]
        rows.append(
            AgentRow(
                agent_id=agent_id,
                name=str(known.get("name") or agent_id),
                kind=str(known.get("kind") or "human"),
                team_ids=team_ids,
                handled=m["handled"],
                replies=m["replies"],
                first_response_median=m["first_response_median"],
                csat_mean=csat,
                csat_shrunk=shrunk_csat(csat, team_csat_mean.value),
                few_csat_responses=0 < csat.n < FEW_CSAT_RESPONSES,
                assist_as_is=m["ai_assist_as_is_rate"],
                assist_edited=m["ai_assist_edited_rate"],
                assist_scratch=m["ai_assist_scratch_rate"],
                ai_drafted_rate=m["ai_drafted_rate"],
                mentions=m["mentions"],
                aht_mean=m["aht_mean"],
                aht_estimated_rate=m["aht_estimated_rate"],
            )
        )

    teams = sorted({str(t) for known in directory.values() for t in (known.get("team_ids") or ())})
    return Leaderboard(
        period=board.period,
        previous_period=board.previous_period,
        team_csat_mean=team_csat_mean,
        rows=_sorted(rows, sort, descending),
        teams=tuple(teams),
        team=team,
        sort=sort,
        descending=descending,
        time=time,
    )


def column_label(column: Column, time: TimeBasis = "calendar") -> str:
    """A column's heading; durations say when they count business hours only."""
    if time == "business" and column.unit_hint == "seconds":
        return f"{column.label} (business hours)"
    return column.label


def csv_header(time: TimeBasis = "calendar") -> list[str]:
    """Column labels with their unit in brackets; AI assist as three share columns."""
    header: list[str] = []
    for column in COLUMNS:
        unit = _CSV_UNITS.get(column.unit_hint)
        label = column_label(column, time)
        if column.key == "ai_assist":
            header.extend(f"AI assist: {part} (%)" for part, _ in _ASSIST_PARTS)
        elif unit is not None:
            header.append(f"{label} ({unit})")
        else:
            header.append(label)
    return header


def leaderboard_csv(board: Leaderboard) -> str:
    """The leaderboard as CSV, rows in the order shown, numbers plain (seconds and
    percents with 1 decimal, CSAT with 2), blank where there is no sample."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header(board.time))
    for row in board.rows:
        writer.writerow(row.csv_cells())
    return out.getvalue()


__all__ = [
    "COLUMNS",
    "CSAT_PRIOR_RESPONSES",
    "FEW_CSAT_RESPONSES",
    "AgentRow",
    "Column",
    "Leaderboard",
    "csv_header",
    "leaderboard",
    "leaderboard_csv",
    "shrunk_csat",
]
