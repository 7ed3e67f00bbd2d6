"""Model versions in the data folder: saved, loaded back identical, the last five kept,
and a clear error for a missing or corrupt one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from deskpulse.models.cards import NO_MODELS, ModelCards
from deskpulse.models.classifier import train_classifier
from deskpulse.models.outcomes import predict_outcome, train_outcome
from deskpulse.models.training import model_cards
from deskpulse.models.versions import (
    KEEP_VERSIONS,
    ModelVersionError,
    current_version,
    list_versions,
    load_cards,
    load_version,
    prune,
    save_version,
    set_current,
    version_name,
)
from deskpulse.settings import Settings
from tests.models.test_outcomes import _frame

START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
TEXTS = ["refund my order please"] * 12 + ["reset my password please"] * 12


def _models() -> tuple[Pipeline, dict[str, Pipeline], ModelCards]:
    classifier = train_classifier(TEXTS, ["refund"] * 12 + ["password"] * 12, trained_at=START)
    assert classifier.pipeline is not None
    features, labels, created = _frame(1_200, seed=1, signal=0.35)
    satisfaction = train_outcome(features, labels, created, "satisfaction")
    assert satisfaction.pipeline is not None
    cards = ModelCards(
        version=version_name(START),
        trained_at=START.isoformat(),
        classifier=classifier.card,
        channels=[],
        inquiry_method="classifier",
    )
    pair = {"satisfaction": satisfaction.pipeline, "resolution": satisfaction.pipeline}
    return classifier.pipeline, pair, cards


def _save(settings: Settings, when: datetime) -> str:
    classifier, pair, cards = _models()
    cards = replace(cards, version=version_name(when), trained_at=when.isoformat())
    return save_version(settings, cards, classifier=classifier, channels={"chat": pair})


def test_round_trip(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    classifier, pair, cards = _models()
    version = save_version(settings, cards, classifier=classifier, channels={"chat": pair})
    assert version == "20260301T060000000000Z"
    assert current_version(settings) == version
    bundle = load_version(settings)
    assert bundle.version == version
    assert bundle.cards == replace(cards, version=version)
    assert load_cards(settings) == bundle.cards
    assert bundle.classifier is not None
    assert list(bundle.classifier.predict(TEXTS)) == list(classifier.predict(TEXTS))
    features, _labels, _created = _frame(50, seed=9, signal=0.35)
    np.testing.assert_array_equal(
        predict_outcome(bundle.channels["chat"]["satisfaction"], features),
        predict_outcome(pair["satisfaction"], features),
    )
    manifest = json.loads((tmp_path / "models" / version / "manifest.json").read_text())
    assert manifest["cards"]["classifier"]["macro_f1"] == cards.classifier.macro_f1  # type: ignore[union-attr]
    assert set(manifest["sha256"]) == {"classifier.joblib", "channel-1-chat.joblib"}


def test_keeps_the_last_five_newest_first(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    saved = [_save(settings, START + timedelta(hours=h)) for h in range(7)]
    listed = list_versions(settings)
    assert [v.version for v in listed] == saved[::-1][:KEEP_VERSIONS]
    assert [v.current for v in listed] == [True] + [False] * (KEEP_VERSIONS - 1)
    assert listed[0].trained_at == (START + timedelta(hours=6)).isoformat()
    assert not (tmp_path / "models" / saved[0]).exists()
    assert not (tmp_path / "models" / saved[1]).exists()
    # An older version made current again is never pruned.
    set_current(settings, saved[2])
    assert prune(settings, keep=1) == [saved[5], saved[4], saved[3]]
    assert [v.version for v in list_versions(settings)] == [saved[6], saved[2]]
    assert load_version(settings).version == saved[2]
    assert load_version(settings, saved[6]).version == saved[6]


def test_two_trainings_in_one_instant_get_two_versions(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = _save(settings, START)
    second = _save(settings, START)
    assert second == f"{first}-1"
    assert [v.version for v in list_versions(settings)] == [second, first]


def test_nothing_trained(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ModelVersionError, match=r"no trained models .*run deskpulse train"):
        load_version(settings)
    assert model_cards(settings) == NO_MODELS
    status = NO_MODELS.status_of("chat")
    assert status.status == "fallback"
    assert "no models are trained yet" in status.reason


def test_missing_version(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    version = _save(settings, START)
    (tmp_path / "models" / "current").write_text("20250101T000000000000Z\n")
    with pytest.raises(ModelVersionError, match="'20250101T000000000000Z' is missing"):
        load_version(settings)
    cards = model_cards(settings)
    assert cards.version is None
    assert cards.error is not None
    assert "is missing" in cards.error
    with pytest.raises(ModelVersionError, match="no model version"):
        set_current(settings, "nope")
    set_current(settings, version)
    assert load_version(settings).version == version


def test_corrupt_versions_give_clear_errors(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    folder = tmp_path / "models" / _save(settings, START)
    model_file = folder / "channel-1-chat.joblib"
    model_file.write_bytes(model_file.read_bytes()[:100])
    with pytest.raises(
        ModelVersionError, match=r"channel-1-chat\.joblib does not match its checksum"
    ):
        load_version(settings)
    model_file.unlink()
    with pytest.raises(ModelVersionError, match=r"incomplete: channel-1-chat\.joblib is missing"):
        load_version(settings)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ModelVersionError, match=r"corrupt: .*manifest\.json cannot be read"):
        load_version(settings)
    assert "corrupt" in (model_cards(settings).error or "")
