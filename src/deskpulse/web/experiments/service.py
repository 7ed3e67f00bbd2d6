"""The one way pages, the API and the CLI load an experiment and compute its result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskpulse.analysis.experiments import ExperimentResult, experiment_result
from deskpulse.errors import NotFoundError
from deskpulse.events.store import Store
from deskpulse.web.experiments.models import Experiment


class ExperimentNotFoundError(NotFoundError):
    """No experiment has this key. Pages answer 404, the API its 404 error shape."""

    def __init__(self, key: str) -> None:
        super().__init__("no such experiment")
        self.key = key


def experiment_for(key: str) -> Experiment:
    """The experiment with `key`. Every role may read every experiment: results are
    aggregates over variants, never one person's numbers."""
    found = Experiment.objects.filter(key=key).first()
    if found is None:
        raise ExperimentNotFoundError(key)
    return found


def result_of(
    store: Store, experiment: Experiment, now: datetime | None = None
) -> ExperimentResult:
    from deskpulse.web.runtime import install_settings

    return experiment_result(store, experiment.definition(), now=now, tz=install_settings().tz)


def summary_json(store: Store, experiment: Experiment, now: datetime | None) -> dict[str, Any]:
    """One experiment as GET /api/v1/experiments lists it (and the CLI's list prints)."""
    from deskpulse.web.experiments.present import summary_row

    result = result_of(store, experiment, now)
    return {
        **experiment.as_json(),
        "status": result.status,
        "exposures": {v.variant: v.units for v in result.variants},
        "conversations": {v.variant: v.conversations for v in result.variants},
        "action": result.verdict.action,
        "recommendation": result.verdict.recommendation,
        "headline": summary_row(result)["headline"],
        "href": f"/experiments/{experiment.key}/",
    }
