"""The /experiments pages: the list, one experiment's result, and the definition form.

Views only arrange what `deskpulse.analysis.experiments` returns. Every role with a
place on the team reads every experiment (results are per variant, never per person);
only owners and admins define or change one, and others get 404 for the forms, like
every settings page. The one object a view loads, an experiment, goes through
`service.experiment_for`: an unknown key is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from deskpulse.web.access import admin_required, member_required, viewer_of
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.api.viewer import signed_in_user
from deskpulse.web.experiments import present, service
from deskpulse.web.experiments.forms import ExperimentForm
from deskpulse.web.experiments.models import Experiment
from deskpulse.web.params import moment
from deskpulse.web.runtime import install_settings, store_with_facts

LIST = "/experiments/"


def detail_path(key: str) -> str:
    return f"{LIST}{quote(key, safe='')}/"


def _as_of(request: HttpRequest) -> datetime | None:
    """`?as_of=` pins the moment results are read at (demos, tests); default now."""
    return moment(request.GET.get("as_of"), "as_of", install_settings().tz, day_end=True)


@member_required
@errors_as_page
def experiment_list(request: HttpRequest) -> HttpResponse:
    """/experiments/: every experiment with its status, exposures and current verdict."""
    now = _as_of(request)
    store = store_with_facts()
    rows = []
    for experiment in Experiment.objects.all():
        result = service.result_of(store, experiment, now)
        rows.append(
            {
                "experiment": experiment,
                "href": detail_path(experiment.key),
                **present.summary_row(result),
            }
        )
    return render(
        request,
        "experiments/list.html",
        {
            "nav": "experiments",
            "rows": rows,
            "can_edit": not viewer_of(request).is_agent,
        },
    )


@member_required
@errors_as_page
def experiment_detail(request: HttpRequest, key: str) -> HttpResponse:
    """/experiments/<key>/: the result, every statistic behind it, and how to read them."""
    experiment = service.experiment_for(key)
    result = service.result_of(store_with_facts(), experiment, _as_of(request))
    currency = install_settings().currency
    verdict = result.verdict
    context: dict[str, Any] = {
        "nav": "experiments",
        "experiment": experiment,
        "result": result,
        "summary": present.summary_row(result),
        "reasons": verdict.reasons,
        "rows": present.metric_rows(result, currency),
        "variants": present.variant_rows(result),
        "srm": present.srm_context(result),
        "power": present.power_context(result, currency),
        "warnings": result.warnings,
        "alpha": f"{verdict.alpha:g}",
        "level": f"{100 * (1 - verdict.alpha):g}%",
        "figures": {"chart-lift": present.lift_figure(result)}
        if any(p.lift is not None for p in result.series)
        else {},
        "can_edit": not viewer_of(request).is_agent,
        "edit_href": f"{detail_path(experiment.key)}edit/",
        "list_href": LIST,
        "json_href": f"/api/v1/experiments/{quote(experiment.key, safe='')}",
    }
    return render(request, "experiments/detail.html", context)


def _form_page(
    request: HttpRequest, form: ExperimentForm, experiment: Experiment | None, status: int
) -> HttpResponse:
    return render(
        request,
        "experiments/form.html",
        {
            "nav": "experiments",
            "form": form,
            "experiment": experiment,
            "error_lines": form.error_lines() if form.is_bound else [],
            "action": f"{detail_path(experiment.key)}edit/" if experiment else f"{LIST}new/",
            "cancel_href": detail_path(experiment.key) if experiment else LIST,
        },
        status=status,
    )


@admin_required
@require_http_methods(["GET", "POST"])
def experiment_new(request: HttpRequest) -> HttpResponse:
    """/experiments/new/: owners and admins define an experiment."""
    if request.method == "POST":
        form = ExperimentForm(request.POST)
        if form.is_valid():
            saved = form.save(signed_in_user(request))
            messages.success(request, f"Experiment {saved.key} defined.")
            return HttpResponseRedirect(detail_path(saved.key))
        return _form_page(request, form, None, 400)
    return _form_page(request, ExperimentForm(), None, 200)


@admin_required
@errors_as_page
@require_http_methods(["GET", "POST"])
def experiment_edit(request: HttpRequest, key: str) -> HttpResponse:
    """/experiments/<key>/edit/: owners and admins change a definition (not its key)."""
    experiment = service.experiment_for(key)
    if request.method == "POST":
        form = ExperimentForm(request.POST, instance=experiment)
        if form.is_valid():
            form.save(signed_in_user(request))
            messages.success(request, f"Experiment {experiment.key} saved.")
            return HttpResponseRedirect(detail_path(experiment.key))
        return _form_page(request, form, experiment, 400)
    return _form_page(request, ExperimentForm(instance=experiment), experiment, 200)
