"""How the agent performance numbers read on a page and in the API.

Presentation only: every number arrives from `deskpulse.analysis.effectiveness` already
computed; this module decides its wording (durations, percentages, the band's label, the
sign of an impact) and never computes a number of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from deskpulse.analysis.effectiveness import (
    BAND_LABELS,
    EFFECTIVENESS_METRICS,
    OUTCOME_OF_METRIC,
    InquiryPerformance,
    MetricComparison,
    PredictionSource,
    Reading,
    metric_label,
)
from deskpulse.metrics.format import EMPTY, format_duration
from deskpulse.metrics.registry import REGISTRY

# The table's and the detail page's order: the score first, then its three parts.
METRIC_ORDER: tuple[str, ...] = (
    "effectiveness_score",
    "aes_handle_time",
    "predicted_resolution",
    "predicted_satisfaction",
)


@dataclass(frozen=True)
class MetricInfo:
    key: str
    label: str
    short: str  # a column header
    unit: Literal["duration", "rate"]
    direction: Literal["lower", "higher"]
    # What the number means, in the words a person uses.
    meaning: str


METRICS: dict[str, MetricInfo] = {
    "effectiveness_score": MetricInfo(
        "effectiveness_score",
        "Agent Effectiveness Score",
        "AES",
        "duration",
        "lower",
        "handling time per satisfied, resolved contact; lower is better",
    ),
    "aes_handle_time": MetricInfo(
        "aes_handle_time",
        "Average handle time",
        "AHT",
        "duration",
        "lower",
        "average handling time per contact; lower is better",
    ),
    "predicted_resolution": MetricInfo(
        "predicted_resolution",
        "Average predicted resolution",
        "Avg predicted resolution",
        "rate",
        "higher",
        "how likely a contact was resolved first time; higher is better",
    ),
    "predicted_satisfaction": MetricInfo(
        "predicted_satisfaction",
        "Average predicted satisfaction",
        "Avg predicted satisfaction",
        "rate",
        "higher",
        "how likely the customer was satisfied (CSAT 4 or 5); higher is better",
    ),
}
assert set(METRICS) == set(EFFECTIVENESS_METRICS), "every core metric has its wording"
# One definition per metric: the labels and directions are the registry's.
assert all(
    info.label == REGISTRY[key].label and info.direction == REGISTRY[key].direction
    for key, info in METRICS.items()
), "the performance pages word the registry's metrics as the registry does"

CHANNEL_LABELS = {
    "chat": "Chat",
    "email": "Email",
    "voice": "Voice",
    "social": "Social",
    "sms": "SMS",
    "other": "Other",
}

SOURCE_WORDS = {
    "model": "predicted by the model",
    "measured": "measured outcomes (no model prediction)",
    "mixed": "partly predicted, partly measured",
}
# What a measured outcome means, where the predicted one has METRICS[...].meaning.
MEASURED_MEANING = {
    "predicted_satisfaction": "the measured share of contacts whose customer answered CSAT "
    "4 or 5; higher is better",
    "predicted_resolution": "the measured share of contacts resolved first time; higher is better",
}


def label(metric: str, source: PredictionSource = "model") -> str:
    """The metric's name for numbers from `source`: "Measured resolution rate" when the
    resolution model is not good enough, never "predicted"."""
    return metric_label(metric, source)


def short_label(metric: str, source: PredictionSource = "model") -> str:
    if metric not in OUTCOME_OF_METRIC or source == "model":
        return METRICS[metric].short
    return metric_label(metric, source)


def meaning(metric: str, source: PredictionSource = "model") -> str:
    if metric in MEASURED_MEANING and source == "measured":
        return MEASURED_MEANING[metric]
    return METRICS[metric].meaning


def outcome_sentence(outcome: str, source: PredictionSource) -> str:
    """Which of the two a number is, in a few words for one inquiry or interaction."""
    if source == "model":
        return f"{outcome} predicted"
    if source == "measured":
        return f"{outcome} measured"
    return f"{outcome} partly predicted, partly measured"


def metric_text(metric: str, value: float | None) -> str:
    """A metric value as shown: durations for the score and handle time, else a percent."""
    if value is None:
        return EMPTY
    if METRICS[metric].unit == "duration":
        return format_duration(value)
    return f"{100 * value:.1f}%"


def impact_text(impact: float | None) -> str:
    """Signed seconds per satisfied, resolved contact: a minus sign lowers the score (good)."""
    if impact is None:
        return EMPTY
    if round(impact) == 0:
        return "±0s"
    sign = "\u2212" if impact < 0 else "+"
    return f"{sign}{format_duration(abs(impact))}"


def impact_words(impact: float | None, *, own: bool = True) -> str:
    """The impact in words, to the agent ("your score") or to their coach ("their")."""
    whose = "your" if own else "their"
    if impact is None:
        return "not enough data to say"
    if round(impact) == 0:
        return f"makes no difference to {whose} score"
    if impact < 0:
        return f"lowers {whose} score by {format_duration(abs(impact))} (good)"
    return f"raises {whose} score by {format_duration(abs(impact))}"


def band_label(band: str) -> str:
    return BAND_LABELS[band]  # type: ignore[index]


def band_note(found: MetricComparison) -> str:
    """The band's uncertainty in a few words: "could be Great (41 %)" when another band
    has a real chance, else "" (analysis/bands.py)."""
    standing = found.standing
    other = standing.runner_up
    if found.band == "not_enough_data" or other is None:
        return ""
    chance = standing.probabilities.get(other, 0.0)
    return f"could be {BAND_LABELS[other]} ({chance:.0%})"


def band_title(metric: str, found: MetricComparison) -> str:
    """What the band rests on, for the band's tooltip: the reading shrunk toward the
    inquiry's average, its 80 % interval, and each band's chance."""
    standing = found.standing
    if standing.shrunk is None or not standing.probabilities:
        return ""
    chances = ", ".join(
        f"{BAND_LABELS[name]} {standing.probabilities.get(name, 0.0):.0%}"
        for name in ("great", "good", "needs_work")
    )
    return (
        f"Allowing for chance: {metric_text(metric, standing.shrunk)} "
        f"(80% interval {metric_text(metric, standing.low)} to "
        f"{metric_text(metric, standing.high)}); {chances}"
    )


def reading(metric: str, value: Reading) -> dict[str, Any]:
    return {"text": metric_text(metric, value.value), "value": value.value, "n": value.n}


def comparison(
    metric: str, found: MetricComparison, source: PredictionSource = "model"
) -> dict[str, Any]:
    """One metric of one inquiry: the agent, the team, all agents and the top performer.
    `source`: where satisfaction or resolution numbers come from (a prediction or the
    measured outcome), which decides their name."""
    info = METRICS[metric]
    return {
        "key": metric,
        "label": label(metric, source),
        "short": short_label(metric, source),
        "meaning": meaning(metric, source),
        "source": source if metric in OUTCOME_OF_METRIC else None,
        "measured": metric in OUTCOME_OF_METRIC and source != "model",
        "direction": info.direction,
        "agent": reading(metric, found.agent),
        "team": reading(metric, found.team),
        "all_agents": reading(metric, found.all_agents),
        "top_performer": metric_text(metric, found.top_performer),
        "top_quartile": metric_text(metric, found.top_quartile),
        "band": found.band,
        "band_label": band_label(found.band),
        "band_note": band_note(found),
        "band_title": band_title(metric, found),
    }


def inquiry_row(row: InquiryPerformance, href: str, *, own: bool = True) -> dict[str, Any]:
    """One inquiry as the cards and the table show it; satisfaction and resolution are
    named after their source (predicted or measured)."""
    return {
        "inquiry": row.inquiry,
        "volume": row.volume,
        "volume_share": f"{100 * row.volume_share:.0f}%",
        "impact": impact_text(row.impact),
        "impact_words": impact_words(row.impact, own=own),
        "impact_class": ""
        if row.impact is None or round(row.impact) == 0
        else ("better" if row.impact < 0 else "worse"),
        "metrics": {
            metric: comparison(metric, row.metrics[metric], row.source_of(metric))
            for metric in METRIC_ORDER
            if metric in row.metrics
        },
        "prediction_source": row.prediction_source,
        "satisfaction_source": row.satisfaction_source,
        "resolution_source": row.resolution_source,
        "source_text": sources_text(row.satisfaction_source, row.resolution_source),
        "href": href,
    }


def sources_text(satisfaction: PredictionSource, resolution: PredictionSource) -> str:
    """ "satisfaction predicted, resolution measured" and the like."""
    return (
        f"{outcome_sentence('satisfaction', satisfaction)}, "
        f"{outcome_sentence('resolution', resolution)}"
    )
