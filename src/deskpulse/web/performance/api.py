"""The JSON API behind the /performance pages, with the pages' scoping.

Each endpoint calls the same core functions as its page (`agent_performance`,
`inquiry_detail`), with the same URL parameters, so a number on a page and the same
number from the API cannot differ. Signed-in people use their session; tools use a bearer
token with the `read` scope. Another agent (or an unknown id) answers 404 in the one
error shape; agents never receive another agent's name or id.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Query as NinjaQuery

from deskpulse.analysis.agents import find_agent
from deskpulse.analysis.effectiveness import (
    BAND_LABELS,
    EFFECTIVENESS_METRICS,
    MIN_INTERACTIONS,
    OUTCOME_OF_METRIC,
    AgentPerformance,
    InquiryDetail,
    InquiryPerformance,
    agent_performance,
    sort_inquiries,
)
from deskpulse.web.api.auth import READ
from deskpulse.web.api.auth import viewer_of as _viewer
from deskpulse.web.api.contract import errors
from deskpulse.web.api.jsonable import jsonable
from deskpulse.web.performance import status
from deskpulse.web.performance.params import PerformanceParams, read_params
from deskpulse.web.performance.present import METRICS, label
from deskpulse.web.performance.views import focused_detail, resolved_span, scored_store
from deskpulse.web.runtime import install_settings

router = Router(auth=READ, tags=["performance"])


class WindowParams(Schema):
    model: str | None = Field(
        default=None, description="channel whose model to use; default: the agent's busiest"
    )
    window: Literal["3m", "1m", "1w", "24h", "custom"] = "3m"
    start: str | None = Field(default=None, alias="from", description="custom range start")
    end: str | None = Field(default=None, alias="to", description="custom range end (inclusive)")
    as_of: str | None = Field(
        default=None, description="end of a named window: a date (through that day) or timestamp"
    )

    def read(self, **more: str | None) -> PerformanceParams:
        return read_params(
            {
                "model": self.model,
                "window": self.window,
                "from": self.start,
                "to": self.end,
                "as_of": self.as_of,
                **more,
            },
            install_settings().tz,
        )


class TableParams(WindowParams):
    sort: str = Field(
        default="volume",
        description="volume, effectiveness_score, aes_handle_time, predicted_satisfaction "
        "or predicted_resolution",
    )
    dir: Literal["asc", "desc"] = Field(default="desc", description="desc: high to low")


def _bands() -> list[dict[str, str]]:
    return [{"key": key, "label": label} for key, label in BAND_LABELS.items()]


def _window_json(params: PerformanceParams, performance_window: Any) -> dict[str, Any]:
    start, end = resolved_span(performance_window, install_settings().tz)
    return {"name": params.window_name, "from": start.isoformat(), "to": end.isoformat()}


def inquiry_json(row: InquiryPerformance) -> dict[str, Any]:
    """An inquiry's numbers, each with its n, and its bands as key and label.
    Satisfaction and resolution carry their `source` ("model" or "measured") and are
    labelled after it: a measured rate is never called a prediction."""
    metrics: dict[str, Any] = {}
    for metric in EFFECTIVENESS_METRICS:
        found = row.metrics.get(metric)
        if found is None:
            continue
        source = row.source_of(metric)
        metrics[metric] = {
            "label": label(metric, source),
            **({"source": source} if metric in OUTCOME_OF_METRIC else {}),
            "direction": METRICS[metric].direction,
            "agent": jsonable(found.agent),
            "team": jsonable(found.team),
            "all_agents": jsonable(found.all_agents),
            "top_performer": found.top_performer,
            "top_quartile": found.top_quartile,
            "band": found.band,
            "band_label": BAND_LABELS[found.band],
            # The band's uncertainty: the shrunk reading, its 80 % interval and the
            # chance of each band (docs/metrics.md, "Quartile bands").
            "standing": {
                "shrunk": found.standing.shrunk,
                "low": found.standing.low,
                "high": found.standing.high,
                "reliability": found.standing.reliability,
                "probabilities": dict(found.standing.probabilities),
                "could_be": found.standing.runner_up,
            },
        }
    return {
        "inquiry": row.inquiry,
        "volume": row.volume,
        "volume_share": row.volume_share,
        "impact": row.impact,
        "prediction_source": row.prediction_source,
        "satisfaction_source": row.satisfaction_source,
        "resolution_source": row.resolution_source,
        "metrics": metrics,
    }


def _model_json(channel: str | None) -> dict[str, Any] | None:
    found = status.channel_status(channel) if channel else None
    return None if found is None else jsonable(found)  # type: ignore[no-any-return,unused-ignore]


def performance_json(performance: AgentPerformance, params: PerformanceParams) -> dict[str, Any]:
    rows = sort_inquiries(performance.inquiries, params.sort, params.descending)
    return {
        "agent_id": performance.agent_id,
        "channel": performance.channel,
        "channels": list(performance.channels),
        "model_status": _model_json(performance.channel),
        "window": _window_json(params, performance.window),
        "min_interactions": MIN_INTERACTIONS,
        "bands": _bands(),
        "satisfaction_source": performance.satisfaction_source,
        "resolution_source": performance.resolution_source,
        "overall": {
            metric: {
                "label": performance.label(metric),
                **(
                    {"source": performance.source_of(metric)} if metric in OUTCOME_OF_METRIC else {}
                ),
                **jsonable(reading),
            }
            for metric, reading in performance.overall.items()
            if metric in METRICS
        },
        "top_performing": [inquiry_json(row) for row in performance.top_performing],
        "to_work_on": [inquiry_json(row) for row in performance.to_work_on],
        "sort": {"key": params.sort, "dir": params.direction},
        "inquiries": [inquiry_json(row) for row in rows],
    }


def detail_json(detail: InquiryDetail, params: PerformanceParams) -> dict[str, Any]:
    recommendation = detail.recommendation
    return {
        "agent_id": detail.agent_id,
        "channel": detail.channel,
        "model_status": _model_json(detail.channel),
        "window": _window_json(params, detail.window),
        "min_interactions": MIN_INTERACTIONS,
        "bands": _bands(),
        "performance": inquiry_json(detail.performance),
        "recommendation": {
            "metric": recommendation.metric,
            "label": None
            if recommendation.metric is None
            else detail.performance.label(recommendation.metric),
            "gaps": dict(recommendation.gaps),
            "explanation": recommendation.explanation,
        },
        "examples": [
            {
                **jsonable(example),
                "href": f"/analytics/conversations/{example.conversation_id}/",
            }
            for example in detail.examples
        ],
    }


@router.get(
    "/performance/agents/{agent_id}",
    summary="An agent's performance by inquiry: AES, its parts, bands, impact",
    openapi_extra=errors(504),
)
def get_agent_performance(
    request: HttpRequest, agent_id: str, params: NinjaQuery[TableParams]
) -> dict[str, Any]:
    viewer = _viewer(request)
    chosen = params.read(sort=params.sort, dir=params.dir)
    store = scored_store()
    find_agent(store, agent_id, viewer)
    performance = agent_performance(
        store, viewer, agent_id, channel=chosen.model, window=chosen.window()
    )
    return performance_json(performance, chosen)


@router.get(
    "/performance/agents/{agent_id}/inquiries/{path:inquiry}",
    summary="One inquiry: each metric with its band, the metric to focus on, recent examples",
    openapi_extra=errors(504),
)
def get_inquiry_detail(
    request: HttpRequest, agent_id: str, inquiry: str, params: NinjaQuery[WindowParams]
) -> dict[str, Any]:
    viewer = _viewer(request)
    chosen = params.read()
    store = scored_store()
    find_agent(store, agent_id, viewer)
    window = chosen.window()
    channel = chosen.model
    if channel is None:
        channel = agent_performance(store, viewer, agent_id, channel=None, window=window).channel
    detail = focused_detail(
        store, viewer, agent_id, channel=channel, inquiry=inquiry, window=window
    )
    return detail_json(detail, chosen)
