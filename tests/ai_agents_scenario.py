"""A hand-built day of AI agent work, shared by the metric, analysis and page tests.

Monday 2 March 2026 (UTC); times are minutes after 09:00. `bot` and `bot2` are AI
agents, `alice` and `bob` are people (bob does nothing here).

    c1  0   chat  billing gold en  bot replies 1, resolved 5 (300 s), CSAT 5, cost 0.20
    c2  60  chat  billing free de  bot replies 61, escalates 62 (low_confidence) to alice,
                                   alice replies 70, resolved 90 (1,800 s), CSAT 1, cost 0.50
    c3  120 email login   free en  bot2 replies 121, escalates 122 (customer_request),
                                   alice replies 125, resolved 180 (3,600 s), CSAT 2, cost 0.30
    c4  180 chat  login   gold en  bot replies 181, resolved 190 (600 s), CSAT 5, cost 0.10
    c5  240 chat  billing -    en  alice alone replies 245, resolved 260 (1,200 s), CSAT 4

AI conversations (c1-c4): 4; AI-handled and AI-resolved c1, c4 (50%); escalated c2, c3
(50%); first resolution mean 1,575 s, p95 3,330 s; CSAT 5, 1, 2, 5 = 3.25, detractors
50%; cost 1.10 in total, 0.275 per conversation; 1 turn each. Humans only (c5): CSAT
4.00 (n 1), first resolution 1,200 s, no cost recorded. All conversations: 5, AI-handled
2 of them (40%).
"""

from __future__ import annotations

from datetime import UTC, datetime

from deskpulse.metrics.window import Window
from tests.factories import Events

AS_OF = datetime(2026, 3, 9, tzinfo=UTC)
AS_OF_TEXT = "2026-03-08"  # a URL's as_of: through the end of that day
WEEK = Window(period="7d", as_of=AS_OF)


def ai_day() -> Events:
    f = Events()
    f.agent("bot", name="Billing Bot", kind="ai")
    f.agent("bot2", name="Login Bot", kind="ai")
    f.agent("alice", name="Alice Archer", teams=["t1"])
    f.agent("bob", name="Bob Baker", teams=["t1"])
    c1 = f.conversation("c1", inquiry="billing", customer_tier="gold", language="en", at=0)
    c1.customer(at=0).ai_reply("bot", at=1).cost("0.20", at=1, kind="inference")
    c1.resolve(at=5, by="bot").survey("csat", 5, at=10)
    c2 = f.conversation(
        "c2", customer="u2", inquiry="billing", customer_tier="free", language="de", at=60
    )
    c2.customer(at=60).ai_reply("bot", at=61).cost("0.50", at=61, kind="inference")
    c2.escalate(from_agent="bot", to_agent="alice", reason="low_confidence", at=62)
    c2.assign("alice", team="t1", at=62).reply("alice", at=70).resolve(at=90, by="alice")
    c2.survey("csat", 1, at=100)
    c3 = f.conversation(
        "c3",
        customer="u3",
        channel="email",
        inquiry="login",
        customer_tier="free",
        language="en",
        at=120,
    )
    c3.customer(at=120).ai_reply("bot2", at=121).cost("0.30", at=121, kind="inference")
    c3.escalate(from_agent="bot2", reason="customer_request", at=122)
    c3.assign("alice", team="t1", at=122).reply("alice", at=125).resolve(at=180, by="alice")
    c3.survey("csat", 2, at=190)
    c4 = f.conversation(
        "c4", customer="u4", inquiry="login", customer_tier="gold", language="en", at=180
    )
    c4.customer(at=180).ai_reply("bot", at=181).cost("0.10", at=181, kind="inference")
    c4.resolve(at=190, by="bot").survey("csat", 5, at=200)
    c5 = f.conversation("c5", customer="u5", inquiry="billing", language="en", at=240)
    c5.customer(at=240).assign("alice", team="t1", at=241).reply("alice", at=245)
    c5.resolve(at=260, by="alice").survey("csat", 4, at=270)
    return f
