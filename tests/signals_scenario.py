"""Seed 004's friction, planted by hand: one queue where handle time halves while CSAT falls.

Used by tests/analysis/test_signals.py and tests/web/test_signals_pages.py. Mar 2 09:00
UTC is minute 0; WEEK is Mar 2 - Mar 9 and the previous period Feb 23 - Mar 2.
"""

from __future__ import annotations

from datetime import UTC, datetime

from deskpulse.metrics.window import Window
from tests.factories import Events

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # minute 0; the week before is the previous
WEEK = Window(period="7d", as_of=datetime(2026, 3, 9, tzinfo=UTC))
PER_WEEK = 40


def friction_week(*, rushed: bool) -> Events:
    """Two queues, 40 conversations a week each. In inbox-rush CSAT falls from about 4.6
    to 2.8 and, when `rushed`, logged handle time halves (600 s -> 300 s); inbox-steady
    (another channel and inquiry) stays as it was. Replies come 5-7 minutes after the
    customer in both weeks, every conversation is resolved once, nobody comes back."""
    f = Events(start=START)
    f.agent("ann", name="Ann Rushwood", teams=["t1"], at=-20_000)
    f.agent("ben", name="Ben Steady", teams=["t1"], at=-20_000)
    for week, offset in (("before", -7 * 1440), ("now", 0)):
        for i in range(PER_WEEK):
            at = offset + i * 60.0
            for queue, agent, channel, inquiry in (
                ("inbox-rush", "ann", "email", "billing"),
                ("inbox-steady", "ben", "chat", "shipping"),
            ):
                worse = queue == "inbox-rush" and week == "now"
                seconds = 600 + 30 * (i % 5 - 2)
                if worse and rushed:
                    seconds //= 2
                score = (3, 2, 3, 4, 2)[i % 5] if worse else (5, 4, 5, 4, 5)[i % 5]
                cid = f"{queue}-{week}-{i}"
                c = f.conversation(
                    cid, customer=cid, channel=channel, inquiry=inquiry, inbox=queue, at=at
                )
                c.customer(at=at).assign(agent, at=at).reply(agent, at=at + 5 + i % 3)
                c.work(agent, seconds=seconds, at=at + 8).resolve(at=at + 30, by=agent)
                c.survey("csat", score, at=at + 40)
    return f
