"""Quartile bands: the edges, ties at the edges, the N threshold and the 4-agent minimum.

Edges are numpy's linear percentiles: with k sorted values, percentile q sits at position
q x (k - 1). For 100, 200, 300, 400, 500: q25 at position 1 = 200, q75 at position 3 = 400.
For 10, 20, 30, 40: q25 at 0.75 = 10 + .75 x 10 = 17.5, q75 at 2.25 = 30 + .25 x 10 = 32.5.
"""

from __future__ import annotations

import math

import pytest

from deskpulse.analysis.bands import (
    BAND_LABELS,
    INTERVAL_Z,
    MIN_AGENTS,
    MIN_RELIABILITY,
    Band,
    Estimate,
    Quartiles,
    band,
    edges_of,
    eligible_values,
    quartiles,
    standing,
)

FIVE = [300.0, 100.0, 500.0, 200.0, 400.0]


def edges(values: list[float], direction: str) -> Quartiles:
    found = quartiles(values, direction)  # type: ignore[arg-type]
    assert found is not None
    return found


def test_edges_interpolate_linearly() -> None:
    five = edges(FIVE, "lower")
    assert (five.q25, five.q75, five.best, five.agents) == (200.0, 400.0, 100.0, 5)
    four = edges([40.0, 10.0, 30.0, 20.0], "higher")
    assert (four.q25, four.q75, four.best) == (17.5, 32.5, 40.0)
    assert four.top_edge == 32.5
    assert four.bottom_edge == 17.5
    assert five.top_edge == 200.0
    assert five.bottom_edge == 400.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, "great"),
        (200.0, "great"),  # on the q25 edge: the better band
        (200.000000001, "good"),
        (300.0, "good"),
        (399.999999999, "good"),
        (400.0, "needs_work"),  # on the q75 edge: already the bottom quartile's edge
        (500.0, "needs_work"),
    ],
)
def test_lower_is_better_bands_at_the_edges(value: float, expected: Band) -> None:
    assert band(value, 10, edges(FIVE, "lower"), min_interactions=10) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (500.0, "great"),
        (400.0, "great"),  # on the q75 edge: the better band
        (399.0, "good"),
        (201.0, "good"),
        (200.0, "needs_work"),  # on the q25 edge
        (100.0, "needs_work"),
    ],
)
def test_higher_is_better_bands_at_the_edges(value: float, expected: Band) -> None:
    assert band(value, 10, edges(FIVE, "higher"), min_interactions=10) == expected


def test_ties_at_an_edge_get_the_better_band() -> None:
    # .5, .8, .8, .8: q25 = .5 + .75 x .3 = .725, q75 = .8. Three agents share the top value
    # and the edge: all three are great, none is pushed down to good.
    tied = edges([0.5, 0.8, 0.8, 0.8], "higher")
    assert (tied.q25, tied.q75) == (0.725, 0.8)
    assert [band(v, 10, tied, min_interactions=10) for v in (0.5, 0.8, 0.8, 0.8)] == [
        "needs_work",
        "great",
        "great",
        "great",
    ]
    # Lower is better: 60, 60, 60, 90 -> q25 at position .75 = 60, q75 at 2.25 =
    # 60 + .25 x 30 = 67.5; the three at 60 are all great.
    low = edges([60.0, 60.0, 60.0, 90.0], "lower")
    assert (low.q25, low.q75) == (60.0, 67.5)
    assert [band(v, 10, low, min_interactions=10) for v in (60.0, 90.0)] == [
        "great",
        "needs_work",
    ]


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_all_equal_values_are_great_for_everyone(direction: str) -> None:
    same = edges([0.7] * 6, direction)
    assert (same.q25, same.q75, same.best) == (0.7, 0.7, 0.7)
    assert band(0.7, 10, same, min_interactions=10) == "great"


def test_the_interaction_threshold() -> None:
    readings: list[tuple[float | None, int]] = [
        (100.0, 10),  # exactly N: eligible
        (200.0, 9),  # one short: left out of the quartiles
        (300.0, 50),
        (None, 40),  # no value (a factor missing): left out
        (400.0, 12),
        (500.0, 11),
    ]
    assert eligible_values(readings, 10) == [100.0, 300.0, 400.0, 500.0]
    four = edges(eligible_values(readings, 10), "lower")
    # The agent with 9 interactions gets no band, whatever their value.
    assert band(200.0, 9, four, min_interactions=10) == "not_enough_data"
    assert band(100.0, 10, four, min_interactions=10) == "great"
    assert band(None, 10, four, min_interactions=10) == "not_enough_data"


def test_fewer_than_four_eligible_agents_give_no_quartiles() -> None:
    assert MIN_AGENTS == 4
    assert quartiles([100.0, 200.0, 300.0], "lower") is None
    assert band(100.0, 50, None, min_interactions=10) == "not_enough_data"
    assert quartiles([100.0, 200.0, 300.0, 400.0], "lower") is not None


def test_edges_are_rounded_like_query_values() -> None:
    # 1/3-ish values: the edges come back at 9 decimals, so an agent whose (9-decimal)
    # value equals an edge compares equal.
    third = edges([1 / 3, 2 / 3, 1.0, 4 / 3], "higher")
    assert third.q75 == round(1.0 + 0.25 * (1 / 3), 9)
    assert band(third.q75, 10, third, min_interactions=10) == "great"


def test_labels() -> None:
    assert BAND_LABELS == {
        "great": "Great",
        "good": "Good",
        "needs_work": "Needs work",
        "not_enough_data": "Not enough data",
    }


# -- shrinkage (issue 15) ------------------------------------------------------------------
# FIVE with a sampling variance of 5,000 each (a standard error of 70.7 s): S^2 = 25,000,
# tau^2 = 25,000 - 5,000 = 20,000, reliability B = 20,000 / 25,000 = .8, mean 300. The
# edges keep sqrt(.8) = .894427191 of the raw quartiles' distance to the mean:
# 300 -/+ 89.442719100 -> 210.557280900 and 389.442719100. A reading y shrinks to
# 300 + .8 (y - 300) with posterior sd sqrt(.8 x 5,000) = 63.245553203.
NOISY = [Estimate(value, 12, 5_000.0) for value in FIVE]
SD = math.sqrt(4_000.0)


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def test_noisy_readings_shrink_toward_the_mean_and_edges_narrow() -> None:
    noisy = edges_of(NOISY, "lower", 10)
    assert noisy is not None
    assert noisy.between == pytest.approx(20_000.0)
    assert noisy.reliability(5_000.0) == pytest.approx(0.8)
    assert noisy.q25 == pytest.approx(210.5572809, abs=1e-6)
    assert noisy.q75 == pytest.approx(389.4427191, abs=1e-6)
    assert noisy.best == 100.0  # the top performer's actual reading, not shrunk
    fastest = standing(NOISY[1], noisy, min_interactions=10)  # the reading 100
    assert fastest.band == "great"
    assert fastest.shrunk == pytest.approx(140.0)
    assert fastest.probabilities["great"] == pytest.approx(
        _phi((210.5572809 - 140.0) / SD), abs=1e-3
    )
    assert (fastest.low, fastest.high) == (
        pytest.approx(140.0 - INTERVAL_Z * SD),
        pytest.approx(140.0 + INTERVAL_Z * SD),
    )


@pytest.mark.parametrize(
    ("value", "expected", "runner_up"),
    [
        (140.0, "great", "good"),  # shrunk 172: P(great) = .729, two-to-one odds
        (160.0, "good", "great"),  # shrunk 188, past the edge but P(great) = .639 < 2/3
        (200.0, "good", "great"),  # shrunk 220: P(great) = .441
        (300.0, "good", None),  # the mean: good with 88 %
        (420.0, "good", "needs_work"),  # shrunk 396, past the edge; P(needs work) = .541
    ],
)
def test_great_and_needs_work_need_two_to_one_odds(
    value: float, expected: Band, runner_up: Band | None
) -> None:
    noisy = edges_of(NOISY, "lower", 10)
    found = standing(Estimate(value, 12, 5_000.0), noisy, min_interactions=10)
    assert found.band == expected, found
    assert found.runner_up == runner_up, found
    assert sum(found.probabilities.values()) == pytest.approx(1.0, abs=2e-3)


def test_a_reading_mostly_made_of_the_average_is_not_enough_data() -> None:
    noisy = edges_of(NOISY, "lower", 10)
    # Variance 100,000: B = 20,000 / 120,000 = .167, below MIN_RELIABILITY (.2).
    assert MIN_RELIABILITY == 0.2
    found = standing(Estimate(50.0, 12, 100_000.0), noisy, min_interactions=10)
    assert found.band == "not_enough_data"
    assert found.reliability == pytest.approx(0.167, abs=1e-3)
    # Variance 80,000: B = .2 exactly, a band again.
    assert band(50.0, 12, noisy, min_interactions=10, variance=80_000.0) != "not_enough_data"


def test_when_the_spread_is_all_noise_nobody_stands_out() -> None:
    # 300, 100, 500, 200: mean 275, raw variance 29,167, below the readings' own 50,000:
    # tau^2 = 0.
    noise_only = edges_of([Estimate(v, 12, 50_000.0) for v in FIVE[:4]], "lower", 10)
    assert noise_only is not None
    assert noise_only.indistinct
    for value in (100.0, 400.0):
        found = standing(Estimate(value, 12, 50_000.0), noise_only, min_interactions=10)
        assert (found.band, found.shrunk) == ("good", 275.0)


def test_higher_is_better_shrinks_the_same_way() -> None:
    noisy = edges_of(NOISY, "higher", 10)
    assert noisy is not None
    assert noisy.best == 500.0
    assert standing(NOISY[2], noisy, min_interactions=10).band == "great"  # 500 -> 460
    assert standing(NOISY[1], noisy, min_interactions=10).band == "needs_work"  # 100 -> 140
