"""A small, hand-made month for the alerts tests: three inboxes whose CSAT is known
day by day, so every check's value, state and history can be worked out by hand.

Every day from day 0 (2026-03-02) to day 29, each inbox gets four resolved chat
conversations, each answered with one CSAT survey an hour after it starts:
- `inbox-q`   scores 5 on days 0-9, 2 on days 10-19, 5 again from day 20: a regression
  that starts and ends;
- `inbox-up`  scores 3 on days 0-9, then 5: it gets better;
- `inbox-few` only on days 0, 10 and 20, one conversation: too few answers to judge.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.factories import DEFAULT_START, Events

DAY_MINUTES = 24 * 60
DAYS = 30


def day(number: float) -> datetime:
    """Midnight-ish check moments: `number` days after the scenario's start."""
    return DEFAULT_START + timedelta(days=number)


def _score(inbox: str, number: int) -> int:
    if inbox == "inbox-q":
        return 2 if 10 <= number < 20 else 5
    return 3 if number < 10 else 5


def month_events() -> list[dict[str, Any]]:
    f = Events()
    f.agent("alice", name="Alice Archer", teams=["t1"])
    for number in range(DAYS):
        for inbox in ("inbox-q", "inbox-up"):
            for index in range(4):
                at = number * DAY_MINUTES + index * 60
                c = f.conversation(f"c-{inbox}-{number}-{index}", inbox=inbox, at=at)
                c.customer(at=at + 1).assign("alice", team="t1", at=at + 2)
                c.reply("alice", at=at + 5).resolve(at=at + 20, by="alice")
                c.survey("csat", _score(inbox, number), at=at + 30)
        if number in (0, 10, 20):
            at = number * DAY_MINUTES
            c = f.conversation(f"c-few-{number}", inbox="inbox-few", at=at)
            c.customer(at=at + 1).reply("alice", at=at + 5).resolve(at=at + 20, by="alice")
            c.survey("csat", 1, at=at + 30)
    return f.events
