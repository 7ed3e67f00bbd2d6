"""The coaching plans' JSON API, under /api/v1/coaching/.

The pages and these endpoints call the same service functions, so a plan made through
the API is validated exactly like one made in the wizard, and reads the same.

Authentication follows the rest of the API: a signed-in session or a bearer token with
the `read` scope to read and the `write` scope to change. A token acts for its user, so
it only ever touches the plans that user may see. Requests that change something (POST,
PATCH) from a session must carry the CSRF token (the `csrftoken` cookie's value in an
X-CSRFToken header), as Django's forms do; token requests need none. Agents see and
change their own plans only; another agent's plan answers 404, like one that does not
exist.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja import Query as NinjaQuery

from deskpulse import clock
from deskpulse.analysis import coaching as core
from deskpulse.analysis import effectiveness as eff
from deskpulse.metrics.query import Viewer
from deskpulse.metrics.report import agent_directory
from deskpulse.web.api.auth import READ, WRITE, user_of
from deskpulse.web.api.auth import viewer_of as _viewer
from deskpulse.web.api.contract import errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.api.jsonable import jsonable
from deskpulse.web.coaching import service
from deskpulse.web.coaching.present import plan_json
from deskpulse.web.params import moment
from deskpulse.web.runtime import install_settings, store_with_facts

router = Router(tags=["coaching"])


def _as_of(value: str | None) -> datetime | None:
    return moment(value, "as_of", install_settings().tz, day_end=True)


def _names(viewer: Viewer, store: Any) -> dict[str, str]:
    if viewer.is_agent:
        return {}
    return {
        agent_id: str(row.get("name") or agent_id)
        for agent_id, row in agent_directory(store).items()
    }


def _agent_or_self(viewer: Viewer, agent: str | None) -> str:
    chosen = (agent or "").strip() or (viewer.agent_id or "")
    if not chosen:
        raise ApiError(422, "invalid_request", "agent: name the agent the plan is for", "agent")
    return chosen


# -- schemas --------------------------------------------------------------------------------


class WizardParams(Schema):
    agent: str | None = Field(default=None, description="agent id (agents: their own)")
    model: str = Field(description="the channel the plan is for (the page's model=)")
    inquiry: str
    metric: str | None = Field(default=None, description="default: the recommended metric")
    improvement: float | None = Field(default=None, description="percent, 5 to 50")
    as_of: str | None = Field(default=None, description="when the plan would begin (default now)")


class TargetParams(Schema):
    agent: str | None = None
    model: str
    inquiry: str
    metric: str
    improvement: float | None = Field(default=None, description="percent, 5 to 50")
    as_of: str | None = None


class PlanListParams(Schema):
    agent: str | None = Field(default=None, description="coaches: one agent's plans")
    status: Literal["in_progress", "achieved", "expired"] | None = None


class MomentParams(Schema):
    as_of: str | None = Field(default=None, description="refresh as of this moment (tests, demos)")


class PlanIn(Schema):
    agent_id: str | None = Field(default=None, description="default: the signed-in agent")
    channel: str
    inquiry: str
    metric: str | None = Field(default=None, description="default: the recommended metric")
    improvement_percent: float | None = Field(default=None, description="5 to 50")
    target_date: date | None = None
    actions: list[str] = Field(default_factory=list, description="1 to 3 of the agent's actions")
    assistance: list[str] = Field(
        default_factory=list,
        description="1 to 3 items: from /coaching/assistance-choices or the agent's own words",
    )


class ActionIn(Schema):
    done: bool


# -- the wizard's helper data ------------------------------------------------------------------


@router.get(
    "/coaching/assistance-choices",
    auth=READ,
    summary="What an agent can ask a coach for (wizard step 6)",
)
def get_assistance_choices(request: HttpRequest) -> dict[str, Any]:
    _viewer(request)
    return {"choices": list(core.ASSISTANCE_CHOICES), "max_items": core.MAX_ITEMS}


@router.get(
    "/coaching/wizard",
    auth=READ,
    summary="Everything the wizard shows for one agent, channel and inquiry",
    description=(
        "The recommended metric with its explanation, each metric's Start value, the "
        "target for `improvement`, the poor interactions for the metric, the recommended "
        "target-date range and the assistance choices."
    ),
    openapi_extra=errors(404, 504),
)
def get_wizard(request: HttpRequest, params: NinjaQuery[WizardParams]) -> dict[str, Any]:
    viewer = _viewer(request)
    as_of = _as_of(params.as_of) or clock.now()  # parameters before objects
    agent_id = _agent_or_self(viewer, params.agent)
    store = service.scored_store()
    service.check_agent(store, viewer, agent_id)
    recommended, explanation = service.recommended_metric(
        store, viewer, agent_id, channel=params.model, inquiry=params.inquiry, as_of=as_of
    )
    metric = service.validate_metric(params.metric or recommended or eff.EFFECTIVENESS_METRICS[0])
    metrics = []
    for name in eff.EFFECTIVENESS_METRICS:
        start = service.start_reading(
            store,
            agent_id,
            channel=params.model,
            inquiry=params.inquiry,
            metric=name,
            began_at=as_of,
        )
        metrics.append(
            {
                "metric": name,
                "label": service.metric_label(name),
                "direction": core.metric_direction(name),
                "recommended": name == recommended,
                "start": {
                    "value": start.value,
                    "n": start.n,
                    "text": service.format_metric(name, start.value),
                },
            }
        )
    preview = service.preview_target(
        store,
        agent_id,
        channel=params.model,
        inquiry=params.inquiry,
        metric=metric,
        improvement=params.improvement,
        began_at=as_of,
    )
    poor = service.poor_interactions(
        store,
        viewer,
        agent_id,
        channel=params.model,
        inquiry=params.inquiry,
        metric=metric,
        as_of=as_of,
    )
    today = service.today_of(as_of)
    return {
        "agent_id": agent_id,
        "channel": params.model,
        "inquiry": params.inquiry,
        "as_of": as_of.isoformat(),
        "recommended_metric": recommended,
        "explanation": explanation,
        "metric": metric,
        "metrics": metrics,
        "target": preview.as_json(),
        "poor_interactions": [
            {**jsonable(row), "href": f"/analytics/conversations/{row.conversation_id}/"}
            for row in poor
        ],
        "target_date": {
            "today": today.isoformat(),
            "recommended_from": (today + timedelta(days=core.RECOMMENDED_MIN_DAYS)).isoformat(),
            "recommended_to": (today + timedelta(days=core.RECOMMENDED_MAX_DAYS)).isoformat(),
        },
        "assistance_choices": list(core.ASSISTANCE_CHOICES),
        "limits": {
            "improvement_min": core.MIN_IMPROVEMENT_PERCENT,
            "improvement_max": core.MAX_IMPROVEMENT_PERCENT,
            "max_items": core.MAX_ITEMS,
        },
    }


@router.get(
    "/coaching/wizard/target",
    auth=READ,
    summary="Start value and target for an improvement (the wizard's live target)",
    openapi_extra=errors(404, 504),
)
def get_target(request: HttpRequest, params: NinjaQuery[TargetParams]) -> dict[str, Any]:
    viewer = _viewer(request)
    as_of = _as_of(params.as_of) or clock.now()  # parameters before objects
    agent_id = _agent_or_self(viewer, params.agent)
    store = service.scored_store()
    service.check_agent(store, viewer, agent_id)
    service.validate_metric(params.metric)
    return service.preview_target(
        store,
        agent_id,
        channel=params.model,
        inquiry=params.inquiry,
        metric=params.metric,
        improvement=params.improvement,
        began_at=as_of,
    ).as_json()


# -- plans ------------------------------------------------------------------------------------


@router.get(
    "/coaching/plans",
    auth=READ,
    summary="Coaching plans: an agent's own; owners and admins everyone's (or ?agent=)",
    openapi_extra=errors(404),
)
def list_plans(request: HttpRequest, params: NinjaQuery[PlanListParams]) -> dict[str, Any]:
    viewer = _viewer(request)
    if viewer.is_agent and params.agent and params.agent != viewer.agent_id:
        raise ApiError(404, "not_found", "not found")
    plans = service.plans_for(viewer, agent_id=params.agent)
    if params.status:
        plans = plans.filter(status=params.status)
    names = _names(viewer, store_with_facts()) if not viewer.is_agent else {}
    return {
        "plans": [
            plan_json(plan, agent_name=names.get(plan.agent_id), detail=False) for plan in plans
        ]
    }


@router.post(
    "/coaching/plans",
    auth=WRITE,
    response={201: dict[str, Any]},
    summary="Commit to a plan (the wizard's last step)",
    description=(
        "Validated like the wizard: improvement 5 to 50 percent, a future target date (a "
        "warning outside two weeks to three months), 1 to 3 actions and 1 to 3 assistance "
        "items. Start is computed now (or at ?as_of=) over the 3 months before."
    ),
    openapi_extra=errors(404, 504),
)
def create_plan(
    request: HttpRequest, payload: PlanIn, params: NinjaQuery[MomentParams]
) -> Status[dict[str, Any]]:
    viewer = _viewer(request)
    began_at = _as_of(params.as_of) or clock.now()  # parameters before objects
    agent_id = _agent_or_self(viewer, payload.agent_id)
    store = service.scored_store()
    service.check_agent(store, viewer, agent_id)
    metric = payload.metric
    if not metric:
        metric, _ = service.recommended_metric(
            store,
            viewer,
            agent_id,
            channel=payload.channel,
            inquiry=payload.inquiry,
            as_of=began_at,
        )
        if metric is None:
            raise service.PlanInputError(
                "metric", "there is no recommended metric for this inquiry: choose one"
            )
    plan_request = service.PlanRequest(
        agent_id=agent_id,
        channel=payload.channel,
        inquiry=payload.inquiry,
        metric=metric,
        improvement=payload.improvement_percent,
        target_date=payload.target_date,
        actions=payload.actions,
        assistance=payload.assistance,
    )
    plan = service.create_plan(
        store, viewer, plan_request, created_by=user_of(request), now=began_at
    )
    warning = core.target_date_check(plan.target_date, service.today_of(began_at))
    return Status(201, {**plan_json(plan), "warnings": [warning] if warning else []})


@router.get(
    "/coaching/plans/{plan_id}",
    auth=READ,
    summary="One plan with its actions, assistance and daily history",
    description="A plan in progress is refreshed when its Now is more than 10 minutes old.",
    openapi_extra=errors(504),
)
def get_plan(
    request: HttpRequest, plan_id: int, params: NinjaQuery[MomentParams]
) -> dict[str, Any]:
    viewer = _viewer(request)
    pinned = _as_of(params.as_of)
    plan = service.plan_for(viewer, plan_id)
    store = service.scored_store()
    plan = service.refresh_on_view(store, plan, now=pinned, pinned=pinned is not None)
    names = _names(viewer, store)
    return plan_json(plan, agent_name=names.get(plan.agent_id))


@router.post(
    "/coaching/plans/{plan_id}/refresh",
    auth=WRITE,
    summary="Take the plan's Now again and update its status and history",
    openapi_extra=errors(504),
)
def refresh_plan(
    request: HttpRequest, plan_id: int, params: NinjaQuery[MomentParams]
) -> dict[str, Any]:
    viewer = _viewer(request)
    now = _as_of(params.as_of)
    plan = service.plan_for(viewer, plan_id)
    store = service.scored_store()
    plan = service.refresh_plan(store, plan, now=now)
    names = _names(viewer, store)
    return plan_json(plan, agent_name=names.get(plan.agent_id))


@router.patch(
    "/coaching/plans/{plan_id}/actions/{action_id}",
    auth=WRITE,
    summary="Mark one of the plan's actions done (or not done)",
)
def patch_action(
    request: HttpRequest, plan_id: int, action_id: int, payload: ActionIn
) -> dict[str, Any]:
    viewer = _viewer(request)
    plan = service.plan_for(viewer, plan_id)
    action = service.set_action_done(plan, action_id, payload.done)
    return {
        "id": action.pk,
        "plan_id": plan.pk,
        "text": action.text,
        "done": action.done,
        "done_at": action.done_at.isoformat() if action.done_at else None,
    }
