"""Model cards: what was trained, on how much, and how good it is on held-out data.

A card is what the model page, the API and `deskpulse train` show, and what a version's
manifest.json stores. Cards are plain frozen dataclasses of JSON-friendly values (times
as ISO 8601 text) so a manifest read back is equal to the card written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ClassifierStatus = Literal["ok", "not_trained"]
# ok: both of the channel's outcomes are predicted; partial: one is predicted, the other
# measured; fallback: both are measured.
ChannelStatusName = Literal["ok", "partial", "fallback"]
# ok: the outcome's model predicts it; fallback: the measured outcome stands in.
OutcomeStatusName = Literal["ok", "fallback"]
Outcome = Literal["satisfaction", "resolution"]
OUTCOME_NAMES: tuple[Outcome, ...] = ("satisfaction", "resolution")
InquiryMethod = Literal["classifier", "topics", "none"]

OUTCOME_LABELS: dict[str, str] = {
    "satisfaction": "Predicted satisfaction: P(CSAT \u2265 4)",
    "resolution": "Predicted resolution: P(first-contact resolution)",
}


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int  # held-out conversations with this label


@dataclass(frozen=True)
class ClassifierCard:
    """The inquiry classifier, evaluated on a stratified held-out 20%."""

    status: ClassifierStatus
    reason: str  # plain words; says why when not trained
    labelled: int  # labelled conversations with customer text
    classes: int  # inquiry labels it learned
    train_size: int = 0
    test_size: int = 0
    macro_f1: float | None = None
    accuracy: float | None = None
    baseline_macro_f1: float | None = None  # always answering the most common label
    baseline_label: str | None = None
    per_class: list[ClassScore] = field(default_factory=list)
    # Labels with too few examples to learn, and how many they had.
    left_out: dict[str, int] = field(default_factory=dict)
    char_ngrams: bool = False
    trained_at: str | None = None


@dataclass(frozen=True)
class CalibrationBin:
    predicted: float  # mean predicted probability in the bin
    observed: float  # share of positives in the bin
    count: int  # held-out conversations in the bin


@dataclass(frozen=True)
class OutcomeCard:
    """One prediction model of a channel (satisfaction or resolution)."""

    outcome: Outcome
    passed: bool  # good enough to predict with (the quality gate)
    reason: str  # plain words; empty when passed
    positives: int = 0
    negatives: int = 0
    train_positives: int = 0
    train_negatives: int = 0
    test_positives: int = 0
    test_negatives: int = 0
    auc: float | None = None
    brier: float | None = None
    baseline_brier: float | None = None  # always answering the training prevalence
    prevalence: float | None = None  # share of positives in the training part
    calibration: list[CalibrationBin] = field(default_factory=list)
    data_from: str | None = None  # first labelled conversation's creation
    data_to: str | None = None  # last labelled conversation's creation
    test_from: str | None = None  # where the held-out (newest) part begins
    # Calibration in the large on the held-out part: the mean predicted probability and
    # the observed rate. None on cards written before the gate checked it.
    test_mean_predicted: float | None = None
    test_observed: float | None = None

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]

    @property
    def test_labels(self) -> int:
        return self.test_positives + self.test_negatives

    @property
    def calibration_gap(self) -> float | None:
        """Mean prediction minus observed rate on held-out data (> 0: over-predicts)."""
        if self.test_mean_predicted is None or self.test_observed is None:
            return None
        return self.test_mean_predicted - self.test_observed

    @property
    def labels(self) -> int:
        return self.positives + self.negatives


@dataclass(frozen=True)
class OutcomeStatus:
    """Whether one outcome of one channel is predicted or measured, and why."""

    outcome: Outcome
    status: OutcomeStatusName
    reason: str  # plain words, without the channel: "predicted by …" or why it is measured
    auc: float | None = None  # held-out, when the model was measured


@dataclass(frozen=True)
class ChannelCard:
    """A channel's two models. Each outcome falls back to its measured rate on its own
    when its model fails the gate (DESIGN.md); the other may still predict."""

    channel: str
    status: ChannelStatusName
    reason: str  # plain words: which outcome is predicted and which measured, and why
    satisfaction: OutcomeCard
    resolution: OutcomeCard
    conversations: int  # conversations of the channel when trained
    trained_at: str
    # Versions saved before outcomes fell back one by one kept a channel's models only
    # when both passed: there a passing model of a "fallback" channel was never saved.
    per_outcome: bool = True

    def outcome(self, name: Outcome) -> OutcomeCard:
        return self.satisfaction if name == "satisfaction" else self.resolution

    def outcome_status(self, name: Outcome) -> OutcomeStatus:
        card = self.outcome(name)
        if card.passed and card.calibration_gap is None:
            # Passed a gate that checked AUC only (a version trained before the gate
            # needed held-out calibration and 200 held-out labels): not trusted now.
            return OutcomeStatus(
                name,
                "fallback",
                f"the {name} model was trained before the gate checked calibration and "
                "held-out labels: run deskpulse train to measure it",
                card.auc,
            )
        if card.passed and (self.per_outcome or self.status == "ok"):
            return OutcomeStatus(
                name,
                "ok",
                f"predicted by the {self.channel} {name} model (held-out AUC {_auc(card.auc)})",
                card.auc,
            )
        if card.passed:
            return OutcomeStatus(
                name,
                "fallback",
                f"the {name} model passed, but this model version was saved when a channel "
                "predicted only with both models passing: run deskpulse train to use it",
                card.auc,
            )
        # The card's reason is the model's own ("the resolution model's held-out AUC is
        # 0.571, …"); beside other channels it names this one.
        reason = (card.reason or "not trained").replace(
            f"the {name} model", f"the {self.channel} {name} model", 1
        )
        return OutcomeStatus(name, "fallback", reason, card.auc)

    def status_now(self) -> ChannelStatus:
        """The channel's and each outcome's status with plain-words reasons, as this
        version predicts (see `per_outcome`)."""
        satisfaction = self.outcome_status("satisfaction")
        resolution = self.outcome_status("resolution")
        return ChannelStatus(
            channel_status_name(satisfaction.status, resolution.status),
            channel_reason(self.channel, satisfaction, resolution),
            satisfaction,
            resolution,
        )

    @property
    def predicted(self) -> list[Outcome]:
        """The outcomes this channel predicts (the others are measured)."""
        return [name for name in OUTCOME_NAMES if self.outcome_status(name).status == "ok"]


def _auc(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.3f}"


def channel_status_name(
    satisfaction: OutcomeStatusName, resolution: OutcomeStatusName
) -> ChannelStatusName:
    if satisfaction == resolution:
        return satisfaction
    return "partial"


def channel_reason(channel: str, satisfaction: OutcomeStatus, resolution: OutcomeStatus) -> str:
    """One sentence per channel: "<channel>: satisfaction is predicted by …; resolution is
    measured: <why>"."""

    def part(found: OutcomeStatus) -> str:
        if found.status == "ok":
            return f"{found.outcome} is {found.reason}"
        return f"{found.outcome} is measured: {found.reason}"

    return f"{channel}: {part(satisfaction)}; {part(resolution)}"


@dataclass(frozen=True)
class ChannelStatus:
    status: ChannelStatusName
    reason: str
    satisfaction: OutcomeStatus
    resolution: OutcomeStatus

    def outcome(self, name: Outcome) -> OutcomeStatus:
        return self.satisfaction if name == "satisfaction" else self.resolution


@dataclass(frozen=True)
class TopicsSummary:
    discovered_at: str | None
    topics: int
    named: int
    ignored: int


@dataclass(frozen=True)
class ModelCards:
    """Everything the model page shows: the current version's cards."""

    version: str | None  # None: nothing trained yet
    trained_at: str | None
    classifier: ClassifierCard | None
    channels: list[ChannelCard]
    inquiry_method: InquiryMethod
    topics: TopicsSummary | None = None
    seconds: float | None = None  # how long the training took
    # Set when the current version cannot be read: the numbers fall back to measured
    # rates and the model page shows this.
    error: str | None = None

    def channel(self, name: str) -> ChannelCard | None:
        return next((card for card in self.channels if card.channel == name), None)

    def status_of(self, channel: str) -> ChannelStatus:
        """The channel's status ("ok", "partial" or "fallback") and each outcome's ("ok" or
        "fallback") with plain-words reasons, for any channel (also one no model was
        trained for)."""
        card = self.channel(channel)
        if card is not None:
            return card.status_now()
        why = (
            "no models are trained yet (deskpulse train)"
            if self.version is None
            else "no model was trained for this channel"
        )
        if self.error is not None:
            why = f"the current model version cannot be read ({self.error})"
        satisfaction = OutcomeStatus("satisfaction", "fallback", why)
        resolution = OutcomeStatus("resolution", "fallback", why)
        return ChannelStatus(
            channel_status_name(satisfaction.status, resolution.status),
            channel_reason(channel, satisfaction, resolution),
            satisfaction,
            resolution,
        )


NO_MODELS = ModelCards(
    version=None,
    trained_at=None,
    classifier=None,
    channels=[],
    inquiry_method="none",
)


def to_json(card: Any) -> Any:
    """A card (or list/dict of them) as plain JSON values."""
    if dataclasses.is_dataclass(card) and not isinstance(card, type):
        return {f.name: to_json(getattr(card, f.name)) for f in dataclasses.fields(card)}
    if isinstance(card, list | tuple):
        return [to_json(item) for item in card]
    if isinstance(card, dict):
        return {str(key): to_json(value) for key, value in card.items()}
    if isinstance(card, datetime):
        return card.isoformat()
    return card


def classifier_from_json(data: dict[str, Any]) -> ClassifierCard:
    values = dict(data)
    values["per_class"] = [ClassScore(**item) for item in data.get("per_class", [])]
    values["left_out"] = {str(k): int(v) for k, v in data.get("left_out", {}).items()}
    return ClassifierCard(**values)


def outcome_from_json(data: dict[str, Any]) -> OutcomeCard:
    values = dict(data)
    values["calibration"] = [CalibrationBin(**item) for item in data.get("calibration", [])]
    return OutcomeCard(**values)


def channel_from_json(data: dict[str, Any]) -> ChannelCard:
    values = dict(data)
    values["satisfaction"] = outcome_from_json(data["satisfaction"])
    values["resolution"] = outcome_from_json(data["resolution"])
    # Written before outcomes fell back one by one: see ChannelCard.per_outcome.
    values.setdefault("per_outcome", False)
    return ChannelCard(**values)
