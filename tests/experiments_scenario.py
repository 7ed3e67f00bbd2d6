"""Hand-built experiments for the experiment tests (analysis, pages, API).

`small_experiment()` is a handful of conversations whose every number is worked out in
the tests: conversation-level and customer-level exposures, dates, a double exposure, an
unknown variant and an exposure naming a conversation that never arrived.

`planted(...)` is many AI conversations with a resolution rate chosen per variant, for
the verdict: a planted effect must ship, no effect must not.

All times are minutes after the factories' start, 2026-03-02 09:00 UTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from deskpulse.analysis import experiment_stats as stats
from deskpulse.analysis.experiments import Definition
from tests.factories import Events

KEY = "reply-style"
START = date(2026, 3, 2)
END = date(2026, 3, 8)
# Every result is read a while after the experiment: outcomes are settled.
NOW = datetime(2026, 3, 20, tzinfo=UTC)
DAY = 24 * 60


def ai_conversation(
    f: Events,
    cid: str,
    *,
    at: float,
    customer: str,
    resolved_by_ai: bool,
    csat: int | None = None,
    cost: str | None = None,
    follow_ups: int = 0,
) -> None:
    """An AI conversation: the bot answers (and `follow_ups` more exchanges), then either
    resolves it alone or escalates to alice, who answers and resolves."""
    c = f.conversation(cid, customer=customer, at=at)
    c.customer(at=at + 0.1).ai_reply("bot", at=at + 0.2)
    t = at + 0.2
    for _ in range(follow_ups):
        c.customer(at=t + 1).ai_reply("bot", at=t + 1.5)
        t += 1.5
    if cost is not None:
        c.cost(cost, at=t + 0.1, kind="inference")
    if resolved_by_ai:
        c.resolve(at=t + 2, by="bot")
    else:
        c.escalate(from_agent="bot", to_agent="alice", at=t + 1, reason="billing")
        c.assign("alice", team="t1", at=t + 1).reply("alice", at=t + 3).resolve(at=t + 5)
    if csat is not None:
        c.survey("csat", csat, at=t + 10)


def team(f: Events) -> None:
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bot", name="Bot", kind="ai")


def small_experiment() -> Events:
    f = Events()
    team(f)
    # Conversation-level exposures.
    ai_conversation(f, "a1", at=10, customer="u1", resolved_by_ai=True, csat=5, cost="0.10")
    ai_conversation(f, "a2", at=20, customer="u2", resolved_by_ai=False, csat=3, cost="0.30")
    ai_conversation(
        f, "b1", at=30, customer="u3", resolved_by_ai=True, csat=4, cost="0.05", follow_ups=1
    )
    ai_conversation(f, "b2", at=40, customer="u4", resolved_by_ai=True)
    f.on("a1", "u1").exposed(KEY, "control", at=10)
    f.on("a2", "u2").exposed(KEY, "control", at=20)
    f.on("b1", "u3").exposed(KEY, "concise", at=30)
    f.on("b2", "u4").exposed(KEY, "concise", at=40)
    # Double exposure: control first, then concise. Stays in control; one warning.
    ai_conversation(f, "d1", at=50, customer="u5", resolved_by_ai=False, cost="0.20")
    f.on("d1", "u5").exposed(KEY, "control", at=50)
    f.on("d1", "u5").exposed(KEY, "concise", at=51)
    # Customer-level: u9 is exposed to concise at minute 100. Their conversation before
    # the exposure does not count, the one after does, and one after the end date not.
    ai_conversation(f, "u9-before", at=90, customer="u9", resolved_by_ai=False)
    f.add("experiment.exposed", 100, customer_id="u9", experiment=KEY, variant="concise")
    ai_conversation(f, "u9-after", at=200, customer="u9", resolved_by_ai=True, cost="0.05")
    ai_conversation(f, "u9-late", at=8 * DAY, customer="u9", resolved_by_ai=True)
    # Not exposed at all; exposed to another experiment; exposed before the start date.
    ai_conversation(f, "n1", at=60, customer="u6", resolved_by_ai=True)
    ai_conversation(f, "o1", at=70, customer="u7", resolved_by_ai=True)
    f.on("o1", "u7").exposed("another-test", "control", at=70)
    early = f.conversation("e1", customer="u8", at=-600)
    early.customer(at=-599).ai_reply("bot", at=-598).resolve(at=-590, by="bot")
    f.on("e1", "u8").exposed(KEY, "control", at=-600)
    # An unknown variant, and an exposure whose conversation never arrived.
    ai_conversation(f, "x1", at=80, customer="u10", resolved_by_ai=True)
    f.on("x1", "u10").exposed(KEY, "verbose", at=80)
    f.on("ghost", "u11").exposed(KEY, "concise", at=85)
    return f


def small_definition(**changes: object) -> Definition:
    fields: dict[str, object] = {
        "key": KEY,
        "variants": ("control", "concise"),
        "primary": "ai_resolved_rate",
        "guardrails": ("csat_mean", "cost_per_conversation", "turns_mean", "escalation_rate"),
        "start": START,
        "end": END,
        "mde_relative": 0.5,
    }
    fields.update(changes)
    return Definition(**fields)  # type: ignore[arg-type]


def planted(
    per_variant: int, control_rate: float, treatment_rate: float, *, key: str = KEY
) -> Events:
    """`per_variant` AI conversations per variant over the experiment's first days,
    alternating variants, each variant resolving its exact share (spread evenly)."""
    f = Events()
    team(f)
    for variant, rate in (("control", control_rate), ("concise", treatment_rate)):
        wins = round(rate * per_variant)
        for i in range(per_variant):
            # Bresenham spread: exactly `wins` resolved, evenly through time.
            resolved = (i + 1) * wins // per_variant > i * wins // per_variant
            at = 5 + i * (4 * DAY / per_variant) + (0.5 if variant == "concise" else 0.0)
            cid = f"{variant}-{i}"
            ai_conversation(f, cid, at=at, customer=f"cust-{variant}-{i}", resolved_by_ai=resolved)
            f.on(cid, f"cust-{variant}-{i}").exposed(key, variant, at=at)
    return f


# -- simulated experiments (issue 15) ------------------------------------------------------
# Pure numpy and the statistics package, no store: the verdict replayed day by day the way
# the experiments page reads it. tests/analysis/test_experiment_stats.py runs small seeded
# versions; benchmarks/bench_experiments.py the full 400 experiments x 60 looks.

CSAT_SCORES = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
CSAT_SHARES = np.array([0.05, 0.05, 0.10, 0.30, 0.50])


@dataclass(frozen=True)
class Setup:
    """The issue's setting: AI-resolved at 40%, MDE +10%, one CSAT guardrail with no
    change, 150 conversations per variant per day, a look every day."""

    baseline: float = 0.40
    true_lift: float = 0.10  # 0 for A/A
    mde: float = 0.10
    daily: int = 150  # conversations per variant per day
    csat_share: float = 0.3  # of conversations answer the survey
    looks: int = 60
    sequential: bool = False


@dataclass(frozen=True)
class Run:
    """One simulated experiment: the verdict's action at each look (None after the
    experiment stopped: a sequential one at its first ship or keep control), the first
    look at which the planned sample was reached, and the locked verdict's look."""

    actions: tuple[str | None, ...]
    planned_look: int | None
    locked_look: int | None

    def first(self, action: str) -> int | None:
        return next((i for i, a in enumerate(self.actions) if a == action), None)

    def at(self, look: int) -> str | None:
        """The action in force at `look` (the last one given when it had stopped)."""
        given = [a for a in self.actions[: look + 1] if a is not None]
        return given[-1] if given else None


def simulate(setup: Setup, rng: np.random.Generator) -> Run:
    control_rate = setup.baseline
    treatment_rate = setup.baseline * (1.0 + setup.true_lift)
    successes = np.zeros(2, dtype=np.int64)
    csat: list[list[np.ndarray[Any, np.dtype[np.float64]]]] = [[], []]
    actions: list[str | None] = []
    verdict: stats.Verdict | None = None
    planned_look: int | None = None
    stopped = False
    for look in range(setup.looks):
        n = setup.daily * (look + 1)
        successes += rng.binomial(setup.daily, [control_rate, treatment_rate])
        for arm in (0, 1):
            answers = rng.binomial(setup.daily, setup.csat_share)
            csat[arm].append(rng.choice(CSAT_SCORES, size=answers, p=CSAT_SHARES))
        if stopped:
            actions.append(None)
            continue
        experiment = stats.Experiment(
            control="A",
            treatment="B",
            primary=stats.Metric(
                "ai_resolved_rate",
                "rate",
                stats.RateCounts(int(successes[0]), n),
                stats.RateCounts(int(successes[1]), n),
            ),
            guardrails=(
                stats.Metric("csat_mean", "mean", np.concatenate(csat[0]), np.concatenate(csat[1])),
            ),
            mde_relative=setup.mde,
            daily_per_variant=float(setup.daily),
            sequential=setup.sequential,
        )
        verdict = stats.decide_look(experiment, verdict, since=str(look))
        if planned_look is None and verdict.power is not None:
            # The look at which the plan (as read at this look) is reached; for a
            # sequential experiment that stops earlier, the look it would have been.
            required = verdict.power.required_per_variant
            if n >= required or stopped_planned(setup, verdict):
                planned_look = max(look, math.ceil(required / setup.daily) - 1)
        actions.append(verdict.action)
        # A sequential experiment stops at its first decision. A locked one is read on at
        # every look (decide_look returns it unchanged), so flips after it are counted.
        stopped = stopped_planned(setup, verdict)
    locked_look = int(verdict.locked_since) if verdict and verdict.locked_since else None
    return Run(tuple(actions), planned_look, locked_look)


def stopped_planned(setup: Setup, verdict: stats.Verdict) -> bool:
    return setup.sequential and verdict.action in ("ship", "keep_control")


def simulate_many(setup: Setup, runs: int, seed: int) -> list[Run]:
    rng = np.random.default_rng(seed)
    return [simulate(setup, rng) for _ in range(runs)]


def ship_by_planned_sample(runs: list[Run]) -> float:
    """Share of experiments saying ship at the look the planned sample is reached
    (sequential: shipped at or before it, having stopped there)."""
    hits = 0
    for run in runs:
        if run.planned_look is not None and run.at(run.planned_look) == "ship":
            hits += 1
    return hits / len(runs)


def ever(runs: list[Run], action: str) -> float:
    return sum(1 for run in runs if run.first(action) is not None) / len(runs)


def flips_after_planned(runs: list[Run]) -> float:
    """Share of experiments whose verdict changed after the planned sample was reached."""
    flipped = 0
    for run in runs:
        if run.planned_look is None:
            continue
        later = {a for a in run.actions[run.planned_look :] if a is not None}
        flipped += len(later) > 1
    return flipped / len(runs)
