"""The conversation simulation: one conversation at a time, events as plain dicts.

What is in the data, so that people building on it know what to look for:

* **Flow.** `conversation.created` and the customer's first message, routing to a team
  (the assigned agent's team is the conversation's team), public replies with AI-draft
  assist (none / draft_as_is / draft_edited, about 55/15/30 with per-agent habits),
  multi-turn exchanges, pending/snoozed states, resolution, reopens (~8%: the customer
  writes again, status goes back to `open`, a human answers and re-resolves), teammate
  replies (~5%), transfers (sometimes via an unassigned step), internal notes with
  @mentions, and recent conversations that are still open at `end`.
* **AI agents.** The first AI agent ("Aria") takes most web chats, the second ("Nova")
  most social conversations. The AI either resolves alone (likelier on easy inquiries) or
  escalates with a reason, after which a human replies; `cost.recorded` (inference with
  tokens, sometimes tools) goes on every AI conversation.
* **Experiment.** `ai-reply-style` (control / concise) on Aria's web chats during the last
  30 days: concise resolves ~6 points more often without escalation, uses fewer tokens and
  scores slightly lower CSAT (a guardrail to catch).
* **AI regression.** Nova's resolution rate drops ~15 points in the last 14 days, with
  more `low_confidence` escalations (for regression alerts).
* **Degrading queues.** Two inboxes slowly degrade over the window: `inbox-app-chat` (the
  mobile-app chat, no AI agent there) and `inbox-sms`. Their human reply delays grow
  from x1 to about x3 and their CSAT falls steadily; nothing else changes.
* **Incident.** One afternoon about 63% into the window (13:00-18:00 UTC) volume more
  than doubles, mostly technical issues and bug reports.
* **Business hours.** `inbox-billing-email` is staffed from Berlin, Mon-Fri 09:00-12:30
  and 13:30-17:30 with two holidays; its replies only happen inside those hours.
* **Customers.** A pool of returning customers (tier and language per customer); ~8% of
  conversations are a repeat contact on the same inquiry within 7 days of a resolution,
  more often after a weak agent handled the first one (breaks first-contact resolution).
* **People.** Agents differ in speed, quality, AI adoption, capacity and whether they log
  handling time; some specialise in inquiries; one or two leave late in the window (a
  second `agent.upserted` with `active: false`) and two new hires start half-way and
  ramp up over 30 days.
* **Surveys.** CSAT on ~25% of resolved conversations (skewed positive; driven by agent
  quality, wait, difficulty, reopens, escalation), a few answered twice, NPS ~8%, CES ~6%,
  arriving minutes to days after resolution (a few after 14 days).

With `planted=False` (`deskpulse generate --no-planted`) none of the planted stories
happen: no degrading queues, no incident, no experiment, no AI regression, no volume
trend and no staff turnover. Everything else (channels, AI agents, people, surveys,
business hours) is the same, so it is a stable baseline: friction signals and alerts
should stay quiet on it.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from itertools import accumulate
from random import Random
from typing import Any

from deskpulse.generator.org import (
    CHANNEL_INQUIRY_BOOST,
    CHANNELS,
    DAY,
    HOUR,
    INBOX_INDEX,
    INBOXES,
    INQUIRIES,
    LANGUAGE_WEIGHTS,
    LANGUAGES,
    TIER_WEIGHTS,
    TIERS,
    Org,
)
from deskpulse.generator.texts import (
    AGENT_NEXT,
    AI_CONCISE,
    AI_NEXT,
    CSAT_COMMENTS,
    FOLLOW_UPS,
    HUMAN_PLEASE,
    MENTION_NOTES,
    NOTES,
    REOPENS,
    THANKS,
    TextBank,
)
from deskpulse.generator.timeline import BusinessHours, hour_of_week, pick_holidays, staffing_table

Event = tuple[int, dict[str, Any]]

DEGRADING_INBOXES: tuple[str, ...] = ("inbox-app-chat", "inbox-sms")
DEGRADE_DELAY = 2.0  # reply delays grow to x(1 + this) by the end of the window
DEGRADE_CSAT = 0.7  # latent-satisfaction penalty reached by the end of the window

BUSINESS_HOURS_INBOX = "inbox-billing-email"
BUSINESS_TIMEZONE = "Europe/Berlin"
BUSINESS_SHIFTS: tuple[tuple[str, str], ...] = (("09:00", "12:30"), ("13:30", "17:30"))

EXPERIMENT = "ai-reply-style"
EXPERIMENT_DAYS = 30
CONCISE_LIFT = 0.06
AI_REGRESSION_DAYS = 14
AI_REGRESSION_DROP = 0.15

INCIDENT_AT = 0.63  # fraction of the window
INCIDENT_HOURS = 5
INCIDENT_VOLUME = 2.3
INCIDENT_INQUIRIES: dict[str, float] = {"technical_issue": 7.0, "bug_report": 6.0}

LABELLED = 0.85  # conversations created with an inquiry
MISLABELLED = 0.06  # of those, labelled wrong at first and corrected by the agent
LABELLED_LATER = 0.10  # of the unlabelled, labelled by the agent later
PRIORITY_RAISED = 0.03
REPEAT_RATE = 0.085
REPEAT_WINDOW = 7 * DAY
TEAMMATE_RATE = 0.06
TRANSFER_RATE = 0.045
NOTE_RATE = 0.09
MENTION_SHARE = 0.5  # of notes
PENDING_RATE = 0.18  # after a reply that expects an answer
SNOOZE_RATE = 0.05
ABANDON_RATE = 0.015
STUCK_RATE = 0.005
REOPEN_BASE = 0.055
NPS_RATE = 0.08
CES_RATE = 0.06
CSAT_TWICE = 0.04
MISROUTE_RATE = 0.08

TIER_URGENCY: tuple[float, ...] = (1.0, 0.85, 0.55)
PRIORITY_URGENCY: dict[str, float] = {"low": 1.2, "normal": 1.0, "high": 0.7, "urgent": 0.45}

# Escalation reasons the AI gives, by kind of inquiry.
_REASONS_BY_KIND: dict[str, tuple[tuple[str, float], ...]] = {
    "billing": (
        ("billing_authority", 0.45),
        ("low_confidence", 0.2),
        ("customer_requested_human", 0.2),
        ("policy_exception", 0.1),
        ("frustrated_customer", 0.05),
    ),
    "policy": (
        ("policy_exception", 0.4),
        ("customer_requested_human", 0.25),
        ("low_confidence", 0.2),
        ("frustrated_customer", 0.15),
    ),
    "complaint": (
        ("frustrated_customer", 0.6),
        ("customer_requested_human", 0.3),
        ("policy_exception", 0.1),
    ),
    "default": (
        ("low_confidence", 0.45),
        ("customer_requested_human", 0.35),
        ("frustrated_customer", 0.1),
        ("policy_exception", 0.1),
    ),
}
_POLICY_INQUIRIES = ("return_request", "cancel_subscription", "delivery_damage", "account_access")
_CUSTOMER_DRIVEN = ("customer_requested_human", "frustrated_customer")

CHAT, EMAIL, VOICE, SOCIAL, SMS = range(5)


def incident_window(start: int, end: int) -> tuple[int, int] | None:
    """The incident afternoon, or None when the window is too short to hold it."""
    if end - start < 3 * DAY:
        return None
    day = (start + int((end - start) * INCIDENT_AT)) // DAY * DAY
    begin = day + 13 * HOUR
    stop = begin + INCIDENT_HOURS * HOUR
    return (begin, stop) if start <= begin and stop < end else None


def _cumulative(weights: list[float]) -> list[float]:
    return list(accumulate(weights))


class _Conv:
    """Per-conversation state while it is being simulated."""

    __slots__ = (
        "ai_resolved",
        "business",
        "channel",
        "cid",
        "concise",
        "customer",
        "customer_id",
        "degrade",
        "escalated",
        "first_human_at",
        "first_wait",
        "inq",
        "priority",
        "quality",
        "reopened",
        "t0",
        "turns",
        "urgency",
    )

    def __init__(self) -> None:
        self.ai_resolved = False
        self.business = False
        self.channel = 0
        self.cid = ""
        self.concise = False
        self.customer = 0
        self.customer_id = ""
        self.degrade = 0.0
        self.escalated = False
        self.first_human_at = -1
        self.first_wait = -1
        self.inq = 0
        self.priority = "normal"
        self.quality = 0.0
        self.reopened = False
        self.t0 = 0
        self.turns = 0
        self.urgency = 1.0


class Simulator:
    """Simulates conversations in creation order; each call returns one conversation's events.

    Events are (epoch seconds, dict) pairs whose dicts carry placeholder `id` and
    `occurred_at` keys (first, so the JSON reads naturally); the writer fills them in.
    """

    def __init__(
        self,
        org: Org,
        rng: Random,
        *,
        start: int,
        end: int,
        conversations: int,
        planted: bool = True,
    ) -> None:
        self.org = org
        self.planted = planted
        self.rng = rng
        self.start = start
        self.end = end
        self.span = end - start
        self.text = TextBank(rng)
        self.staffing = staffing_table()
        self.width = max(6, len(str(conversations)))
        self.msg_seq = 0

        self.n_customers = max(50, int(conversations * 0.55))
        self.tiers: list[int] = rng.choices(range(len(TIERS)), TIER_WEIGHTS, k=self.n_customers)
        self.langs: list[str] = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS, k=self.n_customers)

        self.channel_cum = _cumulative([ch.share for ch in CHANNELS])
        self.inquiry_cum: list[list[float]] = []
        self.incident_cum: list[list[float]] = []
        for ch in CHANNELS:
            boost = CHANNEL_INQUIRY_BOOST.get(ch.name, {})
            weights = [inq.weight * boost.get(inq.name, 1.0) for inq in INQUIRIES]
            self.inquiry_cum.append(_cumulative(weights))
            self.incident_cum.append(
                _cumulative(
                    [
                        w * INCIDENT_INQUIRIES.get(INQUIRIES[i].name, 1.0)
                        for i, w in enumerate(weights)
                    ]
                )
            )
        self.incident = incident_window(start, end) if planted else None

        self.inbox_ids = [ib.inbox_id for ib in INBOXES]
        self.degrading = {INBOX_INDEX[name] for name in DEGRADING_INBOXES} if planted else set()
        self.business_inbox = INBOX_INDEX[BUSINESS_HOURS_INBOX]
        self.holidays = pick_holidays(start, end)
        self.hours = BusinessHours(BUSINESS_TIMEZONE, BUSINESS_SHIFTS, self.holidays, start, end)

        ais = org.ai_agents
        # Aria (first AI) owns web chat; Nova (second) owns social; extra AIs share chat.
        self.chat_ais = [ais[0], *ais[2:]] if ais else []
        self.social_ai = ais[1 % len(ais)] if ais else -1
        self.experiment_ai = ais[0] if ais else -1
        self.regressing_ai = ais[1] if len(ais) > 1 else -1
        self.experiment_from = end - EXPERIMENT_DAYS * DAY
        self.regression_from = end - AI_REGRESSION_DAYS * DAY
        if not planted:
            # Both start after the window ends: they never happen.
            self.experiment_from = self.regression_from = end + DAY
        self.ai_first: dict[tuple[int, int], tuple[str, ...]] = {
            (a, q): self.text.ai_first(q, org.agents[a].name.removesuffix(" (AI)"))
            for a in ais
            for q in range(len(INQUIRIES))
        }

        self.reason_tables: list[tuple[list[str], list[float]]] = []
        for i, inq in enumerate(INQUIRIES):
            team = INQUIRIES[i].team
            kind = (
                "complaint"
                if inq.name == "complaint"
                else "billing"
                if team == "team-billing"
                else "policy"
                if inq.name in _POLICY_INQUIRIES
                else "default"
            )
            table = _REASONS_BY_KIND[kind]
            self.reason_tables.append(([r for r, _ in table], _cumulative([w for _, w in table])))
        self.siblings: list[list[int]] = [
            [j for j, other in enumerate(INQUIRIES) if other.team == inq.team and j != i]
            for i, inq in enumerate(INQUIRIES)
        ]

        # Resolved conversations that may bring the customer back: (created, resolved,
        # customer, inquiry, channel), oldest first.
        self.recent: deque[tuple[int, int, int, int, int]] = deque(maxlen=4096)

    # ------------------------------------------------------------------ small helpers

    def _gauss(self, sigma: float) -> float:
        return self.rng.gauss(0.0, sigma)

    def _pick(self, cum: list[float]) -> int:
        return bisect_right(cum, self.rng.random() * cum[-1])

    def _msg(
        self,
        ev: list[Event],
        t: int,
        cid: str,
        direction: str,
        author: str,
        agent_id: str | None,
        text: str,
        assist: str | None = None,
        mentions: list[str] | None = None,
    ) -> None:
        self.msg_seq += 1
        d: dict[str, Any] = {
            "id": None,
            "type": "message.created",
            "occurred_at": None,
            "message_id": f"msg-{self.msg_seq}",
            "conversation_id": cid,
            "direction": direction,
            "author_kind": author,
        }
        if agent_id is not None:
            d["agent_id"] = agent_id
        if assist is not None:
            d["ai_assist"] = assist
        if mentions:
            d["mentions"] = mentions
        d["text"] = text
        ev.append((t, d))

    def _assign(self, ev: list[Event], t: int, cid: str, agent: int | None, team: int) -> None:
        ev.append(
            (
                t,
                {
                    "id": None,
                    "type": "conversation.assigned",
                    "occurred_at": None,
                    "conversation_id": cid,
                    "agent_id": None if agent is None else self.org.agents[agent].agent_id,
                    "team_id": self.org.teams[team].team_id,
                },
            )
        )

    def _status(self, ev: list[Event], t: int, cid: str, status: str, agent: int | None) -> None:
        d: dict[str, Any] = {
            "id": None,
            "type": "conversation.status_changed",
            "occurred_at": None,
            "conversation_id": cid,
            "status": status,
        }
        if agent is not None:
            d["agent_id"] = self.org.agents[agent].agent_id
        ev.append((t, d))

    def _work(self, ev: list[Event], t: int, cid: str, agent: int, seconds: int, kind: str) -> None:
        ev.append(
            (
                t,
                {
                    "id": None,
                    "type": "work.logged",
                    "occurred_at": None,
                    "conversation_id": cid,
                    "agent_id": self.org.agents[agent].agent_id,
                    "seconds": seconds,
                    "kind": kind,
                },
            )
        )

    def _update(self, ev: list[Event], t: int, cid: str, field: str, value: str) -> None:
        ev.append(
            (
                t,
                {
                    "id": None,
                    "type": "conversation.updated",
                    "occurred_at": None,
                    "conversation_id": cid,
                    field: value,
                },
            )
        )

    def _assist(self, agent: int) -> str:
        a = self.org.agents[agent]
        r = self.rng.random()
        if r < a.p_as_is:
            return "draft_as_is"
        if r < a.p_as_is + a.p_edited:
            return "draft_edited"
        return "none"

    def _quality(self, c: _Conv, agent: int, t: int) -> float:
        a = self.org.agents[agent]
        q = a.quality + (0.6 if c.inq in a.specialties else 0.0)
        if t < a.ramp_until:
            q -= 1.0 * (a.ramp_until - t) / (30 * DAY)
        return q

    def _reply_at(self, c: _Conv, agent: int, t: int, first: bool) -> int:
        """When `agent` answers a customer who has been waiting since t."""
        a = self.org.agents[agent]
        ch = CHANNELS[c.channel]
        m = a.speed * c.urgency
        if c.inq in a.specialties:
            m *= 0.8
        if t < a.ramp_until:
            m *= 1.5
        if c.degrade:
            m *= 1.0 + DEGRADE_DELAY * c.degrade**1.2
        noise = math.exp(self.rng.gauss(0.0, ch.sigma))
        base = ch.first_reply if first else ch.next_reply
        if c.business:
            # Counted in open hours: a Friday-evening email waits for Monday morning.
            return self.hours.add(t, min(base * m * noise * 0.5, 3 * DAY))
        delay = base * m * noise * self.staffing[hour_of_week(t)]
        return t + 3 + int(delay if delay < ch.cap else ch.cap)

    def _customer_delay(self, c: _Conv) -> int:
        ch = CHANNELS[c.channel]
        delay = ch.customer_reply * math.exp(self.rng.gauss(0.0, 1.0))
        return 5 + int(min(delay, 3 * DAY))

    def _route_team(self, inq: int) -> int:
        team = self.org.team_of_inquiry[inq]
        if self.rng.random() < MISROUTE_RATE and len(self.org.teams) > 1:
            # First-line routing is imperfect; transfers later fix some of these.
            team = int(self.rng.random() * len(self.org.teams))
        return team

    # ------------------------------------------------------------------ the conversation

    def conversation(self, number: int, t0: int) -> list[Event]:
        rng = self.rng
        rnd = rng.random
        ev: list[Event] = []
        c = _Conv()
        c.t0 = t0
        c.cid = cid = f"conv-{number:0{self.width}d}"

        repeat = self._recent_contact(t0) if rnd() < REPEAT_RATE else None
        if repeat is not None:
            customer, inq, channel = repeat
            if rnd() < 0.3:
                channel = self._pick(self.channel_cum)
        else:
            customer = int(self.n_customers * rnd() ** 1.25)  # regulars write more often
            channel = self._pick(self.channel_cum)
            incident = self.incident
            in_incident = incident is not None and incident[0] <= t0 < incident[1]
            cum = self.incident_cum[channel] if in_incident else self.inquiry_cum[channel]
            inq = self._pick(cum)
        c.customer, c.inq, c.channel = customer, inq, channel
        c.customer_id = customer_id = f"cust-{customer + 1:07d}"
        tier = self.tiers[customer]
        lang = self.langs[customer]
        inbox = self._pick_inbox(channel, inq, tier, lang)
        c.business = inbox == self.business_inbox
        if inbox in self.degrading:
            c.degrade = (t0 - self.start) / self.span
        inquiry = INQUIRIES[inq]

        # Labels: most conversations arrive classified, some wrongly, some not at all.
        r = rnd()
        label: str | None = inquiry.name
        relabel = False
        if r < 1.0 - LABELLED:
            label = None
            relabel = rnd() < LABELLED_LATER
        elif r < 1.0 - LABELLED + LABELLED * MISLABELLED and self.siblings[inq]:
            label = INQUIRIES[self.siblings[inq][int(rnd() * len(self.siblings[inq]))]].name
            relabel = rnd() < 0.9

        priority = "normal"
        r = rnd()
        if (tier == 2 and r < 0.4) or (
            inquiry.name in ("complaint", "billing_dispute") and r < 0.3
        ):
            priority = "high"
        elif r < 0.02:
            priority = "urgent"
        elif inquiry.name in ("feature_request", "product_question") and r < 0.15:
            priority = "low"
        c.priority = priority
        c.urgency = TIER_URGENCY[tier] * PRIORITY_URGENCY[priority]

        created: dict[str, Any] = {
            "id": None,
            "type": "conversation.created",
            "occurred_at": None,
            "conversation_id": cid,
            "channel": CHANNELS[channel].name,
            "inbox_id": self.inbox_ids[inbox],
            "customer_id": customer_id,
        }
        if label is not None:
            created["inquiry"] = label
        created["priority"] = priority
        created["customer_tier"] = TIERS[tier]
        created["language"] = lang
        subjects = self.text.subjects[inq]
        if channel == EMAIL or (channel == CHAT and rnd() < 0.4):
            created["subject"] = subjects[int(rnd() * len(subjects))]
        ev.append((t0, created))

        openings = self.text.openings[inq][lang]
        text = openings[int(rnd() * len(openings))]
        if repeat is not None and lang == "en":
            text = "Following up on my earlier request. " + text
        elif channel == VOICE:
            text = "[call] " + text
        self._msg(ev, t0, cid, "inbound", "customer", None, text)

        ai = -1
        if channel == CHAT and self.chat_ais and rnd() < INBOXES[inbox].ai_share:
            ai = self.chat_ais[int(rnd() * len(self.chat_ais))]
        elif channel == SOCIAL and self.social_ai >= 0 and rnd() < INBOXES[inbox].ai_share:
            ai = self.social_ai

        if channel == VOICE:
            self._voice(c, ev)
        elif ai >= 0:
            self._ai_conversation(c, ev, ai)
        else:
            self._human_conversation(c, ev)

        if c.first_human_at > 0:
            t = c.first_human_at
            if relabel:
                self._update(ev, t + 5 + int(rnd() * 180), cid, "inquiry", inquiry.name)
            if rnd() < PRIORITY_RAISED * (4.0 if inquiry.name == "complaint" else 1.0):
                raised = "urgent" if priority == "high" else "high"
                self._update(ev, t + 30 + int(rnd() * 600), cid, "priority", raised)
        return ev

    def _pick_inbox(self, channel: int, inq: int, tier: int, lang: str) -> int:
        r = self.rng.random()
        if channel == CHAT:
            name = "inbox-app-chat" if r < 0.3 else "inbox-web-chat"
        elif channel == EMAIL:
            if tier == 2 and r < 0.7:
                name = "inbox-enterprise-email"
            elif INQUIRIES[inq].team == "team-billing" and r < 0.75:
                name = "inbox-billing-email"
            else:
                name = "inbox-support-email"
        elif channel == VOICE:
            eu = lang in ("de", "fr") or (lang == "en" and r < 0.25)
            name = "inbox-phone-eu" if eu else "inbox-phone-us"
        elif channel == SOCIAL:
            name = "inbox-social-x" if r < 0.6 else "inbox-social-facebook"
        else:
            name = "inbox-sms"
        return INBOX_INDEX[name]

    def _recent_contact(self, t0: int) -> tuple[int, int, int] | None:
        recent = self.recent
        while recent and recent[0][0] < t0 - REPEAT_WINDOW - 2 * DAY:
            recent.popleft()
        for _ in range(6):
            if not recent:
                return None
            _, resolved, customer, inq, channel = recent[int(self.rng.random() * len(recent))]
            if resolved + 60 <= t0 < resolved + REPEAT_WINDOW:
                return customer, inq, channel
        return None

    def _turns(self, c: _Conv) -> int:
        more = 0.22 + 0.45 * INQUIRIES[c.inq].difficulty + (0.05 if c.channel == CHAT else 0.0)
        turns = 1
        while turns < 7 and self.rng.random() < more:
            turns += 1
            more *= 0.7
        return turns

    # ------------------------------------------------------------------ channels

    def _voice(self, c: _Conv, ev: list[Event]) -> None:
        rng = self.rng
        rnd = rng.random
        cid, t0 = c.cid, c.t0
        org = self.org
        team = self._route_team(c.inq)
        agent = org.route(team, c.inq, t0, rnd())
        a = org.agents[agent]
        self._assign(ev, t0 + 1, cid, agent, team)
        answer = self._reply_at(c, agent, t0 + 1, True)
        if answer - t0 > 240 and rnd() < 0.35:
            # The caller hung up before anyone answered.
            self._status(ev, answer, cid, "resolved", None)
            return
        self._msg(
            ev, answer, cid, "outbound", "agent", a.agent_id, self.text.voice_answer[c.inq], "none"
        )
        c.first_wait = answer - t0
        c.first_human_at = answer
        c.turns = 1
        c.quality = self._quality(c, agent, answer)
        difficulty = INQUIRIES[c.inq].difficulty
        special = 0.8 if c.inq in a.specialties else 1.0
        talk = 240 * (0.6 + difficulty) * a.speed * special * math.exp(self._gauss(0.5))
        talk_s = int(min(max(talk, 30), 5400))
        hold_s = int(60 * (1 + difficulty) * math.exp(self._gauss(0.7))) if rnd() < 0.35 else 0
        call_end = answer + talk_s + hold_s
        self._work(ev, call_end, cid, agent, talk_s, "talk")
        if hold_s:
            self._work(ev, call_end, cid, agent, hold_s, "hold")
        wrap_s = int(min(60 * a.speed * math.exp(self._gauss(0.5)), 1800))
        done = call_end + wrap_s
        self._work(ev, done, cid, agent, wrap_s, "wrap")
        if rnd() < 0.85:
            self._status(ev, done, cid, "resolved", agent)
            self._close(c, ev, done, agent)
            return
        # Needs a follow-up: pending, then an email-style confirmation and resolution.
        self._status(ev, done, cid, "pending", agent)
        follow = done + 2 * HOUR + int(rnd() * 28 * HOUR)
        self._msg(
            ev,
            follow,
            cid,
            "outbound",
            "agent",
            a.agent_id,
            "As promised on the phone: it's sorted.",
            self._assist(agent),
        )
        c.turns = 2
        resolved = follow + 30 + int(rnd() * 600)
        self._status(ev, resolved, cid, "resolved", agent)
        self._close(c, ev, resolved, agent)

    def _ai_conversation(self, c: _Conv, ev: list[Event], ai: int) -> None:
        rng = self.rng
        rnd = rng.random
        org = self.org
        cid, t0 = c.cid, c.t0
        ai_agent = org.agents[ai]
        ai_id = ai_agent.agent_id
        self._assign(ev, t0, cid, ai, ai_agent.team)
        if ai == self.experiment_ai and c.channel == CHAT and t0 >= self.experiment_from:
            c.concise = rnd() < 0.5
            ev.append(
                (
                    t0,
                    {
                        "id": None,
                        "type": "experiment.exposed",
                        "occurred_at": None,
                        "conversation_id": cid,
                        "customer_id": c.customer_id,
                        "experiment": EXPERIMENT,
                        "variant": "concise" if c.concise else "control",
                    },
                )
            )
        t = t0 + 2 + int(rnd() * 6)
        first = self.ai_first[(ai, c.inq)]
        self._msg(ev, t, cid, "outbound", "ai", ai_id, first[int(rnd() * len(first))])
        c.first_wait = t - t0
        replies = AI_CONCISE if c.concise else AI_NEXT
        turns = 1
        tokens = 1100 + int(rnd() * 3000)
        while turns < 4 and rnd() < 0.42:
            t += min(self._customer_delay(c), 900)
            self._msg(
                ev, t, cid, "inbound", "customer", None, FOLLOW_UPS[int(rnd() * len(FOLLOW_UPS))]
            )
            t += 3 + int(rnd() * 9)
            self._msg(ev, t, cid, "outbound", "ai", ai_id, replies[int(rnd() * len(replies))])
            turns += 1
            tokens += 1100 + int(rnd() * 3000)
        c.turns = turns
        if c.concise:
            tokens = int(tokens * 0.65)
        self._cost(ev, t, cid, f"{tokens * 0.000032:.4f}", "inference", tokens)
        if rnd() < 0.35:
            self._cost(ev, t, cid, f"{0.005 + rnd() * 0.075:.4f}", "tools", None)

        regressing = ai == self.regressing_ai and t0 >= self.regression_from
        p_resolve = INQUIRIES[c.inq].ai_resolve
        p_resolve += CONCISE_LIFT if c.concise else 0.0
        p_resolve -= AI_REGRESSION_DROP if regressing else 0.0
        p_resolve -= 0.12 if self.tiers[c.customer] == 2 else 0.0
        if rnd() < p_resolve:
            if rnd() < 0.55:
                t += self._customer_delay(c)
                self._msg(ev, t, cid, "inbound", "customer", None, THANKS[int(rnd() * len(THANKS))])
            resolved = t + 10 + int(rnd() * 240)
            self._status(ev, resolved, cid, "resolved", ai)
            c.ai_resolved = True
            c.quality = 0.25
            self._close(c, ev, resolved, ai)
            return

        names, cum = self.reason_tables[c.inq]
        reason = names[self._pick(cum)]
        if regressing and rnd() < 0.5:
            reason = "low_confidence"
        if reason in _CUSTOMER_DRIVEN:
            t += self._customer_delay(c)
            self._msg(
                ev,
                t,
                cid,
                "inbound",
                "customer",
                None,
                HUMAN_PLEASE[int(rnd() * len(HUMAN_PLEASE))],
            )
        c.escalated = True
        team = org.team_of_inquiry[c.inq]
        human = org.route(team, c.inq, t, rnd())
        escalated: dict[str, Any] = {
            "id": None,
            "type": "conversation.escalated",
            "occurred_at": None,
            "conversation_id": cid,
            "from_agent_id": ai_id,
        }
        if rnd() < 0.7:
            escalated["to_agent_id"] = org.agents[human].agent_id
        escalated["to_team_id"] = org.teams[team].team_id
        escalated["reason"] = reason
        ev.append((t + 1, escalated))
        assigned_at = t + 1 + int(rnd() * 45)
        self._assign(ev, assigned_at, cid, human, team)
        extra = 2 if rnd() < 0.35 else 1
        last, owner = self._human_phase(c, ev, human, assigned_at, extra, True)
        c.turns += extra
        final = self._resolve(c, ev, last, owner)
        if final is not None:
            self._close(c, ev, final, owner)

    def _cost(
        self, ev: list[Event], t: int, cid: str, amount: str, kind: str, tokens: int | None
    ) -> None:
        d: dict[str, Any] = {
            "id": None,
            "type": "cost.recorded",
            "occurred_at": None,
            "conversation_id": cid,
            "amount": amount,
            "currency": "USD",
            "kind": kind,
        }
        if tokens is not None:
            d["tokens"] = tokens
        ev.append((t, d))

    def _human_conversation(self, c: _Conv, ev: list[Event]) -> None:
        rnd = self.rng.random
        org = self.org
        cid, t0 = c.cid, c.t0
        team = self._route_team(c.inq)
        agent = org.route(team, c.inq, t0, rnd())
        if c.channel == CHAT:
            assigned_at = t0 + 2 + int(rnd() * 60)
        else:
            triage = 60 + 20 * 60 * math.exp(self._gauss(1.0))
            assigned_at = (
                self.hours.add(t0, triage * 0.3) if c.business else t0 + int(min(triage, 12 * HOUR))
            )
        self._assign(ev, assigned_at, cid, agent, team)
        r = rnd()
        if c.channel != EMAIL and r < ABANDON_RATE:
            # The customer left before anyone answered; the helpdesk closes it later.
            self._status(ev, assigned_at + HOUR + int(rnd() * 2 * HOUR), cid, "resolved", None)
            return
        if r > 1.0 - STUCK_RATE:
            return  # never answered: stays open
        turns = self._turns(c)
        last, owner = self._human_phase(c, ev, agent, assigned_at, turns, True)
        c.turns = turns
        resolved = self._resolve(c, ev, last, owner)
        if resolved is not None:
            self._close(c, ev, resolved, owner)

    def _human_phase(
        self, c: _Conv, ev: list[Event], agent: int, ready: int, turns: int, extras: bool
    ) -> tuple[int, int]:
        """Human replies to a customer waiting since `ready` (assignment already done).

        Returns (time of the last public reply, the agent owning the conversation).
        """
        rng = self.rng
        rnd = rng.random
        org = self.org
        cid = c.cid
        channel = c.channel
        teammate = -1
        teammate_turn = -1
        transfer = False
        note_turn = -1
        if extras:
            if rnd() < TEAMMATE_RATE:
                mates = org.teammates(agent, ready)
                if mates:
                    teammate = mates[int(rnd() * len(mates))]
                    turns = max(turns, 2)
                    teammate_turn = int(rnd() * turns)
            transfer = turns >= 2 and rnd() < TRANSFER_RATE
            if rnd() < NOTE_RATE:
                note_turn = int(rnd() * turns)
        logs = channel != VOICE and rnd() < org.agents[agent].logs_work
        difficulty = INQUIRIES[c.inq].difficulty
        work_base = (150.0, 420.0, 180.0, 200.0, 120.0)[channel] * (0.6 + difficulty)

        t = self._reply_at(c, agent, ready, True)
        for i in range(turns):
            if t >= org.agents[agent].active_until:
                agent = self._handover(c, ev, agent, t)
            who = teammate if i == teammate_turn else agent
            if t >= org.agents[who].active_until:
                who = agent
            a = org.agents[who]
            if i == 0 or c.first_human_at < 0:
                text = self.text.agent_first[c.inq][int(rnd() * 4)]
            else:
                text = AGENT_NEXT[int(rnd() * len(AGENT_NEXT))]
            self._msg(ev, t, cid, "outbound", "agent", a.agent_id, text, self._assist(who))
            if c.first_wait < 0:
                c.first_wait = t - c.t0
            if c.first_human_at < 0:
                c.first_human_at = t
            c.quality = self._quality(c, who, t)
            if logs:
                seconds = work_base * a.speed * math.exp(self._gauss(0.5))
                self._work(ev, t, cid, who, int(min(seconds, 7200)), "work")
            if i == note_turn:
                self._note(ev, t + 30 + int(rnd() * 600), c, agent)
            if i == turns - 1:
                return t, agent
            pending = rnd() < PENDING_RATE
            if pending:
                self._status(ev, t + 1, cid, "pending", who)
            t_customer = t + self._customer_delay(c)
            self._msg(
                ev,
                t_customer,
                cid,
                "inbound",
                "customer",
                None,
                FOLLOW_UPS[int(rnd() * len(FOLLOW_UPS))],
            )
            if pending:
                self._status(ev, t_customer, cid, "open", None)
            if i == 0 and transfer:
                agent, ready = self._transfer(c, ev, agent, t_customer + 30 + int(rnd() * 1800))
                t = self._reply_at(c, agent, ready, True)
            else:
                t = self._reply_at(c, agent, t_customer, False)
        return t, agent  # not reached: the loop returns on its last turn

    def _transfer(self, c: _Conv, ev: list[Event], agent: int, t: int) -> tuple[int, int]:
        """Hand the conversation to someone else; returns (new agent, time they got it)."""
        rnd = self.rng.random
        org = self.org
        old_team = org.agents[agent].team
        if rnd() < 0.5 and len(org.teams) > 1:
            team = org.team_of_inquiry[c.inq]
            if team == old_team:
                team = (old_team + 1 + int(rnd() * (len(org.teams) - 1))) % len(org.teams)
        else:
            team = old_team
        new = org.route(team, c.inq, t, rnd())
        if new == agent:
            mates = org.teammates(agent, t)
            new = mates[int(rnd() * len(mates))] if mates else agent
        if team != old_team and rnd() < 0.5:
            ev.append(
                (
                    t,
                    {
                        "id": None,
                        "type": "conversation.escalated",
                        "occurred_at": None,
                        "conversation_id": c.cid,
                        "from_agent_id": org.agents[agent].agent_id,
                        "to_team_id": org.teams[team].team_id,
                        "reason": "needs_specialist",
                    },
                )
            )
        if rnd() < 0.25:
            # Released to the team queue first; someone picks it up later.
            self._assign(ev, t, c.cid, None, team)
            t += 120 + int(rnd() * 3600)
        self._assign(ev, t, c.cid, new, team)
        return new, t

    def _handover(self, c: _Conv, ev: list[Event], agent: int, t: int) -> int:
        """The owner has left the company: a teammate takes over just before replying."""
        org = self.org
        mates = org.teammates(agent, t)
        if not mates:
            return agent
        new = mates[int(self.rng.random() * len(mates))]
        self._assign(ev, t - 60, c.cid, new, org.agents[new].team)
        return new

    def _note(self, ev: list[Event], t: int, c: _Conv, agent: int) -> None:
        rnd = self.rng.random
        org = self.org
        author = org.agents[agent].agent_id
        if rnd() < MENTION_SHARE:
            mates = org.teammates(agent, t)
            if rnd() < 0.2 or not mates:
                # Sometimes the expert sits in another team.
                mates = [a.index for a in org.agents if not a.is_ai and a.index != agent]
            if not mates:
                return
            picked = [mates[int(rnd() * len(mates))]]
            if rnd() < 0.2 and len(mates) > 1:
                second = mates[int(rnd() * len(mates))]
                if second != picked[0]:
                    picked.append(second)
            ids = [org.agents[m].agent_id for m in picked]
            handle = " ".join("@" + org.agents[m].name.split()[0] for m in picked)
            text = MENTION_NOTES[int(rnd() * len(MENTION_NOTES))].format(mention=handle)
            self._msg(ev, t, c.cid, "note", "agent", author, text, None, ids)
            if rnd() < 0.5:
                answer = org.agents[picked[0]].agent_id
                self._msg(
                    ev,
                    t + 300 + int(rnd() * 3 * HOUR),
                    c.cid,
                    "note",
                    "agent",
                    answer,
                    "Looked at it, replied in thread.",
                )
        else:
            self._msg(ev, t, c.cid, "note", "agent", author, NOTES[int(rnd() * len(NOTES))])

    def _resolve(self, c: _Conv, ev: list[Event], last: int, agent: int) -> int | None:
        """Status changes after the last reply; returns the resolution time, if any."""
        rnd = self.rng.random
        cid = c.cid
        if last + 6 * DAY >= self.org.agents[agent].active_until:
            agent = self._handover(c, ev, agent, last + 61)
        r = rnd()
        if r < STUCK_RATE:
            if rnd() < 0.5:
                self._status(ev, last + 2, cid, "pending", agent)
            return None
        if c.channel == CHAT:
            resolved = last + 20 + int(rnd() * 900)
            self._status(ev, resolved, cid, "resolved", agent)
            return resolved
        if c.channel in (EMAIL, SOCIAL) and rnd() < SNOOZE_RATE:
            # Waiting on something internal: snooze, wake up, follow up, resolve.
            self._status(ev, last + 2, cid, "snoozed", agent)
            wake = last + DAY + int(rnd() * 2 * DAY)
            self._status(ev, wake, cid, "open", None)
            follow = self._reply_at(c, agent, wake, False)
            who = self.org.agents[agent].agent_id
            self._msg(
                ev,
                follow,
                cid,
                "outbound",
                "agent",
                who,
                "Following up: this is now resolved on our side.",
                self._assist(agent),
            )
            c.turns += 1
            resolved = follow + 5 + int(rnd() * 300)
            self._status(ev, resolved, cid, "resolved", agent)
            return resolved
        if rnd() < 0.55:
            resolved = last + 5 + int(rnd() * 300)
            self._status(ev, resolved, cid, "resolved", agent)
            return resolved
        # Pending until the helpdesk auto-resolves a silent customer.
        self._status(ev, last + 2, cid, "pending", agent)
        resolved = last + DAY + int(rnd() * 3 * DAY)
        self._status(ev, resolved, cid, "resolved", None)
        return resolved

    def _close(self, c: _Conv, ev: list[Event], resolved: int, agent: int) -> None:
        """After the first resolution: maybe a reopen, then surveys and repeat contacts."""
        rng = self.rng
        rnd = rng.random
        org = self.org
        first_resolved = resolved
        difficulty = INQUIRIES[c.inq].difficulty
        p_reopen = (
            REOPEN_BASE
            + 0.06 * difficulty
            - 0.02 * c.quality
            + 0.05 * c.degrade
            + (0.04 if c.ai_resolved else 0.0)
        )
        if c.channel == VOICE:
            p_reopen *= 0.5
        if rnd() < p_reopen:
            c.reopened = True
            t = resolved + 2 * HOUR + int(min(20 * HOUR * math.exp(self._gauss(1.0)), 6 * DAY))
            self._msg(ev, t, c.cid, "inbound", "customer", None, REOPENS[int(rnd() * len(REOPENS))])
            self._status(ev, t, c.cid, "open", None)
            owner = org.agents[agent]
            if owner.is_ai or not owner.active_from <= t < owner.active_until:
                team = org.team_of_inquiry[c.inq]
                agent = org.route(team, c.inq, t, rnd())
                t += 10 + int(rnd() * 600)
                self._assign(ev, t, c.cid, agent, team)
            if rnd() < 0.25 and c.priority not in ("high", "urgent"):
                self._update(ev, t + 60, c.cid, "priority", "high")
            extra = 2 if rnd() < 0.3 else 1
            last, agent = self._human_phase(c, ev, agent, t, extra, False)
            c.turns += extra
            again = self._resolve(c, ev, last, agent)
            if again is None:
                return
            resolved = again
        self._surveys(c, ev, resolved)
        p_back = 0.5 - 0.15 * c.quality + 0.3 * difficulty
        if rnd() < p_back:
            self.recent.append((c.t0, first_resolved, c.customer, c.inq, c.channel))

    # ------------------------------------------------------------------ surveys

    def _surveys(self, c: _Conv, ev: list[Event], resolved: int) -> None:
        rng = self.rng
        rnd = rng.random
        ch = CHANNELS[c.channel]
        wait_penalty = 0.0
        if c.first_wait > ch.first_reply:
            wait_penalty = 0.3 * math.log(c.first_wait / ch.first_reply)
        latent = (
            1.6
            + 0.33 * c.quality
            - 0.7 * INQUIRIES[c.inq].difficulty
            - wait_penalty
            - (0.9 if c.reopened else 0.0)
            - 0.1 * max(0, c.turns - 1)
            - DEGRADE_CSAT * c.degrade
            - (0.25 if c.escalated else 0.0)
            - (0.1 if c.concise else 0.0)
            - (0.1 if self.tiers[c.customer] == 2 else 0.0)
        )
        x = latent + rng.gauss(0.0, 1.0)
        p = ch.csat_response * (1.3 if c.reopened else 1.0) * (1.25 if x < -0.8 else 1.0)
        if rnd() < p:
            at = resolved + self._survey_delay()
            score = _csat(x)
            self._survey(ev, at, c.cid, "csat", score, self._comment(score))
            if rnd() < CSAT_TWICE:
                # Changed their mind: the latest answer within 14 days is the one that counts.
                again = _csat(x + rng.gauss(0.0, 0.8))
                self._survey(ev, at + HOUR + int(rnd() * 4 * DAY), c.cid, "csat", again, None)
        if rnd() < NPS_RATE:
            nps = round(7.3 + 1.5 * x + rng.gauss(0.0, 1.2))
            self._survey(
                ev, resolved + self._survey_delay(), c.cid, "nps", min(10, max(0, nps)), None
            )
        if rnd() < CES_RATE:
            ces = round(5.4 + 0.6 * x - 0.3 * max(0, c.turns - 1) + rng.gauss(0.0, 0.9))
            self._survey(
                ev, resolved + self._survey_delay(), c.cid, "ces", min(7, max(1, ces)), None
            )

    def _survey_delay(self) -> int:
        rnd = self.rng.random
        r = rnd()
        if r < 0.55:
            return 120 + int(rnd() * 2 * HOUR)
        if r < 0.88:
            return 2 * HOUR + int(rnd() * 3 * DAY)
        if r < 0.97:
            return 3 * DAY + int(rnd() * 10 * DAY)
        return 14 * DAY + int(rnd() * 6 * DAY)  # too late to count

    def _comment(self, score: int) -> str | None:
        rnd = self.rng.random
        if rnd() >= 0.3:
            return None
        options = CSAT_COMMENTS[score]
        return options[int(rnd() * len(options))]

    def _survey(
        self, ev: list[Event], t: int, cid: str, survey: str, score: int, comment: str | None
    ) -> None:
        d: dict[str, Any] = {
            "id": None,
            "type": "survey.responded",
            "occurred_at": None,
            "conversation_id": cid,
            "survey": survey,
            "score": score,
        }
        if comment is not None:
            d["comment"] = comment
        ev.append((t, d))


def _csat(x: float) -> int:
    if x >= 0.55:
        return 5
    if x >= -0.15:
        return 4
    if x >= -0.7:
        return 3
    if x >= -1.2:
        return 2
    return 1
