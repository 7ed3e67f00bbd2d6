"""The demo's experiment: `deskpulse demo` defines the generator's `ai-reply-style`.

The generator (deskpulse/generator/conversations.py) exposes the first AI agent's web
chats of the last 30 days to "control" or "concise", half each. Concise replies resolve
about 6 points more often without a human, use about 35% fewer tokens, and score a
little lower on CSAT. So the definition judges what a support lead would: AI-resolved is
the primary metric; CSAT (the planted cost of brevity) and cost per conversation are the
guardrails; a +10% relative lift in AI-resolved (about 4 points) is worth acting on.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from deskpulse.events.store import Store
from deskpulse.generator import EXPERIMENT
from deskpulse.web.experiments.forms import ExperimentForm
from deskpulse.web.experiments.models import Experiment

DEMO_DEFINITION = {
    "key": EXPERIMENT,
    "name": "Concise AI replies",
    "hypothesis": "Shorter AI replies let the AI agent resolve more web chats without a "
    "human, at a lower cost, without hurting CSAT.",
    "control": "control",
    "treatment": "concise",
    "primary_metric": "ai_resolved_rate",
    "guardrail_metrics": ["csat_mean", "cost_per_conversation"],
    "alpha": 0.05,
    "mde_percent": 10.0,
    "treatment_percent": 50.0,
    "sequential": False,
    "mann_whitney": False,
}


def define_demo_experiment(store: Store, tz: ZoneInfo) -> Experiment | None:
    """Define the generator's experiment once, from its first exposure's day (in `tz`),
    open-ended. None when the data has no such exposures (real samples, --no-planted)
    or the experiment is already defined."""
    if Experiment.objects.filter(key=EXPERIMENT).exists():
        return None
    events = store.events()
    exposed = events.filter(
        (events.type == "experiment.exposed") & (events.experiment == EXPERIMENT)
    )
    first = exposed.occurred_at.min().to_pyarrow().as_py()
    if first is None:
        return None
    start = first.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).date()
    form = ExperimentForm(data={**DEMO_DEFINITION, "start_date": start, "end_date": None})
    if not form.is_valid():  # pragma: no cover - the definition above is fixed
        raise ValueError(form.error_lines())
    return form.save(None)
