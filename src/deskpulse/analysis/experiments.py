"""A/B experiments on live traffic (issue 5 part 3): who saw which variant, what each
variant's conversations did, and the verdict (docs/experiments.md for support leads).

Assignments come from `experiment.exposed` events:

- an exposure naming a `conversation_id` assigns that conversation;
- an exposure naming only a `customer_id` assigns every conversation that customer
  creates from the moment of exposure until the experiment ends;
- only exposures inside the experiment's dates count, and only to the variants it
  defines (others are counted and shown as a data-quality warning);
- the first exposure wins: a unit (conversation or customer) exposed to two variants
  stays in the first, and is counted as a data-quality warning, because moving it would
  let the treatment leak into the control's numbers (and back).

Each experiment metric is a registry metric (same name, label, direction and meaning as
on every other page) read per conversation through the registry's own per-row reading
(metrics/registry.py, `PerRow`): `included` is the registry's row selection (its time
column present, plus the metric's own condition) and `value` the number the registry
averages; nothing here defines a metric a second time. Rates go to the statistics as
counts, means as raw samples, so Welch and Mann-Whitney see every conversation. Outcomes
are read as they stand now: a conversation assigned yesterday may not be resolved yet, in
either variant alike.

The statistics are `experiment_stats.decide`'s; this module only feeds it. No Django.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import numpy as np

from deskpulse import clock
from deskpulse.analysis import experiment_stats as stats
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.registry import CONVERSATIONS, REGISTRY, Reduce
from deskpulse.metrics.registry import Metric as RegistryMetric

__all__ = [
    "EXPERIMENT_METRICS",
    "KEY_PATTERN",
    "Definition",
    "ExperimentMetric",
    "ExperimentResult",
    "MetricReading",
    "SeriesPoint",
    "VariantCount",
    "experiment_result",
    "headline",
    "metric_choices",
]

Status = Literal["scheduled", "running", "ended"]
# Keys appear in URLs (/experiments/<key>/) and in events' `experiment` field.
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Daily traffic, for days to decision, is measured over this many recent days.
TRAFFIC_DAYS = 7
MINUS = "\u2212"


# -- the metrics an experiment can use ----------------------------------------------------


@dataclass(frozen=True)
class ExperimentMetric:
    """A registry metric read per conversation, straight from the registry's per-row
    reading of its team source: `included(t)` picks the conversations the registry
    counts in n, `value(t)` is what it averages over them (yes/no for a rate: the share
    of yes)."""

    name: str

    def __post_init__(self) -> None:
        metric = REGISTRY.get(self.name)
        if metric is None or not metric.readable_per_row:
            raise ValueError(f"metric: {self.name!r} has no per-row reading in the registry")
        if metric.source.table != CONVERSATIONS or self.reduce not in ("share", "mean"):
            raise ValueError(f"metric: {self.name!r} is not a rate or a mean of conversations")

    @property
    def registry(self) -> RegistryMetric:
        return REGISTRY[self.name]

    @property
    def reduce(self) -> Reduce:
        rows = self.registry.source.rows
        assert rows is not None  # checked on creation
        return rows.reduce

    @property
    def kind(self) -> stats.MetricKind:
        return "rate" if self.reduce == "share" else "mean"

    @property
    def label(self) -> str:
        return self.registry.label

    @property
    def description(self) -> str:
        return self.registry.description

    @property
    def direction(self) -> stats.Direction:
        return "lower_is_better" if self.registry.direction == "lower" else "higher_is_better"

    @property
    def time_column(self) -> str:
        return self.registry.source.time_column

    def included(self, t: ir.Table) -> ir.BooleanValue:
        return self.registry.source.row_included(t)

    def value(self, t: ir.Table) -> ir.Value:
        return self.registry.source.row_value(t)


# Order is the order of the form's choices and of the pages' tables.
EXPERIMENT_METRICS: dict[str, ExperimentMetric] = {
    name: ExperimentMetric(name)
    for name in (
        "ai_resolved_rate",
        "escalation_rate",
        "resolution_rate",
        "reopen_rate",
        "csat_satisfied_rate",
        "csat_mean",
        "cost_per_conversation",
        "turns_mean",
        "first_resolution_mean",
        "aht_mean",
    )
}


def metric_choices() -> list[tuple[str, str]]:
    """(name, label) of every metric an experiment may use, for forms and help texts."""
    return [(name, metric.label) for name, metric in EXPERIMENT_METRICS.items()]


# -- the definition -----------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """What an experiment compares. `variants[0]` is the control; the rest are
    treatments (one for now: the statistics compare two variants)."""

    key: str
    variants: tuple[str, ...]
    primary: str
    start: date
    end: date | None = None
    guardrails: tuple[str, ...] = ()
    alpha: float = stats.ALPHA
    mde_relative: float | None = 0.05
    planned_split: tuple[float, ...] = (0.5, 0.5)
    sequential: bool = False
    mann_whitney: bool = False
    name: str = ""
    hypothesis: str = ""

    def __post_init__(self) -> None:
        if len(self.variants) != 2:
            raise ValueError("variants: an experiment compares a control and one treatment")
        if len(set(self.variants)) != len(self.variants):
            raise ValueError("variants: control and treatment need different names")
        if len(self.planned_split) != len(self.variants):
            raise ValueError("planned_split: one share per variant")
        for name in (self.primary, *self.guardrails):
            if name not in EXPERIMENT_METRICS:
                raise ValueError(f"metric: {name!r} is not an experiment metric")
        if self.mde_relative is not None and self.mde_relative <= 0:
            raise ValueError("mde_relative: the minimum detectable lift must be above 0")
        if self.sequential and self.mde_relative is None:
            # The always-valid intervals are tuned to the power plan's sample.
            raise ValueError("mde_relative: a sequential experiment needs one")

    @property
    def control(self) -> str:
        return self.variants[0]

    @property
    def treatment(self) -> str:
        return self.variants[1]

    @property
    def metric_names(self) -> tuple[str, ...]:
        return (self.primary, *(g for g in self.guardrails if g != self.primary))


# -- the result ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantCount:
    variant: str
    units: int  # randomised units assigned: conversations and customers
    conversations: int  # conversations analysed (a customer brings all of theirs)
    recent_daily: float  # primary-metric conversations per day over the last 7 days


@dataclass(frozen=True)
class VariantValue:
    variant: str
    value: float | None  # None: no conversation counts for this metric yet
    n: int


@dataclass(frozen=True)
class MetricReading:
    """One metric's value and n in each variant (the verdict holds the comparison)."""

    name: str
    label: str
    description: str
    kind: stats.MetricKind
    direction: stats.Direction
    role: stats.Role
    values: tuple[VariantValue, ...]


@dataclass(frozen=True)
class SeriesPoint:
    """The primary metric's comparison on everything assigned up to the end of `day`."""

    day: date
    n_control: int
    n_treatment: int
    lift: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ExperimentResult:
    definition: Definition
    status: Status
    as_of: datetime  # naive UTC: outcomes and traffic are read as of this moment
    starts_at: datetime  # naive UTC bounds of the experiment's dates
    ends_at: datetime | None
    variants: tuple[VariantCount, ...]
    metrics: tuple[MetricReading, ...]
    daily_per_variant: float | None
    verdict: stats.Verdict
    series: tuple[SeriesPoint, ...]
    double_exposed: int  # units exposed to more than one variant (kept in the first)
    unknown_variant_exposures: int
    missing_conversations: int  # exposures naming a conversation the facts do not have
    warnings: tuple[str, ...] = field(default=())

    @property
    def assigned(self) -> int:
        return sum(v.conversations for v in self.variants)

    @property
    def headline(self) -> str:
        return headline(self)

    def as_json(self) -> dict[str, Any]:
        out = _plain(self)
        assert isinstance(out, dict)
        out["verdict"] = self.verdict.as_json()
        out["headline"] = self.headline
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentResult:
        """The result `as_json` described (the API's answer), to read it with the same
        presentation code as a freshly computed one."""
        from pydantic import TypeAdapter, ValidationError

        fields = {f.name for f in dataclasses.fields(cls)}
        plain = {name: value for name, value in data.items() if name in fields}
        adapter = TypeAdapter(cls)
        while True:
            try:
                return adapter.validate_python(plain)
            except ValidationError as error:
                # as_json writes a non-finite number as null; read it back as NaN.
                nulls = [
                    found["loc"]
                    for found in error.errors()
                    if found["input"] is None and found["type"] == "float_type"
                ]
                try:
                    for location in nulls:
                        _set_path(plain, location, math.nan)
                except (KeyError, IndexError, TypeError):
                    raise error from None
                if not nulls:
                    raise


def _set_path(data: Any, location: tuple[int | str, ...], value: Any) -> None:
    for step in location[:-1]:
        data = data[step]
    data[location[-1]] = value


def _plain(value: object) -> Any:
    if isinstance(value, stats.Verdict):
        return value.as_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- reading the store ---------------------------------------------------------------------


def _utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return _utc_naive(datetime.combine(day, time(), tzinfo=tz))


@dataclass
class _Rows:
    """Assigned conversations, oldest assignment first, with each metric's columns."""

    variant: np.ndarray[Any, np.dtype[np.object_]]  # variant names
    assigned_at: list[datetime]
    included: dict[str, np.ndarray[Any, np.dtype[np.bool_]]]
    value: dict[str, np.ndarray[Any, np.dtype[np.float64]]]


def _exposures(store: Store, key: str, low: datetime, high: datetime) -> list[dict[str, Any]]:
    events = store.events()
    picked = events.filter(
        (events.type == "experiment.exposed")
        & (events.experiment == key)
        & (events.occurred_at >= low)
        & (events.occurred_at < high)
    ).select("id", "occurred_at", "conversation_id", "customer_id", "variant")
    rows: list[dict[str, Any]] = picked.to_pyarrow().to_pylist()
    # First exposure wins: ties on the same instant go by event id, so the answer never
    # depends on the order rows come back in.
    rows.sort(key=lambda r: (r["occurred_at"], r["id"]))
    return rows


def _first(
    exposures: list[dict[str, Any]], unit: str
) -> tuple[dict[str, tuple[str, datetime]], int]:
    """Each unit's first (variant, time), and how many units saw more than one variant."""
    first: dict[str, tuple[str, datetime]] = {}
    seen: dict[str, set[str]] = {}
    for row in exposures:
        subject = row[unit]
        first.setdefault(subject, (row["variant"], row["occurred_at"]))
        seen.setdefault(subject, set()).add(row["variant"])
    return first, sum(1 for variants in seen.values() if len(variants) > 1)


def _facts(
    store: Store,
    key: str,
    metrics: Sequence[ExperimentMetric],
    low: datetime,
    high: datetime,
    by_conversation: bool,
    by_customer: bool,
) -> list[dict[str, Any]]:
    """The facts rows of every conversation an exposure could assign, with each metric's
    `included` and `value` computed by the backend."""
    if not (by_conversation or by_customer) or not facts_exist(store):
        return []
    events = store.events()
    exposed = events.filter(
        (events.type == "experiment.exposed")
        & (events.experiment == key)
        & (events.occurred_at >= low)
        & (events.occurred_at < high)
    )
    t = store.con.table(CONVERSATIONS)
    wanted = ibis.literal(False)
    if by_conversation:
        named = exposed.filter(exposed.conversation_id.notnull()).conversation_id
        wanted = wanted | t.conversation_id.isin(named)
    if by_customer:
        customers = exposed.filter(exposed.conversation_id.isnull()).customer_id
        wanted = wanted | (
            t.customer_id.isin(customers) & (t.created_at >= low) & (t.created_at < high)
        )
    columns: dict[str, ir.Value] = {
        "conversation_id": t.conversation_id,
        "customer_id": t.customer_id,
        "created_at": t.created_at,
    }
    for metric in metrics:
        columns[f"{metric.name}__in"] = metric.included(t)
        # Rates come back as booleans, means as float64 (the registry's per-row reading):
        # a float literal in a CASE would come back from PostgreSQL as NUMERIC, which
        # Arrow will not read as a double.
        columns[f"{metric.name}__v"] = metric.value(t)
    rows: list[dict[str, Any]] = t.filter(wanted).select(**columns).to_pyarrow().to_pylist()
    return rows


@dataclass
class _Assignment:
    rows: _Rows
    units: dict[str, int]
    unit_times: dict[str, list[datetime]]  # each unit's first exposure, per variant
    conversations: dict[str, int]
    double_exposed: int
    unknown: int
    unknown_names: tuple[str, ...]
    missing: int


def _assign(
    store: Store,
    definition: Definition,
    metrics: Sequence[ExperimentMetric],
    low: datetime,
    high: datetime,
) -> _Assignment:
    all_exposures = _exposures(store, definition.key, low, high)
    known = set(definition.variants)
    exposures = [r for r in all_exposures if r["variant"] in known]
    unknown = len(all_exposures) - len(exposures)
    direct = [r for r in exposures if r["conversation_id"] is not None]
    by_customer = [r for r in exposures if r["conversation_id"] is None]
    first_direct, double_direct = _first(direct, "conversation_id")
    first_customer, double_customer = _first(by_customer, "customer_id")
    facts = _facts(store, definition.key, metrics, low, high, bool(direct), bool(by_customer))

    # Each conversation's candidate assignments; the earliest wins.
    picked: list[tuple[datetime, str, str, dict[str, Any]]] = []
    conflicts = 0
    found: set[str] = set()
    for row in facts:
        cid = row["conversation_id"]
        candidates: list[tuple[datetime, str]] = []
        if cid in first_direct:
            found.add(cid)
            variant, at = first_direct[cid]
            candidates.append((at, variant))
        customer = row["customer_id"]
        if customer in first_customer:
            variant, at = first_customer[customer]
            created = row["created_at"]
            if created is not None and at <= created and low <= created < high:
                # A customer's conversation counts from its creation, not the exposure.
                candidates.append((created, variant))
        if not candidates:
            continue
        candidates.sort()
        if len({variant for _, variant in candidates}) > 1:
            conflicts += 1
        at, variant = candidates[0]
        picked.append((at, cid, variant, row))
    picked.sort(key=lambda p: (p[0], p[1]))

    units = dict.fromkeys(definition.variants, 0)
    unit_times: dict[str, list[datetime]] = {v: [] for v in definition.variants}
    for variant, at in (*first_direct.values(), *first_customer.values()):
        units[variant] += 1
        unit_times[variant].append(at)
    conversations = dict.fromkeys(definition.variants, 0)
    for _, _, variant, _ in picked:
        conversations[variant] += 1
    rows = _Rows(
        variant=np.array([p[2] for p in picked], dtype=np.object_),
        assigned_at=[p[0] for p in picked],
        included={
            m.name: np.array([bool(p[3][f"{m.name}__in"]) for p in picked], dtype=np.bool_)
            for m in metrics
        },
        value={
            m.name: np.array(
                [
                    np.nan if p[3][f"{m.name}__v"] is None else float(p[3][f"{m.name}__v"])
                    for p in picked
                ],
                dtype=np.float64,
            )
            for m in metrics
        },
    )
    return _Assignment(
        rows=rows,
        units=units,
        unit_times=unit_times,
        conversations=conversations,
        double_exposed=double_direct + double_customer + conflicts,
        unknown=unknown,
        unknown_names=tuple(sorted({r["variant"] for r in all_exposures} - known)),
        missing=len(set(first_direct) - found),
    )


# -- from rows to the statistics -----------------------------------------------------------


def _samples(
    rows: _Rows, metric: str, variant: str, upto: int | None = None
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The metric's values in one variant (of the first `upto` assigned conversations)."""
    mask = rows.variant[:upto] == variant
    included = rows.included[metric][:upto] & mask
    values = rows.value[metric][:upto][included]
    finite: np.ndarray[Any, np.dtype[np.float64]] = values[np.isfinite(values)]
    return finite


def _stats_metric(
    metric: ExperimentMetric,
    control: np.ndarray[Any, np.dtype[np.float64]],
    treatment: np.ndarray[Any, np.dtype[np.float64]],
    mann_whitney: bool,
) -> stats.Metric:
    if metric.kind == "rate":
        return stats.Metric(
            name=metric.name,
            kind="rate",
            control=stats.RateCounts(int(control.sum()), int(control.size)),
            treatment=stats.RateCounts(int(treatment.sum()), int(treatment.size)),
            direction=metric.direction,
        )
    return stats.Metric(
        name=metric.name,
        kind="mean",
        control=control,
        treatment=treatment,
        direction=metric.direction,
        test="mann_whitney" if mann_whitney else "welch",
    )


def _series(
    rows: _Rows,
    definition: Definition,
    tz: ZoneInfo,
    first_day: date,
    last_day: date,
) -> tuple[SeriesPoint, ...]:
    """The primary metric's lift on everything assigned by the end of each day."""
    if not len(rows.variant) or last_day < first_day:
        return ()
    metric = EXPERIMENT_METRICS[definition.primary]
    stamps = rows.assigned_at
    points: list[SeriesPoint] = []
    index = 0
    day = first_day
    while day <= last_day:
        end = _day_start(day + timedelta(days=1), tz)
        while index < len(stamps) and stamps[index] < end:
            index += 1
        control = _samples(rows, metric.name, definition.control, index)
        treatment = _samples(rows, metric.name, definition.treatment, index)
        lift = low = high = None
        try:
            if metric.kind == "rate":
                comparison = stats.compare_rates(
                    stats.RateCounts(int(control.sum()), int(control.size)),
                    stats.RateCounts(int(treatment.sum()), int(treatment.size)),
                    alpha=definition.alpha,
                )
            else:
                comparison = stats.compare_means(
                    stats.MeanSummary.from_samples(control),
                    stats.MeanSummary.from_samples(treatment),
                    alpha=definition.alpha,
                )
            if comparison.lift is not None and comparison.lift_ci is not None:
                lift, low, high = comparison.lift, comparison.lift_ci.low, comparison.lift_ci.high
        except ValueError:
            pass  # too little data that day for any interval: a gap in the chart
        points.append(SeriesPoint(day, int(control.size), int(treatment.size), lift, low, high))
        day += timedelta(days=1)
    return tuple(points)


def _data_end(store: Store, low: datetime, high: datetime) -> datetime | None:
    """The latest event in the store in [low, high): where the data ends."""
    events = store.events()
    latest = (
        events.filter((events.occurred_at >= low) & (events.occurred_at < high))
        .occurred_at.max()
        .to_pyarrow()
        .as_py()
    )
    return None if latest is None else _utc_naive(latest)


def _experiment(
    definition: Definition,
    metrics: Sequence[ExperimentMetric],
    assignment: _Assignment,
    cutoff: datetime | None,
    daily: float | None,
    *,
    ended: bool = False,
) -> stats.Experiment:
    """The statistics' experiment on everything assigned before `cutoff` (None: all)."""
    rows = assignment.rows
    upto = None if cutoff is None else bisect.bisect_left(rows.assigned_at, cutoff)
    stats_metrics = []
    for metric in metrics:
        control, treatment = (_samples(rows, metric.name, v, upto) for v in definition.variants)
        stats_metrics.append(_stats_metric(metric, control, treatment, definition.mann_whitney))
    units = [
        len(times) if cutoff is None else sum(1 for at in times if at < cutoff)
        for times in (assignment.unit_times[v] for v in definition.variants)
    ]
    return stats.Experiment(
        control=definition.control,
        treatment=definition.treatment,
        primary=stats_metrics[0],
        guardrails=tuple(stats_metrics[1:]),
        alpha=definition.alpha,
        assigned=(units[0], units[1]),
        planned_split=(definition.planned_split[0], definition.planned_split[1]),
        mde_relative=definition.mde_relative,
        daily_per_variant=daily,
        sequential=definition.sequential,
        ended=ended,
    )


def _decide(experiment: stats.Experiment) -> stats.Verdict:
    try:
        return stats.decide(experiment)
    except ValueError:
        # A sequential experiment whose power plan has no baseline yet (0% control rate,
        # zero spread): its horizon cannot be tuned, so read it fixed-horizon for now.
        return stats.decide(dataclasses.replace(experiment, sequential=False))


def _locked_verdict(
    definition: Definition,
    metrics: Sequence[ExperimentMetric],
    assignment: _Assignment,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    high: datetime,
) -> stats.Verdict | None:
    """A fixed-horizon experiment's verdict as of the first day its planned sample was
    reached (`stats.decide_look`), or None while no day has reached it.

    The result is replayed day by day, so a verdict given at the planned sample never
    changes with later data: reading a fixed-horizon test again every day is the peeking
    its plan forbids."""
    if definition.sequential or definition.mde_relative is None:
        return None
    if not len(assignment.rows.variant):
        return None
    day = first_day
    while day <= last_day:
        cutoff = min(_day_start(day + timedelta(days=1), zone), high)
        verdict = stats.decide_look(
            _experiment(definition, metrics, assignment, cutoff, None),
            None,
            since=day.isoformat(),
        )
        if verdict.locked:
            return verdict
        day += timedelta(days=1)
    return None


def experiment_result(
    store: Store,
    definition: Definition,
    *,
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
) -> ExperimentResult:
    """Assign, measure and decide, as of `now` (default: the current time).

    The dates are days in the reporting time zone `tz`: from the start of `start` to the
    end of `end` (open-ended when there is no end).
    """
    zone = tz or ZoneInfo("UTC")
    moment = _utc_naive(now) if now is not None else clock.now_naive_utc()
    starts_at = _day_start(definition.start, zone)
    ends_at = (
        None if definition.end is None else _day_start(definition.end + timedelta(days=1), zone)
    )
    status: Status
    if moment < starts_at:
        status = "scheduled"
    elif ends_at is not None and moment >= ends_at:
        status = "ended"
    else:
        status = "running"
    high = moment if ends_at is None else min(moment, ends_at)
    metrics = [EXPERIMENT_METRICS[name] for name in definition.metric_names]
    assignment = _assign(store, definition, metrics, starts_at, max(high, starts_at))
    rows = assignment.rows

    # Daily traffic: the primary metric's conversations per variant over the last days
    # up to the latest data (not up to now: read six days after an import ended, the
    # empty days made 13 days to a decision read as 106); none once the experiment has
    # ended (no more traffic is coming).
    primary = EXPERIMENT_METRICS[definition.primary]
    data_end = _data_end(store, starts_at, max(high, starts_at))
    traffic_end = high if data_end is None else min(high, data_end)
    counts: list[VariantCount] = []
    since = max(starts_at, traffic_end - timedelta(days=TRAFFIC_DAYS))
    span_days = (traffic_end - since).total_seconds() / 86_400
    recent = np.array([since <= at <= traffic_end for at in rows.assigned_at], dtype=np.bool_)
    for variant in definition.variants:
        mask = rows.variant == variant
        in_primary = int((mask & recent & rows.included[primary.name]).sum())
        counts.append(
            VariantCount(
                variant=variant,
                units=assignment.units[variant],
                conversations=assignment.conversations[variant],
                recent_daily=in_primary / span_days if span_days >= 1 else 0.0,
            )
        )
    daily: float | None = None
    if status == "running" and span_days >= 1:
        daily = sum(c.recent_daily for c in counts) / len(counts)

    readings: list[MetricReading] = []
    for metric in metrics:
        per_variant = [_samples(rows, metric.name, v) for v in definition.variants]
        readings.append(
            MetricReading(
                name=metric.name,
                label=metric.label,
                description=metric.description,
                kind=metric.kind,
                direction=metric.direction,
                role="primary" if metric.name == definition.primary else "guardrail",
                values=tuple(
                    VariantValue(v, float(s.mean()) if s.size else None, int(s.size))
                    for v, s in zip(definition.variants, per_variant, strict=True)
                ),
            )
        )
    first_day = definition.start
    last_day = (high - timedelta(microseconds=1)).replace(tzinfo=UTC).astimezone(zone).date()
    verdict = _locked_verdict(definition, metrics, assignment, zone, first_day, last_day, high)
    if verdict is None:
        ended = status == "ended"
        verdict = _decide(_experiment(definition, metrics, assignment, None, daily, ended=ended))
    series = _series(rows, definition, zone, first_day, last_day)

    warnings: list[str] = []
    if assignment.double_exposed:
        warnings.append(
            f"{_count(assignment.double_exposed, 'unit was', 'units were')} exposed to more "
            "than one variant; each is counted in the variant it saw first. Many of these "
            "point at an assignment bug."
        )
    if assignment.unknown:
        warnings.append(
            f"{_count(assignment.unknown, 'exposure', 'exposures')} named a variant this "
            f"experiment does not define ({', '.join(assignment.unknown_names)}; defined: "
            f"{', '.join(definition.variants)}); they are left out."
        )
    if assignment.missing:
        warnings.append(
            _count(assignment.missing, "exposed conversation has", "exposed conversations have")
            + " no conversation.created event yet; they count once it arrives."
        )
    return ExperimentResult(
        definition=definition,
        status=status,
        as_of=high,
        starts_at=starts_at,
        ends_at=ends_at,
        variants=tuple(counts),
        metrics=tuple(readings),
        daily_per_variant=daily,
        verdict=verdict,
        series=series,
        double_exposed=assignment.double_exposed,
        unknown_variant_exposures=assignment.unknown,
        missing_conversations=assignment.missing,
        warnings=tuple(warnings),
    )


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


# -- the verdict in one sentence -------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%".replace("-", MINUS)


def _lift_text(result: stats.MetricResult) -> str | None:
    c = result.comparison
    if c is None:
        return None
    level = f"{100 * (1 - c.alpha):g}%"
    if c.lift is not None and c.lift_ci is not None:
        return f"{_pct(c.lift)}, {level} CI {_pct(c.lift_ci.low)} to {_pct(c.lift_ci.high)}"
    return None


def _shift_text(rank: stats.MannWhitney) -> str:
    shift = rank.hodges_lehmann
    if shift is None:
        return f"P(B > A) = {rank.common_language:.3f}"
    ci = rank.shift_ci_text(lambda x: f"{x:+.3g}".replace("-", MINUS))
    return f"{shift:+.3g}".replace("-", MINUS) + (f", 95% CI {ci}" if ci else "")


def headline(result: ExperimentResult) -> str:
    """The recommendation in plain words, and why, in one sentence."""
    verdict = result.verdict
    primary = verdict.primary
    lift = _lift_text(primary)
    about = f" ({lift})" if lift else ""
    days = verdict.power.days_to_decision if verdict.power is not None else None
    locked = (
        f" Locked since {verdict.locked_since}, when the planned sample was reached: "
        "later data does not change it."
        if verdict.locked and verdict.locked_since
        else ""
    )
    if verdict.action == "ship":
        rank = primary.comparison.mann_whitney if primary.comparison is not None else None
        effect = (
            f"the primary metric's median shift ({_shift_text(rank)})"
            if rank is not None
            else f"the primary metric's lift{about}"
        )
        return (
            f"Ship {verdict.treatment}: {effect} is significant after "
            f"Holm correction (adjusted p = {primary.adjusted_p_value:.3g}) and no guardrail "
            f"got significantly worse.{locked}"
        )
    if verdict.action == "keep_control":
        why = verdict.reasons[0] if verdict.reasons else "the treatment did not win"
        return f"Keep {verdict.control}: {why}.{locked}"
    if verdict.action == "inconclusive":
        return (
            f"Inconclusive: the planned sample is in and the primary metric's lift{about} "
            "is not significant, yet a lift as large as the minimum detectable one is not "
            f"ruled out either. Keeping {verdict.control} is the safe choice; to find a "
            f"smaller lift, plan a new experiment with a larger sample.{locked}"
        )
    if result.status == "scheduled":
        return "Not started: the experiment's first day is still ahead."
    gates = [m for m in (primary, *verdict.guardrails) if not m.gate.met]
    if gates:
        gate = gates[0].gate
        wait = (
            f"; about {gate.days_to_gate} more day{'s' if gate.days_to_gate != 1 else ''} "
            "at current traffic"
            if gate.days_to_gate
            else ""
        )
        return (
            f"Keep running: not enough data yet for {gates[0].name} "
            f"({min(gate.n_control, gate.n_treatment):,} of {gate.required_per_variant:,} "
            f"needed per variant){wait}."
        )
    wait = f"; about {days} more day{'s' if days != 1 else ''} at current traffic" if days else ""
    if primary.significant and verdict.power is None and primary.effect == "good":
        return (
            f"Keep running: the primary metric's lift{about} looks significant, but without "
            "a minimum detectable lift there is no planned sample: a fixed-horizon test is "
            "read once, when the experiment ends."
        )
    if primary.significant:
        return (
            f"Keep running: the primary metric's lift{about} looks significant, but the "
            f"planned sample is not reached yet{wait}."
        )
    return f"Keep running: the primary metric's lift{about} is not significant yet{wait}."
