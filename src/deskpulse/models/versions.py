"""Model versions in the data folder.

    <data>/models/<version>/manifest.json       the cards (what the model page shows), checksums
    <data>/models/<version>/classifier.joblib   the inquiry classifier, when trained
    <data>/models/<version>/channel-*.joblib    a channel's models that passed the gate
    <data>/models/current                       the name of the version in use

A version's name is its UTC training time (`20260301T120000123456Z`), so names sort in
time order. A version is written into a hidden staging folder and renamed into place,
then `current` is replaced atomically: readers see the old version or the new one,
never half of one. The newest KEEP_VERSIONS are kept (never the current one deleted).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from deskpulse.models.cards import (
    ModelCards,
    TopicsSummary,
    channel_from_json,
    classifier_from_json,
    to_json,
)
from deskpulse.models.topics import models_dir
from deskpulse.settings import Settings

KEEP_VERSIONS = 5
FORMAT = 1
CURRENT = "current"
MANIFEST = "manifest.json"
CLASSIFIER_FILE = "classifier.joblib"
_NAME = re.compile(r"^\d{8}T\d{12}Z(-\d+)?$")


class ModelVersionError(RuntimeError):
    """A model version that is missing or cannot be read; the message says what to do."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    trained_at: str | None
    current: bool


@dataclass(frozen=True)
class ModelBundle:
    """A loaded version: its cards and the models that may predict."""

    version: str
    cards: ModelCards
    classifier: Pipeline | None
    # channel -> {"satisfaction": pipeline, "resolution": pipeline}, each only when that
    # model passed the quality gate; channels with neither are left out. (Versions saved
    # before outcomes fell back one by one hold both or neither.)
    channels: dict[str, dict[str, Pipeline]]


def version_name(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def save_version(
    settings: Settings,
    cards: ModelCards,
    *,
    classifier: Pipeline | None,
    channels: dict[str, dict[str, Pipeline]],
) -> str:
    """Write a new version named after `cards.version`, make it current, prune old ones."""
    assert cards.version is not None
    root = models_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    version = cards.version
    if (root / version).exists():  # two trainings in one microsecond
        suffix = 1
        while (root / f"{version}-{suffix}").exists():
            suffix += 1
        version = f"{version}-{suffix}"
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".staging-{version}-"))
    try:
        files: dict[str, str] = {}
        if classifier is not None:
            joblib.dump(classifier, staging / CLASSIFIER_FILE)
            files[CLASSIFIER_FILE] = _sha256(staging / CLASSIFIER_FILE)
        channel_files: dict[str, str] = {}
        for index, (channel, pair) in enumerate(sorted(channels.items()), start=1):
            name = f"channel-{index}-{re.sub(r'[^A-Za-z0-9_-]', '_', channel)}.joblib"
            joblib.dump(pair, staging / name)
            files[name] = _sha256(staging / name)
            channel_files[channel] = name
        manifest = {
            "format": FORMAT,
            "version": version,
            "cards": to_json(cards),
            "classifier_file": CLASSIFIER_FILE if classifier is not None else None,
            "channel_files": channel_files,
            "sha256": files,
        }
        manifest["cards"]["version"] = version
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        os.rename(staging, root / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    set_current(settings, version)
    prune(settings)
    return version


def set_current(settings: Settings, version: str) -> None:
    root = models_dir(settings)
    if not (root / version / MANIFEST).is_file():
        raise ModelVersionError(f"no model version {version!r} in {root}")
    handle, staged = tempfile.mkstemp(dir=root, prefix=".current-")
    with os.fdopen(handle, "w") as out:
        out.write(version + "\n")
    os.replace(staged, root / CURRENT)


def current_version(settings: Settings) -> str | None:
    pointer = models_dir(settings) / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text().strip()
    return name or None


def list_versions(settings: Settings) -> list[VersionInfo]:
    """Versions, newest first."""
    root = models_dir(settings)
    if not root.is_dir():
        return []
    current = current_version(settings)
    found = []
    for folder in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
        if not folder.is_dir() or not _NAME.match(folder.name):
            continue
        trained_at = None
        try:
            trained_at = json.loads((folder / MANIFEST).read_text())["cards"]["trained_at"]
        except (OSError, ValueError, KeyError, TypeError):
            trained_at = None  # listed anyway: it shows up as unreadable when loaded
        found.append(
            VersionInfo(version=folder.name, trained_at=trained_at, current=folder.name == current)
        )
    return found


def prune(settings: Settings, keep: int = KEEP_VERSIONS) -> list[str]:
    """Delete all but the newest `keep` versions (never the current one)."""
    current = current_version(settings)
    removed = []
    for info in list_versions(settings)[keep:]:
        if info.version == current:
            continue
        shutil.rmtree(models_dir(settings) / info.version, ignore_errors=True)
        removed.append(info.version)
    return removed


# -- reading -------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_bundles: dict[tuple[str, str], ModelBundle] = {}
_cards: dict[tuple[str, str, int], ModelCards] = {}


def _folder(settings: Settings, version: str | None) -> tuple[str, Path]:
    chosen = version or current_version(settings)
    if chosen is None:
        raise ModelVersionError(f"no trained models in {models_dir(settings)}: run deskpulse train")
    folder = models_dir(settings) / chosen
    if not (folder / MANIFEST).is_file():
        raise ModelVersionError(
            f"model version {chosen!r} is missing from {models_dir(settings)}: "
            "run deskpulse train to make a new one"
        )
    return chosen, folder


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise ModelVersionError(
            f"model version {folder.name!r} is corrupt: {folder / MANIFEST} cannot be read "
            f"({error}); run deskpulse train to make a new one"
        ) from None
    if manifest.get("format") != FORMAT or "cards" not in manifest:
        raise ModelVersionError(
            f"model version {folder.name!r} has an unknown manifest format; "
            "run deskpulse train to make a new one"
        )
    return manifest


def load_cards(settings: Settings, version: str | None = None) -> ModelCards:
    """The cards of a version (default: the current one), without loading any model."""
    chosen, folder = _folder(settings, version)
    stamp = (folder / MANIFEST).stat().st_mtime_ns
    key = (str(folder), chosen, stamp)
    with _cache_lock:
        if key in _cards:
            return _cards[key]
    try:
        cards = cards_from_json(_manifest(folder)["cards"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelVersionError(
            f"model version {chosen!r} is corrupt: its cards cannot be read ({error}); "
            "run deskpulse train to make a new one"
        ) from None
    with _cache_lock:
        _cards[key] = cards
    return cards


def load_version(settings: Settings, version: str | None = None) -> ModelBundle:
    """A version's cards and models (default: the current one). Cached per process."""
    chosen, folder = _folder(settings, version)
    key = (str(folder), chosen)
    with _cache_lock:
        if key in _bundles:
            return _bundles[key]
    manifest = _manifest(folder)
    cards = load_cards(settings, chosen)
    checksums: dict[str, str] = manifest.get("sha256", {})
    classifier = None
    if manifest.get("classifier_file"):
        classifier = _load_file(folder, manifest["classifier_file"], checksums)
    channels = {
        channel: _load_file(folder, name, checksums)
        for channel, name in manifest.get("channel_files", {}).items()
    }
    bundle = ModelBundle(version=chosen, cards=cards, classifier=classifier, channels=channels)
    with _cache_lock:
        _bundles.clear()  # one version in use at a time: keep memory flat
        _bundles[key] = bundle
    return bundle


def _load_file(folder: Path, name: str, checksums: dict[str, str]) -> Any:
    path = folder / name
    if not path.is_file():
        raise ModelVersionError(
            f"model version {folder.name!r} is incomplete: {name} is missing; "
            "run deskpulse train to make a new one"
        )
    if checksums.get(name) != _sha256(path):
        raise ModelVersionError(
            f"model version {folder.name!r} is corrupt: {name} does not match its checksum; "
            "run deskpulse train to make a new one"
        )
    try:
        return joblib.load(path)
    except Exception as error:
        raise ModelVersionError(
            f"model version {folder.name!r} is corrupt: {name} cannot be loaded ({error}); "
            "run deskpulse train to make a new one"
        ) from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cards_from_json(data: dict[str, Any]) -> ModelCards:
    topics = data.get("topics")
    return ModelCards(
        version=data.get("version"),
        trained_at=data.get("trained_at"),
        classifier=classifier_from_json(data["classifier"]) if data.get("classifier") else None,
        channels=[channel_from_json(item) for item in data.get("channels", [])],
        inquiry_method=data.get("inquiry_method", "none"),
        topics=TopicsSummary(**topics) if topics else None,
        seconds=data.get("seconds"),
        error=None,
    )
