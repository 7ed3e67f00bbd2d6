"""How an experiment's result reads on the pages: formatted cells, the SRM and power
sections, and the cumulative-lift chart. Nothing is computed here but unit changes."""

from __future__ import annotations

import functools
from typing import Any

from deskpulse.analysis import experiment_stats as stats
from deskpulse.analysis.experiments import (
    EXPERIMENT_METRICS,
    MINUS,
    ExperimentResult,
    MetricReading,
)
from deskpulse.metrics.format import EMPTY, format_duration, format_value
from deskpulse.web.analytics.charts import PALETTE

TEST_NAMES = {
    "two_proportion_z": "two-proportion z-test",
    "chi_square": "chi-square test",
    "welch_t": "Welch's t-test",
    "mann_whitney_u": "Mann-Whitney U",
}
ACTION_LABELS = {
    "ship": "Ship",
    "keep_control": "Keep control",
    "keep_running": "Keep running",
    "inconclusive": "Inconclusive",
}
STATUS_LABELS = {"scheduled": "Scheduled", "running": "Running", "ended": "Ended"}


def _signed(text: str) -> str:
    return text.replace("-", MINUS)


def pct(x: float | None, digits: int = 1) -> str:
    return EMPTY if x is None else _signed(f"{100 * x:+.{digits}f}%")


def p_text(p: float | None) -> str:
    if p is None:
        return EMPTY
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}" if p < 0.001 else f"{p:.3f}"


def value_text(name: str, value: float | None, currency: str) -> str:
    return format_value(EXPERIMENT_METRICS[name].registry, value, currency)


def difference_text(name: str, value: float, currency: str) -> str:
    """B - A in the metric's own unit: points for rates, seconds as a duration."""
    metric = EXPERIMENT_METRICS[name].registry
    if metric.format == "percent":
        return _signed(f"{100 * value:+.1f} pp")
    if metric.format == "duration":
        return ("+" if value >= 0 else MINUS) + format_duration(abs(value))
    if metric.format == "currency":
        symbol = "$" if currency == "USD" else f"{currency} "
        return ("+" if value >= 0 else MINUS) + f"{symbol}{abs(value):.3f}"
    return _signed(f"{value:+.3g}")


def _interval(name: str, interval: stats.Interval, currency: str) -> str:
    return (
        f"{difference_text(name, interval.low, currency)} to "
        f"{difference_text(name, interval.high, currency)}"
    )


def _finding(result: stats.MetricResult, early: bool = False) -> tuple[str, str]:
    """(text, css class) of what the metric says, read through its direction. `early`:
    a fixed-horizon experiment short of its planned sample, which no p-value can settle
    yet, for the primary and the guardrails alike (the verdict says "looks worse early")."""
    if not result.gate.met:
        return "not enough data", "muted"
    if result.comparison is None:
        return "no comparison", "muted"
    if not result.significant:
        return "not significant", "muted"
    if early:
        better = "better" if result.effect == "good" else "worse"
        return f"looks {better}; planned sample not reached", "muted"
    return (
        ("significantly better", "better")
        if result.effect == "good"
        else (
            "significantly worse",
            "worse",
        )
    )


def metric_rows(result: ExperimentResult, currency: str) -> list[dict[str, Any]]:
    """One row per metric: each variant's value and n, B - A, lift, p-values, the test."""
    verdict = result.verdict
    readings: dict[str, MetricReading] = {m.name: m for m in result.metrics}
    alpha = verdict.alpha
    level = f"{100 * (1 - alpha):g}%"
    plan = verdict.power
    # As the verdict reads it: a fixed-horizon test is settled at its planned sample, or
    # without a plan once it has ended.
    reached = plan.days_to_decision == 0 if plan is not None else result.status == "ended"
    early = not verdict.sequential and not reached
    rows = []
    for found in (verdict.primary, *verdict.guardrails):
        reading = readings[found.name]
        c = found.comparison
        finding, css = _finding(found, early=early)
        row: dict[str, Any] = {
            "name": found.name,
            "label": reading.label,
            "description": reading.description,
            "role": "Primary" if found.role == "primary" else "Guardrail",
            "direction": "higher is better"
            if found.direction == "higher_is_better"
            else "lower is better",
            "values": [
                {
                    "variant": v.variant,
                    "text": value_text(found.name, v.value, currency),
                    "n": f"{v.n:,}",
                }
                for v in reading.values
            ],
            "difference": EMPTY,
            "difference_ci": "",
            "lift": EMPTY,
            "lift_ci": "",
            "p_value": p_text(found.p_value) if c is not None else EMPTY,
            "adjusted_p_value": p_text(found.adjusted_p_value) if c is not None else EMPTY,
            "test": EMPTY,
            "finding": finding,
            "finding_class": css,
            "gate": "met"
            if found.gate.met
            else (found.gate.message or "not met").replace("not enough data: ", ""),
            "gate_met": found.gate.met,
            "required": f"{found.gate.required_per_variant:,}",
            "sequential": None,
            "rank": None,
        }
        if c is not None:
            row["difference"] = difference_text(found.name, c.difference, currency)
            row["difference_ci"] = f"{level} CI {_interval(found.name, c.difference_ci, currency)}"
            if c.lift is not None and c.lift_ci is not None:
                row["lift"] = pct(c.lift)
                row["lift_ci"] = f"{level} CI {pct(c.lift_ci.low)} to {pct(c.lift_ci.high)}"
            row["test"] = TEST_NAMES.get(c.test, c.test)
            if c.mann_whitney is not None:
                rank = c.mann_whitney
                shift = rank.hodges_lehmann
                row["rank"] = f"P(B > A) = {rank.common_language:.3f}" + (
                    ""
                    if shift is None
                    else f"; median shift {difference_text(found.name, shift, currency)}"
                )
                if shift is not None and rank.shift_ci is not None:
                    # The rank test's own effect and interval (what its p-value and the
                    # verdict rest on), not the difference of means, which can point the
                    # other way on skewed data.
                    row["difference"] = difference_text(found.name, shift, currency)
                    interval = rank.shift_ci_text(
                        functools.partial(difference_text, found.name, currency=currency)
                    )
                    row["difference_ci"] = f"{level} CI {interval} (median shift)"
        if found.sequential is not None:
            s = found.sequential
            row["sequential"] = (
                f"{difference_text(found.name, s.difference, currency)} "
                f"({_interval(found.name, s.interval, currency)}; "
                f"always-valid p {p_text(s.p_value)})"
            )
        rows.append(row)
    return rows


def srm_context(result: ExperimentResult) -> dict[str, Any]:
    srm = result.verdict.srm
    return {
        "flagged": srm.flagged,
        "message": srm.message,
        "rows": [
            {
                "variant": variant,
                "observed": f"{observed:,}",
                "expected": f"{expected:,.0f}",
                "planned": f"{100 * share:g}%",
            }
            for variant, observed, expected, share in zip(
                result.definition.variants,
                srm.observed,
                srm.expected,
                srm.planned_split,
                strict=True,
            )
        ],
        "p_value": p_text(srm.p_value),
        "statistic": f"{srm.statistic:.2f}",
        "threshold": f"{srm.threshold:g}",
    }


def _plan_basis(plan: stats.PowerPlan) -> str:
    """What the planned sample pays for, in words (docs/statistics.md, power)."""
    test_alpha = plan.test_alpha if plan.test_alpha is not None else plan.alpha
    parts = [
        f"the primary tested at {test_alpha:.3g}"
        + (f" (Holm over {plan.comparisons} metrics)" if plan.comparisons > 1 else "")
    ]
    if plan.sequential:
        parts.append("sized for the wider always-valid interval")
    return "; ".join(parts)


def power_context(result: ExperimentResult, currency: str) -> dict[str, Any] | None:
    plan = result.verdict.power
    if plan is None:
        return None
    name = result.definition.primary
    days = plan.days_to_decision
    if days == 0:
        days_text = "reached"
    elif days is None:
        days_text = "no traffic to estimate from" if result.status != "ended" else "ended"
    else:
        days_text = f"about {days} more day{'s' if days != 1 else ''}"
    return {
        "baseline": value_text(name, plan.baseline, currency),
        "mde": pct(plan.mde_relative),
        "mde_absolute": difference_text(name, plan.mde_absolute, currency),
        "target_power": f"{100 * plan.target_power:.0f}%",
        "achieved_power": f"{100 * plan.achieved_power:.0f}%",
        "required": f"{plan.required_per_variant:,}",
        "basis": _plan_basis(plan),
        "current": f"{min(plan.n_control, plan.n_treatment):,}",
        "daily": EMPTY if plan.daily_per_variant is None else f"{plan.daily_per_variant:,.1f}",
        "days": days_text,
    }


def lift_figure(result: ExperimentResult) -> dict[str, Any]:
    """The primary metric's cumulative lift by day, with its confidence band."""
    points = [p for p in result.series if p.lift is not None]
    days = [p.day.isoformat() for p in points]
    low = [100 * (p.low or 0.0) for p in points]
    high = [100 * (p.high or 0.0) for p in points]
    level = f"{100 * (1 - result.definition.alpha):g}%"
    label = EXPERIMENT_METRICS[result.definition.primary].label
    colour = PALETTE[0]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"{level} CI high",
            "x": days,
            "y": high,
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"{level} confidence interval",
            "x": days,
            "y": low,
            "fill": "tonexty",
            "fillcolor": "rgba(36, 86, 199, 0.15)",
            "line": {"width": 0},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "lift",
            "x": days,
            "y": [100 * (p.lift or 0.0) for p in points],
            "line": {"color": colour},
            "customdata": [[p.n_control, p.n_treatment] for p in points],
            "hovertemplate": "%{x}: %{y:+.1f}%<br>n %{customdata[0]} / %{customdata[1]}"
            "<extra></extra>",
        },
    ]
    return {
        "data": data,
        "layout": {
            "title": {
                "text": f"{label}: cumulative lift of {result.definition.treatment}",
                "x": 0,
                "font": {"size": 14},
            },
            "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
            "margin": {"l": 56, "r": 16, "t": 40, "b": 40},
            "height": 300,
            "legend": {"orientation": "h", "y": -0.2},
            "paper_bgcolor": "#fff",
            "plot_bgcolor": "#fff",
            "xaxis": {"gridcolor": "#eef0f3"},
            "yaxis": {
                "gridcolor": "#eef0f3",
                "ticksuffix": "%",
                "zeroline": True,
                "zerolinecolor": "#6c7a89",
                "zerolinewidth": 2,
            },
        },
    }


def variant_rows(result: ExperimentResult) -> list[dict[str, str]]:
    return [
        {
            "variant": v.variant,
            "units": f"{v.units:,}",
            "conversations": f"{v.conversations:,}",
            "daily": f"{v.recent_daily:,.1f}",
        }
        for v in result.variants
    ]


def summary_row(result: ExperimentResult) -> dict[str, Any]:
    """One line of the list page."""
    verdict = result.verdict
    primary = verdict.primary
    c = primary.comparison
    return {
        "status": STATUS_LABELS[result.status],
        "status_key": result.status,
        "exposures": [
            {"variant": v.variant, "units": f"{v.units:,}", "conversations": f"{v.conversations:,}"}
            for v in result.variants
        ],
        "action": ACTION_LABELS[verdict.action],
        "action_key": verdict.action,
        "recommendation": verdict.recommendation,
        "locked_since": verdict.locked_since if verdict.locked else None,
        "lift": pct(c.lift) if c is not None and c.lift is not None else EMPTY,
        "headline": result.headline,
    }
