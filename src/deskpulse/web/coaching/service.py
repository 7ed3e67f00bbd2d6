"""Coaching plans: what the wizard, the pages, the API and the daily job share.

Every number comes from deskpulse.analysis.coaching and .effectiveness (one definition
per metric); this module only validates a plan as a whole, stores it, refreshes it and
decides who may see it. Pages and the API call the same functions, so a plan reads the
same everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.db import transaction
from django.db.models import QuerySet

from deskpulse import clock
from deskpulse.analysis import coaching as core
from deskpulse.analysis import effectiveness as eff
from deskpulse.analysis.agents import find_agent
from deskpulse.errors import NotFoundError
from deskpulse.events.store import Store
from deskpulse.metrics.format import EMPTY, format_value
from deskpulse.metrics.query import Viewer
from deskpulse.metrics.registry import REGISTRY
from deskpulse.settings import Settings
from deskpulse.web.coaching.models import (
    Plan,
    PlanAction,
    PlanAssistance,
    PlanProgress,
    PlanStatus,
)
from deskpulse.web.runtime import install_settings, store_with_facts

logger = logging.getLogger("deskpulse.web.coaching")

# A plan page opened again within this long shows the stored Now instead of querying.
REFRESH_ON_VIEW_AFTER = timedelta(minutes=10)
# The window the wizard reads the recommendation and the poor interactions from: the same
# three months the Start value covers.
WIZARD_WINDOW: eff.WindowName = "3m"
POOR_INTERACTIONS = 10

PlanInputError = core.PlanInputError


class PlanNotFoundError(NotFoundError):
    """No such plan, or one the viewer may not see (the two are not told apart)."""

    def __init__(self, plan_id: int) -> None:
        # The same words for both, so an answer never tells them apart.
        super().__init__("not found")
        self.plan_id = plan_id


# -- labels and formatting --------------------------------------------------------------------


def metric_label(metric: str) -> str:
    found = REGISTRY.get(metric)
    return found.label if found is not None else metric


def metric_label_for(
    store: Store,
    viewer: Viewer,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    metric: str,
    as_of: datetime,
) -> str:
    """The metric's name as this agent's numbers for the inquiry make it: an outcome
    whose model failed its gate is measured, and is never called a prediction."""
    if metric not in eff.OUTCOME_OF_METRIC:
        return metric_label(metric)
    detail = eff.inquiry_detail(
        store, viewer, agent_id, channel=channel, inquiry=inquiry, window=wizard_window(as_of)
    )
    return detail.performance.label(metric)


def format_metric(metric: str, value: float | None) -> str:
    found = REGISTRY.get(metric)
    if value is None:
        return EMPTY
    if found is None:
        return f"{value:.2f}"
    return format_value(found, value, install_settings().currency)


def direction_words(metric: str) -> str:
    return "lower is better" if core.metric_direction(metric) == "lower" else "higher is better"


def today_of(moment: datetime) -> date:
    """The install's calendar day that `moment` ends (the reporting time zone).

    A URL's `as_of=2026-06-01` means "through June 1", the midnight that ends it; that
    moment belongs to June 1 here, as it does on the analytics pages.
    """
    return (moment - timedelta(microseconds=1)).astimezone(install_settings().tz).date()


def scored_store() -> Store:
    """The store with effectiveness_facts current (H1's scoring), as every reader needs."""
    store = store_with_facts()
    ensure_scored(store)
    return store


def ensure_scored(store: Store, settings: Settings | None = None) -> None:
    from deskpulse.models.scoring import ensure_scored as score_if_stale

    score_if_stale(store, settings or install_settings())


# -- who sees which plans -------------------------------------------------------------------


def plans_for(viewer: Viewer, *, agent_id: str | None = None) -> QuerySet[Plan]:
    """The plans `viewer` may see: an agent their own, a coach everyone's (or one agent's)."""
    plans = Plan.objects.all()
    if viewer.is_agent:
        plans = plans.filter(agent_id=viewer.agent_id)
        if agent_id is not None and agent_id != viewer.agent_id:
            return plans.none()
    elif agent_id:
        plans = plans.filter(agent_id=agent_id)
    return plans.prefetch_related("actions", "assistance")


def plan_for(viewer: Viewer, plan_id: int) -> Plan:
    """The plan, if `viewer` may see it; PlanNotFoundError otherwise (a 404 either way)."""
    try:
        return plans_for(viewer).get(pk=plan_id)
    except Plan.DoesNotExist:
        raise PlanNotFoundError(plan_id) from None


def check_agent(store: Store, viewer: Viewer, agent_id: str) -> None:
    """NotVisibleError unless `viewer` may build a plan for `agent_id` (a known agent)."""
    find_agent(store, agent_id, viewer)


# -- the wizard's numbers ---------------------------------------------------------------------


def wizard_window(as_of: datetime) -> Any:
    return eff.performance_window(WIZARD_WINDOW, as_of=as_of)


def recommended_metric(
    store: Store, viewer: Viewer, agent_id: str, *, channel: str, inquiry: str, as_of: datetime
) -> tuple[str | None, str]:
    """The metric to focus on for this inquiry and the sentence explaining it."""
    detail = eff.inquiry_detail(
        store, viewer, agent_id, channel=channel, inquiry=inquiry, window=wizard_window(as_of)
    )
    return recommendation_for(store, detail, as_of=as_of)


def recommendation_for(
    store: Store, detail: eff.InquiryDetail, *, as_of: datetime
) -> tuple[str | None, str]:
    """H2's rule (the largest gap to the top quarter), moved off handle time when most of
    the agent's handle time on the inquiry is estimated (issue 15)."""
    performance = detail.performance
    estimated = core.estimated_handle_share(
        store,
        detail.agent_id,
        channel=detail.channel,
        inquiry=performance.inquiry,
        since=as_of - timedelta(days=core.START_LOOKBACK_DAYS),
        until=as_of,
    )
    labels = {name: performance.label(name) for name in eff.EFFECTIVENESS_METRICS}
    recommendation = detail.recommendation
    return core.focus_past_estimates(
        recommendation.metric,
        dict(recommendation.gaps),
        recommendation.explanation,
        estimated,
        labels,
    )


@dataclass(frozen=True)
class TargetPreview:
    """What step 2 shows: the start the percentage applies to, and the target it gives."""

    metric: str
    direction: Literal["higher", "lower"]
    start: float | None
    start_n: int
    improvement: float | None
    target: float | None
    error: str | None = None

    @property
    def start_text(self) -> str:
        return format_metric(self.metric, self.start)

    @property
    def target_text(self) -> str:
        return format_metric(self.metric, self.target)

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "label": metric_label(self.metric),
            "direction": self.direction,
            "start": {"value": self.start, "n": self.start_n, "text": self.start_text},
            "improvement_percent": self.improvement,
            "target": {"value": self.target, "text": self.target_text},
            "error": self.error,
        }


def start_reading(
    store: Store, agent_id: str, *, channel: str, inquiry: str, metric: str, began_at: datetime
) -> eff.Reading:
    return core.start_value(
        store, agent_id, channel=channel, inquiry=inquiry, metric=metric, began_at=began_at
    )


def required_start(
    store: Store, agent_id: str, *, channel: str, inquiry: str, metric: str, began_at: datetime
) -> eff.Reading:
    """The Start reading, or PlanInputError("metric") when there is none to improve on."""
    start = start_reading(
        store, agent_id, channel=channel, inquiry=inquiry, metric=metric, began_at=began_at
    )
    if start.value is None:
        raise PlanInputError(
            "metric",
            f"there is no {metric_label(metric)} for {inquiry} on {channel} in the "
            f"{core.START_LOOKBACK_DAYS} days before today, so the plan has no starting point; "
            "choose another metric or inquiry",
        )
    return start


def target_for(metric: str, start: float | None, improvement: float) -> float | None:
    if start is None:
        return None
    return core.target_value(
        start, improvement, core.metric_direction(metric), core.metric_ceiling(metric)
    )


def preview_target(
    store: Store,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    metric: str,
    improvement: float | None,
    began_at: datetime,
) -> TargetPreview:
    """The start value and, for a valid improvement, the target; an invalid one says why."""
    start = start_reading(
        store, agent_id, channel=channel, inquiry=inquiry, metric=metric, began_at=began_at
    )
    direction = core.metric_direction(metric)
    target: float | None = None
    error: str | None = None
    if improvement is not None:
        try:
            target = target_for(metric, start.value, core.validate_improvement(improvement))
        except PlanInputError as problem:
            error = problem.message
    return TargetPreview(metric, direction, start.value, start.n, improvement, target, error)


def poor_interactions(
    store: Store,
    viewer: Viewer,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    metric: str,
    as_of: datetime,
) -> list[eff.Interaction]:
    return eff.poor_interactions(
        store,
        viewer,
        agent_id,
        channel=channel,
        inquiry=inquiry,
        metric=metric,
        window=wizard_window(as_of),
        limit=POOR_INTERACTIONS,
    )


# -- a plan as a whole ------------------------------------------------------------------------


@dataclass
class PlanRequest:
    """Everything a plan is made of, as the wizard or an API client sends it."""

    agent_id: str
    channel: str
    inquiry: str
    metric: str
    improvement: float | None
    target_date: date | None
    actions: list[str] = field(default_factory=list)
    assistance: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ValidPlan:
    request: PlanRequest
    improvement: float
    target_date: date
    actions: list[str]
    assistance: list[str]
    date_warning: str | None


def validate_metric(metric: str) -> str:
    if metric not in eff.EFFECTIVENESS_METRICS:
        labels = ", ".join(f"{name} ({metric_label(name)})" for name in eff.EFFECTIVENESS_METRICS)
        raise PlanInputError("metric", f"choose one of: {labels}")
    return metric


def validate_improvement(value: float | None) -> float:
    if value is None:
        raise PlanInputError(
            "improvement",
            f"enter an improvement between {core.MIN_IMPROVEMENT_PERCENT}% and "
            f"{core.MAX_IMPROVEMENT_PERCENT}%",
        )
    return core.validate_improvement(value)


def validate_target_date(value: date | None, today: date) -> str | None:
    """The warning for a date outside two weeks to three months; errors for no/past date."""
    if value is None:
        raise PlanInputError("target_date", "choose the date you aim to reach the target by")
    return core.target_date_check(value, today)


def validate_actions(items: Sequence[str]) -> list[str]:
    return core.validate_items(items, field="actions")


def validate_assistance(items: Sequence[str]) -> list[str]:
    return core.validate_items(items, field="assistance")


def validate_plan(request: PlanRequest, today: date) -> ValidPlan:
    """Every field in wizard order; the first problem is raised, naming its field."""
    if not request.channel.strip():
        raise PlanInputError("channel", "choose the channel (model) the plan is for")
    if not request.inquiry.strip():
        raise PlanInputError("inquiry", "choose the inquiry the plan is for")
    validate_metric(request.metric)
    improvement = validate_improvement(request.improvement)
    warning = validate_target_date(request.target_date, today)
    assert request.target_date is not None
    actions = validate_actions(request.actions)
    assistance = validate_assistance(request.assistance)
    return ValidPlan(request, improvement, request.target_date, actions, assistance, warning)


def create_plan(
    store: Store,
    viewer: Viewer,
    request: PlanRequest,
    *,
    created_by: Any,
    now: datetime | None = None,
) -> Plan:
    """Validate, compute Start and the target as of `now`, store the plan, take its first Now.

    Raises NotVisibleError for an agent the viewer may not plan for, and PlanInputError
    naming the field for anything else wrong, including an inquiry with no Start value
    (nothing to improve on).
    """
    began_at = now or clock.now()
    check_agent(store, viewer, request.agent_id)
    valid = validate_plan(request, today_of(began_at))
    start = required_start(
        store,
        request.agent_id,
        channel=request.channel,
        inquiry=request.inquiry,
        metric=request.metric,
        began_at=began_at,
    )
    target = target_for(request.metric, start.value, valid.improvement)
    with transaction.atomic():
        plan = Plan.objects.create(
            agent_id=request.agent_id,
            channel=request.channel,
            inquiry=request.inquiry,
            metric=request.metric,
            direction=core.metric_direction(request.metric),
            improvement_percent=valid.improvement,
            start_value=start.value,
            start_n=start.n,
            target_value=target,
            target_date=valid.target_date,
            began_at=began_at,
            created_by=created_by if getattr(created_by, "pk", None) else None,
        )
        choices = set(core.ASSISTANCE_CHOICES)
        PlanAction.objects.bulk_create(
            PlanAction(plan=plan, position=i, text=text) for i, text in enumerate(valid.actions)
        )
        PlanAssistance.objects.bulk_create(
            PlanAssistance(plan=plan, position=i, text=text, from_list=text in choices)
            for i, text in enumerate(valid.assistance)
        )
        refresh_plan(store, plan, now=began_at)
    return plan


# -- keeping plans current ------------------------------------------------------------------


def refresh_plan(store: Store, plan: Plan, *, now: datetime | None = None) -> Plan:
    """Take the plan's Now, decide its status and record the day's point on the chart.

    Achieved and expired plans are finished: their numbers stay as they were at the end.
    """
    moment = now or clock.now()
    if plan.status != PlanStatus.IN_PROGRESS:
        return plan
    subject = {"channel": plan.channel, "inquiry": plan.inquiry}
    reading, recent = core.now_value(
        store,
        plan.agent_id,
        metric=plan.metric,
        began_at=plan.began_at,
        as_of=moment,
        **subject,
    )
    since = core.interactions_since(
        store, plan.agent_id, since=plan.began_at, as_of=moment, **subject
    )
    change = core.compare(
        plan.metric,
        core.start_sample(store, plan.agent_id, began_at=plan.began_at, **subject),
        core.now_sample(store, plan.agent_id, began_at=plan.began_at, as_of=moment, **subject),
    )
    day = today_of(moment)
    status: str = PlanStatus.IN_PROGRESS
    if plan.target_value is not None:
        status = core.plan_status(
            target=plan.target_value,
            now=reading,
            change=change,
            direction=core.metric_direction(plan.metric),
            target_date=plan.target_date,
            today=day,
            already_achieved=False,
        )
    elif day > plan.target_date:
        status = PlanStatus.EXPIRED
    plan.now_value = reading.value
    plan.now_n = reading.n
    plan.now_interactions = recent
    plan.now_since_start = since
    plan.change = change.relative
    plan.change_low = change.low
    plan.change_high = change.high
    plan.change_method = change.method if change.relative is not None else ""
    plan.refreshed_at = moment
    plan.status = status
    if status == PlanStatus.ACHIEVED and plan.achieved_at is None:
        plan.achieved_at = moment
    with transaction.atomic():
        plan.save(
            update_fields=[
                "now_value",
                "now_n",
                "now_interactions",
                "now_since_start",
                "change",
                "change_low",
                "change_high",
                "change_method",
                "refreshed_at",
                "status",
                "achieved_at",
            ]
        )
        PlanProgress.objects.update_or_create(
            plan=plan,
            day=day,
            defaults={"value": reading.value, "n": reading.n, "recorded_at": moment},
        )
    return plan


def refresh_on_view(
    store: Store, plan: Plan, *, now: datetime | None = None, pinned: bool = False
) -> Plan:
    """Refresh when the stored Now is older than REFRESH_ON_VIEW_AFTER (or the moment is
    pinned by the URL's as_of); a failing store leaves the stored numbers on the page."""
    moment = now or clock.now()
    stale = plan.refreshed_at is None or moment - plan.refreshed_at >= REFRESH_ON_VIEW_AFTER
    if plan.status != PlanStatus.IN_PROGRESS or not (stale or pinned):
        return plan
    try:
        return refresh_plan(store, plan, now=moment)
    except Exception:
        logger.exception("coaching plan %s could not be refreshed on view", plan.pk)
        return plan


@dataclass
class RefreshSummary:
    refreshed: int = 0
    achieved: int = 0
    expired: int = 0
    failed: list[int] = field(default_factory=list)

    def describe(self) -> str:
        text = f"{self.refreshed} plans refreshed, {self.achieved} achieved, {self.expired} expired"
        if self.failed:
            text += f"; {len(self.failed)} failed (plan ids {', '.join(map(str, self.failed))})"
        return text


def refresh_open_plans(
    store: Store,
    *,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshSummary:
    """The daily job: refresh every plan in progress; one bad plan does not stop the rest."""
    moment = now or clock.now()
    summary = RefreshSummary()
    plan_ids = list(Plan.objects.filter(status=PlanStatus.IN_PROGRESS).values_list("pk", flat=True))
    for done, plan_id in enumerate(plan_ids, start=1):
        plan = Plan.objects.get(pk=plan_id)
        try:
            refresh_plan(store, plan, now=moment)
        except Exception:
            logger.exception("coaching plan %s could not be refreshed", plan_id)
            summary.failed.append(plan_id)
        else:
            summary.refreshed += 1
            summary.achieved += plan.status == PlanStatus.ACHIEVED
            summary.expired += plan.status == PlanStatus.EXPIRED
        if progress is not None:
            progress(done, len(plan_ids))
    return summary


# -- actions --------------------------------------------------------------------------------


def set_action_done(
    plan: Plan, action_id: int, done: bool, *, now: datetime | None = None
) -> PlanAction:
    try:
        action = plan.actions.get(pk=action_id)
    except PlanAction.DoesNotExist:
        raise PlanNotFoundError(action_id) from None
    if action.done != done:
        action.done = done
        action.done_at = (now or clock.now()) if done else None
        action.save(update_fields=["done", "done_at"])
    return action
