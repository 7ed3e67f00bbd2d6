"""Coaching-plan numbers and checks (seed 002); the plans themselves live in the web app.

- Start: the agent's reading of the plan's metric on the plan's channel and inquiry over
  the START_LOOKBACK_DAYS (91) days before the plan began ("the 3 months leading up to
  the date your coaching plan commenced"), through `query()`.
- Now: the same metric over the agent's RECENT_INTERACTIONS (20) most recent
  interactions on that channel and inquiry created since the plan began and before
  `as_of` (fewer when fewer exist; none on the day the plan begins), computed by the
  registry metric's own aggregates over exactly those rows (`measure_rows`), so Start
  and Now are one definition over two sets of interactions that never overlap.
- Target: lower-is-better metrics start x (1 - p); higher-is-better ones start x (1 + p),
  capped at what is possible (a probability cannot pass 100%).
- Change: Now against Start as a relative change with a CONFIDENCE (99%) interval, from
  the same per-interaction values (`compare`): Welch's interval for an average of
  probabilities or seconds, Newcombe's for a share of yes/no outcomes, a bootstrap for
  the Agent Effectiveness Score (a ratio of three averages).
- Status: achieved once Now meets the target, Now holds at least MIN_NOW_INTERACTIONS
  (20) interactions since the plan began, and the whole interval lies on the
  better side of "no change" (and it stays achieved); expired when the target date has
  passed without that; in progress otherwise. A Now that meets the target inside the
  usual variation is "not yet distinguishable from the usual variation".

The functions take no viewer: the web app checks who may open a plan before asking.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

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
# A plan is checked every day and "achieved" is final, so a 95% interval on a few
# interactions lets lucky runs through: replayed on data with no true change (daily for
# three weeks, 5% target; benchmarks/bench_coaching.py), 10 interactions at 95% read
# 10-12% of plans achieved. A full Now (20 since the start) at 99% reads 0-3.4%.
MIN_NOW_INTERACTIONS = RECENT_INTERACTIONS
CONFIDENCE = 0.99
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 15  # fixed: the same interactions always give the same interval
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
ChangeMethod = Literal["welch", "newcombe", "bootstrap"]


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
    store: Store,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    metric: str,
    began_at: datetime,
    as_of: datetime,
) -> tuple[Reading, int]:
    """The metric over the 20 most recent interactions created since the plan began and
    before `as_of` (fewer when fewer exist), and how many interactions that is.

    Only interactions after the start count: Start is the baseline before the plan, so a
    plan that has just begun has no Now yet (None, 0), not Start again.
    """
    _known_metric(metric)
    if not facts_exist(store) or not effectiveness_scored(store):
        return Reading(None, 0), 0
    values = measure_rows(
        store,
        EFFECTIVENESS,
        _recent_since(agent_id, channel, inquiry, began_at, as_of),
        [metric, VOLUME_METRIC],
    )
    interactions = values[VOLUME_METRIC]
    count = 0 if interactions.value is None else int(interactions.value)
    return _reading(values[metric]), count


def _mine(
    t: ir.Table, agent_id: str, channel: str, inquiry: str, since: datetime, until: datetime
) -> ir.Table:
    return t.filter(
        (t.agent_id == agent_id)
        & (t.channel == channel)
        & (t.inquiry == inquiry)
        & (t.created_at >= _naive_utc(since))
        & (t.created_at < _naive_utc(until))
    )


def _recent_since(
    agent_id: str, channel: str, inquiry: str, began_at: datetime, as_of: datetime
) -> Callable[[ir.Table], ir.Table]:
    def recent(t: ir.Table) -> ir.Table:
        mine = _mine(t, agent_id, channel, inquiry, began_at, as_of)
        # Newest first; the conversation id settles equal times the same way every time.
        newest = mine.order_by([mine.created_at.desc(), mine.conversation_id.desc()])
        return newest.limit(RECENT_INTERACTIONS)

    return recent


def interactions_since(
    store: Store, agent_id: str, *, channel: str, inquiry: str, since: datetime, as_of: datetime
) -> int:
    """The agent's interactions on the channel and inquiry created in [since, as_of)."""
    found = _between(store, VOLUME_METRIC, agent_id, channel, inquiry, since, as_of)
    return 0 if found.value is None else int(found.value)


# -- Now against Start: beyond noise or not ------------------------------------------------

Values = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sample:
    """One set of interactions' own values, NaN where an interaction has none (a
    satisfaction measured from CSAT exists only where the customer answered)."""

    handle: Values
    satisfaction: Values
    resolution: Values

    @classmethod
    def of(
        cls,
        handle: Sequence[float | None],
        satisfaction: Sequence[float | None],
        resolution: Sequence[float | None],
    ) -> Sample:
        def array(values: Sequence[float | None]) -> Values:
            return np.array([np.nan if v is None else float(v) for v in values], dtype=float)

        return cls(array(handle), array(satisfaction), array(resolution))

    @property
    def interactions(self) -> int:
        return len(self.handle)

    def column(self, metric: str) -> Values:
        """The per-interaction values an average metric is the mean of."""
        columns = {
            "aes_handle_time": self.handle,
            "predicted_satisfaction": self.satisfaction,
            "predicted_resolution": self.resolution,
        }
        values = columns[metric]
        return values[~np.isnan(values)]

    def reading(self, metric: str) -> Reading:
        """The registry's definition over these interactions: an average over the
        interactions with a value; the score divides the three averages."""
        if metric == "effectiveness_score":
            value = _score(self.handle, self.satisfaction, self.resolution)
            return Reading(value, int(np.count_nonzero(~np.isnan(self.handle))))
        values = self.column(metric)
        return Reading(float(values.mean()) if len(values) else None, len(values))


def _score(handle: Values, satisfaction: Values, resolution: Values) -> float | None:
    if not (np.any(~np.isnan(handle)) and np.any(~np.isnan(satisfaction))):
        return None
    if not np.any(~np.isnan(resolution)):
        return None
    divisor = float(np.nanmean(satisfaction)) * float(np.nanmean(resolution))
    return None if divisor <= 0 else float(np.nanmean(handle)) / divisor


@dataclass(frozen=True)
class Change:
    """Now against Start: the relative change (Now / Start - 1) with its interval.

    `low`/`high` are None when there is nothing to compare (no Now, no Start, Start 0, or
    too few values for an interval)."""

    metric: str
    start: Reading
    now: Reading
    interactions: int  # behind Now, all since the plan began
    relative: float | None
    low: float | None
    high: float | None
    method: ChangeMethod
    confidence: float = CONFIDENCE

    @property
    def enough(self) -> bool:
        return self.interactions >= MIN_NOW_INTERACTIONS

    def beyond_noise(self, direction: MetricDirection) -> bool:
        """The whole interval on the better side of no change, on enough interactions."""
        if not self.enough or self.low is None or self.high is None:
            return False
        return self.high < 0 if direction == "lower" else self.low > 0


def _method(metric: str, start: Values, now: Values) -> ChangeMethod:
    if metric == "effectiveness_score":
        return "bootstrap"
    both = np.concatenate([start, now])
    # A measured outcome is a yes or a no: a share, with a share's interval.
    return "newcombe" if len(both) and np.all((both == 0.0) | (both == 1.0)) else "welch"


def compare(metric: str, start: Sample, now: Sample, *, confidence: float = CONFIDENCE) -> Change:
    """Now against Start with a `confidence` interval on the relative change.

    Welch's t interval for an average (seconds, predicted probabilities): it keeps its
    coverage on skewed handle times where a plain normal interval does not. Newcombe's
    hybrid score interval for a share of yes/no outcomes (a measured satisfaction or
    resolution): a Wald interval is far too narrow at 10 of 10. A percentile bootstrap
    (BOOTSTRAP_RESAMPLES, fixed seed) for the score, a ratio of three averages, resampling
    each side's interactions as whole rows. Differences are divided by Start to read as
    relative changes.
    """
    _known_metric(metric)
    start_reading, now_reading = start.reading(metric), now.reading(metric)
    sample = now.interactions
    if metric == "effectiveness_score":
        method: ChangeMethod = "bootstrap"
    else:
        method = _method(metric, start.column(metric), now.column(metric))
    base, current = start_reading.value, now_reading.value
    if base is None or current is None or base == 0:
        return Change(metric, start_reading, now_reading, sample, None, None, None, method)
    relative = current / base - 1.0
    alpha = 1.0 - confidence
    interval: tuple[float, float] | None
    if method == "bootstrap":
        interval = _bootstrap(start, now, alpha)
    elif method == "newcombe":
        interval = _newcombe(start.column(metric), now.column(metric), alpha, base)
    else:
        interval = _welch(start.column(metric), now.column(metric), alpha, base)
    low, high = (None, None) if interval is None else interval
    return Change(metric, start_reading, now_reading, sample, relative, low, high, method)


def _welch(start: Values, now: Values, alpha: float, base: float) -> tuple[float, float] | None:
    if len(start) < 2 or len(now) < 2:
        return None
    var_s, var_n = float(start.var(ddof=1)) / len(start), float(now.var(ddof=1)) / len(now)
    se = math.sqrt(var_s + var_n)
    difference = float(now.mean() - start.mean())
    if se == 0:
        return difference / base, difference / base
    df = (var_s + var_n) ** 2 / (var_s**2 / (len(start) - 1) + var_n**2 / (len(now) - 1))
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return (difference - half) / base, (difference + half) / base


def _newcombe(start: Values, now: Values, alpha: float, base: float) -> tuple[float, float] | None:
    if not len(start) or not len(now):
        return None
    low, high = confint_proportions_2indep(
        int(now.sum()),
        len(now),
        int(start.sum()),
        len(start),
        method="newcomb",
        compare="diff",
        alpha=alpha,
    )
    return float(low) / base, float(high) / base


def _bootstrap(start: Sample, now: Sample, alpha: float) -> tuple[float, float] | None:
    if start.interactions < 2 or now.interactions < 2:
        return None
    rng = np.random.default_rng(BOOTSTRAP_SEED)

    def scores(sample: Sample) -> Values:
        picks = rng.integers(
            0, sample.interactions, size=(BOOTSTRAP_RESAMPLES, sample.interactions)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample without a value
            handle = np.nanmean(sample.handle[picks], axis=1)
            satisfaction = np.nanmean(sample.satisfaction[picks], axis=1)
            resolution = np.nanmean(sample.resolution[picks], axis=1)
            ratio: Values = handle / (satisfaction * resolution)
            return ratio

    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = scores(now) / scores(start)
    finite = ratios[np.isfinite(ratios)]
    # A resample with no satisfied answer has no score; the interval needs nearly all.
    if len(finite) < 0.95 * BOOTSTRAP_RESAMPLES:
        return None
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low) - 1.0, float(high) - 1.0


def _sample(picked: ir.Table) -> Sample:
    rows = picked.select("handle_seconds", "predicted_satisfaction", "predicted_resolution")
    data = rows.to_pyarrow().to_pydict()
    return Sample.of(
        data["handle_seconds"], data["predicted_satisfaction"], data["predicted_resolution"]
    )


def start_sample(
    store: Store, agent_id: str, *, channel: str, inquiry: str, began_at: datetime
) -> Sample:
    """The interactions behind Start: the 91 days before the plan began."""
    if not facts_exist(store) or not effectiveness_scored(store):
        return Sample.of([], [], [])
    since = _aware(began_at) - timedelta(days=START_LOOKBACK_DAYS)
    t = store.con.table(EFFECTIVENESS)
    return _sample(_mine(t, agent_id, channel, inquiry, since, began_at))


def now_sample(
    store: Store,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    began_at: datetime,
    as_of: datetime,
) -> Sample:
    """The interactions behind Now: the 20 most recent since the plan began."""
    if not facts_exist(store) or not effectiveness_scored(store):
        return Sample.of([], [], [])
    t = store.con.table(EFFECTIVENESS)
    return _sample(_recent_since(agent_id, channel, inquiry, began_at, as_of)(t))


# -- the recommendation, when handle time is mostly an estimate ------------------------------

# Above this share of estimated handle times, handle time is not a sound coaching focus:
# an estimate counts the wait since the customer's message (capped), not the agent's work.
ESTIMATED_MAJORITY = 0.5


@dataclass(frozen=True)
class EstimatedShare:
    estimated: int
    with_handle_time: int

    @property
    def share(self) -> float | None:
        return self.estimated / self.with_handle_time if self.with_handle_time else None

    @property
    def mostly(self) -> bool:
        share = self.share
        return share is not None and share > ESTIMATED_MAJORITY


def estimated_handle_share(
    store: Store, agent_id: str, *, channel: str, inquiry: str, since: datetime, until: datetime
) -> EstimatedShare:
    """How many of the agent's handle times on the inquiry in [since, until) are
    estimated from reply times (no work logged), of those with a handle time."""
    if not facts_exist(store) or not effectiveness_scored(store):
        return EstimatedShare(0, 0)
    t = store.con.table(EFFECTIVENESS)
    mine = _mine(t, agent_id, channel, inquiry, since, until)
    timed = mine.handle_seconds.notnull()
    counts = (
        mine.aggregate(
            estimated=mine.count(where=timed & mine.handle_time_estimated),
            timed=mine.count(where=timed),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return EstimatedShare(int(counts["estimated"] or 0), int(counts["timed"] or 0))


def focus_past_estimates(
    metric: str | None,
    gaps: dict[str, float | None],
    explanation: str,
    estimated: EstimatedShare,
    labels: dict[str, str],
) -> tuple[str | None, str]:
    """The recommended focus, moved off handle time when most of it is estimated.

    `metric`, `gaps` and `explanation` are the effectiveness recommendation (largest
    log-gap to the top quarter); `labels` names the metrics as the page does. Handle time
    stays the focus only when at most half of it is estimated; otherwise the next largest
    gap of the other parts is chosen, or none when they have no gap.
    """
    if metric != "aes_handle_time" or not estimated.mostly:
        return metric, explanation
    share = estimated.share or 0.0
    why = (
        f"{100 * share:.0f}% of your handle times on this inquiry "
        f"({estimated.estimated} of {estimated.with_handle_time}) are estimated from reply "
        "times because no work was logged, so handle time is not a sound place to focus: "
        "an estimate measures how long the customer's message waited, not your work."
    )
    others = {
        name: gap for name, gap in gaps.items() if name != "aes_handle_time" and gap is not None
    }
    if not others:
        return None, (
            f"{why} Satisfaction and resolution have nothing to compare with yet, so there "
            "is no recommendation; choose the metric you want to work on."
        )
    chosen = max(others, key=lambda name: others[name])
    label = labels.get(chosen, chosen)
    if others[chosen] > 0:
        reason = f"{label} is the next furthest behind the top quarter of agents."
    else:
        reason = f"You match the top quarter on {label.lower()}; it is where your lead is smallest."
    return chosen, f"{why} Focus on {label.lower()} instead: {reason}"


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
    change: Change | None,
    direction: MetricDirection,
    target_date: date,
    today: date,
    already_achieved: bool,
) -> PlanStatus:
    """Achieved (and it stays so) when Now meets the target and the change is beyond noise
    (enough interactions since the plan began, the whole interval on the better side);
    expired when the target date has passed without that; else in progress. Reaching the
    target on the target date itself still counts."""
    if already_achieved:
        return "achieved"
    beyond = change is not None and change.beyond_noise(direction)
    if beyond and meets_target(now, target, direction):
        return "achieved"
    if today > target_date:
        return "expired"
    return "in_progress"


__all__ = [
    "ASSISTANCE_CHOICES",
    "CONFIDENCE",
    "ESTIMATED_MAJORITY",
    "MAX_IMPROVEMENT_PERCENT",
    "MAX_ITEMS",
    "MAX_ITEM_LENGTH",
    "MIN_IMPROVEMENT_PERCENT",
    "MIN_NOW_INTERACTIONS",
    "RECENT_INTERACTIONS",
    "START_LOOKBACK_DAYS",
    "Change",
    "EstimatedShare",
    "PlanInputError",
    "PlanStatus",
    "Sample",
    "compare",
    "estimated_handle_share",
    "focus_past_estimates",
    "interactions_since",
    "meets_target",
    "metric_ceiling",
    "metric_direction",
    "now_sample",
    "now_value",
    "plan_status",
    "start_sample",
    "start_value",
    "target_date_check",
    "target_value",
    "validate_improvement",
    "validate_items",
]
