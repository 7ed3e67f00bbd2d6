"""The experiments' JSON API, under /api/v1/experiments.

The pages and these endpoints share the definition form (`ExperimentForm`: the same
validation, the same field-named messages) and the same result (`service.result_of`),
so the API and a page cannot disagree.

Authentication follows the rest of the API: a signed-in session or a bearer token with
the `read` scope to read and the `write` scope to change. Every role reads every
experiment (results are per variant, never per person). Only owners and admins define or
change one; an agent gets 403 `admins_only`. Requests that change something from a
session must carry the CSRF token (the `csrftoken` cookie's value in an X-CSRFToken
header); token requests need none.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja import Query as NinjaQuery

from deskpulse.web.api.auth import READ, WRITE, user_of
from deskpulse.web.api.auth import viewer_of as _viewer
from deskpulse.web.api.contract import created, errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.experiments import service
from deskpulse.web.experiments.forms import ExperimentForm, initial_of
from deskpulse.web.experiments.models import Experiment
from deskpulse.web.params import moment
from deskpulse.web.runtime import install_settings, store_with_facts

router = Router(tags=["experiments"])


class MomentParams(Schema):
    as_of: str | None = Field(
        default=None, description="read the results as of this moment (a date or timestamp)"
    )


class ExperimentIn(Schema):
    """A definition; on PATCH only the fields sent change (the key never does)."""

    key: str | None = Field(default=None, description="the events' `experiment` value")
    name: str | None = None
    hypothesis: str | None = None
    control: str | None = Field(default=None, description="the control variant's name")
    treatment: str | None = Field(default=None, description="the treatment variant's name")
    primary_metric: str | None = Field(default=None, description="see GET /experiments/metrics")
    guardrail_metrics: list[str] | None = None
    start_date: date | None = None
    end_date: date | None = Field(default=None, description="last day; null: open-ended")
    alpha: float | None = Field(default=None, description="default 0.05")
    mde_percent: float | None = Field(default=None, description="minimum detectable lift, %")
    treatment_percent: float | None = Field(default=None, description="planned share, %")
    sequential: bool | None = Field(default=None, description="always-valid intervals")
    mann_whitney: bool | None = Field(default=None, description="rank test for mean metrics")


# Defaults a new definition gets for what the body leaves out (the form's initials).
_CREATE_DEFAULTS: dict[str, Any] = {
    "alpha": 0.05,
    "mde_percent": 5.0,
    "treatment_percent": 50.0,
    "sequential": False,
    "mann_whitney": False,
    "guardrail_metrics": [],
}


def _as_of(params: MomentParams) -> datetime | None:
    return moment(params.as_of, "as_of", install_settings().tz, day_end=True)


def _admin(request: HttpRequest) -> Any:
    """The user making the change; agents may read experiments but not change them."""
    if _viewer(request).is_agent:
        raise ApiError(403, "admins_only", "only owners and admins define or change experiments")
    return user_of(request)


def _saved(form: ExperimentForm, user: Any) -> Experiment:
    if not form.is_valid():
        field, message = form.first_error()
        raise ApiError(422, "invalid_request", message, field)
    return form.save(user)


def _summary(experiment: Experiment, now: datetime | None) -> dict[str, Any]:
    return service.summary_json(store_with_facts(), experiment, now)


@router.get("/experiments/metrics", auth=READ, summary="The metrics an experiment may use")
def list_metrics(request: HttpRequest) -> dict[str, Any]:
    _viewer(request)
    from deskpulse.analysis.experiments import EXPERIMENT_METRICS

    return {
        "metrics": [
            {
                "name": m.name,
                "label": m.label,
                "kind": m.kind,
                "direction": m.direction,
                "description": m.description,
            }
            for m in EXPERIMENT_METRICS.values()
        ]
    }


@router.get(
    "/experiments",
    auth=READ,
    summary="Every experiment with its status, exposures per variant and current verdict",
    openapi_extra=errors(504),
)
def list_experiments(request: HttpRequest, params: NinjaQuery[MomentParams]) -> dict[str, Any]:
    _viewer(request)
    now = _as_of(params)
    return {"experiments": [_summary(e, now) for e in Experiment.objects.all()]}


@router.get(
    "/experiments/{key}",
    auth=READ,
    summary="One experiment: its definition and result (every metric, SRM, power, verdict)",
    openapi_extra=errors(504),
)
def get_experiment(
    request: HttpRequest, key: str, params: NinjaQuery[MomentParams]
) -> dict[str, Any]:
    _viewer(request)
    as_of = _as_of(params)  # parameters before objects
    experiment = service.experiment_for(key)
    result = service.result_of(store_with_facts(), experiment, as_of)
    return {"experiment": experiment.as_json(), "result": result.as_json()}


@router.post(
    "/experiments",
    auth=WRITE,
    response={201: dict[str, Any]},
    summary="Define an experiment (owners and admins)",
    description="Validated like the /experiments/new/ form; an error names its field.",
    openapi_extra=created(
        201,
        {
            "key": "reply-style",
            "name": "Shorter AI replies",
            "control": "long",
            "treatment": "short",
            "primary_metric": "csat_mean",
            "start_date": "2026-03-01",
        },
        GetExperiment=("deskpulse_web_experiments_api_get_experiment", "key", "/experiment/key"),
        UpdateExperiment=(
            "deskpulse_web_experiments_api_update_experiment",
            "key",
            "/experiment/key",
        ),
    ),
)
def create_experiment(request: HttpRequest, payload: ExperimentIn) -> Status[dict[str, Any]]:
    user = _admin(request)
    data = {**_CREATE_DEFAULTS, **payload.model_dump(exclude_unset=True)}
    experiment = _saved(ExperimentForm(data=data), user)
    return Status(201, {"experiment": experiment.as_json()})


@router.patch(
    "/experiments/{key}",
    auth=WRITE,
    summary="Change an experiment's definition (owners and admins; not its key)",
)
def update_experiment(request: HttpRequest, key: str, payload: ExperimentIn) -> dict[str, Any]:
    user = _admin(request)
    experiment = service.experiment_for(key)
    changes = payload.model_dump(exclude_unset=True)
    if "key" in changes and changes["key"] != experiment.key:
        raise ApiError(422, "invalid_request", "key: the key cannot change", "key")
    data = {**initial_of(experiment), **changes}
    saved = _saved(ExperimentForm(data=data, instance=experiment), user)
    return {"experiment": saved.as_json()}
