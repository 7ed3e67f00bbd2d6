"""Regression alerts' JSON API, under /api/v1/alerts.

- GET /alerts/rules, POST /alerts/rules: the rules with their state; define one.
- GET /alerts/rules/{id}, PATCH, DELETE: one rule with its state; change or delete it.
- GET /alerts/history: alert events, newest first (`?rule=`, `?limit=`, `?offset=`).
- POST /alerts/check: run the checks now (`as_of` to check at another moment).

Owners and admins only, like the pages: an agent gets 403 `admins_only`, an account
without a role 403 `no_profile`. Reads take a session or a bearer token with the `read`
scope, changes the `write` scope; changes from a session need the CSRF token. A rule is validated by
the page's form, so an error names its field and the value refused. Secrets of the
notification settings are never part of any answer.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja import Query as NinjaQuery

from deskpulse import clock
from deskpulse.web.alerts import present, service
from deskpulse.web.alerts.forms import RULE_DEFAULTS, AlertRuleForm, initial_of
from deskpulse.web.alerts.models import AlertEvent, AlertRule
from deskpulse.web.api.auth import READ, WRITE, user_of
from deskpulse.web.api.auth import viewer_of as _viewer
from deskpulse.web.api.contract import created, errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.names import names_for
from deskpulse.web.params import moment
from deskpulse.web.runtime import install_settings, store_with_facts

router = Router(tags=["alerts"])


class RuleIn(Schema):
    """A rule; on PATCH only the fields sent change. Percentages as 10, not 0.10."""

    name: str | None = None
    metric: str | None = Field(default=None, description="a registry metric with a direction")
    segment_dimension: str | None = Field(
        default=None, description="channel, inbox, inquiry, team, customer_tier, language, ai_agent"
    )
    segment_value: str | None = None
    baseline_kind: str | None = Field(default=None, description="trailing (default) or fixed")
    baseline_value: float | None = Field(default=None, description="for a fixed baseline")
    baseline_days: int | None = Field(default=None, description="trailing baseline, default 28")
    current_days: int | None = Field(default=None, description="default 7")
    warning_percent: float | None = Field(default=None, description="default 10")
    critical_percent: float | None = Field(default=None, description="default 25")
    min_sample: int | None = Field(default=None, description="default 30")
    pending_for: int | None = Field(default=None, description="default 1")
    enabled: bool | None = None
    notify_webhook: bool | None = None
    notify_email: bool | None = None


class HistoryParams(Schema):
    rule: int | None = Field(default=None, description="one rule's events")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class CheckParams(Schema):
    as_of: str | None = Field(default=None, description="check as of this moment (default now)")


def _manager(request: HttpRequest) -> Any:
    """The user asking; agents never see the team-wide alerts."""
    if _viewer(request).is_agent:
        raise ApiError(403, "admins_only", "alerts are for owners and admins")
    return user_of(request)


def _saved(form: AlertRuleForm, user: Any) -> AlertRule:
    if not form.is_valid():
        field, message = form.first_error()
        raise ApiError(422, "invalid_request", message, field)
    return form.save(user)


def _form_data(values: dict[str, Any]) -> dict[str, Any]:
    # Django's form reads an unticked checkbox as missing: booleans go as "on" or not at all.
    data = {key: value for key, value in values.items() if value is not None}
    for name in ("enabled", "notify_webhook", "notify_email"):
        if name in data and not data[name]:
            del data[name]
    return data


@router.get("/alerts/rules", auth=READ, summary="Every alert rule with its current state")
def list_rules(request: HttpRequest) -> dict[str, Any]:
    _manager(request)
    rules = AlertRule.objects.prefetch_related("states")
    names = names_for(request)
    return {"rules": [present.rule_json(rule, names) for rule in rules]}


@router.post(
    "/alerts/rules",
    auth=WRITE,
    response={201: dict[str, Any]},
    summary="Define an alert rule (owners and admins)",
    openapi_extra=created(
        201,
        {
            "name": "CSAT on chat",
            "metric": "csat_mean",
            "segment_dimension": "channel",
            "segment_value": "chat",
        },
        GetRule=("deskpulse_web_alerts_api_get_rule", "rule_id", "/rule/id"),
        UpdateRule=("deskpulse_web_alerts_api_update_rule", "rule_id", "/rule/id"),
        DeleteRule=("deskpulse_web_alerts_api_delete_rule", "rule_id", "/rule/id"),
    ),
)
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    user = _manager(request)
    values = {**RULE_DEFAULTS, **payload.model_dump(exclude_unset=True)}
    rule = _saved(AlertRuleForm(data=_form_data(values), ai_agent_ids=service.ai_agent_ids()), user)
    return Status(201, {"rule": present.rule_json(rule, names_for(request))})


@router.get("/alerts/rules/{rule_id}", auth=READ, summary="One rule with its state")
def get_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    _manager(request)
    rule = service.rule_for(rule_id)
    recent = AlertEvent.objects.filter(rule=rule)[:20]
    return {
        "rule": present.rule_json(rule, names_for(request)),
        "history": [present.event_json(e) for e in recent],
    }


@router.patch("/alerts/rules/{rule_id}", auth=WRITE, summary="Change an alert rule")
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> dict[str, Any]:
    user = _manager(request)
    rule = service.rule_for(rule_id)
    values = {**initial_of(rule), **payload.model_dump(exclude_unset=True)}
    form = AlertRuleForm(
        data=_form_data(values), instance=rule, ai_agent_ids=service.ai_agent_ids()
    )
    return {"rule": present.rule_json(_saved(form, user), names_for(request))}


@router.delete(
    "/alerts/rules/{rule_id}",
    auth=WRITE,
    response={204: None},
    summary="Delete an alert rule (its history is kept)",
)
def delete_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    _manager(request)
    service.rule_for(rule_id).delete()
    return Status(204, None)


@router.get("/alerts/history", auth=READ, summary="Alert events, newest first")
def get_history(request: HttpRequest, params: NinjaQuery[HistoryParams]) -> dict[str, Any]:
    _manager(request)
    return present.history_json(params.rule, limit=params.limit, offset=params.offset)


@router.post(
    "/alerts/check", auth=WRITE, summary="Check every enabled rule now", openapi_extra=errors(504)
)
def run_checks(request: HttpRequest, params: NinjaQuery[CheckParams]) -> dict[str, Any]:
    _manager(request)
    now = moment(params.as_of, "as_of", install_settings().tz, day_end=True) or clock.now()
    return service.check_rules(store_with_facts(), now).as_json()
