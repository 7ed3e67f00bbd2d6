"""`generate(planted=False)` / `deskpulse generate --no-planted`: a stable data set.

None of the planted stories happen (no experiment, no staff turnover, no incident
afternoon, no volume trend); the default is unchanged. Checked on the raw JSON Lines,
like tests/generator/test_generator.py.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from deskpulse.generator import generate

END = datetime(2025, 6, 1, tzinfo=UTC)


def events(**kwargs: Any) -> list[dict[str, Any]]:
    buffer = io.BytesIO()
    generate(buffer, seed=5, conversations=3_000, days=120, end=END, **kwargs)
    return [orjson.loads(line) for line in buffer.getvalue().splitlines()]


def created_by_third(found: list[dict[str, Any]]) -> list[int]:
    start = END - timedelta(days=120)
    thirds: Counter[int] = Counter()
    for e in found:
        if e["type"] == "conversation.created":
            at = datetime.fromisoformat(e["occurred_at"])
            thirds[min(2, int((at - start) / timedelta(days=40)))] += 1
    return [thirds[i] for i in range(3)]


def test_planted_is_the_default() -> None:
    assert events() == events(planted=True)


def test_nothing_planted() -> None:
    planted, stable = events(), events(planted=False)
    assert any(e["type"] == "experiment.exposed" for e in planted)
    assert not any(e["type"] == "experiment.exposed" for e in stable)
    assert any(e["type"] == "agent.upserted" and not e["active"] for e in planted)
    assert not any(e["type"] == "agent.upserted" and not e["active"] for e in stable)
    # Volume grows about 25% over the window when planted; flat (within noise) when not.
    first, _, last = created_by_third(planted)
    assert last > 1.12 * first
    first, _, last = created_by_third(stable)
    assert abs(last - first) < 0.08 * first
