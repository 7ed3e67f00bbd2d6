"""The calibration plot of a channel's models, as the JSON plotly.min.js draws.

A plain figure dict like web/analytics/charts.py: one line per model (mean predicted
probability against the observed share, per bin of held-out conversations, the marker's
size growing with the bin's count) and the diagonal a perfectly calibrated model follows.
"""

from __future__ import annotations

from typing import Any

from deskpulse.models.cards import ChannelCard, OutcomeCard
from deskpulse.web.analytics.charts import PALETTE

_NAMES = {"satisfaction": "Satisfaction (CSAT 4\u20135)", "resolution": "Resolution (FCR)"}
# How channel names read in headings: the contract's names, capitalised as people write them.
_CHANNEL_NAMES = {"sms": "SMS"}


def channel_name(channel: str) -> str:
    return _CHANNEL_NAMES.get(channel, channel.capitalize())


def calibration(card: ChannelCard) -> dict[str, Any]:
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Perfectly calibrated",
            "x": [0, 1],
            "y": [0, 1],
            "line": {"color": "#9aa3b2", "dash": "dash", "width": 1},
            "hoverinfo": "skip",
        }
    ]
    for index, outcome in enumerate((card.satisfaction, card.resolution)):
        if outcome.calibration:
            traces.append(_trace(outcome, PALETTE[index]))
    title = f"{channel_name(card.channel)}: calibration on held-out conversations"
    return {
        "data": traces,
        "layout": {
            "title": {"text": title, "x": 0, "font": {"size": 14}},
            "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
            "margin": {"l": 72, "r": 16, "t": 40, "b": 100},
            "height": 380,
            "legend": {"orientation": "h", "y": -0.32},
            "paper_bgcolor": "#fff",
            "plot_bgcolor": "#fff",
            "xaxis": {"title": {"text": "Predicted probability", "standoff": 8}, "range": [0, 1],
                      "gridcolor": "#eef0f3", "tickformat": ".0%"},
            "yaxis": {"title": {"text": "Observed share", "standoff": 12}, "range": [0, 1],
                      "gridcolor": "#eef0f3", "tickformat": ".0%"},
        },
    }  # fmt: skip


def _trace(outcome: OutcomeCard, colour: str) -> dict[str, Any]:
    bins = outcome.calibration
    largest = max(b.count for b in bins)
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": _NAMES[outcome.outcome] + ("" if outcome.passed else " \u2014 fails the gate"),
        "x": [b.predicted for b in bins],
        "y": [b.observed for b in bins],
        "text": [f"{b.count:,} conversations" for b in bins],
        "hovertemplate": "predicted %{x:.0%}, observed %{y:.0%} (%{text})<extra></extra>",
        "marker": {"color": colour, "size": [6 + 14 * (b.count / largest) ** 0.5 for b in bins]},
        "line": {"color": colour, "dash": "solid" if outcome.passed else "dot"},
    }
