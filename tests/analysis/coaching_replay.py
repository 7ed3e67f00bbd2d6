"""The coaching replay: plans with no true change, checked daily, how many read achieved.

Issue 15 measured it on data without planted changes: plans on every agent x channel x
inquiry with at least 40 interactions in the three months before the plan began, each
checked once a day for three weeks; a plan that reads achieved once stays achieved. With
Now as the 20 most recent interactions (overlapping Start) and "achieved" as "Now meets
the target on 5 interactions since the start", 17 of 33 plans were achieved at a 5%
target. This module replays both rules on the same interactions:

* `old`: Now = the 20 most recent interactions before the check, whenever they were;
  achieved once Now meets the target with at least 5 interactions since the start.
* `new`: the product's rule (deskpulse.analysis.coaching): Now = the 20 most recent since
  the start, achieved once Now meets the target and `compare()` puts the change beyond
  noise.

The numbers come from the same per-interaction values the product reads
(effectiveness_facts), through the product's own Sample/compare/plan_status, so the
replay measures the rule, not a copy of it. tests/analysis/test_coaching_replay.py runs
a small seeded version; benchmarks/bench_coaching.py a fuller one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deskpulse.analysis import coaching as core
from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store, open_store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.models.scoring import ensure_scored
from deskpulse.settings import Settings

MIN_START_INTERACTIONS = 40
REPLAY_DAYS = 21
OLD_MIN_SINCE_START = 5  # the old rule's "at least 5 interactions since the plan began"
COLUMNS = ("handle_seconds", "predicted_satisfaction", "predicted_resolution")


def stable_store(
    folder: Path, *, seed: int, conversations: int, days: int, end: datetime, agents: int = 60
) -> Store:
    """Generated data without planted changes, imported, with facts and scores."""
    buffer = io.BytesIO()
    generate(
        buffer,
        seed=seed,
        conversations=conversations,
        days=days,
        end=end,
        agents=agents,
        planted=False,
    )
    folder.mkdir(parents=True, exist_ok=True)
    events = folder / "events.jsonl"
    events.write_bytes(buffer.getvalue())
    settings = Settings(data_dir=folder / "data")
    store = open_store(settings)
    assert import_sources(store, [events]).rejected == 0
    refresh_facts(store)
    ensure_scored(store, settings)
    return store


def interactions(store: Store) -> pd.DataFrame:
    """Every scored interaction, oldest first (ties by conversation id, as Now orders)."""
    frame = store.con.table("effectiveness_facts").to_pandas()
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame.sort_values(["created_at", "conversation_id"], kind="stable").reset_index(
        drop=True
    )


@dataclass
class Outcome:
    plans: int = 0
    achieved_old: int = 0
    achieved_new: int = 0
    day_zero_progress: list[float] = field(default_factory=list)  # old rule, day 0
    day_zero_now: int = 0  # new rule: plans with a Now on day 0 (should be none)

    def share(self, rule: str) -> float:
        found = self.achieved_old if rule == "old" else self.achieved_new
        return found / self.plans if self.plans else 0.0


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].astype("float64").to_numpy(dtype=float, na_value=np.nan)


def _naive(moment: datetime) -> Any:
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "ns")


def replay(
    frame: pd.DataFrame,
    *,
    began_at: datetime,
    metric: str,
    improvement: float = 5.0,
    days: int = REPLAY_DAYS,
) -> Outcome:
    """Start plans at `began_at` for every agent x channel x inquiry with enough history
    and check them once a day (at the same time of day) for `days` days."""
    direction = core.metric_direction(metric)
    ceiling = core.metric_ceiling(metric)
    began = _naive(began_at)
    lookback = began - np.timedelta64(core.START_LOOKBACK_DAYS, "D")
    recent = core.RECENT_INTERACTIONS
    outcome = Outcome()
    for _, rows in frame.groupby(["agent_id", "channel", "inquiry"], sort=True):
        times = rows["created_at"].to_numpy(dtype="datetime64[ns]")
        first, began_at_row = np.searchsorted(times, [lookback, began])
        if began_at_row - first < MIN_START_INTERACTIONS:
            continue
        values = [_column(rows, name) for name in COLUMNS]

        def sample(low: int, high: int, values: list[np.ndarray] = values) -> core.Sample:
            return core.Sample(*(v[low:high] for v in values))

        start_sample = sample(first, began_at_row)
        start = start_sample.reading(metric)
        if start.value is None:
            continue
        target = core.target_value(start.value, improvement, direction, ceiling)
        outcome.plans += 1
        old_done = new_done = False
        for day in range(days + 1):
            # Rows created before the check: times is sorted, so a prefix.
            end = int(np.searchsorted(times, began + np.timedelta64(day, "D")))
            old_now = sample(max(end - recent, 0), end).reading(metric)
            new_now = sample(max(end - recent, began_at_row), end)
            if day == 0:
                if old_now.value is not None and target != start.value:
                    share = (old_now.value - start.value) / (target - start.value)
                    outcome.day_zero_progress.append(max(0.0, min(1.0, share)))
                outcome.day_zero_now += new_now.reading(metric).value is not None
                continue
            if not old_done and end - began_at_row >= OLD_MIN_SINCE_START:
                old_done = core.meets_target(old_now, target, direction)
            # The interval is only worth computing once the rest of the rule holds.
            enough = end - began_at_row >= core.MIN_NOW_INTERACTIONS
            if (
                not new_done
                and enough
                and core.meets_target(new_now.reading(metric), target, direction)
            ):
                change = core.compare(metric, start_sample, new_now)
                new_done = (
                    core.plan_status(
                        target=target,
                        now=change.now,
                        change=change,
                        direction=direction,
                        target_date=date.max,
                        today=date.min,
                        already_achieved=False,
                    )
                    == "achieved"
                )
        outcome.achieved_old += old_done
        outcome.achieved_new += new_done
    return outcome


def median_progress(outcome: Outcome) -> float:
    return float(np.median(outcome.day_zero_progress)) if outcome.day_zero_progress else 0.0
