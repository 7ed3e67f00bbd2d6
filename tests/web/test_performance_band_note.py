"""The band's uncertainty as the performance pages word it (present.band_note / title)."""

from __future__ import annotations

from deskpulse.analysis.bands import Estimate, edges_of, standing
from deskpulse.analysis.effectiveness import MetricComparison, Reading
from deskpulse.web.performance.present import band_note, band_title

# Handle times 100..500 s with a sampling variance of 5,000 each (tests/analysis/test_bands.py):
# 160 s shrinks to 188 s, past the Great edge (210.6 s) at 64 %: Good, could be Great.
EDGES = edges_of(
    [Estimate(v, 12, 5_000.0) for v in (100.0, 200.0, 300.0, 400.0, 500.0)], "lower", 10
)


def _comparison(value: float, variance: float) -> MetricComparison:
    found = standing(Estimate(value, 12, variance), EDGES, min_interactions=10)
    return MetricComparison(
        metric="aes_handle_time",
        agent=Reading(value, 12),
        team=Reading(None, 0),
        all_agents=Reading(None, 0),
        top_performer=None,
        top_quartile=None,
        band=found.band,
        standing=found,
    )


def test_a_band_with_a_real_alternative_says_so() -> None:
    close = _comparison(160.0, 5_000.0)
    assert close.band == "good"
    assert band_note(close) == "could be Great (64%)"
    title = band_title("aes_handle_time", close)
    assert title.startswith("Allowing for chance: 3m 08s (80% interval ")
    assert title.endswith("Great 64%, Good 36%, Needs work 0%")


def test_a_clear_band_and_no_band_say_nothing_more() -> None:
    middle = _comparison(300.0, 5_000.0)  # Good at 88 %: no other band reaches 20 %
    assert (middle.band, band_note(middle)) == ("good", "")
    unsure = _comparison(50.0, 100_000.0)  # reliability .17: not enough data
    assert (unsure.band, band_note(unsure)) == ("not_enough_data", "")
