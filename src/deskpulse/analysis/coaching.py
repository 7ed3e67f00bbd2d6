"""Coaching-plan numbers and checks (seed 002); the plans themselves live in the web app.

- Start: the agent's reading of the plan's metric on the plan's channel and inquiry over
  the START_LOOKBACK_DAYS (91) days before the plan began ("the 3 months leading up to
  the date your coaching plan commenced"), through `query()`.
- Now: the same metric over the agent's RECENT_INTERACTIONS (20) most recent
  interactions on that channel and inquiry before `as_of` (fewer when fewer exist),
  computed by the registry metric's own aggregates over exactly those rows
  (`measure_rows`), so Start and Now are one definition over two sets of interactions.
- Target: lower-is-better metrics start x (1 - p); higher-is-better ones start x (1 + p),
  capped at what is possible (a probability cannot pass 100%).
- Status: achieved once Now meets the target with at least MIN_INTERACTIONS_FOR_ACHIEVED
  interactions since the plan began (and it stays achieved); expired when the target
  date has passed without that; in progress otherwise.

The functions take no viewer: the web app checks who may open a plan before asking.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import ibis.expr.types as ir

from deskpulse.analysis.effectiveness import (
    EFFECTIVENESS_METRICS,
    VOLUME_METRIC,
    Reading,
)
from deskpulse.errors import DeskpulseError
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.query import (
    TEAM_VIEWER,
    Filters,
    MetricValue,
    Query,
    effectiveness_scored,
    measure_rows,
    query,
)
from deskpulse.metrics.registry import EFFECTIVENESS, REGISTRY

MIN_IMPROVEMENT_PERCENT = 5
MAX_IMPROVEMENT_PERCENT = 50
MAX_ITEMS = 3
MAX_ITEM_LENGTH = 200
RECENT_INTERACTIONS = 20
START_LOOKBACK_DAYS = 91  # "the 3 months leading up to the date the plan commenced"
MIN_INTERACTIONS_FOR_ACHIEVED = 5  # since the plan began: one lucky day is not a habit
RECOMMENDED_MIN_DAYS = 14  # the wizard suggests two weeks to three months
RECOMMENDED_MAX_DAYS = 92

# What an agent can ask a coach, team leader or supervisor for (seed 002, step 6).
ASSISTANCE_CHOICES: tuple[str, ...] = (
    "Listen to some of my calls or read some of my chats with me",
    "Let me shadow a colleague who handles this inquiry well",
    "Role-play this kind of conversation with me",
    "Help me with product or policy knowledge for this inquiry",
    "Show me quicker ways to use our tools and systems",
    "Share templates or knowledge-base articles for this inquiry",
    "Give me regular feedback on my progress",
    "Help me handle difficult or upset customers",
)

PlanStatus = Literal["in_progress", "achieved", "expired"]
MetricDirection = Literal["higher", "lower"]


class PlanInputError(DeskpulseError, ValueError):
    """A plan field that cannot be accepted; `field` names it for the form or the API."""

    field: str  # always named

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def _known_metric(metric: str) -> str:
    if metric not in EFFECTIVENESS_METRICS:
        raise PlanInputError(
            "metric",
            f"unknown metric {metric!r}; choose one of {', '.join(EFFECTIVENESS_METRICS)}",
        )
    return metric


def metric_direction(metric: str) -> MetricDirection:
    """Which way the plan's metric should move."""
    direction = REGISTRY[_known_metric(metric)].direction
    return "lower" if direction == "lower" else "higher"


def metric_ceiling(metric: str) -> float | None:
    """The most a metric can reach: 1.0 for the probabilities, none for durations."""
    return 1.0 if REGISTRY[_known_metric(metric)].unit == "ratio" else None


def validate_improvement(percent: float) -> float:
    """The improvement in percent, 5 to 50 inclusive."""
    try:
        value = float(percent)
    except (TypeError, ValueError):
        raise PlanInputError("improvement", f"{percent!r} is not a number") from None
    if math.isnan(value):
        raise PlanInputError("improvement", "the improvement is not a number")
    if not MIN_IMPROVEMENT_PERCENT <= value <= MAX_IMPROVEMENT_PERCENT:
        raise PlanInputError(
            "improvement",
            f"choose an improvement between {MIN_IMPROVEMENT_PERCENT}% and "
            f"{MAX_IMPROVEMENT_PERCENT}% (you entered {value:g}%)",
        )
    return value


def validate_items(items: Sequence[str], *, field: str) -> list[str]:
    """Actions or assistance items: trimmed, blanks dropped, 1 to 3, each 200 characters
    at most."""
    if isinstance(items, str):
        items = [items]
    kept = [item.strip() for item in items if item is not None and item.strip()]
    if not kept:
        raise PlanInputError(field, "enter at least 1 item")
    if len(kept) > MAX_ITEMS:
        raise PlanInputError(field, f"enter at most {MAX_ITEMS} items (you entered {len(kept)})")
    for number, item in enumerate(kept, start=1):
        if len(item) > MAX_ITEM_LENGTH:
            raise PlanInputError(
                field,
                f"item {number} is {len(item)} characters long; keep each to "
                f"{MAX_ITEM_LENGTH} characters",
            )
    return kept


def target_value(
    start: float, percent: float, direction: MetricDirection, ceiling: float | None
) -> float:
    """The value the plan aims for: start x (1 - p) when lower is better, start x (1 + p)
    capped at `ceiling` when higher is better (p = percent / 100)."""
    p = validate_improvement(percent) / 100.0
    if direction == "lower":
        return round(start * (1.0 - p), 9)
    raised = start * (1.0 + p)
    if ceiling is not None:
        raised = min(raised, ceiling)
    return round(raised, 9)


def target_date_check(target: date, today: date) -> str | None:
    """PlanInputError unless `target` is after `today`; a gentle warning (not an error)
    outside two weeks to three months; else None."""
    if target <= today:
        raise PlanInputError("target_date", "choose a date after today")
    days = (target - today).days
    if days < RECOMMENDED_MIN_DAYS:
        return (
            f"{target.isoformat()} is only {days} day{'s' if days != 1 else ''} away. We "
            "recommend at least 2 weeks, so there are enough interactions to see a change."
        )
    if days > RECOMMENDED_MAX_DAYS:
        return (
            f"{target.isoformat()} is {days} days away. We recommend at most 3 months: a "
            "nearer goal is easier to keep in mind."
        )
    return None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _naive_utc(moment: datetime) -> datetime:
    return _aware(moment).replace(tzinfo=None)


def _reading(value: MetricValue) -> Reading:
    return Reading(None if value.value is None else float(value.value), value.n)


def _between(
    store: Store,
    metric: str,
    agent_id: str,
    channel: str,
    inquiry: str,
    since: datetime,
    until: datetime,
) -> MetricValue:
    """The agent's reading of `metric` over interactions created in [since, until)."""
    if _aware(since) >= _aware(until):
        return MetricValue(None, 0)
    q = Query(
        metrics=[metric],
        period="custom",
        filters=Filters(agent=agent_id, channel=channel, inquiry=inquiry),
        **{"from": _aware(since), "to": _aware(until)},
    )
    # Ungrouped with an agent filter: on a table of agent rows, the agent's own rows.
    return query(store, q, TEAM_VIEWER).single().metrics[metric]


def start_value(
    store: Store, agent_id: str, *, channel: str, inquiry: str, metric: str, began_at: datetime
) -> Reading:
    """The metric over the 91 days before the plan began."""
    _known_metric(metric)
    began = _aware(began_at)
    since = began - timedelta(days=START_LOOKBACK_DAYS)
    return _reading(_between(store, metric, agent_id, channel, inquiry, since, began))


def now_value(
    store: Store, agent_id: str, *, channel: str, inquiry: str, metric: str, as_of: datetime
) -> tuple[Reading, int]:
    """The metric over the 20 most recent interactions created before `as_of` (fewer
    when fewer exist), and how many interactions that is."""
    _known_metric(metric)
    if not facts_exist(store) or not effectiveness_scored(store):
        return Reading(None, 0), 0
    until = _naive_utc(as_of)

    def recent(t: ir.Table) -> ir.Table:
        mine = t.filter(
            (t.agent_id == agent_id)
            & (t.channel == channel)
            & (t.inquiry == inquiry)
            & (t.created_at < until)
        )
        # Newest first; the conversation id settles equal times the same way every time.
        newest = mine.order_by([mine.created_at.desc(), mine.conversation_id.desc()])
        return newest.limit(RECENT_INTERACTIONS)

    values = measure_rows(store, EFFECTIVENESS, recent, [metric, VOLUME_METRIC])
    interactions = values[VOLUME_METRIC]
    count = 0 if interactions.value is None else int(interactions.value)
    return _reading(values[metric]), count


def interactions_since(
    store: Store, agent_id: str, *, channel: str, inquiry: str, since: datetime, as_of: datetime
) -> int:
    """The agent's interactions on the channel and inquiry created in [since, as_of)."""
    found = _between(store, VOLUME_METRIC, agent_id, channel, inquiry, since, as_of)
    return 0 if found.value is None else int(found.value)


def meets_target(now: Reading, target: float, direction: MetricDirection) -> bool:
    """Whether Now is at or past the target (values equal to 9 decimals meet it)."""
    if now.value is None:
        return False
    value = round(now.value, 9)
    goal = round(target, 9)
    return value <= goal if direction == "lower" else value >= goal


def plan_status(
    *,
    target: float,
    now: Reading,
    direction: MetricDirection,
    interactions_since_start: int,
    target_date: date,
    today: date,
    already_achieved: bool,
) -> PlanStatus:
    """Achieved (and it stays so) when Now meets the target with at least 5 interactions
    since the plan began; expired when the target date has passed without that; else in
    progress. Reaching the target on the target date itself still counts."""
    if already_achieved:
        return "achieved"
    enough = interactions_since_start >= MIN_INTERACTIONS_FOR_ACHIEVED
    if enough and meets_target(now, target, direction):
        return "achieved"
    if today > target_date:
        return "expired"
    return "in_progress"


__all__ = [
    "ASSISTANCE_CHOICES",
    "MAX_IMPROVEMENT_PERCENT",
    "MAX_ITEMS",
    "MAX_ITEM_LENGTH",
    "MIN_IMPROVEMENT_PERCENT",
    "MIN_INTERACTIONS_FOR_ACHIEVED",
    "RECENT_INTERACTIONS",
    "START_LOOKBACK_DAYS",
    "PlanInputError",
    "PlanStatus",
    "interactions_since",
    "meets_target",
    "metric_ceiling",
    "metric_direction",
    "now_value",
    "plan_status",
    "start_value",
    "target_date_check",
    "target_value",
    "validate_improvement",
    "validate_items",
]
