"""Hand-built experiments for the experiment tests (analysis, pages, API).

`small_experiment()` is a handful of conversations whose every number is worked out in
the tests: conversation-level and customer-level exposures, dates, a double exposure, an
unknown variant and an exposure naming a conversation that never arrived.

`planted(...)` is many AI conversations with a resolution rate chosen per variant, for
the verdict: a planted effect must ship, no effect must not.

All times are minutes after the factories' start, 2026-03-02 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

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
