"""Issue 15's target for coaching plans, replayed on data without planted changes.

Seeded generator data (planted=False: nothing truly changes), plans started 22 days
before the data ends on every agent x channel x inquiry with at least 40 interactions in
the Start window, at a 5% target, checked once a day for three weeks. The rule of
deskpulse.analysis.coaching must leave at most 10% of them achieved (here: at most 5%,
for margin); the old rule (Now = the 20 most recent interactions whatever their date,
achieved on 5 interactions since the start) reads most of them achieved on the same
data, so the test can tell the two apart. A new plan has no Now on its first day.
benchmarks/bench_coaching.py runs the fuller version and prints both figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from deskpulse.analysis.effectiveness import EFFECTIVENESS_METRICS
from tests.analysis.coaching_replay import interactions, replay, stable_store

END = datetime(2026, 3, 1, tzinfo=UTC)
BEGAN = END - timedelta(days=22)


@pytest.fixture(scope="module")
def frame(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pd.DataFrame]:
    store = stable_store(
        tmp_path_factory.mktemp("coaching-replay"),
        seed=5,
        conversations=6000,
        days=100,
        end=END,
        agents=10,
    )
    try:
        yield interactions(store)
    finally:
        store.close()


@pytest.mark.parametrize("metric", EFFECTIVENESS_METRICS)
def test_plans_without_a_true_change_rarely_read_achieved(frame: pd.DataFrame, metric: str) -> None:
    outcome = replay(frame, began_at=BEGAN, metric=metric, improvement=5)
    assert outcome.plans >= 20, "too few plans for the replay to mean anything"
    assert outcome.share("new") <= 0.05, (metric, outcome.achieved_new, outcome.plans)
    # The same data under the old rule: the replay would catch the old behaviour.
    assert outcome.share("old") >= 0.3, (metric, outcome.achieved_old, outcome.plans)
    # Day 0: the new Now has no interactions yet; the old one started well along.
    assert outcome.day_zero_now == 0
