"""The /ai-agents pages: all AI agents, one AI agent, the quality report (page, printable
page and CSV) and the targets behind it at /settings/ai-targets/.

Views only arrange what `deskpulse.analysis.ai_agents` and `ai_quality` return. Every
role that may read analytics sees these pages: AI agents are not colleagues. People's
figures appear only as one team aggregate (conversations handled by humans only), never
per person. The one object a view loads, an AI agent, goes through `find_ai_agent`, whose
NotVisibleError is the 404 page for a human agent id exactly as for an id nobody has.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from deskpulse.analysis.ai_agents import (
    BREAKDOWN_METRICS,
    BREAKDOWNS,
    AiAgentsReport,
    ai_agents_report,
    find_ai_agent,
)
from deskpulse.analysis.ai_quality import QualityReport, build_quality_report, quality_csv
from deskpulse.metrics.registry import REGISTRY
from deskpulse.metrics.window import Window
from deskpulse.web.access import admin_required, member_required, viewer_of
from deskpulse.web.ai_agents import present
from deskpulse.web.ai_agents.forms import AiTargetsForm
from deskpulse.web.ai_agents.models import AiTargets
from deskpulse.web.analytics.present import FEW_SAMPLES
from deskpulse.web.analytics.views import PERIOD_LINKS
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.params import ParameterError, page_state, read_window
from deskpulse.web.request_guard import note_bad_parameter
from deskpulse.web.runtime import install_settings, store_with_facts

OVERVIEW = "/ai-agents/"
QUALITY = "/ai-agents/quality/"
QUALITY_CSV = "/ai-agents/quality.csv"
SETTINGS = "/settings/ai-targets/"


def agent_path(agent_id: str) -> str:
    return f"{OVERVIEW}{quote(agent_id, safe='')}/"


def _window(request: HttpRequest) -> Window:
    """The URL's period; a bad one is named on the page and 30 days shown instead."""
    try:
        return read_window(request.GET, install_settings().tz)
    except ParameterError as error:
        messages.error(request, f"{error.field}: {error.message}. Showing the last 30 days.")
        note_bad_parameter(request)
        return Window()


def _span_text(start: datetime, end: datetime) -> str:
    last = end - timedelta(microseconds=1)
    return f"{start:%b %-d} \u2013 {last:%b %-d, %Y}"


def _period_context(request: HttpRequest, window: Window, path: str) -> dict[str, Any]:
    state = page_state(request.GET, window)
    return {
        "state": state,
        "window": window,
        "period_links": [
            (name, label, state.link(path, period=name, **{"from": None, "to": None}))
            for name, label in PERIOD_LINKS
        ],
        "custom_from": request.GET.get("from", ""),
        "custom_to": request.GET.get("to", ""),
    }


def _report_context(report: AiAgentsReport, state: Any) -> dict[str, Any]:
    """What the overview and the one-agent page share: tiles, reasons, breakdowns, the
    human comparison and the charts."""
    currency = install_settings().currency
    rows, headings = present.agent_rows(report, currency, lambda a: state.link(agent_path(a)))
    breakdowns = [
        {
            "key": dimension,
            "label": label,
            "note": present.BREAKDOWN_NOTES.get(dimension, ""),
            "rows": present.breakdown_rows(report.breakdowns[dimension], currency),
        }
        for dimension, label in BREAKDOWNS
    ]
    figures: dict[str, Any] = {"chart-hours": present.hour_figure(report.breakdowns["hour"])}
    if report.reasons:
        figures["chart-reasons"] = present.reasons_figure(report.reasons)
    if report.breakdowns["inquiry"]:
        figures["chart-inquiries"] = present.inquiry_figure(report.breakdowns["inquiry"])
    return {
        "report": report,
        "period_text": _span_text(report.period.start, report.period.end),
        "tiles": present.tiles(report.overall, currency, report.half_life_days),
        "reasons": present.reason_rows(report.reasons),
        "escalated": report.escalated,
        "agent_rows": rows,
        "agent_headings": headings,
        "breakdowns": breakdowns,
        "breakdown_headings": [present.SHORT_LABELS[name] for name in BREAKDOWN_METRICS],
        "comparison": present.comparison_rows(report, currency),
        "figures": figures,
        "few_samples": FEW_SAMPLES,
        "explanations": [
            (REGISTRY[name].label, text) for name, text in present.EXPLANATIONS.items()
        ],
    }


# -- pages ------------------------------------------------------------------------------


@member_required
@errors_as_page
def overview(request: HttpRequest) -> HttpResponse:
    """/ai-agents/: every AI agent together, then one row per AI agent, then breakdowns."""
    window = _window(request)
    context = _period_context(request, window, OVERVIEW)
    targets = AiTargets.current().targets()
    report = ai_agents_report(
        store_with_facts(), window, viewer_of(request), half_life_days=targets.half_life_days
    )
    context.update(_report_context(report, context["state"]))
    context.update(
        {
            "nav": "ai_agents",
            "heading": "AI agents",
            "quality_href": context["state"].link(QUALITY),
        }
    )
    return render(request, "ai_agents/overview.html", context)


@member_required
@errors_as_page
def agent_page(request: HttpRequest, agent_id: str) -> HttpResponse:
    """/ai-agents/<id>/: one AI agent's numbers; a human or unknown id is a 404."""
    store = store_with_facts()
    agent = find_ai_agent(store, agent_id)
    window = _window(request)
    path = agent_path(agent_id)
    context = _period_context(request, window, path)
    targets = AiTargets.current().targets()
    report = ai_agents_report(
        store,
        window,
        viewer_of(request),
        agent_id=agent.agent_id,
        half_life_days=targets.half_life_days,
    )
    context.update(_report_context(report, context["state"]))
    context.update(
        {
            "nav": "ai_agents",
            "heading": agent.name,
            "agent": agent,
            "overview_href": context["state"].link(OVERVIEW),
            "quality_href": context["state"].link(QUALITY, agent=agent.agent_id),
        }
    )
    return render(request, "ai_agents/agent.html", context)


def _quality(request: HttpRequest, window: Window | None = None) -> tuple[QualityReport, Window]:
    """The quality report the URL asks for: all AI agents, or `?agent=` one of them."""
    store = store_with_facts()
    agent_id = request.GET.get("agent") or None
    if agent_id is not None:
        find_ai_agent(store, agent_id)
    if window is None:
        window = read_window(request.GET, install_settings().tz)
    targets = AiTargets.current().targets()
    report = ai_agents_report(
        store,
        window,
        viewer_of(request),
        agent_id=agent_id,
        half_life_days=targets.half_life_days,
    )
    return build_quality_report(report, targets), window


@member_required
@errors_as_page
def quality_page(request: HttpRequest) -> HttpResponse:
    """/ai-agents/quality/: issues with recommendations, benchmarks, executive summary.
    `?print=1` is the same report laid out for paper (no navigation, no charts)."""
    quality, window = _quality(request, _window(request))
    context = _period_context(request, window, QUALITY)
    state = context["state"]
    agent_id = request.GET.get("agent") or ""
    currency = install_settings().currency
    report = quality.report
    context.update(
        {
            "nav": "ai_agents",
            "quality": quality,
            "agent": report.agent,
            "period_text": _span_text(report.period.start, report.period.end),
            "checks": [present.check_row(check, currency) for check in quality.checks],
            "issues": [present.check_row(check, currency) for check in quality.issues],
            "benchmarks": [present.benchmark_row(row, currency) for row in quality.benchmarks],
            "summary": present.summary_context(quality, currency),
            "reasons": present.reason_rows(report.reasons),
            "notes": quality.notes,
            "targets": quality.targets,
            "targets_text": present.targets_text(quality, currency),
            "printing": request.GET.get("print") == "1",
            "print_href": state.link(QUALITY, agent=agent_id or None, print="1"),
            "csv_href": state.link(QUALITY_CSV, agent=agent_id or None),
            "screen_href": state.link(QUALITY, agent=agent_id or None),
            "overview_href": state.link(OVERVIEW),
            "settings_href": SETTINGS,
            "can_edit_targets": not viewer_of(request).is_agent,
            "few_samples": FEW_SAMPLES,
        }
    )
    return render(request, "ai_agents/quality.html", context)


@member_required
@errors_as_page
def quality_export(request: HttpRequest) -> HttpResponse:
    """The quality report as CSV (the same period and agent as the page)."""
    quality, _window = _quality(request)
    response = HttpResponse(quality_csv(quality), content_type="text/csv; charset=utf-8")
    period = quality.report.period
    first = period.start.date().isoformat()
    last = (period.end - timedelta(microseconds=1)).date().isoformat()
    name = f"ai-quality-{first}-{last}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@admin_required
@require_http_methods(["GET", "POST"])
def targets_page(request: HttpRequest) -> HttpResponse:
    """/settings/ai-targets/: owners and admins set the quality targets, the human cost
    per conversation and the CSAT half-life. Others get 404, like every settings page."""
    current = AiTargets.current()
    if request.method == "POST":
        form = AiTargetsForm(request.POST, instance=current)
        if form.is_valid():
            saved: AiTargets = form.save(commit=False)
            saved.updated_by = request.user  # type: ignore[assignment]
            saved.save()
            messages.success(request, "AI targets saved: the quality report uses them now.")
            return HttpResponseRedirect(SETTINGS)
        status = 400
    else:
        form = AiTargetsForm(instance=current)
        status = 200
    return render(
        request,
        "ai_agents/settings.html",
        {
            "nav": "settings",
            "tab": "ai_targets",
            "form": form,
            "error_lines": form.error_lines() if form.is_bound else [],
            "saved": current.pk is not None,
            "current": current,
            "quality_href": QUALITY,
        },
        status=status,
    )
