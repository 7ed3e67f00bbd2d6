"""/analytics/signals/: every friction signal of the period, with how they are found;
/analytics/signals/panel/: the dashboard's panel on its own, which /analytics loads after
the page when no answer is cached yet.

Signals name queues, inquiries and channels only, never an agent, so every member sees
the same team-level list; the query layer still applies the viewer's scope.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deskpulse.analysis.signals import DIMENSION_WORDS, TENSIONS, find_signals
from deskpulse.web.access import member_required, viewer_of
from deskpulse.web.analytics.filters import read_scope
from deskpulse.web.analytics.views import _period_context, _period_label, _window
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.params import PageState, read_window
from deskpulse.web.runtime import install_settings, store_with_facts
from deskpulse.web.signals.present import METHOD, panel_context, report_context


def _span(start: datetime, end: datetime) -> str:
    last = end - timedelta(microseconds=1)
    return f"{start:%b %-d} \u2013 {last:%b %-d, %Y}"


@member_required
@errors_as_page
def signals_page(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    store = store_with_facts()
    window = _window(request)
    context = _period_context(request, window, "/analytics/signals/")
    state: PageState = context["state"]
    filters = read_scope(request.GET, store, viewer)
    report = find_signals(store, window, viewer, filters=filters)
    context.update(
        {
            "nav": "analytics",
            "heading": "Where the system is creaking",
            "period_text": _period_label(window, report.period.start, report.period.end),
            "previous_text": _span(report.previous_period.start, report.previous_period.end),
            "signals": report_context(report, state, None),
            "method": METHOD,
            "tensions": TENSIONS,
            "dimensions": list(DIMENSION_WORDS.values()),
        }
    )
    return render(request, "signals/signals.html", context)


@member_required
@errors_as_page
def signals_panel(request: HttpRequest) -> HttpResponse:
    """The panel alone (computed, then cached), for the dashboard's script to put in place.
    A bad period is the problem page (400): the dashboard around it already names it."""
    viewer = viewer_of(request)
    window = read_window(request.GET, install_settings().tz)
    state = _period_context(request, window, "/analytics/")["state"]
    store = store_with_facts()
    filters = read_scope(request.GET, store, viewer)
    context = {
        "signals": panel_context(store, window, viewer, state, compute=True, filters=filters)
    }
    return render(request, "signals/_panel.html", context)
