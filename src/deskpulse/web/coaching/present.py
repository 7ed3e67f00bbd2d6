"""How a stored plan reads on the pages and in the API: texts, progress, the chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from deskpulse.analysis import coaching as core
from deskpulse.metrics.format import EMPTY
from deskpulse.metrics.registry import REGISTRY
from deskpulse.web.analytics.charts import PALETTE
from deskpulse.web.coaching.models import Plan, PlanProgress, PlanStatus
from deskpulse.web.coaching.service import direction_words, format_metric, metric_label

STATUS_ORDER: tuple[str, ...] = (
    PlanStatus.IN_PROGRESS,
    PlanStatus.ACHIEVED,
    PlanStatus.EXPIRED,
)
STATUS_LABELS: dict[str, str] = dict(PlanStatus.choices)


def progress_percent(plan: Plan) -> float | None:
    """How far Now has come from Start toward the target, 0 to 100 (None without numbers)."""
    start, now, target = plan.start_value, plan.now_value, plan.target_value
    if start is None or now is None or target is None or target == start:
        return None
    share = (now - start) / (target - start)
    return max(0.0, min(100.0, 100 * share))


def days_left(plan: Plan, today: date) -> int:
    return (plan.target_date - today).days


def plan_href(plan: Plan) -> str:
    return f"/coaching/{plan.pk}/"


@dataclass(frozen=True)
class PlanSummary:
    """One row of a list or the head of the plan page."""

    plan: Plan
    agent_name: str

    @property
    def id(self) -> int:
        return int(self.plan.pk)

    @property
    def href(self) -> str:
        return plan_href(self.plan)

    @property
    def metric_label(self) -> str:
        return metric_label(self.plan.metric)

    @property
    def direction_words(self) -> str:
        return direction_words(self.plan.metric)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.plan.status, self.plan.status)

    @property
    def start_text(self) -> str:
        return format_metric(self.plan.metric, self.plan.start_value)

    @property
    def now_text(self) -> str:
        return format_metric(self.plan.metric, self.plan.now_value)

    @property
    def target_text(self) -> str:
        return format_metric(self.plan.metric, self.plan.target_value)

    @property
    def progress(self) -> float | None:
        return progress_percent(self.plan)

    @property
    def progress_text(self) -> str:
        value = self.progress
        return EMPTY if value is None else f"{value:.0f}%"

    @property
    def improvement_text(self) -> str:
        return f"{self.plan.improvement_percent:g}%"

    @property
    def change_text(self) -> str:
        """Now against Start with its interval: "-12% (99% interval -30% to +6%)"."""
        return change_text(self.plan)

    @property
    def verdict(self) -> str:
        return change_verdict(self.plan)

    @property
    def verdict_text(self) -> str:
        return verdict_text(self.plan)


def _percent(value: float) -> str:
    return f"{100 * value:+.0f}%".replace("-", "\u2212")


def change_text(plan: Plan) -> str:
    if plan.change is None:
        return EMPTY
    text = f"{_percent(plan.change)} against Start"
    if plan.change_low is not None and plan.change_high is not None:
        confidence = f"{100 * core.CONFIDENCE:g}%"
        text += (
            f" ({confidence} interval {_percent(plan.change_low)} to {_percent(plan.change_high)})"
        )
    return text


def beyond_noise(plan: Plan) -> bool:
    """The stored interval wholly on the better side, on enough interactions since the start."""
    if plan.change_low is None or plan.change_high is None:
        return False
    if plan.now_interactions < core.MIN_NOW_INTERACTIONS:
        return False
    return plan.change_high < 0 if plan.direction == "lower" else plan.change_low > 0


def change_verdict(plan: Plan) -> str:
    """no_now | too_few | beyond_noise | within_noise: what the page says about Now."""
    if plan.now_value is None or plan.change is None:
        return "no_now"
    if plan.now_interactions < core.MIN_NOW_INTERACTIONS:
        return "too_few"
    return "beyond_noise" if beyond_noise(plan) else "within_noise"


def verdict_text(plan: Plan) -> str:
    verdict = change_verdict(plan)
    needed = core.MIN_NOW_INTERACTIONS
    if verdict == "no_now":
        return (
            "No interactions since the plan began yet: Now counts only those, so it "
            "appears after the first one."
        )
    if verdict == "too_few":
        count = plan.now_interactions
        return (
            f"Now covers {count} interaction{'s' if count != 1 else ''} since the plan began: "
            f"{change_text(plan)}. A plan can read achieved once there are at least {needed}."
        )
    if verdict == "within_noise":
        return f"Not yet distinguishable from the usual variation: {change_text(plan)}."
    return f"Beyond the usual variation: {change_text(plan)}."


def plan_json(plan: Plan, *, agent_name: str | None = None, detail: bool = True) -> dict[str, Any]:
    """The API's reading of a plan: raw values with their sample sizes, and the texts."""
    summary = PlanSummary(plan, agent_name or plan.agent_id)
    body: dict[str, Any] = {
        "id": plan.pk,
        "agent_id": plan.agent_id,
        "channel": plan.channel,
        "inquiry": plan.inquiry,
        "metric": plan.metric,
        "metric_label": summary.metric_label,
        "direction": plan.direction,
        "improvement_percent": plan.improvement_percent,
        "start": {
            "value": plan.start_value,
            "n": plan.start_n,
            "text": summary.start_text,
            "lookback_days": core.START_LOOKBACK_DAYS,
        },
        "now": {
            "value": plan.now_value,
            "n": plan.now_n,
            "text": summary.now_text,
            "interactions": plan.now_interactions,
            "recent_interactions": core.RECENT_INTERACTIONS,
            "since_start": plan.now_since_start,
        },
        "change": {
            "relative": plan.change,
            "low": plan.change_low,
            "high": plan.change_high,
            "confidence": core.CONFIDENCE,
            "method": plan.change_method or None,
            "min_interactions": core.MIN_NOW_INTERACTIONS,
            "verdict": summary.verdict,
            "text": summary.verdict_text,
        },
        "target": {"value": plan.target_value, "text": summary.target_text},
        "target_date": plan.target_date.isoformat(),
        "began_at": plan.began_at.isoformat(),
        "status": plan.status,
        "status_label": summary.status_label,
        "achieved_at": plan.achieved_at.isoformat() if plan.achieved_at else None,
        "refreshed_at": plan.refreshed_at.isoformat() if plan.refreshed_at else None,
        "progress_percent": summary.progress,
        "actions": [
            {
                "id": action.pk,
                "text": action.text,
                "done": action.done,
                "done_at": action.done_at.isoformat() if action.done_at else None,
            }
            for action in plan.actions.all()
        ],
        "assistance": [
            {"text": item.text, "from_list": item.from_list} for item in plan.assistance.all()
        ],
    }
    if agent_name is not None:
        body["agent_name"] = agent_name
    if detail:
        body["history"] = [
            {"day": point.day.isoformat(), "value": point.value, "n": point.n}
            for point in plan.progress.all()
        ]
    return body


def _scale(metric: str) -> tuple[float, str]:
    """Chart units: durations in minutes, shares in percent, anything else as is."""
    found = REGISTRY.get(metric)
    kind = found.format if found is not None else "score"
    if kind == "duration":
        return 1 / 60, "minutes"
    if kind == "percent":
        return 100.0, "%"
    return 1.0, ""


def progress_figure(plan: Plan, points: list[PlanProgress]) -> dict[str, Any]:
    """Now per day against the Start and the target (Plotly figure JSON)."""
    scale, unit = _scale(plan.metric)
    days = [point.day.isoformat() for point in points]
    span = [days[0], days[-1]] if days else [plan.began_at.date().isoformat()] * 2
    if len(set(span)) == 1:
        span = [span[0], plan.target_date.isoformat()]

    def level(value: float | None) -> list[float | None]:
        return [None if value is None else value * scale] * 2

    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Now (20 most recent since the start)",
            "x": days,
            "y": [None if p.value is None else p.value * scale for p in points],
            "text": [f"{format_metric(plan.metric, p.value)} (n = {p.n})" for p in points],
            "hovertemplate": "%{x}: %{text}<extra></extra>",
            "line": {"color": PALETTE[0]},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Start",
            "x": span,
            "y": level(plan.start_value),
            "hoverinfo": "skip",
            "line": {"color": PALETTE[5], "dash": "dot"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Target",
            "x": span,
            "y": level(plan.target_value),
            "hoverinfo": "skip",
            "line": {"color": PALETTE[2], "dash": "dash"},
        },
    ]
    title = f"{metric_label(plan.metric)} ({direction_words(plan.metric)})"
    return {
        "data": traces,
        "layout": {
            "title": {"text": title, "x": 0, "font": {"size": 14}},
            "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
            "margin": {"l": 56, "r": 16, "t": 40, "b": 40},
            "height": 300,
            "legend": {"orientation": "h", "y": -0.2},
            "paper_bgcolor": "#fff",
            "plot_bgcolor": "#fff",
            "xaxis": {"gridcolor": "#eef0f3", "type": "date"},
            "yaxis": {"gridcolor": "#eef0f3", "rangemode": "tozero", "title": {"text": unit}},
        },
    }
