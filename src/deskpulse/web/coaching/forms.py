"""The coaching wizard's draft: what the agent typed so far, kept in their session.

Everything typed is stored as typed (text, not parsed numbers) on every Continue and
every Back, valid or not, so a validation error or a step back never loses a word. A
step is validated when the agent continues from it; the plan as a whole once more when
they commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from deskpulse.analysis import coaching as core
from deskpulse.web.coaching import service

SESSION_KEY = "coaching_draft"


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    # The plan fields this step collects: a commit error on one sends the agent here.
    fields: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step("metric", "Metric", ("metric", "channel", "inquiry", "agent_id")),
    Step("target", "Target", ("improvement",)),
    Step("date", "Target date", ("target_date",)),
    Step("review", "Review", ()),
    Step("actions", "Actions", ("actions",)),
    Step("assistance", "Assistance", ("assistance",)),
    Step("summary", "Summary", ()),
)
STEP_KEYS: tuple[str, ...] = tuple(step.key for step in STEPS)


def step_index(key: str) -> int:
    return STEP_KEYS.index(key)


def step_for_field(name: str) -> str:
    for step in STEPS:
        if name in step.fields:
            return step.key
    return STEPS[0].key


@dataclass
class Draft:
    agent_id: str
    channel: str
    inquiry: str
    # The moment the wizard's numbers are read at: None means "now" (the URL's as_of pins
    # it, for tests and demos).
    as_of: str | None = None
    metric: str = ""
    recommended: str | None = None
    improvement: str = ""
    target_date: str = ""
    actions: list[str] = field(default_factory=list)
    assistance_picked: list[str] = field(default_factory=list)
    assistance_own: list[str] = field(default_factory=list)
    # Index of the furthest step the agent may open (each earlier step was valid).
    reached: int = 0

    # -- session round trip ----------------------------------------------------------------

    def save(self, session: Any) -> None:
        session[SESSION_KEY] = asdict(self)

    @classmethod
    def load(cls, session: Any) -> Draft | None:
        stored = session.get(SESSION_KEY)
        if not isinstance(stored, dict):
            return None
        try:
            return cls(**stored)
        except TypeError:
            # A draft saved by an older version of the wizard: start again.
            return None

    @staticmethod
    def discard(session: Any) -> None:
        session.pop(SESSION_KEY, None)

    def same_subject(self, agent_id: str, channel: str, inquiry: str) -> bool:
        return (self.agent_id, self.channel, self.inquiry) == (agent_id, channel, inquiry)

    # -- typed values ------------------------------------------------------------------------

    def improvement_number(self) -> float | None:
        return parse_percent(self.improvement)

    def target_day(self) -> date | None:
        return parse_day(self.target_date)

    def assistance(self) -> list[str]:
        return [*self.assistance_picked, *self.assistance_own]

    def request(self) -> service.PlanRequest:
        return service.PlanRequest(
            agent_id=self.agent_id,
            channel=self.channel,
            inquiry=self.inquiry,
            metric=self.metric,
            improvement=self.improvement_number(),
            target_date=self.target_day(),
            actions=list(self.actions),
            assistance=self.assistance(),
        )

    # -- reading one step's form -------------------------------------------------------------

    def take(self, step: str, data: Mapping[str, Any]) -> None:
        """Keep what the step's form sent, exactly as typed."""
        getlist = getattr(data, "getlist", None)

        def values(name: str) -> list[str]:
            if callable(getlist):
                return [str(v) for v in getlist(name)]
            raw = data.get(name)
            if raw is None:
                return []
            return [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]

        if step == "metric" and "metric" in data:
            self.metric = str(data.get("metric", "")).strip()
        elif step == "target" and "improvement" in data:
            self.improvement = str(data.get("improvement", "")).strip()
        elif step == "date" and "target_date" in data:
            self.target_date = str(data.get("target_date", "")).strip()
        elif step == "actions":
            self.actions = values("action")
        elif step == "assistance":
            self.assistance_picked = [v for v in values("pick") if v in core.ASSISTANCE_CHOICES]
            self.assistance_own = values("own")

    def check(self, step: str, today: date) -> str | None:
        """Validate one step (PlanInputError naming the field); a date step may warn."""
        if step == "metric":
            service.validate_metric(self.metric)
        elif step == "target":
            if self.improvement and self.improvement_number() is None:
                raise service.PlanInputError(
                    "improvement", f"{self.improvement!r} is not a number: enter a percentage"
                )
            service.validate_improvement(self.improvement_number())
        elif step == "date":
            if self.target_date and self.target_day() is None:
                raise service.PlanInputError(
                    "target_date", f"{self.target_date!r} is not a date: use YYYY-MM-DD"
                )
            return service.validate_target_date(self.target_day(), today)
        elif step == "actions":
            self.actions = service.validate_actions(self.actions)
        elif step == "assistance":
            cleaned = service.validate_assistance(self.assistance())
            picked = [item for item in cleaned if item in self.assistance_picked]
            self.assistance_picked = picked
            self.assistance_own = [item for item in cleaned if item not in picked]
        return None


def parse_percent(text: str) -> float | None:
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def as_of_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def as_of_moment(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)
