"""How friction signals read on a page: the /analytics panel and the /analytics/signals/ list.

Presentation only: the signals arrive from `deskpulse.analysis.signals`, already tested
and worded. This module adds links that keep the page's period, and decides whether the
dashboard can show the panel now (a cached answer) or loads it after the page (it never
makes /analytics wait for the statistics).
"""

from __future__ import annotations

from typing import Any

from deskpulse.analysis.signals import (
    ALPHA,
    MIN_CSAT_POINTS,
    MIN_RATE_POINTS,
    MIN_RELATIVE_CHANGE,
    MIN_SAMPLE,
    MIN_SURGE,
    SHOWN,
    Signal,
    SignalReport,
    cached_signals,
    find_signals,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import Filters, Viewer
from deskpulse.metrics.window import Window
from deskpulse.web.params import PageState

KIND_WORDS = {"shift": "shift", "tension": "metrics pulling apart", "surge": "volume surge"}
# What the signals links keep of the dashboard's URL: the period and the filters (team,
# channel…, which the signals were computed under), not its sort.
_DROP = {"sort": None, "order": None, "time": None}


def _p_text(p: float) -> str:
    if p < 0.0001:
        return "< 0.0001"
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"


def signal_row(signal: Signal, state: PageState) -> dict[str, Any]:
    return {
        "kind": signal.kind,
        "kind_text": KIND_WORDS[signal.kind],
        "name": signal.name,
        "title": signal.title,
        "dimension": signal.segment.dimension,
        "value": signal.segment.value,
        "segment": signal.segment.label,
        "also": [segment.label for segment in signal.also],
        "verdict": signal.verdict,
        "sentence": signal.sentence,
        "coaching": signal.coaching,
        "p_text": _p_text(signal.p_value),
        "href": state.link("/analytics/conversations/", **_DROP, **signal.conversations),
        "readings": [
            {
                "label": r.label,
                "current": r.current_text,
                "current_n": f"{r.current_n:,}",
                "previous": r.previous_text,
                "previous_n": f"{r.previous_n:,}",
                "change": r.change_text,
            }
            for r in signal.readings
        ],
    }


def report_context(report: SignalReport, state: PageState, limit: int | None) -> dict[str, Any]:
    shown = report.signals if limit is None else report.shown(limit)
    return {
        "pending": False,
        "rows": [signal_row(signal, state) for signal in shown],
        "total": len(report.signals),
        "more": len(report.signals) - len(shown),
        "tests": report.tests,
        "too_small": report.too_small,
        "volume_compared": report.volume_compared,
        "all_href": state.link("/analytics/signals/", **_DROP),
    }


def panel_context(
    store: Store,
    window: Window,
    viewer: Viewer,
    state: PageState,
    *,
    compute: bool,
    filters: Filters | None = None,
) -> dict[str, Any]:
    """The /analytics panel. Without `compute`, only a cached answer is used; if there is
    none the panel is a placeholder the page fills in from /analytics/signals/panel/.
    `filters` are the dashboard's: the signals are looked for inside them."""
    if compute:
        report: SignalReport | None = find_signals(store, window, viewer, filters=filters)
    else:
        report = cached_signals(store, window, viewer, filters=filters)
    if report is None:
        return {
            "pending": True,
            "src": state.link("/analytics/signals/panel/", **_DROP),
            "all_href": state.link("/analytics/signals/", **_DROP),
        }
    return report_context(report, state, SHOWN)


# The method, as the signals page explains it (and docs/signals.md).
METHOD = {
    "alpha": f"{ALPHA:g}",
    "min_sample": MIN_SAMPLE,
    "min_relative": f"{100 * MIN_RELATIVE_CHANGE:.0f}%",
    "min_rate_points": f"{100 * MIN_RATE_POINTS:.0f}",
    "min_csat": f"{MIN_CSAT_POINTS:.2f}",
    "min_surge": f"{100 * MIN_SURGE:.0f}%",
    "shown": SHOWN,
}
