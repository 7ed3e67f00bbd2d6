"""A small team's billing chats around one plan start, for the coaching tests.

Every interaction is a chat alice (or bob) answers, logs `seconds` of work on, resolves
and gets a CSAT for, each from a different customer (so each resolution is first-contact).
With no trained model the scoring writes the measured outcomes: predicted satisfaction 1.0
for CSAT 4-5 and 0.0 below, predicted resolution 1.0 for FCR. The numbers below are
therefore worked out by hand from `seconds` and `csat`.

The plan begins at BEGAN (June 1, 12:00 UTC): Start covers the 91 days before it,
[March 2, 12:00, June 1, 12:00).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from deskpulse.events.store import Store
from tests.factories import Events, ingest_and_build

ORIGIN = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
BEGAN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BEGAN_PARAM = "2026-06-01T12:00:00+00:00"
INQUIRY = "billing"
CHANNEL = "chat"


def moment_param(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Chat:
    conversation_id: str
    agent: str
    at: datetime
    seconds: float
    csat: int | None = 5
    inquiry: str = INQUIRY
    channel: str = CHANNEL


class Scenario:
    """Builds events one interaction at a time; `load` ingests, builds facts and scores."""

    def __init__(self) -> None:
        self.f = Events(start=ORIGIN)
        self.f.agent("alice", name="Alice", teams=["t1"], at=0)
        self.f.agent("bob", name="Bob", teams=["t1"], at=0)
        self.f.agent("carol", name="Carol", teams=["t1"], at=0)
        self.f.agent("dave", name="Dave", teams=["t1"], at=0)
        self._loaded = 0
        self._count = 0

    def minutes(self, moment: datetime) -> float:
        return (moment - ORIGIN).total_seconds() / 60

    def chat(
        self,
        agent: str,
        at: datetime,
        seconds: float,
        *,
        csat: int | None = 5,
        inquiry: str = INQUIRY,
        channel: str = CHANNEL,
        logged: bool = True,
    ) -> Chat:
        """One chat; with `logged=False` no work is logged and the reply comes `seconds`
        after the customer's message, so the handle time is the (capped) estimate."""
        self._count += 1
        cid = f"{agent}-{self._count:03d}"
        t = self.minutes(at)
        c = self.f.conversation(cid, customer=f"cust-{cid}", channel=channel, inquiry=inquiry, at=t)
        reply_after = 1 if logged else seconds / 60
        c.customer(at=t).assign(agent, at=t).reply(agent, at=t + reply_after)
        if logged:
            c.work(agent, seconds=seconds, at=t + reply_after + 1)
        c.resolve(at=t + reply_after + 2)
        if csat is not None:
            c.survey("csat", csat, at=t + reply_after + 3)
        return Chat(cid, agent, at, seconds, csat, inquiry, channel)

    def chats(
        self,
        agent: str,
        first: datetime,
        seconds: Iterable[float],
        *,
        every: timedelta,
        **kw: object,
    ) -> list[Chat]:
        return [
            self.chat(agent, first + i * every, value, **kw)  # type: ignore[arg-type]
            for i, value in enumerate(seconds)
        ]

    def load(self, store: Store) -> None:
        """Ingest what is new, rebuild the facts and score them (measured outcomes)."""
        ingest_and_build(store, self.f.events[self._loaded :])
        self._loaded = len(self.f.events)
        score(store)


def score(store: Store) -> None:
    """effectiveness_facts as deskpulse.models.scoring writes them with no trained model."""
    from deskpulse.models.scoring import score as score_facts

    score_facts(store, store.settings)


def team_history(s: Scenario) -> dict[str, list[Chat]]:
    """Alice's billing chats before the plan, and what must stay out of her Start.

    Start (aes_handle_time): 600, 600, 900, 900 in the 91 days -> mean 750 s, n = 4.
    Kept out: a chat before the 91 days (1,200 s), an email on billing (5,000 s), a
    shipping chat (7,000 s) and bob's billing chats. Now, the 20 most recent billing chats,
    has no such limit: at the start it is all five, 4,200 / 5 = 840 s.
    """
    return {
        "before_window": [s.chat("alice", BEGAN - timedelta(days=95), 1200)],
        "start": s.chats(
            "alice", BEGAN - timedelta(days=60), [600, 600, 900, 900], every=timedelta(days=7)
        ),
        "email": [s.chat("alice", BEGAN - timedelta(days=20), 5000, channel="email")],
        "shipping": [s.chat("alice", BEGAN - timedelta(days=21), 7000, inquiry="shipping")],
        "bob": s.chats("bob", BEGAN - timedelta(days=50), [300, 300, 300], every=timedelta(days=5)),
    }
