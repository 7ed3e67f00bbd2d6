"""The coaching pages: the seven-step wizard, my plans, one plan, and the coaches' view.

The wizard keeps its draft in the session (forms.Draft); each step is a plain form that
works without JavaScript, with Back and Continue buttons. Plans are loaded only through
service.plan_for, so another agent's plan is a 404 like any unknown one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from deskpulse import clock
from deskpulse.analysis import coaching as core
from deskpulse.analysis import effectiveness as eff
from deskpulse.events.store import Store
from deskpulse.metrics.format import EMPTY, format_duration
from deskpulse.metrics.query import Viewer
from deskpulse.metrics.report import agent_directory
from deskpulse.web.access import admin_required, member_required, viewer_of
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.coaching import service
from deskpulse.web.coaching.forms import (
    STEP_KEYS,
    STEPS,
    Draft,
    as_of_moment,
    as_of_text,
    step_for_field,
    step_index,
)
from deskpulse.web.coaching.models import Plan, PlanStatus
from deskpulse.web.coaching.present import (
    STATUS_LABELS,
    STATUS_ORDER,
    PlanSummary,
    days_left,
    plan_href,
    progress_figure,
)
from deskpulse.web.params import ParameterError, moment
from deskpulse.web.request_guard import note_bad_parameter
from deskpulse.web.runtime import install_settings

logger = logging.getLogger("deskpulse.web.coaching")

NEW_PATH = "/coaching/new/"
MINE_PATH = "/coaching/"
TEAM_PATH = "/coaching/team/"
PERFORMANCE_PATH = "/performance/"


def _step_path(key: str) -> str:
    return f"{NEW_PATH}{key}/"


def inquiry_path(agent_id: str, inquiry: str, channel: str) -> str:
    """The performance page of the inquiry a plan is about (H3's URL contract)."""
    return (
        f"{PERFORMANCE_PATH}agents/{quote(agent_id, safe='')}/inquiries/"
        f"{quote(inquiry, safe='')}/?{urlencode({'model': channel})}"
    )


def _pinned(request: HttpRequest) -> datetime | None:
    """The URL's as_of (tests and demos pin time); a bad one is said and ignored."""
    try:
        return moment(request.GET.get("as_of"), "as_of", install_settings().tz, day_end=True)
    except ParameterError as error:
        messages.error(request, f"{error.field}: {error.message}. Showing now instead.")
        note_bad_parameter(request)
        return None


def _with_as_of(path: str, as_of: str | None) -> str:
    return f"{path}?{urlencode({'as_of': as_of})}" if as_of else path


def _names(store: Store) -> dict[str, str]:
    return {
        agent_id: str(row.get("name") or agent_id)
        for agent_id, row in agent_directory(store).items()
    }


def _agent_name(viewer: Viewer, names: dict[str, str], agent_id: str) -> str:
    # An agent only ever opens their own plans; a coach sees who the plan belongs to.
    if viewer.is_agent:
        return "You"
    return names.get(agent_id, agent_id)


# -- the wizard ---------------------------------------------------------------------------


@member_required
@errors_as_page
def wizard_start(request: HttpRequest) -> HttpResponse:
    """`/coaching/new/?agent=&model=&inquiry=`: start a draft (or resume the same one)."""
    viewer = viewer_of(request)
    agent_id = request.GET.get("agent", "").strip() or (viewer.agent_id or "")
    channel = (request.GET.get("model") or request.GET.get("channel") or "").strip()
    inquiry = request.GET.get("inquiry", "").strip()
    draft = Draft.load(request.session)
    if not (agent_id and channel and inquiry):
        if draft is not None and not request.GET.get("agent"):
            return HttpResponseRedirect(_step_path(STEP_KEYS[draft.reached]))
        return render(
            request,
            "coaching/start.html",
            {"nav": "coaching", "performance_href": PERFORMANCE_PATH},
        )
    store = service.scored_store()
    service.check_agent(store, viewer, agent_id)
    pinned = _pinned(request)
    restart = request.GET.get("restart") == "1"
    if draft is not None and draft.same_subject(agent_id, channel, inquiry) and not restart:
        draft.as_of = as_of_text(pinned) or draft.as_of
        draft.save(request.session)
        return HttpResponseRedirect(_step_path(STEP_KEYS[draft.reached]))
    draft = Draft(agent_id=agent_id, channel=channel, inquiry=inquiry, as_of=as_of_text(pinned))
    recommended, _ = service.recommended_metric(
        store,
        viewer,
        agent_id,
        channel=channel,
        inquiry=inquiry,
        as_of=pinned or clock.now(),
    )
    draft.recommended = recommended
    draft.metric = recommended or eff.EFFECTIVENESS_METRICS[0]
    draft.save(request.session)
    return HttpResponseRedirect(_step_path("metric"))


@member_required
@errors_as_page
def wizard_step(request: HttpRequest, step: str) -> HttpResponse:
    if step not in STEP_KEYS:
        raise Http404("no such step")
    viewer = viewer_of(request)
    draft = Draft.load(request.session)
    if draft is None:
        messages.info(request, "Start a coaching plan from an inquiry on your performance page.")
        return HttpResponseRedirect(NEW_PATH)
    if viewer.is_agent and draft.agent_id != viewer.agent_id:
        # A draft left in the session by someone else's role: never show it.
        Draft.discard(request.session)
        raise Http404("no such draft")
    index = step_index(step)
    if index > draft.reached:
        return HttpResponseRedirect(_step_path(STEP_KEYS[draft.reached]))
    store = service.scored_store()
    as_of = as_of_moment(draft.as_of) or clock.now()
    today = service.today_of(as_of)
    error: service.PlanInputError | None = None
    if request.method == "POST":
        # The button pressed: `nav` (the actions step's own inputs are called `action`).
        action = request.POST.get("nav", "continue")
        draft.take(step, request.POST)
        if action == "back":
            draft.save(request.session)
            return HttpResponseRedirect(_step_path(STEP_KEYS[max(index - 1, 0)]))
        if action == "commit" and step == "summary":
            return _commit(request, store, viewer, draft, as_of)
        try:
            warning = draft.check(step, today)
            if step == "metric":
                service.required_start(
                    store,
                    draft.agent_id,
                    channel=draft.channel,
                    inquiry=draft.inquiry,
                    metric=draft.metric,
                    began_at=as_of,
                )
        except service.PlanInputError as problem:
            error = problem
            draft.save(request.session)
        else:
            if action == "preview":
                draft.save(request.session)
                return HttpResponseRedirect(_step_path(step))
            draft.reached = max(draft.reached, index + 1)
            draft.save(request.session)
            if warning:
                messages.warning(request, warning)
            return HttpResponseRedirect(_step_path(STEP_KEYS[min(index + 1, len(STEPS) - 1)]))
    context = _step_context(store, viewer, draft, step, as_of, today, error)
    return render(request, f"coaching/wizard_{step}.html", context)


def _commit(
    request: HttpRequest, store: Store, viewer: Viewer, draft: Draft, as_of: datetime
) -> HttpResponse:
    try:
        plan = service.create_plan(
            store,
            viewer,
            draft.request(),
            created_by=request.user,
            now=as_of_moment(draft.as_of) or clock.now(),
        )
    except service.PlanInputError as problem:
        # Back to the step that collects the field, with what was typed still there.
        target = step_for_field(problem.field)
        draft.reached = min(draft.reached, step_index(target))
        draft.save(request.session)
        messages.error(request, f"{problem.message}")
        return HttpResponseRedirect(_step_path(target))
    Draft.discard(request.session)
    messages.success(
        request,
        "Your coaching plan is in progress. It is updated every day; come back to "
        "check your progress and tick off your actions.",
    )
    return HttpResponseRedirect(_with_as_of(plan_href(plan), draft.as_of))


def _steps_nav(draft: Draft, current: str) -> list[dict[str, Any]]:
    current_index = step_index(current)
    return [
        {
            "number": i + 1,
            "key": step.key,
            "title": step.title,
            "href": _step_path(step.key) if i <= draft.reached else None,
            "state": "current" if i == current_index else ("done" if i < draft.reached else "todo"),
        }
        for i, step in enumerate(STEPS)
    ]


def estimate_note(cap_seconds: float) -> str:
    """How an estimated handle time is made, for the tooltip and the footnote."""
    return (
        "No work was logged for this conversation, so its handle time is estimated from "
        "reply times: each of the agent's replies counts the time since the message it "
        f"answers, up to {format_duration(cap_seconds)} a reply."
    )


def _interaction_row(interaction: eff.Interaction, metric: str) -> dict[str, Any]:
    handle = EMPTY
    estimated = interaction.handle_seconds is not None and interaction.handle_time_estimated
    if interaction.handle_seconds is not None:
        handle = format_duration(interaction.handle_seconds)
        if estimated:
            handle = f"≈ {handle}, estimated"

    def share(value: float | None, source: str) -> str:
        if value is None:
            return EMPTY
        if source != "model":  # a measured outcome is a yes or a no
            return "yes" if value >= 0.5 else "no"
        return f"{100 * value:.0f}%"

    return {
        "conversation_id": interaction.conversation_id,
        "href": f"/analytics/conversations/{interaction.conversation_id}/",
        "created_at": interaction.created_at,
        "handle": handle,
        "satisfaction": share(interaction.predicted_satisfaction, interaction.satisfaction_source),
        "resolution": share(interaction.predicted_resolution, interaction.resolution_source),
        # A measured outcome is the customer's answer, not a prediction: say which.
        "satisfaction_label": "Predicted satisfaction"
        if interaction.satisfaction_source == "model"
        else "Satisfied (measured: CSAT 4 or 5)",
        "resolution_label": "Predicted resolution"
        if interaction.resolution_source == "model"
        else "Resolved first time (measured)",
        "csat": EMPTY if interaction.csat_score is None else str(interaction.csat_score),
        "fcr": EMPTY if interaction.fcr is None else ("yes" if interaction.fcr else "no"),
        "effectiveness": service.format_metric("effectiveness_score", interaction.effectiveness),
        "focus": _interaction_focus(interaction, metric),
        # The focus number rests on the handle time for these two metrics.
        "focus_estimated": estimated and metric in {"aes_handle_time", "effectiveness_score"},
        "handle_estimated": estimated,
    }


# What the chosen metric is called for one interaction (the metrics are averages).
ONE_INTERACTION_LABELS: dict[str, str] = {
    "effectiveness_score": "Agent Effectiveness Score",
    "aes_handle_time": "Handle time",
    "predicted_satisfaction": "Predicted satisfaction",
    "predicted_resolution": "Predicted resolution",
}


def _focus_label(metric: str, rows: list[eff.Interaction]) -> str:
    outcome = eff.OUTCOME_OF_METRIC.get(metric)
    if outcome is not None and rows:
        source = (
            rows[0].satisfaction_source if outcome == "satisfaction" else rows[0].resolution_source
        )
        if source != "model":
            return (
                "Satisfied (measured)"
                if outcome == "satisfaction"
                else "Resolved first time (measured)"
            )
    return ONE_INTERACTION_LABELS.get(metric, metric)


def _interaction_focus(interaction: eff.Interaction, metric: str) -> str:
    """The one number that made this interaction poor for the chosen metric."""
    values: dict[str, float | None] = {
        "effectiveness_score": interaction.effectiveness,
        "aes_handle_time": interaction.handle_seconds,
        "predicted_satisfaction": interaction.predicted_satisfaction,
        "predicted_resolution": interaction.predicted_resolution,
    }
    return service.format_metric(metric, values.get(metric))


def _step_context(
    store: Store,
    viewer: Viewer,
    draft: Draft,
    step: str,
    as_of: datetime,
    today: Any,
    error: service.PlanInputError | None,
) -> dict[str, Any]:
    names = _names(store) if not viewer.is_agent else {}
    context: dict[str, Any] = {
        "nav": "coaching",
        "draft": draft,
        "step": step,
        "step_number": step_index(step) + 1,
        "step_count": len(STEPS),
        "steps": _steps_nav(draft, step),
        "error": error,
        "agent_name": _agent_name(viewer, names, draft.agent_id),
        "is_agent": viewer.is_agent,
        "metric_label": service.metric_label_for(
            store,
            viewer,
            draft.agent_id,
            channel=draft.channel,
            inquiry=draft.inquiry,
            metric=draft.metric,
            as_of=as_of,
        )
        if draft.metric
        else "",
        "inquiry_href": (inquiry_path(draft.agent_id, draft.inquiry, draft.channel)),
        "restart_href": f"{NEW_PATH}?"
        + urlencode(
            {
                "agent": draft.agent_id,
                "model": draft.channel,
                "inquiry": draft.inquiry,
                "restart": 1,
            }
        ),
    }
    if step == "metric":
        context.update(_metric_context(store, viewer, draft, as_of))
    elif step in {"target", "summary"}:
        preview = service.preview_target(
            store,
            draft.agent_id,
            channel=draft.channel,
            inquiry=draft.inquiry,
            metric=draft.metric,
            improvement=draft.improvement_number(),
            began_at=as_of,
        )
        context["preview"] = preview
        context["min_improvement"] = core.MIN_IMPROVEMENT_PERCENT
        context["max_improvement"] = core.MAX_IMPROVEMENT_PERCENT
        context["lookback_days"] = core.START_LOOKBACK_DAYS
        context["preview_url"] = "/api/v1/coaching/wizard/target?" + urlencode(
            {
                "agent": draft.agent_id,
                "model": draft.channel,
                "inquiry": draft.inquiry,
                "metric": draft.metric,
                **({"as_of": draft.as_of} if draft.as_of else {}),
            }
        )
    if step in {"date", "summary"}:
        context["today"] = today
        context["earliest"] = today + timedelta(days=core.RECOMMENDED_MIN_DAYS)
        context["latest"] = today + timedelta(days=core.RECOMMENDED_MAX_DAYS)
        context["date_warning"] = None
        target_day = draft.target_day()
        if target_day is not None and target_day > today:
            context["date_warning"] = core.target_date_check(target_day, today)
    if step == "review":
        rows = service.poor_interactions(
            store,
            viewer,
            draft.agent_id,
            channel=draft.channel,
            inquiry=draft.inquiry,
            metric=draft.metric,
            as_of=as_of,
        )
        context["interactions"] = [_interaction_row(row, draft.metric) for row in rows]
        context["estimated_count"] = sum(
            1 for row in context["interactions"] if row["handle_estimated"]
        )
        context["estimate_note"] = estimate_note(store.settings.handle_time_estimate_cap_seconds)
        context["focus_label"] = _focus_label(draft.metric, rows)
    if step == "actions":
        context["action_inputs"] = _padded(draft.actions, core.MAX_ITEMS)
    if step == "assistance":
        context["choices"] = [
            {"text": text, "picked": text in draft.assistance_picked}
            for text in core.ASSISTANCE_CHOICES
        ]
        context["own_inputs"] = _padded(draft.assistance_own, core.MAX_ITEMS)
    if step == "summary":
        context["actions"] = [item for item in draft.actions if item.strip()]
        context["assistance"] = draft.assistance()
        context["target_day"] = draft.target_day()
    context["max_items"] = core.MAX_ITEMS
    return context


def _padded(items: list[str], size: int) -> list[str]:
    return [*items, *[""] * max(size - len(items), 0)]


def _metric_context(store: Store, viewer: Viewer, draft: Draft, as_of: datetime) -> dict[str, Any]:
    detail = eff.inquiry_detail(
        store,
        viewer,
        draft.agent_id,
        channel=draft.channel,
        inquiry=draft.inquiry,
        window=service.wizard_window(as_of),
    )
    recommended, explanation = service.recommendation_for(store, detail, as_of=as_of)
    options = []
    for metric in eff.EFFECTIVENESS_METRICS:
        comparison = detail.performance.metrics.get(metric)
        agent_value = comparison.agent.value if comparison is not None else None
        options.append(
            {
                "metric": metric,
                "label": detail.performance.label(metric),
                "direction": service.direction_words(metric),
                "recommended": metric == recommended,
                "chosen": metric == draft.metric,
                "available": agent_value is not None,
                "value": service.format_metric(metric, agent_value),
                "n": comparison.agent.n if comparison is not None else 0,
                "team": service.format_metric(
                    metric, comparison.team.value if comparison is not None else None
                ),
                "top": service.format_metric(
                    metric, comparison.top_performer if comparison is not None else None
                ),
                "band": comparison.band if comparison is not None else "not_enough_data",
                "band_label": eff.BAND_LABELS.get(
                    comparison.band if comparison is not None else "not_enough_data", ""
                ),
            }
        )
    return {
        "options": options,
        "explanation": explanation,
        "recommended_label": detail.performance.label(recommended) if recommended else None,
    }


# -- plans ----------------------------------------------------------------------------------


def _refresh_listed(store: Store, plans: list[Plan], pinned: datetime | None) -> None:
    for plan in plans:
        service.refresh_on_view(store, plan, now=pinned, pinned=pinned is not None)


@member_required
@errors_as_page
def plan_list(request: HttpRequest) -> HttpResponse:
    """My plans, grouped In progress / Achieved / Expired. Coaches go to the team view."""
    viewer = viewer_of(request)
    if not viewer.is_agent:
        return HttpResponseRedirect(TEAM_PATH)
    pinned = _pinned(request)
    plans = list(service.plans_for(viewer))
    if any(plan.status == PlanStatus.IN_PROGRESS for plan in plans):
        _refresh_listed(service.scored_store(), plans, pinned)
    groups = [
        {
            "status": status,
            "label": STATUS_LABELS[status],
            "plans": [PlanSummary(plan, "You") for plan in plans if plan.status == status],
        }
        for status in STATUS_ORDER
    ]
    return render(
        request,
        "coaching/list.html",
        {
            "nav": "coaching",
            "groups": groups,
            "total": len(plans),
            "performance_href": PERFORMANCE_PATH,
            "as_of": request.GET.get("as_of", ""),
        },
    )


@admin_required
@member_required
@errors_as_page
def team(request: HttpRequest) -> HttpResponse:
    """Every agent's plans with the help asked of their coaches (owners and admins)."""
    viewer = viewer_of(request)
    store = service.scored_store()
    names = _names(store)
    agent_filter = request.GET.get("agent", "").strip() or None
    status_filter = request.GET.get("status", "").strip()
    if status_filter not in STATUS_LABELS:
        status_filter = ""
    plans = list(service.plans_for(viewer, agent_id=agent_filter))
    pinned = _pinned(request)
    _refresh_listed(store, plans, pinned)
    if status_filter:
        plans = [plan for plan in plans if plan.status == status_filter]
    plans.sort(key=lambda p: (STATUS_ORDER.index(p.status), p.target_date, p.pk))
    agents_with_plans: set[str] = set(Plan.objects.values_list("agent_id", flat=True))
    if agent_filter is not None:
        agents_with_plans.add(agent_filter)

    def by_name(agent_id: str) -> str:
        return names.get(agent_id, agent_id).lower()

    with_plans = sorted(agents_with_plans, key=by_name)
    today = service.today_of(pinned or clock.now())
    rows = [
        {
            "summary": PlanSummary(plan, names.get(plan.agent_id, plan.agent_id)),
            "assistance": [item.text for item in plan.assistance.all()],
            "actions_done": sum(1 for action in plan.actions.all() if action.done),
            "actions_total": len(plan.actions.all()),
            "days_left": days_left(plan, today),
        }
        for plan in plans
    ]
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for plan in service.plans_for(viewer, agent_id=agent_filter):
        counts[plan.status] = counts.get(plan.status, 0) + 1
    return render(
        request,
        "coaching/team.html",
        {
            "nav": "coaching",
            "rows": rows,
            "agents": [(agent_id, names.get(agent_id, agent_id)) for agent_id in with_plans],
            "agent_filter": agent_filter or "",
            "agent_filter_name": names.get(agent_filter, agent_filter) if agent_filter else "",
            "status_filter": status_filter,
            "statuses": [(s, STATUS_LABELS[s], counts.get(s, 0)) for s in STATUS_ORDER],
            "as_of": request.GET.get("as_of", ""),
        },
    )


METHOD_NAMES: dict[str, str] = {
    "welch": "Welch's t interval",
    "newcombe": "Newcombe's interval for a difference of shares",
    "bootstrap": f"a bootstrap of {core.BOOTSTRAP_RESAMPLES:,} resamples",
}


def _method_name(plan: Plan) -> str:
    if plan.change_method:
        return METHOD_NAMES.get(plan.change_method, plan.change_method)
    if plan.metric == "effectiveness_score":
        return METHOD_NAMES["bootstrap"]
    return "Welch's t interval, or Newcombe's for yes/no outcomes"


@member_required
@errors_as_page
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    viewer = viewer_of(request)
    plan = service.plan_for(viewer, plan_id)
    pinned = _pinned(request)
    store = service.scored_store()
    plan = service.refresh_on_view(store, plan, now=pinned, pinned=pinned is not None)
    names = _names(store) if not viewer.is_agent else {}
    summary = PlanSummary(plan, _agent_name(viewer, names, plan.agent_id))
    points = list(plan.progress.all())
    today = service.today_of(pinned or clock.now())
    as_of = request.GET.get("as_of", "")
    return render(
        request,
        "coaching/plan.html",
        {
            "nav": "coaching",
            "plan": plan,
            "summary": summary,
            "is_agent": viewer.is_agent,
            "actions": list(plan.actions.all()),
            "assistance": list(plan.assistance.all()),
            "figures": {"chart-progress": progress_figure(plan, points)},
            "points": [
                {"day": p.day, "text": service.format_metric(plan.metric, p.value), "n": p.n}
                for p in points
            ],
            "days_left": days_left(plan, today),
            "recent": core.RECENT_INTERACTIONS,
            "min_interactions": core.MIN_NOW_INTERACTIONS,
            "confidence": f"{100 * core.CONFIDENCE:g}%",
            "method_name": _method_name(plan),
            "lookback_days": core.START_LOOKBACK_DAYS,
            "start_from": plan.began_at - timedelta(days=core.START_LOOKBACK_DAYS),
            "as_of": as_of,
            "back_href": _with_as_of(MINE_PATH if viewer.is_agent else TEAM_PATH, as_of),
            "inquiry_href": inquiry_path(plan.agent_id, plan.inquiry, plan.channel),
        },
    )


@require_POST
@member_required
@errors_as_page
def plan_action(request: HttpRequest, plan_id: int, action_id: int) -> HttpResponse:
    """Tick an action off (or on again); the form posts `done` only when checked."""
    viewer = viewer_of(request)
    plan = service.plan_for(viewer, plan_id)
    done = request.POST.get("done", "") in {"1", "on", "true", "yes"}
    action = service.set_action_done(plan, action_id, done)
    messages.success(
        request, f"“{action.text}” marked as {'done' if action.done else 'not done yet'}."
    )
    return HttpResponseRedirect(
        _with_as_of(plan_href(plan), request.POST.get("as_of", "").strip() or None)
    )
