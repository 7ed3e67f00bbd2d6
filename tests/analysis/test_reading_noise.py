"""The sampling variance behind each agent's effectiveness reading, checked by hand.

Inquiry "billing", two agents:
    a: handle 100, 300 (mean 200); satisfaction .5, .7 (mean .6); resolution 1, 1 (mean 1)
    b: handle 200, 200, 500 (mean 300); satisfaction .9, .9, .6 (mean .8); resolution 1, 0,
       missing (mean .5 over 2)
Pooled handle variance: ((100^2 + 100^2) + (100^2 + 100^2 + 200^2)) / ((2 - 1) + (3 - 1))
= 80,000 / 3; a's reading (n 2): 40,000 / 3, b's (n 3): 80,000 / 9.
Pooled satisfaction: ((.1^2 + .1^2) + (.1^2 + .1^2 + .2^2)) / 3 = .08 / 3.
Pooled resolution: ((0 + 0) + (.5^2 + .5^2)) / (1 + 1) = .25; b has 2 values: .125.
Score: z = h / H - s / S - r / R per interaction (a missing part adds 0), deviations from
the agent's own means:
    a (H 200, S .6, R 1): z - mean = (-.5 + 1/6, .5 - 1/6) = (-1/3, 1/3)
    b (H 300, S .8, R .5): h / H - 1 = (-1/3, -1/3, 2/3); s / S - 1 = (1/8, 1/8, -1/4);
       r / R - 1 = (1, -1, 0) -> z = (-1/3 - 1/8 - 1, -1/3 - 1/8 + 1, 2/3 + 1/4)
       = (-35/24, 13/24, 22/24), mean 0
pooled var(z) = (2/9 + (1225 + 169 + 484) / 576) / 3.
"""

from __future__ import annotations

import pytest

from deskpulse.analysis.reading_noise import Row, reading_variances

ROWS = [
    Row("a", "billing", 100.0, 0.5, 1.0),
    Row("a", "billing", 300.0, 0.7, 1.0),
    Row("b", "billing", 200.0, 0.9, 1.0),
    Row("b", "billing", 200.0, 0.9, 0.0),
    Row("b", "billing", 500.0, 0.6, None),
]


def test_pooled_spread_over_each_agents_n() -> None:
    found = reading_variances(ROWS)
    a, b = found[("a", "billing")], found[("b", "billing")]
    assert a["aes_handle_time"] == pytest.approx(40_000 / 3)
    assert b["aes_handle_time"] == pytest.approx(80_000 / 9)
    assert a["predicted_satisfaction"] == pytest.approx(0.08 / 3 / 2)
    assert b["predicted_satisfaction"] == pytest.approx(0.08 / 3 / 3)
    assert a["predicted_resolution"] == pytest.approx(0.25 / 2)
    assert b["predicted_resolution"] == pytest.approx(0.25 / 2)


def test_the_score_by_the_delta_method() -> None:
    found = reading_variances(ROWS)
    spread = (2 / 9 + (1225 + 169 + 484) / 576) / 3
    a_score = 200 / (0.6 * 1.0)
    b_score = 300 / (0.8 * 0.5)
    assert found[("a", "billing")]["effectiveness_score"] == pytest.approx(a_score**2 * spread / 2)
    assert found[("b", "billing")]["effectiveness_score"] == pytest.approx(b_score**2 * spread / 3)


def test_inquiries_do_not_share_a_spread_and_one_row_has_none() -> None:
    rows = [*ROWS, Row("a", "refund", 100.0, 1.0, 1.0)]
    found = reading_variances(rows)
    # One interaction on refund in all: no spread to pool, no variance.
    assert found[("a", "refund")] == {}
    assert found[("a", "billing")]["aes_handle_time"] == pytest.approx(40_000 / 3)
