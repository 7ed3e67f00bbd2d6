"""Regression monitoring, the pure core: alert rules, their evaluation, the alert state
machine and the words of the notification (docs/alerts.md).

Seed 003's monitor compared each metric with a baseline as `abs(current - baseline) /
baseline` and alerted above 10% ("critical" above 25%). Because of the `abs`, CSAT going up
or cost going down raised an alert. Here every rule has a direction: a move the good way is
reported as an improvement and never alerts. A reading from too few samples never breaches
(it says so instead), and a firing alert notifies once when it starts, once if it worsens
from warning to critical and once when it resolves, never on every check.

Nothing here touches Django, a database or the network: the caller queries the two windows
(`windows`), builds an `Observation`, calls `evaluate` and `next_state`, stores the returned
`AlertState` and sends the returned notifications (deskpulse.notify).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import quote

Direction = Literal["higher_is_better", "lower_is_better"]
Severity = Literal["none", "warning", "critical"]
StateName = Literal["ok", "pending", "firing", "resolved"]
NotificationKind = Literal["firing", "escalated", "resolved"]
ValueFormat = Literal["number", "percent", "score", "currency", "duration"]

SEVERITY_RANK: dict[Severity, int] = {"none": 0, "warning": 1, "critical": 2}
# Deviations are ratios computed in floating point: (0.33 - 0.30) / 0.30 is
# 0.10000000000000009 but (0.99 - 0.90) / 0.90 is 0.09999999999999996. A deviation this
# close to a threshold counts as reaching it, so "at least 10%" means the same everywhere.
_THRESHOLD_EPSILON = 1e-9

# How the registry's metrics read in a message when the rule does not say (the registry
# keeps durations in seconds and rates as ratios). Anything else prints as a plain number.
DEFAULT_FORMATS: dict[str, ValueFormat] = {
    "csat_mean": "score",
    "csat_recency_weighted": "score",
    "ces_mean": "score",
    "escalation_rate": "percent",
    "csat_detractor_rate": "percent",
    "csat_satisfied_rate": "percent",
    "reopen_rate": "percent",
    "resolution_rate": "percent",
    "fcr_rate": "percent",
    "ai_resolved_rate": "percent",
    "ai_handled_rate": "percent",
    "ai_drafted_rate": "percent",
    "cost_per_conversation": "currency",
    "resolution_time_mean": "duration",
    "resolution_time_p95": "duration",
    "first_resolution_mean": "duration",
    "first_resolution_p95": "duration",
}


def direction_from_registry(direction: str) -> Direction:
    """The registry's "higher"/"lower" as a rule direction. "neutral" metrics (counts such
    as conversations) have no bad direction, so they cannot be alerted on."""
    if direction == "higher":
        return "higher_is_better"
    if direction == "lower":
        return "lower_is_better"
    raise ValueError(f"direction: {direction!r} has no bad direction to alert on")


# -- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedBaseline:
    """A value chosen by a person (a target or last quarter's level)."""

    value: float
    kind: Literal["fixed"] = "fixed"

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"baseline.value: {self.value!r} is not a finite number")


@dataclass(frozen=True)
class TrailingBaseline:
    """The metric over the `days` before the current window (they never overlap, so a
    regression cannot pull its own baseline towards itself)."""

    days: int = 28
    kind: Literal["trailing"] = "trailing"

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"baseline.days: {self.days} must be at least 1")


Baseline = FixedBaseline | TrailingBaseline


def _frozen_segment(segment: Mapping[str, str] | None) -> Mapping[str, str]:
    items = dict(segment or {})
    for key, value in items.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ValueError(f"segment: {key!r}: {value!r} must be a non-empty name and a string")
    # A read-only copy: a caller's later edit to its own dict cannot change a rule (and so
    # the de-duplication key of alerts already sent).
    return MappingProxyType(dict(sorted(items.items())))


@dataclass(frozen=True)
class Rule:
    """One metric, optionally in one segment, watched against a baseline.

    Defaults: the current window is the last 7 days (a whole week, so weekday and weekend
    traffic are both in it, and the 28-day trailing baseline is exactly four such weeks);
    warning at a 10% move the bad way, critical at 25%; at least 30 samples in each window;
    one breaching check held as pending before the next breaching check fires.
    """

    id: str
    metric: str
    direction: Direction
    baseline: Baseline = field(default_factory=TrailingBaseline)
    segment: Mapping[str, str] = field(default_factory=dict)
    current_days: int = 7
    warning: float = 0.10
    critical: float = 0.25
    min_sample: int = 30
    # Consecutive breaching checks that stay pending before the next one fires (like
    # Prometheus' `for:`): 0 fires on the first breach, 1 (default) on the second.
    pending_for: int = 1
    # Used only when the baseline is exactly 0, where a relative change means nothing: the
    # move the bad way, in the metric's own unit, that warns / is critical. None: a zero
    # baseline is reported as "no baseline" and never breaches.
    zero_baseline_warning: float | None = None
    zero_baseline_critical: float | None = None
    label: str | None = None
    value_format: ValueFormat | None = None

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("id: must not be empty")
        if not self.metric.strip():
            raise ValueError("metric: must not be empty")
        if self.direction not in ("higher_is_better", "lower_is_better"):
            raise ValueError(
                f"direction: {self.direction!r} is not higher_is_better/lower_is_better"
            )
        object.__setattr__(self, "segment", _frozen_segment(self.segment))
        if self.current_days < 1:
            raise ValueError(f"current_days: {self.current_days} must be at least 1")
        if not (0 < self.warning <= self.critical) or not math.isfinite(self.critical):
            raise ValueError(
                "warning/critical: need 0 < warning <= critical, "
                f"got {self.warning}/{self.critical}"
            )
        if self.min_sample < 0:
            raise ValueError(f"min_sample: {self.min_sample} must not be negative")
        if self.pending_for < 0:
            raise ValueError(f"pending_for: {self.pending_for} must not be negative")
        zw, zc = self.zero_baseline_warning, self.zero_baseline_critical
        if (zw is not None and zw <= 0) or (zc is not None and zc <= 0):
            raise ValueError("zero_baseline_warning/critical: must be positive when set")
        if zw is not None and zc is not None and zw > zc:
            raise ValueError("zero_baseline_warning: must not exceed zero_baseline_critical")

    # The segment is a mapping, which the generated hash cannot hash.
    def __hash__(self) -> int:
        return hash((self.id, self.metric, tuple(self.segment.items()), self.baseline))

    @property
    def segment_key(self) -> str:
        """The segment as stable text: "all", or "channel=chat,ai_agent=ai-1" sorted by name
        and percent-encoded, so it is safe inside an HTTP header and a de-dup key."""
        if not self.segment:
            return "all"
        return ",".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.segment.items())

    @property
    def segment_label(self) -> str:
        """The segment for people: "all conversations" or "channel = chat"."""
        if not self.segment:
            return "all conversations"
        return ", ".join(f"{k} = {v}" for k, v in self.segment.items())

    @property
    def display_name(self) -> str:
        return self.label or self.metric

    @property
    def format(self) -> ValueFormat:
        return self.value_format or DEFAULT_FORMATS.get(self.metric, "number")


@dataclass(frozen=True)
class Windows:
    """The half-open time ranges [start, end) the caller queries for one check."""

    current_start: datetime
    current_end: datetime
    baseline_start: datetime | None
    baseline_end: datetime | None


def _aware(now: datetime, name: str = "now") -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        # A naive time would be read in the server's zone by one caller and as UTC by
        # another, and the episode key built from it would differ between them.
        raise ValueError(f"{name}: must be timezone-aware")
    return now


def windows(rule: Rule, now: datetime) -> Windows:
    """The current window ends at `now`; a trailing baseline ends where it starts."""
    end = _aware(now)
    start = end - timedelta(days=rule.current_days)
    if isinstance(rule.baseline, TrailingBaseline):
        return Windows(start, end, start - timedelta(days=rule.baseline.days), start)
    return Windows(start, end, None, None)


# -- evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """What the caller measured: the current window's value and n, and for a trailing
    baseline the baseline window's value and n. A fixed rule's baseline is the rule's, so
    leave baseline/baseline_n None for it. A value is None when the window had no data."""

    current: float | None
    n: int
    baseline: float | None = None
    baseline_n: int | None = None

    def __post_init__(self) -> None:
        for name, value in (("current", self.current), ("baseline", self.baseline)):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name}: {value!r} is not a finite number")
        if self.n < 0 or (self.baseline_n is not None and self.baseline_n < 0):
            raise ValueError("n/baseline_n: must not be negative")


@dataclass(frozen=True)
class Evaluation:
    rule: Rule
    observation: Observation
    baseline: float | None  # the value compared against (the rule's when fixed)
    baseline_n: int | None  # None for a fixed baseline
    change: float | None  # current - baseline, in the metric's unit
    deviation: float | None  # signed relative change: (current - baseline) / |baseline|
    # The relative move the bad way: positive is worse, negative is better. Equal to
    # -deviation for higher_is_better. None when there is no relative change.
    bad_deviation: float | None
    severity: Severity
    improvement: bool  # moved the good way by at least the warning threshold
    insufficient_sample: bool
    no_baseline: bool
    reason: str  # one plain sentence on why the severity is what it is

    @property
    def breaching(self) -> bool:
        return self.severity != "none"

    @property
    def conclusive(self) -> bool:
        """Whether this check says anything: with too few samples or no baseline it can
        neither confirm nor clear an alert."""
        return not (self.insufficient_sample or self.no_baseline)


def _severity_of(bad: float, warning: float, critical: float) -> Severity:
    if bad >= critical - _THRESHOLD_EPSILON:
        return "critical"
    if bad >= warning - _THRESHOLD_EPSILON:
        return "warning"
    return "none"


def evaluate(rule: Rule, observation: Observation) -> Evaluation:
    """Compare the observation with the baseline through the rule's direction."""
    fixed = isinstance(rule.baseline, FixedBaseline)
    if isinstance(rule.baseline, FixedBaseline):
        if observation.baseline is not None or observation.baseline_n is not None:
            # Two baselines for one rule is a wiring mistake; silently picking one would
            # hide it.
            raise ValueError("observation.baseline: a fixed rule takes its baseline from the rule")
        baseline: float | None = rule.baseline.value
        baseline_n: int | None = None
    else:
        baseline, baseline_n = observation.baseline, observation.baseline_n

    def result(
        severity: Severity = "none",
        *,
        reason: str,
        change: float | None = None,
        deviation: float | None = None,
        bad: float | None = None,
        improvement: bool = False,
        insufficient: bool = False,
        no_baseline: bool = False,
    ) -> Evaluation:
        return Evaluation(
            rule=rule,
            observation=observation,
            baseline=baseline,
            baseline_n=baseline_n,
            change=change,
            deviation=deviation,
            bad_deviation=bad,
            severity=severity,
            improvement=improvement,
            insufficient_sample=insufficient,
            no_baseline=no_baseline,
            reason=reason,
        )

    current = observation.current
    if current is None:
        return result(reason="the current window has no data: not evaluated", insufficient=True)
    if observation.n < rule.min_sample:
        return result(
            reason=f"only {observation.n} samples in the current window "
            f"(at least {rule.min_sample} needed): not evaluated",
            insufficient=True,
        )
    if baseline is None:
        return result(reason="the baseline window has no data: not evaluated", no_baseline=True)
    if not fixed and (baseline_n or 0) < rule.min_sample:
        # A baseline from a handful of answers is as noisy as a current value from one.
        return result(
            reason=f"only {baseline_n or 0} samples in the baseline window "
            f"(at least {rule.min_sample} needed): not evaluated",
            insufficient=True,
        )

    change = current - baseline
    sign = 1.0 if rule.direction == "lower_is_better" else -1.0
    if baseline == 0:
        # No relative change exists. Without absolute thresholds there is nothing to
        # compare with; with them, the move the bad way is judged in the metric's unit.
        zw, zc = rule.zero_baseline_warning, rule.zero_baseline_critical
        if zw is None and zc is None:
            return result(
                reason="the baseline is 0, so a relative change is undefined: not evaluated",
                change=change,
                no_baseline=True,
            )
        bad_abs = sign * change
        warn_at = zw if zw is not None else zc
        crit_at = zc if zc is not None else math.inf
        assert warn_at is not None
        severity = _severity_of(bad_abs, warn_at, crit_at)
        better = -bad_abs >= warn_at - _THRESHOLD_EPSILON
        return result(
            severity,
            reason=f"baseline is 0; moved {bad_abs:+g} the bad way "
            f"(absolute thresholds {warn_at:g}/{crit_at:g})",
            change=change,
            improvement=better,
        )

    deviation = change / abs(baseline)
    bad = sign * deviation
    severity = _severity_of(bad, rule.warning, rule.critical)
    improvement = -bad >= rule.warning - _THRESHOLD_EPSILON
    if severity != "none":
        reason = f"{_pct(bad)} worse than baseline (threshold {_pct(_threshold(rule, severity))})"
    elif improvement:
        reason = f"{_pct(-bad)} better than baseline: an improvement, not an alert"
    else:
        reason = f"within {_pct(rule.warning)} of baseline"
    return result(
        severity,
        reason=reason,
        change=change,
        deviation=deviation,
        bad=bad,
        improvement=improvement,
    )


def _threshold(rule: Rule, severity: Severity) -> float:
    return rule.critical if severity == "critical" else rule.warning


def _pct(ratio: float, signed: bool = False) -> str:
    return f"{ratio * 100:+.1f}%" if signed else f"{ratio * 100:.1f}%"


# -- state machine -------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertState:
    """What the caller stores per rule between checks.

    `started_at` is the episode start (the first breaching check) and with the rule and
    segment makes the episode key; `severity` is the latest breaching severity, while
    `notified_severity` is the highest already announced in the episode.
    """

    rule_id: str
    segment_key: str
    state: StateName
    severity: Severity
    started_at: datetime | None
    firing_since: datetime | None
    resolved_at: datetime | None
    last_evaluated: datetime
    breaches: int  # consecutive breaching checks in this episode
    notified_severity: Severity

    @property
    def episode_key(self) -> str | None:
        if self.started_at is None:
            return None
        return episode_key(self.rule_id, self.segment_key, self.started_at)


def episode_key(rule_id: str, segment_key: str, started_at: datetime) -> str:
    """rule id + segment + episode start (UTC, to the second): the same on every retry and
    every check of one episode, different for the next episode of the same rule."""
    start = _aware(started_at, "started_at").astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{quote(rule_id, safe='')}:{segment_key}:{start}"


@dataclass(frozen=True)
class Notification:
    kind: NotificationKind
    severity: Severity  # the severity announced (the last one, for "resolved")
    dedup_key: str  # episode key + kind: one delivery id per notification, kept on retry


@dataclass(frozen=True)
class Transition:
    previous: StateName
    state: AlertState
    notifications: tuple[Notification, ...]
    # True when the check was inconclusive and the state was kept as it was.
    held: bool = False

    @property
    def changed(self) -> bool:
        return self.previous != self.state.state


def _notify(state: AlertState, kind: NotificationKind, severity: Severity) -> Notification:
    key = state.episode_key
    assert key is not None  # a notification always belongs to an episode
    return Notification(kind, severity, f"{key}/{kind}")


def next_state(previous: AlertState | None, evaluation: Evaluation, now: datetime) -> Transition:
    """One check of one rule. Semantics (docs/alerts.md, "States"):

    - ok/resolved + breach: a new episode, pending (firing at once when pending_for is 0);
    - pending + breach: firing after pending_for pending checks; notifies "firing";
    - pending + no breach: back to ok, silently (nothing was announced);
    - firing + breach: stays firing; notifies "escalated" only when the severity rises
      above the highest already announced in the episode (warning -> critical);
    - firing + no breach: resolved; notifies "resolved";
    - resolved + no breach: ok;
    - an inconclusive check (too few samples, no baseline) changes nothing but
      last_evaluated: it can neither confirm a regression nor show that one is over.
    """
    now = _aware(now)
    rule = evaluation.rule
    if previous is None:
        previous = AlertState(
            rule_id=rule.id,
            segment_key=rule.segment_key,
            state="ok",
            severity="none",
            started_at=None,
            firing_since=None,
            resolved_at=None,
            last_evaluated=now,
            breaches=0,
            notified_severity="none",
        )
    elif (previous.rule_id, previous.segment_key) != (rule.id, rule.segment_key):
        raise ValueError(
            f"previous: state of {previous.rule_id}/{previous.segment_key}, "
            f"evaluation of {rule.id}/{rule.segment_key}"
        )
    if now < previous.last_evaluated:
        raise ValueError("now: earlier than the previous check")
    was = previous.state

    if not evaluation.conclusive:
        return Transition(was, replace(previous, last_evaluated=now), (), held=True)

    if not evaluation.breaching:
        if was == "firing":
            state = replace(
                previous,
                state="resolved",
                resolved_at=now,
                last_evaluated=now,
                breaches=0,
            )
            return Transition(was, state, (_notify(state, "resolved", previous.notified_severity),))
        # pending, resolved and ok all settle to ok; a pending episode ends unannounced.
        state = AlertState(
            rule_id=rule.id,
            segment_key=rule.segment_key,
            state="ok",
            severity="none",
            started_at=None,
            firing_since=None,
            resolved_at=None,
            last_evaluated=now,
            breaches=0,
            notified_severity="none",
        )
        return Transition(was, state, ())

    severity = evaluation.severity
    if was in ("ok", "resolved"):
        # A new episode: a new start, so a new de-dup key.
        state = AlertState(
            rule_id=rule.id,
            segment_key=rule.segment_key,
            state="pending",
            severity=severity,
            started_at=now,
            firing_since=None,
            resolved_at=None,
            last_evaluated=now,
            breaches=1,
            notified_severity="none",
        )
    else:
        state = replace(
            previous, severity=severity, last_evaluated=now, breaches=previous.breaches + 1
        )

    if state.state == "pending":
        if state.breaches > rule.pending_for:
            state = replace(state, state="firing", firing_since=now, notified_severity=severity)
            return Transition(was, state, (_notify(state, "firing", severity),))
        return Transition(was, state, ())

    # Firing already: only a severity above everything announced so far is news. A drop to
    # warning and a return to critical in the same episode is not announced twice.
    if SEVERITY_RANK[severity] > SEVERITY_RANK[state.notified_severity]:
        state = replace(state, notified_severity=severity)
        return Transition(was, state, (_notify(state, "escalated", severity),))
    return Transition(was, state, ())


# -- CSAT detractors -----------------------------------------------------------------------


def detractor_share(scores: Iterable[float | None]) -> float | None:
    """Share (0-1) of CSAT responses scoring 1 or 2; None without responses.

    Seed 003 computed `100 - pct(scores <= 2)`, the share that are NOT detractors: for
    1, 5, 5, 5 it meant 75 where the answer is 0.25. Missing answers (None) are not
    responses and count neither way.
    """
    answered = 0
    detractors = 0
    for score in scores:
        if score is None:
            continue
        if not (1 <= score <= 5):
            raise ValueError(f"scores: {score!r} is outside the CSAT scale 1-5")
        answered += 1
        detractors += score <= 2
    return detractors / answered if answered else None


# -- messages ------------------------------------------------------------------------------


def format_value(value: float | None, fmt: ValueFormat) -> str:
    if value is None:
        return "no data"
    if fmt == "percent":
        return f"{value * 100:.1f}%"
    if fmt == "score":
        return f"{value:.2f}"
    if fmt == "currency":
        # The registry keeps no currency code with costs, so no symbol is invented here.
        return f"{value:,.2f}"
    if fmt == "duration":
        return _duration(value)
    return f"{value:,.4g}"


def _duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        return f"{sign}{s / 60:.1f} min"
    if s < 86400:
        return f"{sign}{s / 3600:.1f} h"
    return f"{sign}{s / 86400:.1f} days"


_HEADLINES: dict[str, str] = {
    "firing": "Alert firing",
    "escalated": "Alert escalated to critical",
    "resolved": "Alert resolved",
    "pending": "Alert pending",
    "ok": "No alert",
}


def _lines(
    rule: Rule, evaluation: Evaluation, transition: Transition, segment_text: str | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """The headline and (label, value) lines shared by the Slack message and the e-mail.

    `segment_text` is the segment in words ("AI agent = Nova"); the Segment line then
    keeps the id form too, so a reader can match it to the rule's definition.
    """
    segment = segment_text or rule.segment_label
    segment_line = segment if segment == rule.segment_label else f"{segment} ({rule.segment_label})"
    if evaluation.rule.id != rule.id or evaluation.rule.segment_key != rule.segment_key:
        raise ValueError("evaluation: belongs to another rule")
    kind = transition.notifications[0].kind if transition.notifications else transition.state.state
    state = transition.state
    severity = state.notified_severity if kind == "resolved" else evaluation.severity
    headline = f"{_HEADLINES[kind]}: {rule.display_name} ({segment})"
    obs = evaluation.observation
    fmt = rule.format
    if isinstance(rule.baseline, FixedBaseline):
        baseline_text = f"{format_value(evaluation.baseline, fmt)} (fixed)"
    else:
        baseline_text = (
            f"{format_value(evaluation.baseline, fmt)} "
            f"(n={evaluation.baseline_n or 0:,}, the {rule.baseline.days} days before)"
        )
    if evaluation.bad_deviation is not None:
        worse_or_better = "worse" if evaluation.bad_deviation > 0 else "better"
        assert evaluation.deviation is not None
        change = f"{_pct(evaluation.deviation, signed=True)} ({worse_or_better})"
    else:
        change = "no relative change (" + evaluation.reason + ")"
    lines = [
        ("Metric", f"{rule.display_name} ({rule.metric})"),
        ("Segment", segment_line),
        (
            "Current",
            f"{format_value(obs.current, fmt)} (n={obs.n:,}, last {rule.current_days} days)",
        ),
        ("Baseline", baseline_text),
        ("Change", change),
        ("Severity", severity),
        ("State", state.state),
        (
            "Thresholds",
            f"warning at {_pct(rule.warning)}, critical at {_pct(rule.critical)} the bad way "
            f"({rule.direction.replace('_', ' ')})",
        ),
    ]
    if state.started_at is not None:
        lines.append(("Since", state.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")))
    return headline, lines


def _mrkdwn_escape(text: str) -> str:
    # Slack reads &, < and > as markup (links, mentions); user text must not inject them.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def alert_message(
    rule: Rule,
    evaluation: Evaluation,
    transition: Transition,
    *,
    dashboard_url: str | None = None,
    segment_text: str | None = None,
) -> dict[str, Any]:
    """A Slack-compatible message (incoming webhooks and chat.postMessage): `text` is the
    plain fallback shown in notifications, `blocks` one mrkdwn section plus a context
    line with the de-dup key."""
    headline, lines = _lines(rule, evaluation, transition, segment_text)
    body = "\n".join(f"*{label}:* {_mrkdwn_escape(value)}" for label, value in lines)
    mrkdwn = f"*{_mrkdwn_escape(headline)}*\n{body}"
    if dashboard_url:
        mrkdwn += f"\n<{_mrkdwn_escape(dashboard_url)}|Open the dashboard>"
    # Slack rejects section text over 3000 characters; cut rather than lose the message.
    if len(mrkdwn) > 3000:
        mrkdwn = mrkdwn[:2997] + "..."
    plain = dict(lines)
    text = (
        f"{headline}: {plain['Current']} vs baseline {plain['Baseline']}, "
        f"{plain['Change']}, severity {plain['Severity']}"
    )
    key = (
        transition.notifications[0].dedup_key
        if transition.notifications
        else transition.state.episode_key or rule.id
    )
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _mrkdwn_escape(f"rule {rule.id} · {key}")}],
            },
        ],
    }


def alert_email(
    rule: Rule,
    evaluation: Evaluation,
    transition: Transition,
    *,
    dashboard_url: str | None = None,
    segment_text: str | None = None,
) -> tuple[str, str]:
    """The same notification as an e-mail subject and plain-text body."""
    headline, lines = _lines(rule, evaluation, transition, segment_text)
    severity = dict(lines)["Severity"]
    subject = f"[deskpulse {severity}] {headline}"
    width = max(len(label) for label, _ in lines) + 1
    body = "\n".join(f"{label + ':':<{width}} {value}" for label, value in lines)
    if dashboard_url:
        body += f"\n\nDashboard: {dashboard_url}"
    if transition.notifications:
        body += f"\n\nDe-duplication key: {transition.notifications[0].dedup_key}"
    # A segment value with a newline must not split the Subject header.
    return " ".join(subject.split()), body + "\n"
