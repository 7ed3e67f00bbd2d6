"""Plotly figures for the analytics pages, as the JSON plotly.min.js draws.

Figures are plain dicts in Plotly's documented JSON schema rather than
`plotly.graph_objects`: building and validating graph objects costs tens of
milliseconds per figure, and the page has a server-time budget. Every figure carries
the numbers it was drawn from; nothing is computed here but unit changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deskpulse.metrics.format import format_duration

PALETTE = ("#2456c7", "#e07b39", "#2a9d8f", "#8e6bbf", "#c44e52", "#6c7a89", "#d4a017")
_FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "font": {"size": 14}},
        "font": _FONT,
        "margin": {"l": 48, "r": 16, "t": 40, "b": 40},
        "height": 280,
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "xaxis": {"gridcolor": "#eef0f3"},
        "yaxis": {"gridcolor": "#eef0f3", "rangemode": "tozero"},
    }
    layout.update(extra)
    return layout


def _points(series: list[dict[str, Any]], scale: float = 1.0) -> tuple[list[str], list[Any]]:
    days = [point["day"] for point in series]
    values = [None if point["value"] is None else point["value"] * scale for point in series]
    return days, values


def volume_by_channel(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_channel: dict[str, dict[str, int]] = {}
    for row in rows:
        channel = row["group"].get("channel") or "unknown"
        by_channel.setdefault(channel, {})[row["group"]["day"]] = row["metrics"]["conversations"][
            "value"
        ]
    days = sorted({row["group"]["day"] for row in rows})
    traces = [
        {
            "type": "bar",
            "name": channel,
            "x": days,
            "y": [counts.get(day, 0) for day in days],
            "marker": {"color": PALETTE[i % len(PALETTE)]},
        }
        for i, (channel, counts) in enumerate(sorted(by_channel.items()))
    ]
    return {
        "data": traces,
        "layout": _layout("Conversations per day, by channel", barmode="stack"),
    }


# (minutes, label) for the first-response chart's log axis; Plotly shows those in range.
DURATION_TICKS = (
    (0.5, "30s"),
    (1, "1m"),
    (5, "5m"),
    (15, "15m"),
    (60, "1h"),
    (240, "4h"),
    (1440, "1d"),
    (10080, "1w"),
)


def first_response(series: dict[str, Any]) -> dict[str, Any]:
    traces = []
    for name, label, colour in (
        ("first_response_median", "Median", PALETTE[0]),
        ("first_response_p90", "90th percentile", PALETTE[1]),
    ):
        points = series.get(name, [])
        days, minutes = _points(points, 1 / 60)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "x": days,
                "y": minutes,
                "text": [
                    "\u2013"
                    if p["value"] is None
                    else f"{format_duration(p['value'])} (n = {p['n']})"
                    for p in points
                ],
                "hovertemplate": "%{x}: %{text}<extra>" + label + "</extra>",
                "line": {"color": colour},
            }
        )
    return {
        "data": traces,
        # A log axis: the 90th percentile is often ten times the median, and on a linear
        # axis the median would lie flat along the bottom.
        # Plotly's own log ticks read "2, 5, 1000, 5, 2" (mantissas and powers of ten of
        # minutes): ticks at durations a lead thinks in, labelled as durations.
        "layout": _layout(
            "First response over time (log scale)",
            yaxis={
                "type": "log",
                "gridcolor": "#eef0f3",
                "tickmode": "array",
                "tickvals": [minutes for minutes, _ in DURATION_TICKS],
                "ticktext": [text for _, text in DURATION_TICKS],
            },
        ),
    }


def csat(series: dict[str, Any]) -> dict[str, Any]:
    days, means = _points(series.get("csat_mean", []))
    responses = series.get("csat_responses", [])
    return {
        "data": [
            {
                "type": "bar",
                "name": "Responses",
                "x": [p["day"] for p in responses],
                "y": [p["value"] or 0 for p in responses],
                "yaxis": "y2",
                "marker": {"color": "#d9e2f3"},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "CSAT (1\u20135)",
                "x": days,
                "y": means,
                "line": {"color": PALETTE[0]},
            },
        ],
        "layout": _layout(
            "CSAT over time, with responses",
            # Room on the right for the responses axis and its title.
            margin={"l": 48, "r": 64, "t": 40, "b": 40},
            yaxis={"range": [1, 5.1], "gridcolor": "#eef0f3", "title": {"text": "CSAT"}},
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "showgrid": False,
                "title": {"text": "responses"},
                "tickformat": ",d",
            },
        ),
    }


def ai_vs_human(series: dict[str, Any]) -> dict[str, Any]:
    traces = []
    for name, label, colour in (
        ("ai_handled_rate", "AI-handled", PALETTE[3]),
        ("human_handled_rate", "Human-handled", PALETTE[2]),
    ):
        days, percents = _points(series.get(name, []), 100)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "stackgroup": "share",
                "name": label,
                "x": days,
                "y": percents,
                "line": {"color": colour},
                "hovertemplate": "%{x}: %{y:.1f}%<extra>" + label + "</extra>",
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            "AI vs human share of conversations (%)",
            yaxis={"range": [0, 100], "gridcolor": "#eef0f3"},
        ),
    }


# The quadrants' corner labels, by load-balancing quadrant key (a lead's names; an agent's
# own view passes the names in their own terms).
QUADRANT_LABELS = {
    "context_needed": "Context needed",
    "drowning": "Drowning",
    "underloaded": "Underloaded or fast triage",
    "workhorse": "Reliable workhorse",
}


def _two_lines(label: str, longest: int = 14) -> str:
    """A corner label on two lines when it is long: on a phone the two labels of a row
    share about 300 px and would run into each other on one line each."""
    words = label.split()
    if len(label) <= longest or len(words) < 2:
        return label
    cut = min(
        range(1, len(words)),
        # The most even cut; on a tie the longer first line ("Underloaded or").
        key=lambda i: (max(len(" ".join(words[:i])), len(" ".join(words[i:]))), -i),
    )
    return " ".join(words[:cut]) + "<br>" + " ".join(words[cut:])


def load_scatter(
    points: list[dict[str, Any]],
    handled_threshold: float | None,
    response_threshold: float | None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Conversations handled against median first response, one point per agent, with the
    team medians drawn as the quadrant lines (seed 000). `labels` names the corners by
    quadrant key, replacing QUADRANT_LABELS."""
    x = [p["handled"] for p in points]
    y = [p["first_response_median"] / 60 for p in points]
    # Axes wide enough for every point and both median lines, with headroom, so a lone
    # point (an agent's own view) never sits on a quadrant label or the frame.
    x_top = 1.15 * max([*x, handled_threshold or 0, 1])
    y_top = 1.25 * max([*y, (response_threshold or 0) / 60, 1])
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    line = {"color": "#8a93a3", "dash": "dash", "width": 1}
    if handled_threshold is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": handled_threshold,
                "x1": handled_threshold,
                "y0": 0,
                "y1": 1,
                "line": line,
            }
        )
    if response_threshold is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": response_threshold / 60,
                "y1": response_threshold / 60,
                "line": line,
            }
        )
    names = dict(QUADRANT_LABELS)
    names.update(labels or {})
    for key, ax, ay, xanchor, yanchor in (
        ("context_needed", 0.01, 0.99, "left", "top"),
        ("drowning", 0.99, 0.99, "right", "top"),
        ("underloaded", 0.01, 0.01, "left", "bottom"),
        ("workhorse", 0.99, 0.01, "right", "bottom"),
    ):
        text = _two_lines(names[key])
        annotations.append(
            {
                "text": text,
                "xref": "paper",
                "yref": "paper",
                "x": ax,
                "y": ay,
                "xanchor": xanchor,
                "yanchor": yanchor,
                "align": xanchor,  # a two-line label keeps to its corner
                "bgcolor": "rgba(255, 255, 255, 0.75)",  # readable over the points
                "showarrow": False,
                "font": {"color": "#8a93a3", "size": 11},
            }
        )
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "agents",
                "x": x,
                "y": y,
                "text": [p["name"] for p in points],
                "customdata": [p["href"] for p in points],
                "hovertemplate": "%{text}<br>%{x} handled, median first response %{y:.1f} min"
                "<extra></extra>",
                "marker": {
                    "size": 10,
                    "color": [p["colour"] for p in points],
                    "line": {"width": 1, "color": "#fff"},
                },
            }
        ],
        "layout": _layout(
            # Short enough to stay on one line in a 390 px screen's card.
            "Handled vs median first response",
            height=360,
            showlegend=False,
            shapes=shapes,
            annotations=annotations,
            xaxis={
                "title": {"text": "conversations handled"},
                "gridcolor": "#eef0f3",
                "range": [0, x_top],
            },
            yaxis={
                "title": {"text": "median first response (min)"},
                "gridcolor": "#eef0f3",
                "range": [0, y_top],
            },
        ),
    }
