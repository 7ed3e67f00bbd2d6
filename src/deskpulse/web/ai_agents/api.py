"""The JSON API behind the /ai-agents pages, with the pages' scoping.

Each endpoint calls the same analysis functions as its page (`ai_agents_report`,
`build_quality_report`) with the install's targets, so a number on a page and the same
number from the API cannot differ. Signed-in people use their session; tools use a
bearer token with the `read` scope. Every role sees AI agents; people's figures come only
as one team aggregate. A human agent id, or an id nobody has, answers 404 in the one
error shape.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router
from ninja import Query as NinjaQuery

from deskpulse.analysis.ai_agents import AiAgentsReport, ReasonShare, ai_agents_report
from deskpulse.analysis.ai_quality import QualityReport, build_quality_report, quality_csv
from deskpulse.metrics.query import MetricValue, Viewer
from deskpulse.web.ai_agents.models import AiTargets
from deskpulse.web.api.auth import READ
from deskpulse.web.api.auth import viewer_of as _viewer
from deskpulse.web.api.contract import errors
from deskpulse.web.api.window_params import ReportingPeriodParams
from deskpulse.web.runtime import store_with_facts

router = Router(auth=READ, tags=["ai agents"])


class QualityParams(ReportingPeriodParams):
    agent: str | None = Field(default=None, description="one AI agent's report (its agent id)")


def _metrics(values: dict[str, MetricValue]) -> dict[str, Any]:
    return {name: value.as_json() for name, value in values.items()}


def _reasons(reasons: tuple[ReasonShare, ...]) -> list[dict[str, Any]]:
    return [
        {
            "reason": reason.reason,
            "label": reason.display,
            "count": reason.count,
            "share": reason.share,
        }
        for reason in reasons
    ]


def report_json(report: AiAgentsReport) -> dict[str, Any]:
    agent = report.agent
    return {
        "period": report.period.as_json(),
        "half_life_days": report.half_life_days,
        "agent": None
        if agent is None
        else {"agent_id": agent.agent_id, "name": agent.name, "active": agent.active},
        "overall": _metrics(report.overall),
        "escalated": report.escalated,
        "escalation_reasons": _reasons(report.reasons),
        "agents": [
            {
                "agent_id": row.agent_id,
                "name": row.name,
                "active": row.active,
                "metrics": _metrics(row.metrics),
                "escalation_reasons": _reasons(row.reasons),
            }
            for row in report.agents
        ],
        "breakdowns": {
            dimension: [{"key": row.key, "metrics": _metrics(row.metrics)} for row in rows]
            for dimension, rows in report.breakdowns.items()
        },
        # Team aggregates only: conversations handled by humans only, and all of them.
        "humans_only": _metrics(report.humans),
        "all_conversations": _metrics(report.everything),
    }


def quality_json(quality: QualityReport) -> dict[str, Any]:
    summary = quality.summary

    def check_json(check: Any) -> dict[str, Any]:
        return {
            "area": check.area,
            "metric": check.metric,
            "severity": check.severity,
            "status": check.status,
            "current": check.reading.as_json(),
            "threshold": check.threshold,
            "target": check.target,
            "few": check.few,
            "recommendation": check.recommendation,
        }

    return {
        "period": quality.report.period.as_json(),
        "agent": None if quality.report.agent is None else quality.report.agent.agent_id,
        "targets": asdict(quality.targets),
        "summary": {
            "all_conversations": summary.all_conversations,
            "ai_handled_conversations": summary.ai_handled_conversations,
            "ai_share": summary.ai_share.as_json(),
            "human_cost_per_conversation": summary.human_cost_per_conversation,
            "ai_cost_per_conversation": summary.ai_cost_per_conversation.as_json(),
            "ai_cost_total": summary.ai_cost_total.as_json(),
            "ai_cost_recorded": summary.ai_cost_recorded,
            "cost_saved": summary.cost_saved,
            "csat_ai": summary.csat_ai.as_json(),
            "csat_human": summary.csat_human.as_json(),
            "csat_difference": summary.csat_difference,
        },
        "issues": [check_json(check) for check in quality.issues],
        "checks": [check_json(check) for check in quality.checks],
        "benchmarks": [
            {
                "label": row.label,
                "tier1": row.tier1,
                "ai_target": row.ai_target,
                "best_in_class": row.best,
                "ai_metric": row.ai_metric,
                "ai": row.ai.as_json(),
                "human_metric": row.human_metric,
                "human": None if row.human is None else row.human.as_json(),
                "human_note": row.human_note,
            }
            for row in quality.benchmarks
        ],
        "escalation_reasons": _reasons(quality.report.reasons),
        "notes": list(quality.notes),
    }


def _report(
    params: ReportingPeriodParams, viewer: Viewer, agent_id: str | None
) -> tuple[AiAgentsReport, AiTargets]:
    settings = AiTargets.current()
    report = ai_agents_report(
        store_with_facts(),
        params.window(),
        viewer,
        agent_id=agent_id,
        half_life_days=settings.half_life_days,
    )
    return report, settings


@router.get(
    "/ai-agents",
    summary="All AI agents: numbers, reasons, breakdowns, people only",
    openapi_extra=errors(404, 504),
)
def get_ai_agents(
    request: HttpRequest, params: NinjaQuery[ReportingPeriodParams]
) -> dict[str, Any]:
    viewer = _viewer(request)
    report, _settings = _report(params, viewer, None)
    return report_json(report)


@router.get(
    "/ai-agents/quality",
    summary="The AI quality report: issues, benchmarks, summary",
    openapi_extra=errors(404, 504),
)
def get_ai_quality(request: HttpRequest, params: NinjaQuery[QualityParams]) -> dict[str, Any]:
    viewer = _viewer(request)
    report, settings = _report(params, viewer, params.agent or None)
    return quality_json(build_quality_report(report, settings.targets()))


@router.get(
    "/ai-agents/quality.csv", summary="The AI quality report as CSV", openapi_extra=errors(404, 504)
)
def get_ai_quality_csv(request: HttpRequest, params: NinjaQuery[QualityParams]) -> HttpResponse:
    viewer = _viewer(request)
    report, settings = _report(params, viewer, params.agent or None)
    quality = build_quality_report(report, settings.targets())
    response = HttpResponse(quality_csv(quality), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ai-quality.csv"'
    return response


@router.get(
    "/ai-agents/{agent_id}",
    summary="One AI agent (a human agent id answers 404)",
    openapi_extra=errors(504),
)
def get_ai_agent(
    request: HttpRequest, agent_id: str, params: NinjaQuery[ReportingPeriodParams]
) -> dict[str, Any]:
    viewer = _viewer(request)
    report, _settings = _report(params, viewer, agent_id)
    return report_json(report)
