"""Whether a channel's satisfaction and resolution are predicted or measured, as the
performance pages say it.

The model cards (deskpulse.models.training.model_cards) decide, outcome by outcome; this
module only words their verdict for the page beside the channel's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from deskpulse.web.runtime import install_settings


@dataclass(frozen=True)
class OutcomeModel:
    """One outcome of the channel: predicted by its model, or measured."""

    outcome: Literal["satisfaction", "resolution"]
    status: Literal["ok", "fallback"]  # ok: predicted; fallback: the measured rate
    reason: str  # plain words, without the channel's name in front
    auc: float | None  # held-out, when the model was measured
    sentence: str  # "Satisfaction is predicted by …" / "Resolution is measured: …"

    @property
    def predicted(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class ModelStatus:
    channel: str
    # ok: both outcomes predicted; partial: one predicted, one measured; fallback: both
    # measured; none: nothing has been trained at all yet (the page suggests
    # `deskpulse train`).
    status: Literal["ok", "partial", "fallback", "none"]
    reason: str  # both outcomes in one sentence
    trained_at: str | None
    version: str | None
    satisfaction: OutcomeModel
    resolution: OutcomeModel
    satisfaction_auc: float | None = None  # held-out, when satisfaction is predicted
    resolution_auc: float | None = None  # held-out, when resolution is predicted

    @property
    def outcomes(self) -> list[OutcomeModel]:
        return [self.satisfaction, self.resolution]


def _sentence(outcome: str, status: str, reason: str) -> str:
    if status == "ok":
        return f"{outcome.capitalize()} is {reason}"
    return f"{outcome.capitalize()} is measured: {reason}"


def channel_status(channel: str) -> ModelStatus:
    from deskpulse.models.training import model_cards

    cards = model_cards(install_settings())
    found = cards.status_of(channel)
    card = cards.channel(channel)
    satisfaction, resolution = (
        OutcomeModel(
            part.outcome,
            part.status,
            part.reason,
            part.auc,
            _sentence(part.outcome, part.status, part.reason),
        )
        for part in (found.satisfaction, found.resolution)
    )
    reason = f"{satisfaction.sentence}; {resolution.sentence[0].lower()}{resolution.sentence[1:]}"
    return ModelStatus(
        channel=channel,
        status="none" if cards.version is None else found.status,
        reason=reason,
        trained_at=card.trained_at if card is not None else cards.trained_at,
        version=cards.version,
        satisfaction=satisfaction,
        resolution=resolution,
        satisfaction_auc=satisfaction.auc if satisfaction.predicted else None,
        resolution_auc=resolution.auc if resolution.predicted else None,
    )
