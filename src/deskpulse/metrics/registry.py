"""The metric registry: the one place a number shown anywhere in deskpulse is defined.

A metric names its facts table, the time column that buckets it (the time of the event
that completes it: reply time for first response, resolution time for resolution,
response time for surveys, creation time for conversation counts), how its value and
its sample size n are aggregated, its unit, its direction (is higher better?) and its
display format. Some metrics also have a per-agent source, used when a query is grouped
by agent, so the leaderboard and the team tiles share the same definition.

Every aggregate receives `inside`, the boolean "this row's time column is in the
bucket", so one scan of a facts table can compute many metrics over different periods.

Most metrics are a plain statistic of one number per row (a share, a mean, a median):
their source is written as that per-row reading (`PerRow`: the row's value and whether
the row is in the sample) and the aggregate is built from it, so a reader that needs the
rows themselves (an experiment comparing two variants conversation by conversation)
reads the same definition the tiles aggregate. Counts, sums and ratios of sums keep an
aggregate of their own and have no per-row reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

from deskpulse import clock
from deskpulse.errors import DeskpulseError
from deskpulse.metrics.periods import naive_utc

Unit = Literal["count", "seconds", "ratio", "score", "currency"]
Direction = Literal["higher", "lower", "neutral"]
Format = Literal["count", "duration", "percent", "score", "nps", "currency"]
Aggregate = Callable[[ir.Table, ir.BooleanValue], ir.Scalar]
RowValue = Callable[[ir.Table], ir.Value]
RowCondition = Callable[[ir.Table], ir.BooleanValue]
# How a per-row metric turns its rows into one number: a share of yes, a mean, a median,
# a percentile or a sample standard deviation (n - 1).
Reduce = Literal["share", "mean", "median", "p90", "p95", "sd"]
# (rows, inside, the end of the row's period, half-life in days): for metrics whose value
# weighs each row by its age at the end of the period (see csat_recency_weighted).
WeightedAggregate = Callable[[ir.Table, ir.BooleanValue, ir.Value, float], ir.Scalar]

CONVERSATIONS = "conversation_facts"
AGENT_CONVERSATIONS = "agent_conversation_facts"
RESOLUTIONS = "resolution_facts"
# Written by deskpulse.models.scoring, not by the facts build (facts/tables.py).
EFFECTIVENESS = "effectiveness_facts"
# Tables with one row per (conversation, agent): their metrics read per agent as they are,
# and the agent filter keeps the agent's own rows.
AGENT_ROW_TABLES = frozenset({AGENT_CONVERSATIONS, EFFECTIVENESS})


@dataclass(frozen=True)
class PerRow:
    """A metric read row by row.

    `value(t)` is each row's number (for a share: whether the row is a yes; a missing
    answer is a no); `included(t)` says whether the row belongs to the sample (None:
    every row does). The aggregate is `reduce` over the included rows of the bucket and
    n is how many they are.
    """

    value: RowValue
    reduce: Reduce
    included: RowCondition | None = None


# When a row's value can no longer change (see Source.settles).
RowSettles = Callable[[ir.Table], ir.TimestampValue]

# Outcomes that happen after a conversation starts are read at a fixed age, so a recent
# period and an older one say the same thing (docs/metrics.md, "Outcomes that mature").
# Resolved within 7 days of creation: the window FCR and reopens already use, and long
# enough that a rate over older conversations reads as "resolved" does (99.8% of
# eventual resolutions in the generated organisation; email is the slow channel).
RESOLUTION_HORIZON_DAYS = 7
# Escalations happen in a conversation's first hours (all of them within 2 days in the
# generated organisation), so a shorter wait keeps the rate current.
ESCALATION_HORIZON_DAYS = 3
# An AI agent resolves while the customer is there or not at all; then the 7 days
# without a reopen that make it AI-resolved.
AI_RESOLUTION_HORIZON_DAYS = 1
REOPEN_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Source:
    table: str
    time_column: str
    value: Aggregate
    sample: Aggregate
    # Set when `value` and `sample` are built from a per-row reading (Source.per_row).
    rows: PerRow | None = None
    # For outcomes that mature: when each row's value is final. A row whose moment has
    # not come by the time of reading is pending: left out of value and n, and counted
    # apart (MetricValue.pending). None: every row is final as soon as it is bucketed.
    settles: RowSettles | None = None

    @classmethod
    def per_row(
        cls, table: str, time_column: str, rows: PerRow, settles: RowSettles | None = None
    ) -> Source:
        """A source whose aggregate and n are built from its per-row reading."""

        def value(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
            included = None if rows.included is None else rows.included(t)
            return _REDUCERS[rows.reduce](t, rows.value(t), inside, included)

        def sample(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
            return t.count(where=inside if rows.included is None else inside & rows.included(t))

        return cls(table, time_column, value, sample, rows, settles)

    def settled(self, t: ir.Table, by: ir.Value) -> ir.BooleanValue:
        """Whether each row's value is final at `by` (always, for a source that does
        not mature)."""
        if self.settles is None:
            return ibis.literal(True)
        moment = self.settles(t)
        return moment.isnull() | (moment <= by)

    def row_value(self, t: ir.Table) -> ir.Value:
        """Each row's value as the aggregate reads it: a boolean for a share (a missing
        answer is False), a float64 otherwise."""
        rows = self._rows()
        value = rows.value(t)
        if rows.reduce == "share":
            return value.fill_null(False)
        return value.cast("float64")

    def row_included(self, t: ir.Table) -> ir.BooleanValue:
        """Whether each row is in the metric's sample: its time column is set (a row
        without it is in no period), its outcome is final by now (an outcome that
        matures) and the metric's own condition holds."""
        rows = self._rows()
        present = t[self.time_column].notnull()
        if self.settles is not None:
            now = ibis.literal(naive_utc(clock.now()), type="timestamp")
            present = present & self.settled(t, now)
        if rows.included is None:
            return present
        return (present & rows.included(t)).fill_null(False)

    def _rows(self) -> PerRow:
        if self.rows is None:
            raise ValueError(f"{self.table}.{self.time_column}: this source has no per-row reading")
        return self.rows


# (rows, each row's value, the bucket's rows, the metric's own sample condition or None)
Reducer = Callable[[ir.Table, ir.Value, ir.BooleanValue, ir.BooleanValue | None], ir.Scalar]


def _both(inside: ir.BooleanValue, included: ir.BooleanValue | None) -> ir.BooleanValue:
    return inside if included is None else inside & included


def _share(
    t: ir.Table, value: ir.Value, inside: ir.BooleanValue, included: ir.BooleanValue | None
) -> ir.Scalar:
    return value.ifelse(1.0, 0.0).mean(where=_both(inside, included))


def _exact_mean(
    t: ir.Table, value: ir.Value, inside: ir.BooleanValue, included: ir.BooleanValue | None
) -> ir.Scalar:
    where = _both(inside, included)
    if not value.type().is_decimal():
        return value.mean(where=where)
    # Money: sum the exact decimals and convert once; a float sum depends on row order,
    # and the same events must always give the same number.
    rows = t.count(where=where)
    total = value.sum(where=where).cast("float64")
    return (rows > 0).ifelse(total / rows, ibis.null("float64"))


def _sd(
    t: ir.Table, value: ir.Value, inside: ir.BooleanValue, included: ir.BooleanValue | None
) -> ir.Scalar:
    return value.std(where=_both(inside, included))


def _quantile(q: float) -> Reducer:
    def reduce(
        t: ir.Table, value: ir.Value, inside: ir.BooleanValue, included: ir.BooleanValue | None
    ) -> ir.Scalar:
        # The sample condition goes into the value, not the filter: Ibis compiles a
        # percentile's filter into its percentage too, and Spark needs that a constant
        # (it folds the query layer's `inside`, a literal true, but not a column test).
        if included is not None:
            value = included.ifelse(value, ibis.null(value.type()))
        if q == 0.5:
            return value.median(where=inside)
        return value.quantile(q, where=inside)

    return reduce


_REDUCERS: dict[Reduce, Reducer] = {
    "share": _share,
    "mean": _exact_mean,
    "median": _quantile(0.5),
    "p90": _quantile(0.9),
    "p95": _quantile(0.95),
    "sd": _sd,
}


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    unit: Unit
    direction: Direction
    format: Format
    source: Source
    # Used when the query is grouped by agent. None means: the source itself when it
    # already reads agent rows, otherwise no per-agent reading (grouping is an error).
    per_agent: Source | None = None
    # "resolved" depends on where the bucket ends, not only on the row's own time.
    needs_bucket_end: bool = False
    # When set, the query layer computes the value with this instead of source.value,
    # passing the period end and the query's half_life_days (source.sample stays n).
    recency_weighted: WeightedAggregate | None = None

    @property
    def readable_per_row(self) -> bool:
        """Whether the team number is its source's per-row reading reduced over the rows,
        so that the rows themselves can stand for it (an experiment's per-conversation
        samples). Not for counts and sums, nor a number that depends on where the bucket
        ends (resolved) or on each row's age (recency-weighted)."""
        return (
            self.source.rows is not None
            and not self.needs_bucket_end
            and self.recency_weighted is None
        )

    @property
    def agent_source(self) -> Source | None:
        """The per-agent reading, if the metric has one."""
        if self.per_agent is not None:
            return self.per_agent
        return self.source if self.source.table in AGENT_ROW_TABLES else None


def _count(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
    return t.count(where=inside)


def _count_where(condition: Callable[[ir.Table], ir.BooleanValue]) -> Aggregate:
    def sample(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
        return t.count(where=inside & condition(t))

    return sample


def _present(column: str) -> Aggregate:
    return lambda t, inside: t[column].count(where=inside)


def _handled(aggregate: Aggregate) -> Aggregate:
    """`aggregate` over the agent rows where the agent replied publicly."""
    return lambda t, inside: aggregate(t, inside & t.handled)


# -- per-row readings ----------------------------------------------------------------------


def _column(name: str) -> RowValue:
    return lambda t: t[name]


def _answered(column: str) -> RowCondition:
    """The rows where `column` has a value (a duration that ended, a survey answered)."""
    return lambda t: t[column].notnull()


def _by_handler(condition: RowCondition) -> RowCondition:
    """Agent rows where the agent replied publicly and `condition` holds."""
    return lambda t: t.handled & condition(t)


def _satisfied(t: ir.Table) -> ir.BooleanValue:
    return t.csat_score >= 4


def _detractor(t: ir.Table) -> ir.BooleanValue:
    # Seed 003 computed `100 - pct(scores <= 2)`, the share of responses that are NOT
    # detractors; the detractor share is the share that scored 1 or 2.
    return t.csat_score <= 2


def _csat(reduce: Reduce, value: RowValue) -> tuple[Source, Source]:
    """A CSAT metric's team reading and its per-agent one (the conversations the agent
    handled), both over the answered surveys, bucketed by response time."""
    return (
        _rows("csat_at", reduce, value, _answered("csat_score")),
        _rows(
            "csat_at",
            reduce,
            value,
            _by_handler(_answered("csat_score")),
            table=AGENT_CONVERSATIONS,
        ),
    )


def _recency_weighted_mean(column: str, at: str) -> WeightedAggregate:
    """Mean of `column`, each row weighted 0.5 ** (age / half-life), where age is the
    time from the row's `at` to the end of its period, in days (seed 003: weigh recent
    responses more). Null on an empty bucket."""

    def value(
        t: ir.Table, inside: ir.BooleanValue, end: ir.Value, half_life_days: float
    ) -> ir.Scalar:
        age_days = end.delta(t[at], unit="microsecond").cast("float64") / 86_400_000_000
        weight = ibis.literal(0.5, type="float64") ** (age_days / float(half_life_days))
        answered = inside & t[column].notnull()
        total = weight.sum(where=answered)
        weighted = (weight * t[column].cast("float64")).sum(where=answered)
        return (total > 0).ifelse(weighted / total, ibis.null("float64"))

    return value


def _ratio_of_sums(numerator: tuple[str, ...], denominator: tuple[str, ...]) -> Aggregate:
    def value(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
        top = sum((t[c] for c in numerator[1:]), t[numerator[0]]).sum(where=inside)
        bottom = sum((t[c] for c in denominator[1:]), t[denominator[0]]).sum(where=inside)
        return (bottom > 0).ifelse(top.cast("float64") / bottom, ibis.null("float64"))

    return value


def _sum_of(columns: tuple[str, ...]) -> Aggregate:
    def value(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
        total = sum((t[c] for c in columns[1:]), t[columns[0]]).sum(where=inside)
        return total.fill_null(0)

    return value


_ASSIST_COLUMNS = ("replies_as_is", "replies_edited", "replies_scratch")


def _c(
    time_column: str,
    value: Aggregate,
    sample: Aggregate,
    table: str = CONVERSATIONS,
    *,
    settles: RowSettles | None = None,
) -> Source:
    return Source(table=table, time_column=time_column, value=value, sample=sample, settles=settles)


def _a(time_column: str, value: Aggregate, sample: Aggregate) -> Source:
    return Source(table=AGENT_CONVERSATIONS, time_column=time_column, value=value, sample=sample)


def _rows(
    time_column: str,
    reduce: Reduce,
    value: RowValue,
    included: RowCondition | None = None,
    *,
    table: str = CONVERSATIONS,
    settles: RowSettles | None = None,
) -> Source:
    """A source defined row by row (see PerRow); its aggregate and n are built from it."""
    return Source.per_row(table, time_column, PerRow(value, reduce, included), settles)


def _days(days: int) -> ir.IntervalScalar:
    return ibis.interval(days=days)


def _within(t: ir.Table, column: str, days: int) -> ir.BooleanValue:
    """`column` happened within `days` of the conversation's creation."""
    moment = t[column]
    return moment.notnull() & (moment <= t.created_at + _days(days))


def _aged(days: int) -> RowSettles:
    """Final once the conversation is `days` old."""
    return lambda t: t.created_at + _days(days)


def _reopened_within_window(t: ir.Table) -> ir.BooleanValue:
    return t.first_reopened_at.notnull() & (
        t.first_reopened_at <= t.first_resolved_at + _days(REOPEN_WINDOW_DAYS)
    )


BUSINESS_SUFFIX = "_business"
BUSINESS_LABEL = " (business hours)"


def business_column(column: str) -> str:
    """`first_response_seconds` -> `first_response_business_seconds`."""
    return column.removesuffix("_seconds") + "_business_seconds"


def _durations(
    name: str,
    label: str,
    description: str,
    *,
    at: str,
    column: str,
    reduce: Reduce,
    table: str = CONVERSATIONS,
    agent: tuple[str, str] | None = None,
) -> tuple[Metric, Metric]:
    """A duration metric and its business-time twin `<name>_business`, which reads the
    `*_business_seconds` column: the same span counted only inside the inbox's opening
    hours (facts/business_hours.py)."""

    def metric(name: str, label: str, description: str, business: bool) -> Metric:
        def col(c: str) -> str:
            return business_column(c) if business else c

        def seconds(at: str, column: str, table: str) -> Source:
            return _rows(at, reduce, _column(col(column)), _answered(col(column)), table=table)

        per_agent = None
        if agent is not None:
            per_agent = seconds(*agent, AGENT_CONVERSATIONS)
        return Metric(
            name,
            label,
            description,
            "seconds",
            "lower",
            "duration",
            seconds(at, column, table),
            per_agent=per_agent,
        )

    return (
        metric(name, label, description, False),
        metric(
            name + BUSINESS_SUFFIX,
            label + BUSINESS_LABEL,
            description + " Counted in business hours only: the inbox's `business_hours.set` "
            "schedule, else the `*` default; calendar time when neither exists.",
            True,
        ),
    )


def _handled_count(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
    # One row per agent and conversation: counting rows counts conversations.
    return t.count(where=inside & t.handled)


def _nps(t: ir.Table) -> ir.Value:
    """Each answer's part in the score: +100 a promoter, -100 a detractor, 0 passive."""
    # Integers, so that the per-row reading's cast to float64 is a real CAST: a float
    # literal in a CASE comes back from PostgreSQL as NUMERIC, which Arrow will not read
    # as a double (and Ibis drops a cast to the type it already believes it has).
    promoter = (t.nps_score >= 9).ifelse(100, 0)
    detractor = (t.nps_score <= 6).ifelse(100, 0)
    return promoter - detractor


def _effectiveness(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
    """Handling seconds per satisfied, resolved contact: mean handle time divided by the
    product of the mean predicted satisfaction and the mean predicted resolution. Null
    when a factor has no sample or is zero (no satisfied, resolved contact to divide by)."""
    handle = t.handle_seconds.mean(where=inside)
    satisfaction = t.predicted_satisfaction.mean(where=inside)
    resolution = t.predicted_resolution.mean(where=inside)
    usable = (satisfaction > 0) & (resolution > 0)
    return usable.ifelse(handle / (satisfaction * resolution), ibis.null("float64"))


# Effectiveness metrics are bucketed by conversation creation, like aht_mean's team
# reading: an interaction's predictions describe the conversation as a whole.
def _e(value: Aggregate, sample: Aggregate) -> Source:
    return Source(table=EFFECTIVENESS, time_column="created_at", value=value, sample=sample)


def _e_mean(column: str) -> Source:
    return _rows("created_at", "mean", _column(column), _answered(column), table=EFFECTIVENESS)


def _cost_total(t: ir.Table, inside: ir.BooleanValue) -> ir.Scalar:
    # Sum the exact decimals, convert once: a float sum depends on row order, and the
    # same events must always give the same number.
    return t.cost_amount.sum(where=inside).cast("float64")


_METRICS: tuple[Metric, ...] = (
    # -- volume --------------------------------------------------------------------------
    Metric(
        "conversations",
        "Conversations",
        "Conversations created in the period.",
        "count",
        "neutral",
        "count",
        _c("created_at", _count, _count),
    ),
    Metric(
        "handled",
        "Conversations handled",
        "Conversations with at least one public reply from an agent, human or AI, bucketed "
        "by the first reply; per agent: the agent replied publicly (teammate replies count "
        "too) or resolved the conversation, bucketed by whichever came first.",
        "count",
        "neutral",
        "count",
        _c("first_reply_at", _present("first_reply_at"), _present("first_reply_at")),
        per_agent=_a("handled_at", _handled_count, _handled_count),
    ),
    Metric(
        "replies",
        "Replies",
        "Public replies sent, bucketed by the conversation's first reply (per agent: by the "
        "agent's own first reply in the conversation).",
        "count",
        "neutral",
        "count",
        _c("first_reply_at", _sum_of(("replies",)), _count_where(lambda t: t.replies > 0)),
        per_agent=_a(
            "first_reply_at", _sum_of(("replies",)), _count_where(lambda t: t.replies > 0)
        ),
    ),
    Metric(
        "resolved",
        "Resolved",
        "Conversations whose last status change in the period is `resolved`.",
        "count",
        "higher",
        "count",
        # The bucket-end condition is added by the query layer (needs_bucket_end).
        # At most one `resolved` row per conversation is still standing at the end of
        # a bucket (the bucket's last status change), so counting rows is exact.
        _c("resolved_at", _count, _count, table=RESOLUTIONS),
        needs_bucket_end=True,
    ),
    # -- response times --------------------------------------------------------------------
    *_durations(
        "first_response_median",
        "Median first response",
        "Median time from the first customer message (or creation) to the first public "
        "reply by any agent, human or AI; bucketed by reply time.",
        at="first_response_at",
        column="first_response_seconds",
        reduce="median",
        agent=("agent_first_response_at", "agent_first_response_seconds"),
    ),
    *_durations(
        "first_response_p90",
        "First response, 90th percentile",
        "90th percentile of first response time; bucketed by reply time.",
        at="first_response_at",
        column="first_response_seconds",
        reduce="p90",
        agent=("agent_first_response_at", "agent_first_response_seconds"),
    ),
    *_durations(
        "first_human_response_median",
        "Median first human response",
        "Median time to the first human public reply, measured from the AI-to-human "
        "escalation when there was one (bot time excluded).",
        at="first_human_response_at",
        column="first_human_response_seconds",
        reduce="median",
    ),
    *_durations(
        "agent_first_response_median",
        "Agent median first response",
        "Per agent and conversation: the agent's first public reply that answered someone "
        "waiting (a customer message or an AI handoff), timed from the later of that wait "
        "and the agent's assignment; no sample when none of their replies answered anyone. "
        "Bucketed by that reply.",
        at="agent_first_response_at",
        column="agent_first_response_seconds",
        reduce="median",
        table=AGENT_CONVERSATIONS,
    ),
    # -- resolution ------------------------------------------------------------------------
    *_durations(
        "first_resolution_median",
        "Median first resolution",
        "Median time from creation to the first `resolved`; bucketed by that resolution.",
        at="first_resolved_at",
        column="first_resolution_seconds",
        reduce="median",
    ),
    *_durations(
        "first_resolution_mean",
        "Mean first resolution",
        "Mean time from creation to the first `resolved`, over the conversations first "
        "resolved in the period; bucketed by that resolution.",
        at="first_resolved_at",
        column="first_resolution_seconds",
        reduce="mean",
    ),
    *_durations(
        "first_resolution_p95",
        "First resolution, 95th percentile",
        "95th percentile of the time from creation to the first `resolved`; bucketed by "
        "that resolution.",
        at="first_resolved_at",
        column="first_resolution_seconds",
        reduce="p95",
    ),
    *_durations(
        "full_resolution_median",
        "Median full resolution",
        "Median time from creation to the last `resolved` not followed by a reopen.",
        at="full_resolved_at",
        column="full_resolution_seconds",
        reduce="median",
    ),
    *_durations(
        "resolution_time_mean",
        "Mean resolution time",
        "Mean full resolution time.",
        at="full_resolved_at",
        column="full_resolution_seconds",
        reduce="mean",
    ),
    *_durations(
        "resolution_time_p95",
        "Resolution time, 95th percentile",
        "95th percentile of full resolution time.",
        at="full_resolved_at",
        column="full_resolution_seconds",
        reduce="p95",
    ),
    Metric(
        "resolution_rate",
        "Resolution rate",
        "Share of the conversations created in the period that were resolved within "
        f"{RESOLUTION_HORIZON_DAYS} days of creation. Conversations younger than that are "
        "still maturing: pending, left out of the rate and n.",
        "ratio",
        "higher",
        "percent",
        _rows(
            "created_at",
            "share",
            lambda t: _within(t, "first_resolved_at", RESOLUTION_HORIZON_DAYS),
            settles=_aged(RESOLUTION_HORIZON_DAYS),
        ),
    ),
    Metric(
        "fcr_rate",
        "First-contact resolution",
        "Share of resolved conversations that were never reopened and whose customer "
        "opened no new conversation on the same inquiry within 7 days; bucketed by "
        "resolution. Pending until those 7 days have passed.",
        "ratio",
        "higher",
        "percent",
        _rows(
            "full_resolved_at",
            "share",
            _column("fcr"),
            _answered("fcr"),
            settles=lambda t: t.fcr_settles_at,
        ),
    ),
    Metric(
        "reopen_rate",
        "Reopen rate",
        "Share of conversations first resolved in the period that were reopened within "
        f"{REOPEN_WINDOW_DAYS} days of that resolution; pending until those days have passed.",
        "ratio",
        "lower",
        "percent",
        _rows(
            "first_resolved_at",
            "share",
            _reopened_within_window,
            settles=lambda t: t.first_resolved_at + _days(REOPEN_WINDOW_DAYS),
        ),
    ),
    # -- escalation and AI -------------------------------------------------------------------
    Metric(
        "escalation_rate",
        "Escalation rate",
        "Share of conversations created in the period that were escalated within "
        f"{ESCALATION_HORIZON_DAYS} days of creation; younger conversations are pending.",
        "ratio",
        "lower",
        "percent",
        _rows(
            "created_at",
            "share",
            lambda t: _within(t, "escalated_at", ESCALATION_HORIZON_DAYS),
            settles=_aged(ESCALATION_HORIZON_DAYS),
        ),
    ),
    Metric(
        "escalations",
        "Escalations",
        "Conversations created in the period that were escalated (grouped by "
        "escalation_reason: how many gave each reason, from the first escalation); n is "
        "the conversations created, so no escalation reads 0, not a dash.",
        "count",
        "lower",
        "count",
        # A count of what happened, not a rate: nothing to wait for.
        _c("created_at", _count_where(lambda t: t.escalated), _count),
    ),
    Metric(
        "ai_handled_rate",
        "AI-handled",
        "Share of conversations where an AI agent replied publicly and no human did. A "
        "conversation reading: it has no per-agent reading (see AI-drafted replies).",
        "ratio",
        "neutral",
        "percent",
        _rows("created_at", "share", _column("ai_handled")),
    ),
    Metric(
        "ai_drafted_rate",
        "AI-drafted replies",
        "Share of people's public replies that were AI drafts, sent as is or edited; per "
        "agent, of their own replies. How people write, not who answered: it is not the "
        "AI-handled rate.",
        "ratio",
        "neutral",
        "percent",
        _a(
            "first_reply_at",
            _ratio_of_sums(("replies_as_is", "replies_edited"), _ASSIST_COLUMNS),
            _sum_of(_ASSIST_COLUMNS),
        ),
    ),
    Metric(
        "human_handled_rate",
        "Human-handled",
        "Share of conversations where a human agent replied publicly (with or without an "
        "AI agent before them). With AI-handled, the rest is conversations nobody answered.",
        "ratio",
        "neutral",
        "percent",
        _rows("created_at", "share", lambda t: t.human_replies > 0),
    ),
    Metric(
        "ai_resolved_rate",
        "AI-resolved",
        "Share of conversations an AI agent took part in that the AI handled alone, "
        f"resolved within {AI_RESOLUTION_HORIZON_DAYS} day of creation, and that were not "
        f"reopened within {REOPEN_WINDOW_DAYS} days; pending until the conversation is "
        f"{AI_RESOLUTION_HORIZON_DAYS + REOPEN_WINDOW_DAYS} days old.",
        "ratio",
        "higher",
        "percent",
        _rows(
            "created_at",
            "share",
            lambda t: t.ai_resolved & _within(t, "first_resolved_at", AI_RESOLUTION_HORIZON_DAYS),
            _column("ai_involved"),
            # Every row waits the same time, success or not: were failures final
            # sooner, the settled rows of a recent period would over-count them.
            settles=_aged(AI_RESOLUTION_HORIZON_DAYS + REOPEN_WINDOW_DAYS),
        ),
    ),
    # -- effort ------------------------------------------------------------------------------
    Metric(
        "turns_mean",
        "Mean turns",
        "Mean customer-to-agent exchanges per answered conversation (a run of customer "
        "messages answered by a public reply counts one).",
        "count",
        "lower",
        "score",
        _rows("created_at", "mean", _column("turns"), lambda t: t.replies > 0),
    ),
    Metric(
        "aht_mean",
        "Average handle time",
        "Mean handling seconds per conversation: the sum of work.logged when present, "
        "otherwise an estimate (per reply, the time since the message it follows, capped "
        "at 15 minutes), flagged as estimated.",
        "seconds",
        "lower",
        "duration",
        _rows("created_at", "mean", _column("handle_seconds"), _answered("handle_seconds")),
        per_agent=_rows(
            "first_reply_at",
            "mean",
            _column("handle_seconds"),
            _by_handler(_answered("handle_seconds")),
            table=AGENT_CONVERSATIONS,
        ),
    ),
    Metric(
        "aht_estimated_rate",
        "Handle time estimated",
        "Share of the conversations behind aht_mean whose handle time is an estimate (no "
        "work.logged). Wherever AHT is shown, it is marked estimated when this is above 0.",
        "ratio",
        "neutral",
        "percent",
        _rows("created_at", "share", _column("handle_time_estimated"), _answered("handle_seconds")),
        per_agent=_rows(
            "first_reply_at",
            "share",
            _column("handle_time_estimated"),
            _by_handler(_answered("handle_seconds")),
            table=AGENT_CONVERSATIONS,
        ),
    ),
    # -- surveys -------------------------------------------------------------------------------
    Metric(
        "csat_mean",
        "CSAT",
        "Mean CSAT score (1-5); the latest answer within 14 days of resolution counts; "
        "bucketed by response time. Per agent: over the conversations the agent handled.",
        "score",
        "higher",
        "score",
        *_csat("mean", _column("csat_score")),
    ),
    Metric(
        "csat_satisfied_rate",
        "% satisfied",
        "Share of CSAT responses scoring 4 or 5.",
        "ratio",
        "higher",
        "percent",
        *_csat("share", _satisfied),
    ),
    Metric(
        "csat_detractor_rate",
        "CSAT detractors",
        "Share of CSAT responses scoring 1 or 2.",
        "ratio",
        "lower",
        "percent",
        *_csat("share", _detractor),
    ),
    Metric(
        "csat_recency_weighted",
        "CSAT, recent answers weighted",
        "Mean CSAT with each response weighted by its age at the end of the period: "
        "0.5 ** (age in days / half-life), half-life 7 days unless the query says "
        "otherwise (half_life_days). n is the number of responses.",
        "score",
        "higher",
        "score",
        _rows("csat_at", "mean", _column("csat_score"), _answered("csat_score")),
        recency_weighted=_recency_weighted_mean("csat_score", "csat_at"),
    ),
    Metric(
        "csat_responses",
        "CSAT responses",
        "Number of CSAT responses counted.",
        "count",
        "higher",
        "count",
        _c("csat_at", _present("csat_score"), _present("csat_score")),
        per_agent=_a("csat_at", _handled(_present("csat_score")), _handled(_present("csat_score"))),
    ),
    Metric(
        "csat_response_rate",
        "CSAT response rate",
        "Share of the conversations first resolved in the period that have a CSAT response; "
        "pending until the survey window after the resolution has closed.",
        "ratio",
        "higher",
        "percent",
        _rows(
            "first_resolved_at",
            "share",
            _answered("csat_score"),
            settles=lambda t: t.survey_settles_at,
        ),
    ),
    Metric(
        "nps",
        "NPS",
        "Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100.",
        "score",
        "higher",
        "nps",
        _rows("nps_at", "mean", _nps, _answered("nps_score")),
    ),
    Metric(
        "ces_mean",
        "Customer effort",
        "Mean Customer Effort Score (1-7; higher means easier).",
        "score",
        "higher",
        "score",
        _rows("ces_at", "mean", _column("ces_score"), _answered("ces_score")),
    ),
    # -- cost ----------------------------------------------------------------------------------
    Metric(
        "cost_per_conversation",
        "Cost per conversation",
        "Mean recorded cost of the conversations created in the period that have a cost "
        "recorded; conversations without one are not in n (their cost is unknown, not 0).",
        "currency",
        "lower",
        "currency",
        # A helpdesk that never records cost (people's time, an import) must read "no
        # value", not $0: nothing recorded is not nothing spent.
        _rows("created_at", "mean", _column("cost_amount"), _answered("cost_amount")),
    ),
    Metric(
        "cost_total",
        "Total cost",
        "Sum of cost.recorded on the conversations created in the period.",
        "currency",
        "neutral",
        "currency",
        _c("created_at", _cost_total, _present("cost_amount")),
    ),
    # -- per agent -----------------------------------------------------------------------------
    Metric(
        "mentions",
        "Mentions",
        "Times agents were @mentioned in internal notes (once per note).",
        "count",
        "neutral",
        "count",
        _a("first_mentioned_at", _sum_of(("mentions",)), _count_where(lambda t: t.mentions > 0)),
    ),
    Metric(
        "ai_assist_as_is_rate",
        "AI draft sent as is",
        "Share of human replies that were an AI draft sent unchanged.",
        "ratio",
        "neutral",
        "percent",
        _a(
            "first_reply_at",
            _ratio_of_sums(("replies_as_is",), _ASSIST_COLUMNS),
            _sum_of(_ASSIST_COLUMNS),
        ),
    ),
    Metric(
        "ai_assist_edited_rate",
        "AI draft edited",
        "Share of human replies that were an edited AI draft.",
        "ratio",
        "neutral",
        "percent",
        _a(
            "first_reply_at",
            _ratio_of_sums(("replies_edited",), _ASSIST_COLUMNS),
            _sum_of(_ASSIST_COLUMNS),
        ),
    ),
    Metric(
        "ai_assist_scratch_rate",
        "Written from scratch",
        "Share of human replies written without an AI draft.",
        "ratio",
        "neutral",
        "percent",
        _a(
            "first_reply_at",
            _ratio_of_sums(("replies_scratch",), _ASSIST_COLUMNS),
            _sum_of(_ASSIST_COLUMNS),
        ),
    ),
)

# -- agent effectiveness (seed 002; DESIGN.md "Agent Effectiveness Score") -------------------
# Over effectiveness_facts: one row per (conversation, agent) the agent handled, with the
# agent's own handle time and the conversation's predicted (or, where the channel's model is
# not good enough, measured) satisfaction and resolution.
EFFECTIVENESS_METRIC_NAMES: tuple[str, ...] = (
    "effectiveness_score",
    "aes_handle_time",
    "predicted_satisfaction",
    "predicted_resolution",
    "aes_interactions",
)
_EFFECTIVENESS_METRICS: tuple[Metric, ...] = (
    Metric(
        "effectiveness_score",
        "Agent Effectiveness Score",
        "Handling seconds per satisfied, resolved contact: average handle time divided by "
        "(average predicted satisfaction x average predicted resolution). Lower is better. "
        "Empty when either average is missing or zero.",
        "seconds",
        "lower",
        "duration",
        _e(_effectiveness, _present("handle_seconds")),
    ),
    Metric(
        "aes_handle_time",
        "Average handle time",
        "Mean of the agent's own handle seconds on the interactions behind the Agent "
        "Effectiveness Score (logged work, else the estimate from their replies).",
        "seconds",
        "lower",
        "duration",
        _e_mean("handle_seconds"),
    ),
    Metric(
        "predicted_satisfaction",
        "Average predicted satisfaction",
        "Mean predicted probability that the customer scores CSAT 4 or 5; where the "
        "channel's model is not good enough, the measured share of satisfied answers.",
        "ratio",
        "higher",
        "percent",
        _e_mean("predicted_satisfaction"),
    ),
    Metric(
        "predicted_resolution",
        "Average predicted resolution",
        "Mean predicted probability of first-contact resolution; where the channel's model "
        "is not good enough, the measured FCR rate of the resolved interactions.",
        "ratio",
        "higher",
        "percent",
        _e_mean("predicted_resolution"),
    ),
    Metric(
        "aes_interactions",
        "Interactions",
        "Interactions (conversations an agent handled) behind the Agent Effectiveness "
        "Score; per agent, the agent's own.",
        "count",
        "neutral",
        "count",
        _e(_count, _count),
    ),
)
assert tuple(m.name for m in _EFFECTIVENESS_METRICS) == EFFECTIVENESS_METRIC_NAMES

# -- spread (friction signals, deskpulse.analysis.signals) ----------------------------------
# Welch's t-test compares two means from their count, mean and standard deviation; these
# give the spread (sample standard deviation, n - 1) the means above lack. Not in the
# team report: they back a test, not a tile.
SPREAD_METRIC_NAMES: tuple[str, ...] = (
    "first_response_mean",
    "first_response_sd",
    "aht_sd",
    "csat_sd",
)


def _spread(time_column: str, reduce: Reduce, column: str) -> Source:
    return _rows(time_column, reduce, _column(column), _answered(column))


_SPREAD_METRICS: tuple[Metric, ...] = (
    Metric(
        "first_response_mean",
        "Mean first response",
        "Mean of first response time (see first_response_median); bucketed by reply time.",
        "seconds",
        "lower",
        "duration",
        _spread("first_response_at", "mean", "first_response_seconds"),
    ),
    Metric(
        "first_response_sd",
        "First response, standard deviation",
        "Sample standard deviation of first response time; bucketed by reply time.",
        "seconds",
        "neutral",
        "duration",
        _spread("first_response_at", "sd", "first_response_seconds"),
    ),
    Metric(
        "aht_sd",
        "Handle time, standard deviation",
        "Sample standard deviation of the handling seconds behind aht_mean.",
        "seconds",
        "neutral",
        "duration",
        _spread("created_at", "sd", "handle_seconds"),
    ),
    Metric(
        "csat_sd",
        "CSAT, standard deviation",
        "Sample standard deviation of the CSAT scores behind csat_mean.",
        "score",
        "neutral",
        "score",
        _spread("csat_at", "sd", "csat_score"),
    ),
)
assert tuple(m.name for m in _SPREAD_METRICS) == SPREAD_METRIC_NAMES

REGISTRY: dict[str, Metric] = {
    metric.name: metric for metric in (*_METRICS, *_EFFECTIVENESS_METRICS, *_SPREAD_METRICS)
}


class UnknownMetricError(DeskpulseError, ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown metric {name!r}; known metrics: {', '.join(REGISTRY)}")
        self.name = name


def get_metric(name: str) -> Metric:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownMetricError(name) from None


# The sets the dashboard and the report ask for.
# Calendar and business-time durations: name -> its business-time twin.
BUSINESS_TWINS: dict[str, str] = {
    name[: -len(BUSINESS_SUFFIX)]: name for name in REGISTRY if name.endswith(BUSINESS_SUFFIX)
}

TEAM_METRICS: tuple[str, ...] = tuple(
    name
    for name in REGISTRY
    if name not in ("mentions", "ai_assist_as_is_rate", "ai_assist_edited_rate")
    and name != "ai_assist_scratch_rate"
    and name not in BUSINESS_TWINS.values()  # the report reads calendar time
    # Predictions exist only once deskpulse.models.scoring has run; the report reads facts.
    and name not in EFFECTIVENESS_METRIC_NAMES
    and name not in SPREAD_METRIC_NAMES
)
LEADERBOARD_METRICS: tuple[str, ...] = (
    "handled",
    "first_response_median",
    "csat_mean",
    "csat_responses",
    "ai_assist_as_is_rate",
    "ai_assist_edited_rate",
    "ai_assist_scratch_rate",
    "ai_drafted_rate",
    "mentions",
    "aht_mean",
    "aht_estimated_rate",
    "replies",
)
