"""How a metric value reads to a person, from the metric's display format."""

from __future__ import annotations

from deskpulse.metrics.registry import Metric

EMPTY = "\u2013"  # an en dash: no sample, not zero


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes}m {rest:02d}s" if minutes < 10 else f"{minutes}m"
    if seconds < 86_400:
        hours, rest = divmod(round(seconds / 60), 60)
        return f"{hours}h {rest:02d}m"
    days, rest = divmod(round(seconds / 3600), 24)
    return f"{days}d {rest}h"


def format_value(metric: Metric, value: float | int | None, currency: str = "USD") -> str:
    """`value` as shown on tiles, tables and the CLI; an empty sample shows a dash."""
    if value is None:
        return EMPTY
    match metric.format:
        case "count":
            return f"{int(value):,}"
        case "duration":
            return format_duration(float(value))
        case "percent":
            return f"{100 * float(value):.1f}%"
        case "score":
            return f"{float(value):.2f}"
        case "nps":
            return f"{float(value):+.0f}"
        case "currency":
            symbol = "$" if currency == "USD" else f"{currency} "
            return f"{symbol}{float(value):,.2f}" if value >= 1 else f"{symbol}{float(value):.3f}"
    return str(value)


def change_text(metric: Metric, current: float, previous: float) -> tuple[str, float]:
    """The change against the previous period as a person reads it (points for a rate,
    a plain difference for a score, a percent otherwise), and its signed size for
    colouring. One wording for the dashboard's tiles and the weekly digest."""
    difference = current - previous
    match metric.format:
        case "percent":
            points = 100 * difference
            return f"{points:+.1f} pts", round(points, 1)
        case "score":
            return f"{difference:+.2f}", round(difference, 2)
        case "nps":
            return f"{difference:+.0f}", round(difference)
    if previous == 0:
        return ("new" if current else "no change"), current
    relative = 100 * difference / abs(previous)
    return f"{relative:+.0f}%", round(relative)
