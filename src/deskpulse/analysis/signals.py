"""Friction signals: where, by queue, inquiry and channel, the numbers are moving.

Seed 004 ("your scorecard is lying"): a rising handle time or a dipping CSAT is a signal
about friction in the system, not a verdict on a person. So this module never looks at
agents. It compares the current period with the previous period of the same length in
every queue (inbox), inquiry and channel, and reports three kinds of signal:

* **shift**: one metric moved, and the move is neither noise nor trivial. Rates are
  compared with a two-proportion z-test, means with Welch's t-test from each side's
  count, mean and standard deviation (statsmodels / scipy). Every test of one run goes
  into one Holm correction, each side needs at least MIN_SAMPLE values, and the move
  must be big enough to matter (MIN_RELATIVE_CHANGE of a duration, MIN_RATE_POINTS of a
  rate, MIN_CSAT_POINTS of CSAT): at large n a tiny move is "significant" and says
  nothing.
* **tension**: two metrics of the same segment pull against each other: handle time down
  while CSAT falls ("faster but customers less happy"), or while escalations or reopens
  rise, and CSAT falling while first-contact resolution holds. Each component that
  moved is itself a shift; "holds" is stated with its numbers.
* **surge**: conversations per day well above the previous period's rate (a Poisson
  rate test, in the same Holm family).

Every number comes from `query()`: one grouped query per dimension for every metric,
current and previous period together (compare=True). Results are cached per (data
version, period, filters, viewer) for a couple of minutes, so the /analytics page can
show them without paying for them on every request.
"""

from __future__ import annotations

import gc
import math
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from scipy.stats import ttest_ind_from_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.rates import test_poisson_2indep

from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.format import format_value
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import (
    DEFAULT_TIMEOUT_SECONDS,
    TEAM_VIEWER,
    Filters,
    MetricValue,
    Query,
    Viewer,
    query,
    resolve_period,
)
from deskpulse.metrics.registry import CONVERSATIONS, REGISTRY
from deskpulse.metrics.window import Window
from deskpulse.names import inquiry_label

Dimension = Literal["inbox", "inquiry", "channel"]
DIMENSIONS: tuple[Dimension, ...] = ("inbox", "inquiry", "channel")
# What a support lead calls each dimension.
DIMENSION_WORDS: dict[str, str] = {"inbox": "queue", "inquiry": "inquiry", "channel": "channel"}

ALPHA = 0.05  # family-wise error rate of one run, after Holm
MIN_SAMPLE = 30  # values on each side before a metric of a segment is tested at all
MIN_RELATIVE_CHANGE = 0.10  # durations: at least 10% longer or shorter
MIN_RATE_POINTS = 0.03  # rates: at least 3 percentage points
MIN_CSAT_POINTS = 0.15  # CSAT mean: at least 0.15 on the 1-5 scale
MIN_SURGE = 0.20  # volume: at least a fifth more conversations a day
SHOWN = 8  # signals on the /analytics panel; the signals page shows all
CACHE_SECONDS = 120.0  # named periods end "now": a cached answer may be this old

Kind = Literal["shift", "tension", "surge"]
Verdict = Literal["worse", "better", "mixed"]
TestKind = Literal["mean", "rate", "volume"]


@dataclass(frozen=True)
class Measure:
    """One metric tested per segment, with the registry metrics behind the test."""

    key: str
    label: str  # how the sentence names it, e.g. "average first response"
    metric: str  # the registry metric compared
    test: TestKind
    spread: str | None = None  # the registry standard deviation Welch's t needs
    context: tuple[str, ...] = ()  # shown beside it, not tested (e.g. the median)


MEASURES: tuple[Measure, ...] = (
    Measure(
        "first_response",
        "average first response",
        "first_response_mean",
        "mean",
        spread="first_response_sd",
        context=("first_response_median",),
    ),
    Measure(
        "aht",
        "average handle time",
        "aht_mean",
        "mean",
        spread="aht_sd",
        context=("aht_estimated_rate",),
    ),
    Measure(
        "csat",
        "CSAT",
        "csat_mean",
        "mean",
        spread="csat_sd",
        context=("csat_satisfied_rate",),
    ),
    Measure("fcr", "first-contact resolution", "fcr_rate", "rate"),
    Measure("escalation", "escalation rate", "escalation_rate", "rate"),
    Measure("reopen", "reopen rate", "reopen_rate", "rate"),
)
VOLUME = Measure("volume", "conversations a day", "conversations", "volume")
MEASURE_BY_KEY: dict[str, Measure] = {m.key: m for m in (*MEASURES, VOLUME)}

# Every registry metric the signals read: one grouped query per dimension asks for all.
QUERY_METRICS: tuple[str, ...] = tuple(
    dict.fromkeys(
        name
        for m in (VOLUME, *MEASURES)
        for name in (m.metric, *((m.spread,) if m.spread else ()), *m.context)
    )
)


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    dimension: Dimension
    value: str

    @property
    def label(self) -> str:
        """'queue inbox-sms', 'inquiry "Technical issue"', 'channel chat'."""
        word = DIMENSION_WORDS[self.dimension]
        if self.dimension == "inquiry":
            return f'{word} "{inquiry_label(self.value)}"'
        return f"{word} {self.value}"

    def as_json(self) -> dict[str, str]:
        return {"dimension": self.dimension, "value": self.value, "label": self.label}


@dataclass(frozen=True)
class Reading:
    """One metric of a segment in both periods, each value with its sample size."""

    metric: str  # registry name
    label: str  # the registry label
    current: float | None
    previous: float | None
    current_n: int
    previous_n: int
    current_text: str
    previous_text: str
    change_text: str  # "+38%", "-4.1 pts", "-0.21" or "" without both values


@dataclass(frozen=True)
class Signal:
    kind: Kind
    name: str  # e.g. "first_response_up", "faster_less_happy", "volume_surge"
    title: str  # a headline a lead recognises
    segment: Segment
    verdict: Verdict  # worse (friction), better, or mixed (a tension)
    readings: tuple[Reading, ...]  # the metrics behind it, tested ones first
    p_value: float  # Holm-adjusted; for a tension, the weaker of its tested parts
    strength: float  # -log10(p_value), capped: what the list is ranked by
    sentence: str  # plain words with the numbers and sample sizes
    coaching: str  # system first: the queue, the process, the knowledge base
    # Query parameters of the conversations list (/analytics/conversations/) that show
    # the conversations behind it; the caller adds the period.
    conversations: dict[str, str] = field(default_factory=dict)
    # Segments of other dimensions made of exactly the same conversations (the SMS
    # channel is the SMS queue): reported once, under the first dimension.
    also: tuple[Segment, ...] = ()

    def as_json(self, period_params: dict[str, str]) -> dict[str, Any]:
        link = urlencode({**period_params, **self.conversations})
        return {
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "verdict": self.verdict,
            "segment": self.segment.as_json(),
            "also": [segment.as_json() for segment in self.also],
            "metrics": [
                {
                    "metric": r.metric,
                    "label": r.label,
                    "current": {"value": r.current, "n": r.current_n, "text": r.current_text},
                    "previous": {"value": r.previous, "n": r.previous_n, "text": r.previous_text},
                    "change": r.change_text,
                }
                for r in self.readings
            ],
            "p_value": self.p_value,
            "strength": self.strength,
            "sentence": self.sentence,
            "coaching": self.coaching,
            "conversations_url": f"/analytics/conversations/?{link}",
            "conversations_api": f"/api/v1/conversations?{link}",
        }


@dataclass(frozen=True)
class SignalReport:
    period: Period
    previous_period: Period
    signals: list[Signal]  # friction first, then by strength
    tests: int  # size of the Holm family
    too_small: int  # segment x metric pairs left untested (fewer than MIN_SAMPLE a side)
    volume_compared: bool  # False when history does not reach back over the previous period
    alpha: float = ALPHA
    min_sample: int = MIN_SAMPLE

    def shown(self, limit: int = SHOWN) -> list[Signal]:
        return self.signals[:limit]

    def as_json(
        self, period_params: dict[str, str] | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """The report as the API and `deskpulse signals --format json` give it.

        `period_params` (period, from, to, as_of as a URL carries them) go into each
        signal's links to the conversations behind it.
        """
        shown = self.signals if limit is None else self.shown(limit)
        return {
            "period": self.period.as_json(),
            "previous_period": self.previous_period.as_json(),
            "tests": self.tests,
            "too_small": self.too_small,
            "volume_compared": self.volume_compared,
            "total": len(self.signals),
            "method": {
                "alpha": self.alpha,
                "correction": "holm",
                "min_sample": self.min_sample,
                "min_relative_change": MIN_RELATIVE_CHANGE,
                "min_rate_points": MIN_RATE_POINTS,
                "min_csat_points": MIN_CSAT_POINTS,
                "min_surge": MIN_SURGE,
            },
            "signals": [signal.as_json(period_params or {}) for signal in shown],
        }


# -- readings in, tests, signals out ------------------------------------------------------


@dataclass(frozen=True)
class SegmentReading:
    """Everything query() said about one segment, current and previous period."""

    segment: Segment
    current: dict[str, MetricValue]
    previous: dict[str, MetricValue]


@dataclass
class _Test:
    segment: Segment
    measure: Measure
    p_raw: float
    current: float
    previous: float
    practical: bool  # the move is big enough to matter
    up: bool
    p_adjusted: float = 1.0
    significant: bool = False  # after Holm, at ALPHA

    @property
    def shift(self) -> bool:
        return self.significant and self.practical


def _value(values: dict[str, MetricValue], name: str) -> tuple[float | None, int]:
    found = values.get(name)
    if found is None or found.value is None:
        return None, 0 if found is None else found.n
    return float(found.value), found.n


def _p_or_none(p: Any) -> float | None:
    p = float(p)
    return None if math.isnan(p) else min(1.0, max(0.0, p))


def _test(reading: SegmentReading, measure: Measure, days: float) -> _Test | None:
    """The measure's test for one segment; None when a side is too small to test."""
    now, now_n = _value(reading.current, measure.metric)
    before, before_n = _value(reading.previous, measure.metric)
    if now is None or before is None or now_n < MIN_SAMPLE or before_n < MIN_SAMPLE:
        return None
    p: float | None
    if measure.test == "volume":
        # Conversations counted over equal spans: a rate comparison per day.
        result = test_poisson_2indep(int(now), days, int(before), days)
        p = _p_or_none(result.pvalue)
        practical = before > 0 and (now - before) / before >= MIN_SURGE
    elif measure.test == "rate":
        hits = [round(now * now_n), round(before * before_n)]
        if hits[0] + hits[1] in (0, now_n + before_n):
            p = 1.0  # nobody (or everybody) on both sides: nothing moved
        else:
            _, raw = proportions_ztest(hits, [now_n, before_n])
            p = _p_or_none(raw)
        practical = abs(now - before) >= MIN_RATE_POINTS
    else:
        assert measure.spread is not None
        now_sd, _ = _value(reading.current, measure.spread)
        before_sd, _ = _value(reading.previous, measure.spread)
        if now_sd is None or before_sd is None or (now_sd == 0 and before_sd == 0):
            p = 1.0 if now == before else None
        else:
            _, raw = ttest_ind_from_stats(
                now, now_sd, now_n, before, before_sd, before_n, equal_var=False
            )
            p = _p_or_none(raw)
        if measure.key == "csat":
            practical = abs(now - before) >= MIN_CSAT_POINTS
        else:
            practical = before > 0 and abs(now - before) / before >= MIN_RELATIVE_CHANGE
    if p is None:
        return None
    return _Test(reading.segment, measure, p, now, before, practical, now > before)


def _strength(p: float) -> float:
    return min(300.0, -math.log10(max(p, 1e-300)))


def _change_text(metric: str, now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    fmt = REGISTRY[metric].format
    if fmt == "percent":
        return f"{100 * (now - before):+.1f} pts"
    if fmt == "score":
        return f"{now - before:+.2f}"
    if before == 0:
        return ""
    return f"{100 * (now - before) / abs(before):+.0f}%"


def _reading(metric: str, reading: SegmentReading) -> Reading:
    now, now_n = _value(reading.current, metric)
    before, before_n = _value(reading.previous, metric)
    registered = REGISTRY[metric]
    return Reading(
        metric=metric,
        label=registered.label,
        current=now,
        previous=before,
        current_n=now_n,
        previous_n=before_n,
        current_text=format_value(registered, now),
        previous_text=format_value(registered, before),
        change_text=_change_text(metric, now, before),
    )


def _worse(test: _Test) -> bool:
    direction = REGISTRY[test.measure.metric].direction
    return (direction == "lower" and test.up) or (direction == "higher" and not test.up)


def _moved(test: _Test, reading: SegmentReading) -> str:
    """'average first response rose 38% to 2h 10m (from 1h 34m; n = 312 now, 298 before)'."""
    r = _reading(test.measure.metric, reading)
    verb = "rose" if test.up else "fell"
    change = r.change_text
    if REGISTRY[test.measure.metric].format in ("percent", "score"):
        change = change.replace("pts", "points")
    estimated = ""
    if test.measure.key == "aht":
        share, _ = _value(reading.current, "aht_estimated_rate")
        if share:
            estimated = ", partly estimated from reply times"
    return (
        f"{test.measure.label} {verb} {change.lstrip('+-')} to {r.current_text} "
        f"(from {r.previous_text}; n = {r.current_n:,} now, {r.previous_n:,} before{estimated})"
    )


def _p_text(p: float) -> str:
    if p < 0.0001:
        return "p < 0.0001"
    return f"p = {p:.4f}" if p < 0.01 else f"p = {p:.3f}"


def _p_each(p: float) -> str:
    return "p < 0.0001 for each" if p < 0.0001 else f"p \u2264 {p:.4f} for each"


_SHIFT_COACHING: dict[tuple[str, bool], str] = {
    ("first_response", True): "Look at the queue before the people: is staffing keeping up "
    "with volume at the hours customers write, and is routing sending these conversations "
    "to the right team?",
    ("aht", True): "Longer handling usually means harder contacts or missing answers: check "
    "the knowledge base and recent product or policy changes here before anyone's speed.",
    ("aht", False): "Faster handling is good news only if outcomes hold: read a few of "
    "these conversations to check nothing is being rushed.",
    ("csat", True): "Read the low-scoring conversations and look for a policy, product or "
    "process change behind them before coaching a person.",
    ("fcr", True): "Customers come back about the same thing: check that the knowledge base "
    "answers are complete and that agents can fix the problem themselves.",
    ("escalation", True): "Check the escalation rules and what agents are allowed and "
    "equipped to resolve on their own here.",
    ("reopen", True): "Fixes are not holding: check known issues, macros and the knowledge "
    "base for this segment.",
}
_BETTER_COACHING = (
    "An improvement: find out what changed (staffing, routing, a fix, a knowledge base "
    "article) so it can be kept."
)


_TITLES: dict[str, str] = {
    "first_response": "First response",
    "aht": "Handle time",
    "csat": "CSAT",
    "fcr": "First-contact resolution",
    "escalation": "Escalations",
    "reopen": "Reopens",
}


def _link(segment: Segment, metric: str, **extra: str) -> dict[str, str]:
    return {segment.dimension: segment.value, "metric": metric, **extra}


def _shift_signal(test: _Test, reading: SegmentReading) -> Signal:
    worse = _worse(test)
    measure = test.measure
    readings = (
        _reading(measure.metric, reading),
        *(_reading(name, reading) for name in measure.context),
    )
    extra = {"max_csat": "2"} if measure.key == "csat" and worse else {}
    if measure.key == "escalation" and worse:
        extra = {"escalated": "yes"}
    word = "up" if test.up else "down"
    # Keyed (measure, worse): every measure has its friction advice; improvements share one.
    coaching = _SHIFT_COACHING.get((measure.key, worse), _BETTER_COACHING)
    return Signal(
        kind="shift",
        name=f"{measure.key}_{word}",
        title=f"{_TITLES[measure.key]} {word}",
        segment=test.segment,
        verdict="worse" if worse else "better",
        readings=readings,
        p_value=test.p_adjusted,
        strength=_strength(test.p_adjusted),
        sentence=f"In {test.segment.label}, {_moved(test, reading)}. "
        f"Significant after Holm's correction ({_p_text(test.p_adjusted)}).",
        coaching=coaching,
        conversations=_link(test.segment, measure.metric, **extra),
    )


@dataclass(frozen=True)
class _Tension:
    name: str
    title: str
    first: str  # measure key that moved (a shift)
    first_up: bool
    second: str  # measure key that moved the other way, or held
    second_up: bool | None  # None: "held" (no significant drop)
    link: tuple[str, tuple[tuple[str, str], ...]]  # (metric, extra list filters)
    coaching: str


TENSIONS: tuple[_Tension, ...] = (
    _Tension(
        "faster_less_happy",
        "Faster, but customers less happy",
        "aht",
        False,
        "csat",
        False,
        ("csat_mean", (("max_csat", "2"),)),
        "Faster but customers less happy: check whether contacts are rushed. A push for "
        "shorter handling can cost satisfaction; look at targets, macros and the knowledge "
        "base for this segment before coaching a person.",
    ),
    _Tension(
        "faster_more_escalations",
        "Faster, but more escalations",
        "aht",
        False,
        "escalation",
        True,
        ("escalation_rate", (("escalated", "yes"),)),
        "Shorter handling while escalations rise suggests contacts are passed on rather "
        "than solved: check what agents are allowed and equipped to resolve here "
        "(knowledge base, permissions, escalation rules).",
    ),
    _Tension(
        "faster_more_reopens",
        "Faster, but more reopened",
        "aht",
        False,
        "reopen",
        True,
        ("reopen_rate", ()),
        "Fast but wrong: conversations close sooner and come back more often. Check that "
        "fixes hold (known issues, macros, knowledge base) before any speed target.",
    ),
    _Tension(
        "resolved_less_happy",
        "Resolved, but customers less happy",
        "csat",
        False,
        "fcr",
        None,
        ("csat_mean", (("max_csat", "2"),)),
        "Problems still get solved; how the contact feels got worse. Read the low-scoring "
        "conversations for tone, effort and policy friction, and check scripts and "
        "policies before coaching a person.",
    ),
)


def _tension_signal(
    tension: _Tension, first: _Test, second: _Test | None, reading: SegmentReading
) -> Signal:
    segment = first.segment
    sentence = f"In {segment.label}, {_moved(first, reading)}"
    if tension.second_up is None or second is None:
        # The other metric held: say so with its numbers, it was tested and did not drop.
        p = first.p_adjusted
        held = _reading(MEASURE_BY_KEY[tension.second].metric, reading)
        sentence += (
            f", while {MEASURE_BY_KEY[tension.second].label} held at {held.current_text} "
            f"({held.previous_text} before; n = {held.current_n:,} now, "
            f"{held.previous_n:,} before; no significant drop). The fall is significant "
            f"after Holm's correction ({_p_text(p)})."
        )
    else:
        p = max(first.p_adjusted, second.p_adjusted)
        sentence += (
            f", while {_moved(second, reading)}. Both moves are significant after Holm's "
            f"correction ({_p_each(p)})."
        )
    metric, extras = tension.link
    readings = (
        _reading(MEASURE_BY_KEY[tension.first].metric, reading),
        _reading(MEASURE_BY_KEY[tension.second].metric, reading),
    )
    return Signal(
        kind="tension",
        name=tension.name,
        title=tension.title,
        segment=segment,
        verdict="mixed",
        readings=readings,
        p_value=p,
        strength=_strength(p),
        sentence=sentence,
        coaching=tension.coaching,
        conversations=_link(segment, metric, **dict(extras)),
    )


def _surge_signal(test: _Test, reading: SegmentReading, days: float) -> Signal:
    r = _reading("conversations", reading)
    now_rate = test.current / days
    before_rate = test.previous / days
    span = f"{days:g} days" if days != 1 else "1 day"
    return Signal(
        kind="surge",
        name="volume_surge",
        title="Volume surge",
        segment=test.segment,
        verdict="worse",
        readings=(r,),
        p_value=test.p_adjusted,
        strength=_strength(test.p_adjusted),
        sentence=(
            f"In {test.segment.label}, {now_rate:,.1f} conversations a day against "
            f"{before_rate:,.1f} before ({r.change_text}; {r.current_n:,} vs "
            f"{r.previous_n:,} conversations over {span} each). Significant after Holm's "
            f"correction ({_p_text(test.p_adjusted)})."
        ),
        coaching="Look for an incident, a release or a product change behind the spike, and "
        "check that routing and staffing kept up before reading anyone's numbers.",
        conversations=_link(test.segment, "conversations"),
    )


def signals_from_readings(
    readings: list[SegmentReading],
    period: Period,
    previous_period: Period,
    *,
    volume_compared: bool = True,
) -> SignalReport:
    """Test every segment x metric, correct them together (Holm), and name the signals.

    Pure: no store. `readings` are the query() rows of every segment of every dimension.
    """
    days = period.length / timedelta(days=1)
    tests: list[_Test] = []
    too_small = 0
    measures = [*MEASURES, *((VOLUME,) if volume_compared else ())]
    for reading in readings:
        for measure in measures:
            tested = _test(reading, measure, days)
            if tested is None:
                too_small += 1
            else:
                tests.append(tested)
    if tests:
        with _no_gc_collect():
            reject, adjusted, _, _ = multipletests(
                [t.p_raw for t in tests], alpha=ALPHA, method="holm"
            )
        for test, rejected, p in zip(tests, reject, adjusted, strict=True):
            test.significant = bool(rejected)
            test.p_adjusted = float(p)

    by_segment: dict[Segment, dict[str, _Test]] = {}
    for test in tests:
        by_segment.setdefault(test.segment, {})[test.measure.key] = test
    reading_of = {r.segment: r for r in readings}

    signals: list[Signal] = []
    for segment, found in by_segment.items():
        reading = reading_of[segment]
        used: set[str] = set()
        for tension in TENSIONS:
            first = found.get(tension.first)
            if first is None or not first.shift or first.up != tension.first_up:
                continue
            if tension.second_up is None and tension.first in used:
                continue  # a CSAT fall already explained by rushing is not named twice
            second = found.get(tension.second)
            if tension.second_up is None:
                # "Holds": tested, and no significant drop. A CSAT fall that came with
                # slower first replies is about waiting, not the experience: not this.
                slower = found.get("first_response")
                if second is None or (second.significant and not second.up):
                    continue
                if slower is not None and slower.shift and slower.up:
                    continue
            elif second is None or not second.shift or second.up != tension.second_up:
                continue
            signals.append(_tension_signal(tension, first, second, reading))
            used.add(tension.first)
            if tension.second_up is not None:
                used.add(tension.second)
        for key, test in found.items():
            if not test.shift or key in used:
                continue
            if test.measure.test == "volume":
                if test.up:
                    signals.append(_surge_signal(test, reading, days))
                continue
            signals.append(_shift_signal(test, reading))
    # Friction before improvements; within each, the strongest evidence first.
    signals.sort(key=lambda s: (s.verdict == "better", -s.strength, s.segment.label, s.name))
    return SignalReport(
        period=period,
        previous_period=previous_period,
        signals=_merge_same(signals),
        tests=len(tests),
        too_small=too_small,
        volume_compared=volume_compared,
    )


_GC_LOCK = threading.Lock()


@contextmanager
def _no_gc_collect() -> Iterator[None]:
    """statsmodels' Holm branch ends with gc.collect(), a full collection that costs tens
    of milliseconds in a server process; the correction itself takes microseconds."""
    with _GC_LOCK:
        collect = gc.collect
        gc.collect = lambda generation=2: 0
        try:
            yield
        finally:
            gc.collect = collect


def _merge_same(signals: list[Signal]) -> list[Signal]:
    """One signal per set of conversations: identical readings in another dimension
    (channel sms, queue inbox-sms) are named on the first dimension, not listed twice."""
    groups: dict[tuple[Any, ...], list[Signal]] = {}
    for signal in signals:
        key = (
            signal.name,
            tuple((r.current, r.previous, r.current_n, r.previous_n) for r in signal.readings),
        )
        groups.setdefault(key, []).append(signal)
    merged: list[Signal] = []
    for group in groups.values():  # in the order of each group's strongest signal
        group.sort(key=lambda s: DIMENSIONS.index(s.segment.dimension))
        first, others = group[0], tuple(s.segment for s in group[1:])
        if others:
            same = " and ".join(segment.label for segment in others)
            first = replace(
                first,
                also=others,
                sentence=f"{first.sentence} The same conversations make up {same}.",
            )
        merged.append(first)
    return merged


# -- reading the store ----------------------------------------------------------------------


def _segment_readings(
    store: Store, window: Window, viewer: Viewer, filters: Filters, timeout: float
) -> tuple[list[SegmentReading], Period, Period]:
    readings: list[SegmentReading] = []
    period: Period | None = None
    previous: Period | None = None
    for dimension in DIMENSIONS:
        result = query(
            store,
            Query(
                metrics=list(QUERY_METRICS),
                group_by=[dimension],
                compare=True,
                filters=filters,
                **window.query_fields(),
            ),
            viewer,
            timeout=timeout,
        )
        period, previous = result.period, result.previous_period
        for row in result.rows:
            value = row.group.get(dimension)
            if value is None:
                continue  # e.g. conversations with no inquiry: no list to link to
            readings.append(
                SegmentReading(Segment(dimension, value), row.metrics, row.previous or {})
            )
    assert period is not None  # DIMENSIONS is not empty
    assert previous is not None
    return readings, period, previous


def _history_covers(
    store: Store, previous: Period, viewer: Viewer, filters: Filters, timeout: float
) -> bool:
    """Whether conversations exist in the week before the previous period began.

    Without them the previous period may be only partly covered by history (a fresh
    install, a 90-day period on 120 days of data), and its volume would look low.
    """
    before = query(
        store,
        Query(
            metrics=["conversations"],
            period="custom",
            filters=filters,
            **{"from": previous.start - timedelta(days=7), "to": previous.start},
        ),
        viewer,
        timeout=timeout,
    )
    return bool(before.single().metrics["conversations"].value)


def compute_signals(
    store: Store,
    window: Window,
    viewer: Viewer = TEAM_VIEWER,
    *,
    filters: Filters | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> SignalReport:
    """The signals of `window` against the period before it, uncached."""
    filters = filters or Filters()
    if not facts_exist(store):
        period = resolve_period(Query(metrics=["conversations"], **window.query_fields()), store)
        return SignalReport(period, period.previous(), [], 0, 0, False)
    readings, period, previous = _segment_readings(store, window, viewer, filters, timeout)
    covered = _history_covers(store, previous, viewer, filters, timeout)
    return signals_from_readings(readings, period, previous, volume_compared=covered)


# -- the cache --------------------------------------------------------------------------------
#
# Keyed by the facts' data version: the count of conversation facts, their latest event
# and the sum of their last-event times change whenever a refresh adds or rewrites a
# conversation. Named periods end "now", so an entry also expires after CACHE_SECONDS.

_VERSION_SQL: dict[str, str] = {}
_CACHE_LOCK = threading.Lock()
_CACHE: weakref.WeakKeyDictionary[Store, dict[tuple[Any, ...], tuple[float, SignalReport]]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_PER_STORE = 64


def data_version(store: Store) -> tuple[Any, ...]:
    """Changes whenever the conversation facts change."""
    if not facts_exist(store):
        return ("no facts",)
    sql = _VERSION_SQL.get(store.backend)
    if sql is None:
        t = store.con.table(CONVERSATIONS)
        expression = t.aggregate(
            rows=t.count(),
            latest=t.last_event_at.max(),
            total=t.last_event_at.epoch_seconds().sum().cast("float64"),
        )
        sql = _VERSION_SQL[store.backend] = str(store.con.compile(expression))
    rows = store.execute(sql)
    return tuple(rows[0]) if rows else ()


def _key(store: Store, window: Window, viewer: Viewer, filters: Filters) -> tuple[Any, ...]:
    return (data_version(store), window, viewer.agent_id, filters)


def cached_signals(
    store: Store,
    window: Window,
    viewer: Viewer = TEAM_VIEWER,
    *,
    filters: Filters | None = None,
) -> SignalReport | None:
    """The signals if a fresh answer is cached, else None (never computes)."""
    key = _key(store, window, viewer, filters or Filters())
    with _CACHE_LOCK:
        entry = _CACHE.get(store, {}).get(key)
    if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
        return None
    return entry[1]


def find_signals(
    store: Store,
    window: Window,
    viewer: Viewer = TEAM_VIEWER,
    *,
    filters: Filters | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> SignalReport:
    """The signals of `window`, from the cache when the facts have not changed."""
    filters = filters or Filters()
    key = _key(store, window, viewer, filters)
    with _CACHE_LOCK:
        entry = _CACHE.get(store, {}).get(key)
    if entry is not None and time.monotonic() - entry[0] <= CACHE_SECONDS:
        return entry[1]
    report = compute_signals(store, window, viewer, filters=filters, timeout=timeout)
    with _CACHE_LOCK:
        entries = _CACHE.setdefault(store, {})
        if len(entries) >= _CACHE_PER_STORE:
            entries.clear()
        entries[key] = (time.monotonic(), report)
    return report


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


__all__ = [
    "ALPHA",
    "DIMENSIONS",
    "MEASURES",
    "MIN_CSAT_POINTS",
    "MIN_RATE_POINTS",
    "MIN_RELATIVE_CHANGE",
    "MIN_SAMPLE",
    "MIN_SURGE",
    "SHOWN",
    "TENSIONS",
    "Reading",
    "Segment",
    "SegmentReading",
    "Signal",
    "SignalReport",
    "cached_signals",
    "clear_cache",
    "compute_signals",
    "data_version",
    "find_signals",
    "signals_from_readings",
]
