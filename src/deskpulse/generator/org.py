"""The simulated support organisation: teams, agents, channels, inboxes and inquiry types.

Everything here is drawn once per run from the run's own `random.Random`, so the same
seed always yields the same people with the same habits. The catalogue numbers (shares,
difficulties, response-time bases) are rough industry figures for a mid-size B2C/SaaS
support desk; they only need to be plausible and different from each other.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from random import Random

DAY = 86_400
HOUR = 3_600

# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class TeamDef:
    team_id: str
    name: str


TEAM_DEFS: tuple[TeamDef, ...] = (
    TeamDef("team-billing", "Billing"),
    TeamDef("team-tech", "Technical support"),
    TeamDef("team-accounts", "Accounts"),
    TeamDef("team-general", "General support"),
    TeamDef("team-enterprise", "Enterprise"),
    TeamDef("team-retention", "Retention"),
)
MAX_TEAMS = len(TEAM_DEFS)


@dataclass(frozen=True)
class Inquiry:
    name: str
    weight: float  # relative frequency
    difficulty: float  # 0 (trivial) .. 1 (hard): turns, handle time, CSAT, resolution
    team: str  # the team it is routed to when that team exists
    ai_resolve: float  # chance the AI agent closes it without a human
    topic: str  # how agents refer to it in replies ("your refund")


INQUIRIES: tuple[Inquiry, ...] = (
    Inquiry("order_status", 12, 0.15, "team-general", 0.78, "your order"),
    Inquiry("shipping_delay", 8, 0.35, "team-general", 0.55, "the delayed delivery"),
    Inquiry("delivery_damage", 3, 0.60, "team-general", 0.22, "the damaged delivery"),
    Inquiry("return_request", 4, 0.40, "team-general", 0.50, "your return"),
    Inquiry("product_question", 9, 0.30, "team-general", 0.66, "your question"),
    Inquiry("complaint", 3, 0.90, "team-general", 0.08, "your complaint"),
    Inquiry("password_reset", 8, 0.10, "team-accounts", 0.86, "the password reset"),
    Inquiry("account_access", 6, 0.50, "team-accounts", 0.40, "access to your account"),
    Inquiry("cancel_subscription", 5, 0.50, "team-accounts", 0.30, "the cancellation"),
    Inquiry("address_change", 3, 0.15, "team-accounts", 0.72, "the address change"),
    Inquiry("refund_request", 7, 0.50, "team-billing", 0.30, "your refund"),
    Inquiry("billing_dispute", 5, 0.80, "team-billing", 0.10, "the charge you disputed"),
    Inquiry("payment_failed", 5, 0.40, "team-billing", 0.45, "the failed payment"),
    Inquiry("change_plan", 4, 0.30, "team-billing", 0.55, "the plan change"),
    Inquiry("invoice_request", 4, 0.15, "team-billing", 0.72, "your invoice"),
    Inquiry("technical_issue", 8, 0.70, "team-tech", 0.30, "the technical issue"),
    Inquiry("bug_report", 4, 0.75, "team-tech", 0.15, "the bug you reported"),
    Inquiry("feature_request", 2, 0.30, "team-tech", 0.60, "your feature request"),
    Inquiry("integration_setup", 3, 0.80, "team-tech", 0.20, "the integration setup"),
    Inquiry("data_export", 2, 0.45, "team-tech", 0.50, "the data export"),
)
INQUIRY_INDEX: dict[str, int] = {inq.name: i for i, inq in enumerate(INQUIRIES)}

# Some inquiries gravitate to some channels: people phone about money and complain in
# public, and paperwork goes by email.
CHANNEL_INQUIRY_BOOST: dict[str, dict[str, float]] = {
    "voice": {
        "billing_dispute": 2.2,
        "payment_failed": 1.8,
        "complaint": 1.6,
        "account_access": 1.4,
    },
    "social": {"complaint": 3.0, "shipping_delay": 1.8, "delivery_damage": 1.5, "bug_report": 1.3},
    "email": {
        "invoice_request": 1.8,
        "refund_request": 1.4,
        "data_export": 1.6,
        "integration_setup": 1.4,
    },
    "sms": {"order_status": 1.8, "shipping_delay": 1.5, "password_reset": 1.3},
    "chat": {"product_question": 1.3, "password_reset": 1.2, "change_plan": 1.2},
}


@dataclass(frozen=True)
class ChannelDef:
    name: str
    share: float
    first_reply: float  # median seconds to the first human reply, before multipliers
    next_reply: float  # median seconds for later human replies
    customer_reply: float  # median seconds the customer takes to answer
    sigma: float  # lognormal spread of those delays
    csat_response: float  # chance a resolved conversation gets a CSAT answer
    cap: float  # longest plausible single reply delay, in seconds


CHANNELS: tuple[ChannelDef, ...] = (
    ChannelDef("chat", 0.36, 100, 70, 60, 0.8, 0.29, 2 * HOUR),
    ChannelDef("email", 0.30, 3.5 * HOUR, 3 * HOUR, 5 * HOUR, 1.0, 0.27, 5 * DAY),
    ChannelDef("voice", 0.14, 35, 35, 30, 0.7, 0.16, 20 * 60),
    ChannelDef("social", 0.10, 40 * 60, 30 * 60, 60 * 60, 0.9, 0.19, 2 * DAY),
    ChannelDef("sms", 0.10, 15 * 60, 15 * 60, 20 * 60, 0.9, 0.23, 2 * DAY),
)
CHANNEL_INDEX: dict[str, int] = {ch.name: i for i, ch in enumerate(CHANNELS)}


@dataclass(frozen=True)
class InboxDef:
    inbox_id: str
    channel: str
    ai_share: float  # chance the AI agent takes the conversation first


INBOXES: tuple[InboxDef, ...] = (
    InboxDef("inbox-web-chat", "chat", 0.72),
    # The app-chat widget has no AI agent: its first replies are human, which makes its
    # slow degradation (see conversations.py) visible in first-response time.
    InboxDef("inbox-app-chat", "chat", 0.0),
    InboxDef("inbox-support-email", "email", 0.0),
    InboxDef("inbox-billing-email", "email", 0.0),
    InboxDef("inbox-enterprise-email", "email", 0.0),
    InboxDef("inbox-phone-us", "voice", 0.0),
    InboxDef("inbox-phone-eu", "voice", 0.0),
    InboxDef("inbox-social-x", "social", 0.62),
    InboxDef("inbox-social-facebook", "social", 0.55),
    InboxDef("inbox-sms", "sms", 0.0),
)
INBOX_INDEX: dict[str, int] = {ib.inbox_id: i for i, ib in enumerate(INBOXES)}

TIERS: tuple[str, ...] = ("free", "pro", "enterprise")
TIER_WEIGHTS: tuple[float, ...] = (0.62, 0.30, 0.08)
LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr")
LANGUAGE_WEIGHTS: tuple[float, ...] = (0.82, 0.08, 0.06, 0.04)

ESCALATION_REASONS: tuple[str, ...] = (
    "customer_requested_human",
    "low_confidence",
    "policy_exception",
    "billing_authority",
    "frustrated_customer",
)

# --------------------------------------------------------------------------- people

FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
    "Isabella", "Mateo", "Charlotte", "Ethan", "Ava", "James", "Harper", "Benjamin", "Evelyn",
    "Leo", "Priya", "Arjun", "Aisha", "Omar", "Fatima", "Yusuf", "Mei", "Wei", "Hana", "Kenji",
    "Sofia", "Diego", "Valentina", "Santiago", "Camila", "Lukas", "Lena", "Jonas", "Anna",
    "Felix", "Chloe", "Hugo", "Manon", "Louis", "Ines", "Kwame", "Amara", "Chidi", "Zanele",
    "Thabo", "Freya", "Magnus", "Ingrid", "Niamh", "Ciaran", "Aoife", "Tomasz", "Zofia",
    "Mateusz", "Daniela", "Rafael", "Beatriz", "Grace", "Samuel", "Ruth", "Daniel", "Nora",
    "Isaac", "Leila", "Karim", "Yara", "Elena", "Marco", "Giulia", "Luca", "Sara", "Jasper",
    "Maya", "Theo", "Ruby",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Garcia", "Martinez", "Brown", "Davis", "Lopez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Nguyen", "Hill", "Patel", "Sharma", "Khan", "Ali", "Chen", "Wang", "Kim", "Park",
    "Tanaka", "Sato", "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois", "Bernard",
    "Moreau", "Laurent", "Rossi", "Russo", "Bianchi", "Novak", "Kowalski", "Nowak", "Silva",
    "Santos", "Oliveira", "Okafor", "Mensah", "Osei", "Dlamini", "Murphy", "O'Brien", "Byrne",
    "Larsen", "Hansen", "Johansson", "Eriksson", "Haddad", "Nasser", "Cohen", "Levi", "Ferreira",
)  # fmt: skip
AI_NAMES: tuple[str, ...] = ("Aria", "Nova", "Echo", "Sage", "Orion", "Lumen", "Atlas", "Iris")
EMAIL_DOMAIN = "northwind.example"


@dataclass
class Agent:
    index: int
    agent_id: str
    name: str
    email: str
    kind: str  # "human" | "ai"
    team: int  # index into Org.teams
    speed: float  # multiplies this agent's reply delays and handling time (1 = typical)
    quality: float  # standardised: + means better CSAT, fewer reopens and repeat contacts
    p_as_is: float  # chance a reply is an AI draft sent as-is
    p_edited: float  # chance a reply is an edited AI draft
    capacity: float  # routing weight: some agents simply take more conversations
    logs_work: float  # chance this agent logs handling time on a chat/email conversation
    specialties: tuple[int, ...]  # inquiry indexes this agent is better and faster at
    active_from: int  # epoch seconds; new hires start receiving work here
    active_until: int  # epoch seconds; leavers stop here (and get an inactive upsert)
    ramp_until: int = 0  # new hires are slower and less sure until this time

    @property
    def is_ai(self) -> bool:
        return self.kind == "ai"


@dataclass
class Org:
    teams: list[TeamDef]
    agents: list[Agent]
    humans_by_team: list[list[int]]
    ai_agents: list[int]
    team_of_inquiry: list[int]  # inquiry index -> team index
    # Routing tables per roster period: roster changes when someone joins or leaves.
    roster_changes: list[int] = field(default_factory=list)
    routing: dict[tuple[int, int, int], tuple[list[float], list[int]]] = field(default_factory=dict)

    def route(self, team: int, inquiry: int, t: int, r: float) -> int:
        """A human agent for (team, inquiry) at time t; `r` is a uniform draw in [0, 1)."""
        period = bisect_right(self.roster_changes, t)
        cum, members = self.routing[(period, team, inquiry)]
        return members[bisect_right(cum, r * cum[-1])]

    def teammates(self, agent: int, t: int) -> list[int]:
        member = self.agents[agent]
        return [
            a
            for a in self.humans_by_team[member.team]
            if a != agent and self.agents[a].active_from <= t < self.agents[a].active_until
        ]


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def build_org(
    rng: Random,
    *,
    agents: int,
    ai_agents: int,
    teams: int,
    start: int,
    end: int,
    turnover: bool = True,
) -> Org:
    """Draw the organisation. `start`/`end` (epoch seconds) bound the simulated window;
    without `turnover` nobody leaves or joins during it."""
    humans = agents - ai_agents
    team_defs = list(TEAM_DEFS[:teams])
    team_ids = [t.team_id for t in team_defs]
    general = team_ids.index("team-general") if "team-general" in team_ids else 0
    team_of_inquiry = [
        team_ids.index(inq.team) if inq.team in team_ids else general for inq in INQUIRIES
    ]

    # Team sizes follow the volume the team receives, with at least one person each.
    volume = [0.0] * teams
    for i, inq in enumerate(INQUIRIES):
        volume[team_of_inquiry[i]] += inq.weight
    for t in range(teams):
        volume[t] = max(volume[t], 4.0)  # extra teams (enterprise...) still get people
    total = sum(volume)
    sizes = [max(1, math.floor(humans * v / total)) for v in volume]
    while sum(sizes) < humans:
        # Hand out the remainder to the team that is most under-staffed per volume.
        best = max(range(teams), key=lambda t: volume[t] / sizes[t])
        sizes[best] += 1
    while sum(sizes) > humans:
        best = max(range(teams), key=lambda t: sizes[t] - volume[t] / total * humans)
        sizes[best] -= 1

    names = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    picked = rng.sample(names, humans)
    used_emails: set[str] = set()
    people: list[Agent] = []
    humans_by_team: list[list[int]] = [[] for _ in range(teams)]
    team_cycle = [t for t in range(teams) for _ in range(sizes[t])]
    for n, (first, last) in enumerate(picked):
        local = f"{first}.{last}".lower().replace("'", "")
        email = f"{local}@{EMAIL_DOMAIN}"
        if email in used_emails:
            email = f"{local}{n}@{EMAIL_DOMAIN}"
        used_emails.add(email)
        team = team_cycle[n]
        adoption = _clamp(rng.gauss(0.45, 0.17), 0.03, 0.92)
        as_is_share = _clamp(rng.gauss(0.33, 0.12), 0.05, 0.8)
        team_inquiries = [i for i in range(len(INQUIRIES)) if team_of_inquiry[i] == team]
        pool = team_inquiries or list(range(len(INQUIRIES)))
        n_special = rng.choice((0, 1, 1, 2, 2, 3))
        specialties = tuple(sorted(rng.sample(pool, min(n_special, len(pool)))))
        agent = Agent(
            index=n,
            agent_id=f"agent-{n + 1:03d}",
            name=f"{first} {last}",
            email=email,
            kind="human",
            team=team,
            speed=math.exp(rng.gauss(0.0, 0.3)),
            quality=rng.gauss(0.0, 1.0),
            p_as_is=adoption * as_is_share,
            p_edited=adoption * (1.0 - as_is_share),
            capacity=math.exp(rng.gauss(0.0, 0.35)),
            logs_work=_clamp(rng.gauss(0.35, 0.18), 0.0, 0.9),
            specialties=specialties,
            active_from=start,
            active_until=end + 365 * DAY,
        )
        humans_by_team[team].append(n)
        people.append(agent)

    span = end - start
    # Staff turnover: one or two people leave late in the window (their final upsert says
    # active: false), and on bigger desks two new hires start half-way and ramp up.
    big_teams = [t for t in range(teams) if len(humans_by_team[t]) >= 3]
    leavers = 2 if humans >= 30 else 1 if humans >= 6 else 0
    if not turnover:
        leavers = 0
    for k in range(min(leavers, len(big_teams))):
        team = big_teams[(k * 2 + 1) % len(big_teams)]
        who = humans_by_team[team][-1 - k]
        people[who].active_until = start + int(span * (0.72 + 0.1 * k))
    if humans >= 20 and turnover:
        for k in range(min(2, len(big_teams))):
            team = big_teams[(k * 2) % len(big_teams)]
            who = humans_by_team[team][0]
            people[who].active_from = start + int(span * (0.45 + 0.1 * k))
            people[who].ramp_until = people[who].active_from + 30 * DAY

    ai_indexes: list[int] = []
    for k in range(ai_agents):
        n = humans + k
        base = AI_NAMES[k % len(AI_NAMES)]
        suffix = "" if k < len(AI_NAMES) else f" {k // len(AI_NAMES) + 1}"
        people.append(
            Agent(
                index=n,
                agent_id=f"agent-ai-{base.lower()}{suffix.strip()}",
                name=f"{base}{suffix} (AI)",
                email=f"{base.lower()}{suffix.strip()}.ai@{EMAIL_DOMAIN}",
                kind="ai",
                team=general,
                speed=1.0,
                quality=0.0,
                p_as_is=0.0,
                p_edited=0.0,
                capacity=1.0,
                logs_work=0.0,
                specialties=(),
                active_from=start,
                active_until=end + 365 * DAY,
            )
        )
        ai_indexes.append(n)

    org = Org(
        teams=team_defs,
        agents=people,
        humans_by_team=humans_by_team,
        ai_agents=ai_indexes,
        team_of_inquiry=team_of_inquiry,
    )
    _build_routing(org)
    return org


def _build_routing(org: Org) -> None:
    changes = sorted({a.active_from for a in org.agents} | {a.active_until for a in org.agents})
    org.roster_changes = changes
    # Period p covers [changes[p-1], changes[p]); probe each with its first instant.
    probes = [changes[0] - 1, *changes]
    for period, probe in enumerate(probes):
        for team, members in enumerate(org.humans_by_team):
            active = [
                a
                for a in members
                if org.agents[a].active_from <= probe < org.agents[a].active_until
            ]
            if not active:
                # A team never empties in practice (turnover only touches teams of 3+),
                # but a tiny org may: fall back to the whole roster rather than fail.
                active = [
                    a.index
                    for a in org.agents
                    if not a.is_ai and a.active_from <= probe < a.active_until
                ] or [a.index for a in org.agents if not a.is_ai]
            for inquiry in range(len(INQUIRIES)):
                cum: list[float] = []
                acc = 0.0
                for a in active:
                    agent = org.agents[a]
                    acc += agent.capacity * (3.0 if inquiry in agent.specialties else 1.0)
                    cum.append(acc)
                org.routing[(period, team, inquiry)] = (cum, active)
