"""The demo's experiment on the bundled generator's data, at a small scale: `deskpulse
demo` defines `ai-reply-style`, and its verdict matches what the generator plants.

What the generator plants (deskpulse/generator/conversations.py): on the first AI agent's
web chats of the last 30 days, "concise" resolves about 6 points more often without a
human, spends about 35% fewer inference tokens (tool costs unchanged), and lowers CSAT a
little. At this scale (a few hundred conversations per variant) the cost saving is
unmistakable, the resolution gain points the right way but cannot be told from noise
yet, and the small CSAT dip is far below what the sample can see. The correct verdict is
therefore "keep running", never "ship" on a non-significant lift, and never "keep
control" before the planned sample is in.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.analysis.experiments import ExperimentResult, experiment_result
from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store, open_store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import EXPERIMENT, generate
from deskpulse.settings import Settings
from deskpulse.web.experiments.demo import define_demo_experiment
from deskpulse.web.experiments.models import Experiment
from deskpulse.web.runtime import using_store

pytestmark = pytest.mark.django_db

END = datetime(2026, 3, 1, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def generated_store(folder: Path, *, planted: bool) -> Store:
    buffer = io.BytesIO()
    generate(buffer, seed=7, conversations=4000, days=60, end=END, planted=planted)
    events = folder / "events.jsonl"
    events.write_bytes(buffer.getvalue())
    store = open_store(Settings(data_dir=folder / "data"))
    assert import_sources(store, [events]).rejected == 0
    refresh_facts(store)
    return store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = generated_store(tmp_path_factory.mktemp("experiments-demo"), planted=True)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(demo_store: Store) -> Iterator[Store]:
    with using_store(demo_store):
        yield demo_store


@pytest.fixture
def demo(demo_store: Store) -> tuple[Experiment, ExperimentResult]:
    experiment = define_demo_experiment(demo_store, UTC_ZONE)
    assert experiment is not None
    return experiment, experiment_result(demo_store, experiment.definition(), now=END)


def test_demo_defines_the_generators_experiment(
    demo_store: Store, demo: tuple[Experiment, ExperimentResult]
) -> None:
    experiment, _ = demo
    assert experiment.key == EXPERIMENT == "ai-reply-style"
    assert experiment.variants == ["control", "concise"]
    assert experiment.primary_metric == "ai_resolved_rate"
    assert experiment.guardrail_metrics == ["csat_mean", "cost_per_conversation"]
    # From the first exposure's day, 30 days before the end; open-ended.
    assert experiment.start_date == date(2026, 1, 30)
    assert experiment.end_date is None
    # Once only.
    assert define_demo_experiment(demo_store, UTC_ZONE) is None


def test_demo_verdict_matches_what_the_generator_plants(
    demo: tuple[Experiment, ExperimentResult],
) -> None:
    _, result = demo
    verdict = result.verdict
    units = {v.variant: v.units for v in result.variants}
    assert min(units.values()) >= 150, units
    assert not verdict.srm.flagged  # a fair coin per conversation
    assert not result.warnings
    # Fewer tokens: cost per conversation down by about a third, unmistakably.
    cost = next(g for g in verdict.guardrails if g.name == "cost_per_conversation")
    assert cost.comparison is not None
    assert cost.comparison.lift is not None
    assert cost.significant
    assert cost.effect == "good"
    assert -0.4 < cost.comparison.lift < -0.2
    # More AI resolutions: the right direction, not yet significant at this scale.
    primary = verdict.primary
    assert primary.comparison is not None
    assert primary.effect == "good"
    assert primary.comparison.difference > 0
    assert not primary.significant
    # The small CSAT dip: invisible at a few dozen responses per variant.
    csat = next(g for g in verdict.guardrails if g.name == "csat_mean")
    assert csat.gate.met
    assert not csat.significant
    # So: keep running, with the days still needed at the last week's traffic.
    assert verdict.action == "keep_running", verdict.reasons
    assert result.headline.startswith("Keep running: the primary metric's lift (+")
    assert verdict.power is not None
    assert verdict.power.days_to_decision
    assert "more days at current traffic" in result.headline


def test_demo_result_page(client: Client, agent: User, demo: tuple[Experiment, object]) -> None:
    client.force_login(agent)
    response = client.get(f"/experiments/{EXPERIMENT}/?as_of=2026-02-28")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Concise AI replies" in html
    assert "Recommendation: Keep running" in html
    assert 'id="chart-lift"' in html


def test_no_experiment_without_planted_stories(tmp_path: Path) -> None:
    store = generated_store(tmp_path, planted=False)
    try:
        assert define_demo_experiment(store, UTC_ZONE) is None
    finally:
        store.close()
    assert not Experiment.objects.exists()
