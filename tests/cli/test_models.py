"""`deskpulse train`, `score` and `topics` as a user runs them: real subprocesses on
temporary data folders (the style of tests/cli/test_data.py)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import END, deskpulse
from tests.conftest import PINNED_NOW
from tests.models.helpers import themed_events

VERSION = re.compile(r"version (\d{8}T\d{12}Z(?:-\d+)?) saved")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-models") / "data"
    generated = deskpulse(data, "generate", "--conversations", "3000", "--end", END)
    assert generated.returncode == 0, generated.stderr
    imported = deskpulse(data, "import", str(data / "generated.jsonl"))
    assert imported.returncode == 0, imported.stderr
    return data


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-topics") / "data"
    data.mkdir(parents=True)
    events = data / "themes.jsonl"
    events.write_bytes(b"\n".join(orjson.dumps(e) for e in themed_events(per_theme=40)))
    imported = deskpulse(data, "import", str(events))
    assert imported.returncode == 0, imported.stderr
    return data


@pytest.fixture(scope="module")
def first_training(loaded: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """`deskpulse train` on the loaded folder, and the version it saved."""
    result = deskpulse(loaded, "train")
    assert result.returncode == 0, result.stderr
    found = VERSION.search(result.stdout)
    assert found is not None, result.stdout
    return result, found.group(1)


def _manifest(data: Path, version: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        (data / "models" / version / "manifest.json").read_text()
    )
    return loaded


def test_train_prints_quality_saves_a_version_and_scores(
    loaded: Path, first_training: tuple[subprocess.CompletedProcess[str], str]
) -> None:
    result, version = first_training
    out = result.stdout
    assert "inquiry classifier (stratified held-out 20%)" in out
    assert "majority baseline macro-F1" in out
    assert "prediction models per channel" in out
    for channel in ("chat", "email", "voice", "social", "sms"):
        assert re.search(rf"│ {channel}\s+│ satisfact", out), channel
    # On this small organisation a model may not clear the whole gate (200 held-out labels,
    # calibration within 3 points, docs/models.md): then the card says which rule it missed.
    flat = " ".join(out.split())
    assert "predicts" in out or re.search(
        r"held-out labels, 200 needed|points on held-out data", flat
    ), out
    assert re.search(
        r"resolution is measured: the \w+ resolution model's held-out AUC is "
        r"0\.\d{3}, below the 0\.6 it needs",
        " ".join(out.split()),  # rich wraps long lines
    ), out
    assert (loaded / "models" / "current").read_text().strip() == version
    cards = _manifest(loaded, version)["cards"]
    assert isinstance(cards, dict)
    assert cards["classifier"]["macro_f1"] > cards["classifier"]["baseline_macro_f1"]
    assert "scored" in out
    assert "agent-conversation rows" in out
    assert "trained and scored" in result.stderr
    assert "9/9" in result.stderr

    scored = deskpulse(loaded, "score")
    assert scored.returncode == 0, scored.stderr
    assert re.search(
        rf"with model version {version}: satisfaction predicted on [\d,]+",
        " ".join(scored.stdout.split()),
    )


def test_train_one_channel_keeps_the_others(
    loaded: Path, first_training: tuple[subprocess.CompletedProcess[str], str]
) -> None:
    _result, before = first_training
    # Retrained an hour later (the suite's clock is pinned: docs/clock.md).
    later = (PINNED_NOW + timedelta(hours=1)).isoformat()
    again = deskpulse(loaded, "train", "--channel", "chat", now=later)
    assert again.returncode == 0, again.stderr
    after = VERSION.search(again.stdout)
    assert after is not None
    old = {c["channel"]: c for c in _manifest(loaded, before)["cards"]["channels"]}  # type: ignore[index]
    new = {c["channel"]: c for c in _manifest(loaded, after.group(1))["cards"]["channels"]}  # type: ignore[index]
    assert set(new) == set(old)
    assert new["email"] == old["email"]
    assert new["chat"]["trained_at"] > old["chat"]["trained_at"]


def test_bad_options_get_one_line_errors(loaded: Path) -> None:
    result = deskpulse(loaded, "train", "--channel", "fax")
    assert result.returncode != 0
    assert "--channel: no conversations on 'fax'; the channels with conversations are" in (
        result.stderr
    )
    listed = deskpulse(loaded, "topics", "list")
    assert listed.returncode != 0
    assert "no topics yet" in listed.stderr


def test_topics_from_discovery_to_labels(unlabelled: Path) -> None:
    trained = deskpulse(unlabelled, "train", "--k", "3")
    assert trained.returncode == 0, trained.stderr
    assert "not trained: too few labels" in trained.stdout
    assert "topics: discovered 3 topics" in trained.stdout

    listed = deskpulse(unlabelled, "topics", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    topics = json.loads(listed.stdout)["topics"]
    assert len(topics) == 3
    refund = next(t["topic_id"] for t in topics if "refund" in t["terms"][:3])
    others = [t["topic_id"] for t in topics if t["topic_id"] != refund]

    named = deskpulse(unlabelled, "topics", "name", str(refund), "Refunds")
    assert named.returncode == 0, named.stderr
    assert f"topic {refund} is now the inquiry Refunds" in named.stdout
    merged = deskpulse(
        unlabelled, "topics", "merge", str(others[0]), str(others[1]), "--name", "Account"
    )
    assert merged.returncode == 0, merged.stderr
    scored = deskpulse(unlabelled, "score")
    assert scored.returncode == 0, scored.stderr
    assert "inquiries by source: topic 120" in scored.stdout
    ignored = deskpulse(unlabelled, "topics", "ignore", str(others[0]))
    assert ignored.returncode == 0, ignored.stderr
    table = deskpulse(unlabelled, "topics", "list")
    assert "ignored" in table.stdout
    assert "Refunds" in table.stdout

    unknown = deskpulse(unlabelled, "topics", "name", "9", "Nine")
    assert unknown.returncode != 0
    assert "TOPIC: no topic 9; the topics are 1, 2, 3" in unknown.stderr
    blank = deskpulse(unlabelled, "topics", "name", str(refund), " ")
    assert blank.returncode != 0
    assert "NAME: give the topic a name" in blank.stderr

    refused = deskpulse(unlabelled, "topics", "discover", "--k", "3")
    assert refused.returncode != 0
    assert "3 topics are already named or ignored; --force replaces them" in refused.stderr
    replaced = deskpulse(unlabelled, "topics", "discover", "--k", "4", "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert "4 topics proposed from 120 conversations" in replaced.stdout
