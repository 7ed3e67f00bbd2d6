"""How the AI agent numbers read on a page: cells with their n, plain-words explanations,
and the Plotly figures (plain dicts, as on /analytics).

Presentation only: every value arrives from `deskpulse.analysis.ai_agents` /
`ai_quality` already computed; this module words, formats and marks small samples.
"""

from __future__ import annotations

from typing import Any

from deskpulse.analysis.ai_agents import (
    AI_METRICS,
    BREAKDOWN_METRICS,
    AiAgentsReport,
    BreakdownRow,
    ReasonShare,
)
from deskpulse.analysis.ai_quality import BenchmarkRow, Check, QualityReport
from deskpulse.metrics.format import EMPTY, format_value
from deskpulse.metrics.query import MetricValue
from deskpulse.metrics.registry import REGISTRY
from deskpulse.names import inquiry_label
from deskpulse.web.analytics.charts import PALETTE
from deskpulse.web.analytics.present import FEW_SAMPLES, is_few

# The tiles of an AI agents page, in reading order: volume, outcome, speed, customers, cost.
TILE_METRICS: tuple[str, ...] = (
    "conversations",
    "ai_handled_rate",
    "ai_resolved_rate",
    "escalation_rate",
    "first_resolution_mean",
    "first_resolution_p95",
    "csat_mean",
    "csat_recency_weighted",
    "csat_detractor_rate",
    "cost_per_conversation",
    "cost_total",
    "turns_mean",
)
assert set(TILE_METRICS) <= set(AI_METRICS)

# Short headings for table columns.
SHORT_LABELS: dict[str, str] = {
    "conversations": "Conversations",
    "ai_handled_rate": "AI-handled",
    "ai_resolved_rate": "AI-resolved",
    "escalation_rate": "Escalated",
    "escalations": "Escalations",
    "first_resolution_mean": "Mean resolution",
    "first_resolution_p95": "Resolution p95",
    "csat_mean": "CSAT",
    "csat_recency_weighted": "CSAT (recent weighted)",
    "csat_detractor_rate": "Detractors (1\u20132)",
    "cost_per_conversation": "Cost / conversation",
    "cost_total": "Total cost",
    "turns_mean": "Turns",
    "resolution_rate": "Resolution rate",
}

# What each number counts and what its n is, in a support lead's words.
EXPLANATIONS: dict[str, str] = {
    "conversations": "Conversations created in the period that an AI agent replied to "
    "publicly. n is the same count.",
    "ai_handled_rate": "Of those, the share where only the AI replied: no person wrote to "
    "the customer. n is the AI conversations.",
    "ai_resolved_rate": "The share the AI handled alone, that are resolved and were not "
    "reopened within 7 days. n is the AI conversations.",
    "escalation_rate": "The share escalated (handed over, usually to a person). n is the AI "
    "conversations; the reasons below split the escalated ones.",
    "first_resolution_mean": "Average time from the customer's first contact (creation) to "
    "the first time the conversation was resolved, over the conversations first resolved "
    "in the period. n is those conversations.",
    "first_resolution_p95": "95 in 100 of those conversations were resolved faster than "
    "this: the slow tail the average hides. n as for the average.",
    "csat_mean": "Average satisfaction score (1\u20135) from customers who answered the "
    "survey, counted when they answered. n is the number of answers.",
    "csat_recency_weighted": "The same answers, recent ones counting more: an answer one "
    "half-life old counts half as much as one given at the end of the period. n is the "
    "number of answers (not weighted).",
    "csat_detractor_rate": "Share of survey answers scoring 1 or 2: the unhappy customers. "
    "n is the number of answers.",
    "cost_per_conversation": "Recorded AI cost (inference, tools) divided by the AI "
    "conversations, including ones with no cost recorded. n is the AI conversations.",
    "cost_total": "All recorded cost of the AI conversations. n is the conversations with "
    "a cost recorded.",
    "turns_mean": "Average customer-to-agent exchanges per answered conversation (a run of "
    "customer messages answered by one reply counts one). n is the answered conversations.",
}


def cell(name: str, reading: MetricValue, currency: str) -> dict[str, Any]:
    """One value as a table cell or tile shows it: text, n, and a few-samples mark."""
    metric = REGISTRY[name]
    return {
        "name": name,
        "text": format_value(metric, reading.value, currency),
        "value": reading.value,
        "n": reading.n,
        "n_text": f"{reading.n:,}",
        "few": is_few(metric, reading.n),
    }


def tiles(metrics: dict[str, MetricValue], currency: str, half_life: float) -> list[dict[str, Any]]:
    found = []
    for name in TILE_METRICS:
        shown = cell(name, metrics[name], currency)
        label = REGISTRY[name].label
        if name == "csat_recency_weighted":
            label = f"CSAT, half-life {half_life:g} days"
        shown.update({"label": label, "explanation": EXPLANATIONS[name]})
        found.append(shown)
    return found


def reason_rows(reasons: tuple[ReasonShare, ...]) -> list[dict[str, Any]]:
    return [
        {
            "label": reason.display,
            "reason": reason.label,
            "count": reason.count,
            "share": EMPTY if reason.share is None else f"{100 * reason.share:.1f}%",
            "width": 0 if reason.share is None else round(100 * reason.share),
        }
        for reason in reasons
    ]


BREAKDOWN_NOTES: dict[str, str] = {
    "hour": "Hour of day in the reporting time zone, of the moment each number counts: "
    "creation for conversations, escalation and cost, the answer for CSAT.",
    "customer_tier": "The conversation's customer tier.",
    "language": "The conversation's language.",
}


def breakdown_rows(rows: tuple[BreakdownRow, ...], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "key": row.key if row.key is not None else "(not set)",
            "cells": [cell(name, row.metrics[name], currency) for name in BREAKDOWN_METRICS],
        }
        for row in rows
    ]


def agent_rows(
    report: AiAgentsReport, currency: str, link: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    """The per-AI-agent table: rows, and the column headings."""
    columns = (
        "conversations",
        "ai_resolved_rate",
        "escalation_rate",
        "first_resolution_mean",
        "csat_mean",
        "csat_recency_weighted",
        "csat_detractor_rate",
        "cost_per_conversation",
        "turns_mean",
    )
    rows = [
        {
            "agent_id": row.agent_id,
            "name": row.name,
            "active": row.active,
            "href": link(row.agent_id),
            "cells": [cell(name, row.metrics[name], currency) for name in columns],
            "top_reason": row.reasons[0].display if row.reasons else EMPTY,
        }
        for row in report.agents
    ]
    return rows, [SHORT_LABELS[name] for name in columns]


def comparison_rows(report: AiAgentsReport, currency: str) -> list[dict[str, Any]]:
    """AI agents beside people-only conversations (a team aggregate, never per person)."""
    rows = []
    for name in (
        "conversations",
        "escalation_rate",
        "first_resolution_mean",
        "csat_mean",
        "csat_recency_weighted",
        "csat_detractor_rate",
        "turns_mean",
    ):
        rows.append(
            {
                "label": REGISTRY[name].label,
                "ai": cell(name, report.overall[name], currency),
                "human": cell(name, report.humans[name], currency),
            }
        )
    return rows


def check_row(check: Check, currency: str) -> dict[str, Any]:
    metric = REGISTRY[check.metric]
    return {
        "area": check.area,
        "severity": check.severity,
        "status": check.status,
        "status_label": check.status_label,
        "current": cell(check.metric, check.reading, currency),
        "threshold": ("below " if check.higher_is_better else "above ")
        + format_value(metric, check.threshold, currency),
        "target": format_value(metric, check.target, currency),
        "few": check.few,
        "recommendation": check.recommendation,
    }


def benchmark_row(row: BenchmarkRow, currency: str) -> dict[str, Any]:
    return {
        "label": row.label,
        "tier1": row.tier1,
        "ai_target": row.ai_target,
        "best": row.best,
        "ai": cell(row.ai_metric, row.ai, currency),
        "ai_label": REGISTRY[row.ai_metric].label,
        "human": None if row.human is None else cell(row.human_metric, row.human, currency),
        "human_note": row.human_note,
        "human_label": REGISTRY[row.human_metric].label,
    }


def money(amount: float | None, currency: str) -> str:
    return format_value(REGISTRY["cost_total"], amount, currency)


def summary_context(quality: QualityReport, currency: str) -> dict[str, Any]:
    summary = quality.summary
    difference = summary.csat_difference
    return {
        "cost_saved": money(summary.cost_saved, currency),
        "ai_handled": f"{summary.ai_handled_conversations:,}",
        "all_conversations": f"{summary.all_conversations:,}",
        "ai_share": cell("ai_handled_rate", summary.ai_share, currency),
        "human_cost": money(summary.human_cost_per_conversation, currency),
        "ai_cost": cell("cost_per_conversation", summary.ai_cost_per_conversation, currency),
        "ai_spend": cell("cost_total", summary.ai_cost_total, currency),
        "csat_ai": cell("csat_mean", summary.csat_ai, currency),
        "csat_human": cell("csat_mean", summary.csat_human, currency),
        "csat_difference": EMPTY if difference is None else f"{difference:+.2f}",
        "csat_few": 0 < min(summary.csat_ai.n, summary.csat_human.n) < FEW_SAMPLES,
    }


# -- figures ------------------------------------------------------------------------------


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    """The /analytics charts' look (deskpulse.web.analytics.charts), for these figures."""
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "font": {"size": 14}},
        "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        "margin": {"l": 48, "r": 48, "t": 40, "b": 40},
        "height": 280,
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "xaxis": {"gridcolor": "#eef0f3"},
        "yaxis": {"gridcolor": "#eef0f3", "rangemode": "tozero"},
    }
    layout.update(extra)
    return layout


def reasons_figure(reasons: tuple[ReasonShare, ...]) -> dict[str, Any]:
    ordered = list(reversed(reasons))  # the most common on top
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [reason.count for reason in ordered],
                "y": [reason.display for reason in ordered],
                "marker": {"color": PALETTE[1]},
                "hovertemplate": "%{y}: %{x} escalations<extra></extra>",
            }
        ],
        "layout": _layout(
            "Escalations by reason",
            yaxis={"automargin": True, "gridcolor": "#eef0f3"},
            margin={"l": 140, "r": 16, "t": 40, "b": 40},
        ),
    }


def hour_figure(rows: tuple[BreakdownRow, ...]) -> dict[str, Any]:
    hours = [row.key for row in rows if row.key is not None]
    by_hour = {row.key: row for row in rows}
    conversations = [by_hour[hour].metrics["conversations"].value or 0 for hour in hours]
    escalated = [
        None
        if by_hour[hour].metrics["escalation_rate"].value is None
        else 100 * float(by_hour[hour].metrics["escalation_rate"].value or 0)
        for hour in hours
    ]
    return {
        "data": [
            {
                "type": "bar",
                "name": "Conversations",
                "x": hours,
                "y": conversations,
                "marker": {"color": PALETTE[0]},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Escalated (%)",
                "x": hours,
                "y": escalated,
                "yaxis": "y2",
                "marker": {"color": PALETTE[4]},
            },
        ],
        "layout": _layout(
            "AI conversations and escalation by hour of day",
            xaxis={"title": {"text": "hour"}, "type": "category", "gridcolor": "#eef0f3"},
            yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False},
        ),
    }


def inquiry_figure(rows: tuple[BreakdownRow, ...]) -> dict[str, Any]:
    named = [row for row in rows if row.key is not None][:12]
    return {
        "data": [
            {
                "type": "bar",
                "name": name_label,
                "x": [inquiry_label(row.key) for row in named],
                "y": [
                    None
                    if row.metrics[name].value is None
                    else 100 * float(row.metrics[name].value or 0)
                    for row in named
                ],
                "marker": {"color": colour},
            }
            for name, name_label, colour in (
                ("ai_resolved_rate", "AI-resolved (%)", PALETTE[2]),
                ("escalation_rate", "Escalated (%)", PALETTE[1]),
            )
        ],
        "layout": _layout("AI-resolved and escalated by inquiry", barmode="group"),
    }


def targets_text(quality: QualityReport, currency: str) -> str:
    """The targets in force, in one line, for the foot of the report."""
    t = quality.targets
    cost = REGISTRY["cost_per_conversation"]
    return (
        f"CSAT issue below {t.csat_floor:g} (target {t.csat_target:g}), high severity · "
        f"escalation issue above {100 * t.escalation_ceiling:g}% (target "
        f"{100 * t.escalation_target:g}%), medium · cost per conversation issue above "
        f"{format_value(cost, t.cost_ceiling, currency)} (target "
        f"{format_value(cost, t.cost_target, currency)}), low · human cost per conversation "
        f"{money(t.human_cost_per_conversation, currency)} · CSAT half-life "
        f"{t.half_life_days:g} days."
    )
