"""The per-channel prediction models: better than the constant guess on held-out
generated data, and never used when they fail the quality gate (each outcome on its
own: a channel may predict satisfaction and measure resolution)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from deskpulse.events.store import Store
from deskpulse.models.outcomes import (
    CALIBRATION_BINS,
    MAX_CALIBRATION_GAP,
    MIN_AUC,
    MIN_LABELS,
    MIN_PER_CLASS,
    MIN_TEST_LABELS,
    MIN_TEST_PER_CLASS,
    RESOLUTION_NUMBERS,
    SATISFACTION_NUMBERS,
    gate_reason,
    outcome_labels,
    train_outcome,
)
from deskpulse.models.training import TrainingReport
from deskpulse.settings import Settings
from tests.models.helpers import planted_frame as _frame
from tests.models.helpers import trained_on_a_planted_signal


def test_chat_models_beat_the_constant_guess_on_held_out_data(
    trained: tuple[Settings, Store, TrainingReport],
) -> None:
    """Both of the busiest channel's models beat always answering the training share.

    First-contact resolution is barely predictable from what is known at the first
    resolution in the generated data (reopens and repeat contacts are mostly chance), so
    its AUC sits under the 0.6 gate: better than the constant, not good enough to use.
    Satisfaction clears the AUC gate but not the rest of it (170 held-out labels, and it
    over-predicts by 3.3 points): it is refused, and the measured rate is used.
    """
    _settings, _store, report = trained
    card = report.cards.channel("chat")
    assert card is not None
    satisfaction, resolution = card.satisfaction, card.resolution
    for outcome, floor in ((satisfaction, 0.65), (resolution, 0.55)):
        assert outcome.auc is not None, outcome.reason
        assert outcome.brier is not None
        assert outcome.baseline_brier is not None
        assert outcome.auc > floor, outcome.outcome
        assert outcome.brier < outcome.baseline_brier, outcome.outcome
        assert outcome.test_positives >= MIN_TEST_PER_CLASS
        assert outcome.test_negatives >= MIN_TEST_PER_CLASS
    assert satisfaction.auc is not None
    assert satisfaction.auc >= MIN_AUC
    assert satisfaction.test_mean_predicted is not None
    assert satisfaction.test_observed is not None
    assert satisfaction.test_labels < MIN_TEST_LABELS
    assert not satisfaction.passed
    assert satisfaction.reason == gate_reason(
        "satisfaction model",
        satisfaction.test_labels,
        satisfaction.auc,
        satisfaction.test_mean_predicted,
        satisfaction.test_observed,
    )
    assert card.outcome_status("satisfaction").status == "fallback"
    assert card.predicted == []


def test_cards_describe_an_honest_time_split(
    trained: tuple[Settings, Store, TrainingReport],
) -> None:
    _settings, _store, report = trained
    for card in report.cards.channels:
        for outcome in (card.satisfaction, card.resolution):
            if outcome.auc is None:
                continue
            labels = outcome.positives + outcome.negatives
            train_part = outcome.train_positives + outcome.train_negatives
            test_part = outcome.test_positives + outcome.test_negatives
            assert train_part + test_part == labels
            assert train_part == int(labels * 0.8)
            assert outcome.data_from is not None
            assert outcome.test_from is not None
            assert outcome.data_from <= outcome.test_from <= str(outcome.data_to)
            # The constant guess is the training share; its Brier score is p(1-p)-like.
            assert outcome.prevalence == pytest.approx(outcome.train_positives / train_part)
            # Calibration: at most 10 bins, holding every held-out conversation once.
            assert 0 < len(outcome.calibration) <= CALIBRATION_BINS
            assert sum(b.count for b in outcome.calibration) == test_part
            assert all(0 <= b.predicted <= 1 and 0 <= b.observed <= 1 for b in outcome.calibration)


def test_each_outcome_falls_back_on_its_own(
    trained: tuple[Settings, Store, TrainingReport],
) -> None:
    _settings, _store, report = trained
    statuses = {card.channel: card.status for card in report.cards.channels}
    assert set(statuses) == {"chat", "email", "sms", "social", "voice"}
    for card in report.cards.channels:
        passed = [o for o in ("satisfaction", "resolution") if card.outcome(o).passed]
        assert card.predicted == passed
        expected = {2: "ok", 1: "partial", 0: "fallback"}[len(passed)]
        assert card.status == expected
        assert card.reason.startswith(f"{card.channel}: ")
        for outcome in ("satisfaction", "resolution"):
            found = card.outcome_status(outcome)  # type: ignore[arg-type]
            if outcome in passed:
                assert found.status == "ok"
                assert f"{outcome} is predicted by the {card.channel} {outcome} model" in (
                    card.reason
                )
            else:
                assert found.status == "fallback"
                assert f"{outcome} is measured: " in card.reason
                assert found.reason  # says why in plain words
    # The generated data has at least one channel predicting one outcome only.
    assert "partial" in statuses.values(), statuses


def test_learns_a_planted_signal() -> None:
    trained = trained_on_a_planted_signal()
    assert trained.card.passed
    assert trained.pipeline is not None
    assert trained.card.auc is not None
    assert trained.card.auc > 0.8


def test_too_few_held_out_labels_are_refused_whatever_the_auc() -> None:
    # 900 labels: the newest 180 are held out, 20 short of MIN_TEST_LABELS.
    features, labels, created = _frame(900, seed=2, signal=0.35)
    trained = train_outcome(features, labels, created, "satisfaction")
    assert trained.card.auc is not None
    assert trained.card.auc > 0.8
    assert trained.card.test_labels == 180
    assert trained.pipeline is None
    assert not trained.card.passed
    assert trained.card.reason == (
        "the satisfaction model was measured on only 180 held-out labels, "
        f"{MIN_TEST_LABELS} needed to trust its AUC and calibration"
    )


def test_a_model_that_ranks_well_but_over_predicts_is_refused() -> None:
    # The planted signal, but in the newest fifth (the held-out part) a quarter of the
    # satisfied answers turn unsatisfied: the ranking holds (AUC > .8), the level does not.
    features, labels, created = _frame(1_200, seed=1, signal=0.35)
    rng = np.random.default_rng(5)
    newest = np.arange(len(labels)) >= 960
    flipped = newest & (labels.to_numpy() == 1.0) & (rng.random(len(labels)) < 0.25)
    labels = labels.where(~flipped, 0.0)
    trained = train_outcome(features, labels, created, "satisfaction")
    card = trained.card
    assert card.auc is not None
    assert card.auc >= MIN_AUC
    assert card.calibration_gap is not None
    assert card.calibration_gap > MAX_CALIBRATION_GAP
    assert trained.pipeline is None
    assert not card.passed
    assert card.reason.startswith("the satisfaction model over-predicts by ")
    assert "it must be within \u00b13 points" in card.reason
    # The same data without the drift passes: it is the calibration that refused it.
    assert trained_on_a_planted_signal().card.passed


@pytest.mark.parametrize(
    ("held_out", "auc", "predicted", "observed", "expected"),
    [
        (200, 0.7, 0.62, 0.60, ""),
        (200, 0.7, 0.57, 0.60, ""),  # 3 points under: still within
        (199, 0.9, 0.60, 0.60, "only 199 held-out labels"),
        (500, 0.59, 0.60, 0.60, "AUC is 0.590"),
        (270, 0.7, 0.665, 0.556, "over-predicts by 10.9 points"),  # the demo's sms model
        (500, 0.7, 0.50, 0.56, "under-predicts by 6.0 points"),
    ],
)
def test_the_gate(
    held_out: int, auc: float, predicted: float, observed: float, expected: str
) -> None:
    reason = gate_reason("satisfaction model", held_out, auc, predicted, observed)
    if expected:
        assert expected in reason
    else:
        assert reason == ""


def test_the_models_leave_out_queue_wait_and_handle_time() -> None:
    for numbers in (SATISFACTION_NUMBERS, RESOLUTION_NUMBERS):
        assert "log_first_response" not in numbers
        assert "no_first_response" not in numbers
    assert "log_handle" not in SATISFACTION_NUMBERS
    trained = trained_on_a_planted_signal()
    assert trained.pipeline is not None
    used = trained.pipeline.named_steps["features"].transformers_
    columns = {
        c
        for name, _step, cols in used
        if name != "remainder" and isinstance(cols, list)
        for c in cols
    }
    assert not columns & {"log_first_response", "no_first_response", "log_handle"}


def test_labels_with_no_signal_fail_the_auc_gate() -> None:
    features, labels, created = _frame(1_000, seed=2, signal=0.0)
    trained = train_outcome(features, labels, created, "satisfaction")
    assert trained.pipeline is None
    assert not trained.card.passed
    assert trained.card.auc is not None
    assert trained.card.auc < MIN_AUC
    assert trained.card.reason == (
        f"the satisfaction model's held-out AUC is {trained.card.auc:.3f}, "
        f"below the {MIN_AUC} it needs"
    )


def test_too_few_labels_fall_back_with_a_plain_reason() -> None:
    features, labels, created = _frame(MIN_LABELS - 1, seed=3, signal=0.35)
    trained = train_outcome(features, labels, created, "satisfaction")
    assert trained.pipeline is None
    assert trained.card.reason == f"only {MIN_LABELS - 1} CSAT answers, {MIN_LABELS} needed"
    assert trained.card.auc is None

    features, labels, created = _frame(400, seed=4, signal=0.35)
    labels[:] = 1.0
    labels.iloc[: MIN_PER_CLASS - 1] = 0.0
    trained = train_outcome(features, labels, created, "resolution")
    assert trained.pipeline is None
    assert trained.card.reason == (
        f"only {MIN_PER_CLASS - 1} conversations not resolved on first contact, "
        f"{MIN_PER_CLASS} needed"
    )


def test_too_few_of_a_class_in_the_held_out_part_fall_back() -> None:
    features, labels, created = _frame(500, seed=5, signal=0.35)
    # Every unsatisfied answer is old: the newest 20% has none to measure with.
    labels[:] = 1.0
    labels.iloc[:100] = 0.0
    trained = train_outcome(features, labels, created, "satisfaction")
    assert trained.pipeline is None
    assert trained.card.reason == (
        "the newest 20% held out for measuring has only 0 unsatisfied answers (1\u20133), "
        f"{MIN_TEST_PER_CLASS} needed to measure it"
    )


def test_unlabelled_rows_are_left_out() -> None:
    features, labels, created = _frame(600, seed=6, signal=0.35)
    labels.iloc[::3] = np.nan
    trained = train_outcome(features, labels, created, "satisfaction")
    assert trained.card.positives + trained.card.negatives == 400


def test_resolution_labels_wait_for_the_fcr_window() -> None:
    end = datetime(2026, 3, 1)
    frame = pd.DataFrame(
        {
            "fcr": [True, False, None, True],
            "first_resolved_at": [
                end - timedelta(days=20),
                end - timedelta(days=8),
                None,
                end - timedelta(days=2),  # a repeat contact may still come
            ],
            "csat_score": [5, 3, None, 4],
        }
    )
    resolution = outcome_labels(frame, "resolution", data_end=end, fcr_window_days=7)
    assert resolution.tolist()[:2] == [1.0, 0.0]
    assert resolution.isna().tolist() == [False, False, True, True]
    satisfaction = outcome_labels(frame, "satisfaction", data_end=end, fcr_window_days=7)
    assert satisfaction.tolist()[:2] == [1.0, 0.0]
    assert satisfaction.tolist()[3] == 1.0
    assert satisfaction.isna().tolist() == [False, False, True, False]
