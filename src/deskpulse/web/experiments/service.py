"""The one way pages, the API and the CLI load an experiment and compute its result."""

from __future__ import annotations

from datetime import datetime

from deskpulse.analysis.experiments import ExperimentResult, experiment_result
from deskpulse.events.store import Store
from deskpulse.web.experiments.models import Experiment


class ExperimentNotFoundError(LookupError):
    """No experiment has this key. Pages answer 404, the API its 404 error shape."""


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
