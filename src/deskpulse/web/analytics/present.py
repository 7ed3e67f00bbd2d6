"""How numbers read on a page: tiles with their change, cells with their sample size.

Presentation only: every value arrives from the metrics layer already computed, and this
module decides its wording, its colour (better or worse, never merely up or down) and
whether its sample is too small to lean on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskpulse.metrics.dashboard import timed
from deskpulse.metrics.format import EMPTY, change_text, format_duration, format_value
from deskpulse.metrics.registry import (
    AI_RESOLUTION_HORIZON_DAYS,
    ESCALATION_HORIZON_DAYS,
    REGISTRY,
    REOPEN_WINDOW_DAYS,
    RESOLUTION_HORIZON_DAYS,
    Metric,
)

# Under this many samples a median, rate or mean is marked "few" wherever it is shown.
FEW_SAMPLES = 10


def is_few(metric: Metric, n: int) -> bool:
    """Counts are exact, not estimates: only medians, rates, scores and costs get marked."""
    return metric.unit != "count" and 0 < n < FEW_SAMPLES


@dataclass(frozen=True)
class Tile:
    name: str
    label: str
    description: str
    value_text: str
    value: float | int | None
    n: int
    few: bool
    delta_text: str
    delta_class: str  # better | worse | same | neutral | "" (nothing to compare)
    delta_title: str
    note: str
    href: str

    @property
    def n_text(self) -> str:
        return f"{self.n:,}"


def delta(
    metric: Metric, current: dict[str, Any], previous: dict[str, Any] | None, previous_label: str
) -> tuple[str, str, str]:
    """(text, css class, tooltip) of the change against the previous period."""
    if previous is None:
        return "", "", ""
    now, before = current.get("value"), previous.get("value")
    before_text = format_value(metric, before)
    title = f"{before_text} in {previous_label} (n = {int(previous.get('n') or 0):,})"
    if now is None or before is None:
        return "no comparison", "", title
    if int(previous.get("n") or 0) < FEW_SAMPLES and metric.format not in ("percent", "score"):
        # "+65450%" against 2 conversations says nothing: name the small base instead.
        return f"was {before_text}", "neutral", title
    text, size = change_text(metric, float(now), float(before))
    if size == 0:
        return "no change", "same", title
    arrow = "\u25b2" if size > 0 else "\u25bc"
    if metric.direction == "neutral":
        css = "neutral"
    elif (size > 0) == (metric.direction == "higher"):
        css = "better"
    else:
        css = "worse"
    return f"{arrow} {text}", css, title


# On a drill-down, tiles with a per-agent reading say which reading they show: the same
# label means "share of conversations" on the team page but "share of replies" here.
PER_AGENT_NOTES = {
    "ai_drafted_rate": "of their own replies (as on the leaderboard)",
    # Handled counts by the agent's first reply, Conversations by creation: a conversation
    # created before the period and answered in it is in the first only.
    "handled": "by their first reply in the period; Conversations counts by creation",
    "first_response_median": "their own first replies (as on the leaderboard)",
    "csat_mean": "CSAT of the conversations they handled",
}


# What the rows a maturing metric leaves out are, in the page's words (docs/metrics.md,
# "Outcomes that mature"). {share} is their part of all the period's rows.
MATURING_NOTES = {
    "resolution_rate": "still maturing: {share} of conversations ({count}) are younger "
    f"than {RESOLUTION_HORIZON_DAYS} days and not in the rate yet",
    "escalation_rate": "still maturing: {share} of conversations ({count}) are younger "
    f"than {ESCALATION_HORIZON_DAYS} days and not in the rate yet",
    "fcr_rate": "still maturing: {share} of resolutions ({count}) are younger than the "
    "7-day repeat-contact window and not in the rate yet",
    "reopen_rate": "still maturing: {share} of resolutions ({count}) are younger than "
    f"{REOPEN_WINDOW_DAYS} days and not in the rate yet",
    "csat_response_rate": "still maturing: {share} of resolutions ({count}) are inside "
    "the survey window and not in the rate yet",
    "ai_resolved_rate": "still maturing: {share} of AI conversations ({count}) are younger "
    f"than {AI_RESOLUTION_HORIZON_DAYS + REOPEN_WINDOW_DAYS} days and not in the rate yet",
}


def maturing_note(name: str, value: dict[str, Any]) -> str:
    """The tile's line about rows still pending, or "" when nothing is."""
    pending = int(value.get("pending") or 0)
    if pending <= 0:
        return ""
    total = pending + int(value.get("n") or 0)
    share = f"{100 * pending / total:.0f}%"
    template = MATURING_NOTES.get(name, "still maturing: {count} not final yet")
    return template.format(share=share, count=f"{pending:,}")


def tiles(
    payload: dict[str, Any],
    names: tuple[str, ...],
    *,
    previous_label: str,
    currency: str,
    link: Any,
    per_agent: tuple[str, ...] = (),
) -> list[Tile]:
    # Under business time the payload holds the twins' values under calendar names.
    business = payload.get("time") == "business"
    """The KPI tiles of a dashboard payload; `link(metric)` gives the conversations behind."""
    current = payload["tiles"]["metrics"]
    previous = payload["tiles"].get("previous")
    built: list[Tile] = []
    for name in names:
        metric = REGISTRY[name]
        value = current[name]
        n = int(value.get("n") or 0)
        text, css, title = delta(
            metric, value, None if previous is None else previous.get(name), previous_label
        )
        note = ""
        if name in per_agent:
            note = PER_AGENT_NOTES.get(name, "")
        if not note:
            note = maturing_note(name, value)
        if name == "first_response_median" and not note:
            people = current.get("first_human_response_median", {})
            if people.get("n") and people.get("value") != value.get("value"):
                # The team's first reply is often an AI agent's, in seconds: say so, and
                # point at the people's own figure beside it.
                note = "first reply by anyone, AI agents included; people: next tile"
        if name == "cost_per_conversation" and not note and n:
            created = int(current.get("conversations", {}).get("n") or 0)
            if created > n:
                note = f"cost recorded on {100 * n / created:.0f}% of conversations"
        if name == "aht_mean" and not note:
            estimated = current.get("aht_estimated_rate", {}).get("value")
            if estimated:
                note = f"estimated for {100 * estimated:.0f}% of conversations (no work logged)"
        built.append(
            Tile(
                name=name,
                label=REGISTRY[timed(name, "business")].label if business else metric.label,
                description=REGISTRY[timed(name, "business")].description
                if business
                else metric.description,
                value_text=format_value(metric, value.get("value"), currency),
                value=value.get("value"),
                n=n,
                few=is_few(metric, n),
                delta_text=text,
                delta_class=css,
                delta_title=title,
                note=note,
                href=link(name),
            )
        )
    return built


def duration_text(seconds: float | None) -> str:
    return EMPTY if seconds is None else format_duration(seconds)


def percent_text(ratio: float | None) -> str:
    return EMPTY if ratio is None else f"{100 * ratio:.1f}%"


def score_text(score: float | None) -> str:
    return EMPTY if score is None else f"{score:.2f}"
