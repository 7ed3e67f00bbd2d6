"""Building and sending the weekly digests, once per person and ISO week.

`send_due(store, now)` is what the scheduled job (web/jobs.py, every 15 minutes) and
`deskpulse digest send` run. For every person whose digest is on and whose day and hour
(reporting time zone) have come this week, it first creates the ledger row
(`DigestSend`, unique per person and week), then builds and sends. A second worker, a
cron run or a restart finds the row and sends nothing. A failed delivery is tried again
by later runs that week, up to MAX_ATTEMPTS runs in all; a delivered channel is not sent
again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from deskpulse.events.store import Store
from deskpulse.metrics.query import Filters, Viewer
from deskpulse.metrics.registry import REGISTRY
from deskpulse.metrics.report import agent_directory
from deskpulse.names import inquiry_label
from deskpulse.notify.digest import (
    AGENT_METRICS,
    Digest,
    DigestAlert,
    DigestPlan,
    DigestScope,
    DigestWeek,
    digest_week,
    link,
    render_html,
    render_text,
    scope_signals,
    scope_tiles,
    slack_payload,
    slot_reached,
)
from deskpulse.notify.email import send_email
from deskpulse.notify.webhook import send_webhook
from deskpulse.web.accounts.models import Profile, Role, Team
from deskpulse.web.alerts.models import AlertEvent, NotificationSettings
from deskpulse.web.coaching.models import Plan, PlanStatus
from deskpulse.web.digest.models import DigestPreference, DigestSend, SendStatus
from deskpulse.web.runtime import install_settings

logger = logging.getLogger("deskpulse.web.digest")

MAX_ATTEMPTS = 3
DELIVERED = "delivered"
_ALERT_CHANGES = {
    "firing": "firing",
    "escalated": "escalated",
    "resolved": "resolved",
    "ok": "back to OK",
}


@dataclass(frozen=True)
class Senders:
    """How digests leave; tests pass a `sleep` that does not wait."""

    sleep: Callable[[float], None] = time.sleep
    email_timeout: float = 10.0
    webhook_timeout: float = 5.0


@dataclass
class SendSummary:
    due: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # already sent (or being sent) this week
    lines: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.due:
            return "no digest due"
        text = (
            f"{self.due} due: {self.sent} sent, {self.failed} failed, {self.skipped} already sent"
        )
        return text + ("; " + "; ".join(self.lines) if self.lines else "")


def base_url() -> str:
    """Where people open deskpulse, for links: the alerts' *deskpulse address*, else
    DESKPULSE_PUBLIC_URL, as alert notifications do; "" when neither is set."""
    found = NotificationSettings.current().dashboard_url or getattr(
        django_settings, "DESKPULSE_PUBLIC_URL", None
    )
    return str(found or "").rstrip("/")


def known_teams(store: Store | None) -> dict[str, str]:
    """Team id -> display name: the named teams and every team the agents belong to."""
    teams = {team.team_id: team.name for team in Team.objects.all()}
    if store is not None:
        for row in agent_directory(store).values():
            for team_id in row.get("team_ids") or ():
                teams.setdefault(str(team_id), str(team_id))
    return dict(sorted(teams.items(), key=lambda item: item[1].lower()))


def zone_of(preference: DigestPreference) -> ZoneInfo:
    """The zone the person's day and hour are in: theirs, else the reporting one."""
    return ZoneInfo(preference.timezone) if preference.timezone else install_settings().tz


def preference_of(user: User) -> DigestPreference:
    found = DigestPreference.objects.filter(user=user).first()
    return found if found is not None else DigestPreference(user=user)


def _name(user: User) -> str:
    return user.get_full_name() or user.email or user.username


def _plan_text(plan: Plan) -> str:
    metric = REGISTRY.get(plan.metric)
    label = metric.label if metric is not None else plan.metric
    direction = "lower" if plan.direction == "lower" else "higher"
    return f"{label} on {inquiry_label(plan.inquiry)}, {plan.improvement_percent:.0f}% {direction}"


def _plans(
    week: DigestWeek, agents: set[str] | None, names: dict[str, str], root: str
) -> list[DigestPlan]:
    """Plans whose date fell in the week (reached or missed), and plans reached in it."""
    first, last = week.start.date(), (week.end - timedelta(days=1)).date()
    came_due = Q(target_date__gte=first, target_date__lte=last) & Q(
        status__in=(PlanStatus.ACHIEVED, PlanStatus.EXPIRED)
    )
    reached = Q(status=PlanStatus.ACHIEVED, achieved_at__gte=week.start, achieved_at__lt=week.end)
    rows = Plan.objects.filter(came_due | reached).order_by("target_date", "id")
    if agents is not None:
        rows = rows.filter(agent_id__in=sorted(agents))
    return [
        DigestPlan(
            agent_name=names.get(plan.agent_id, plan.agent_id),
            what=_plan_text(plan),
            outcome="reached" if plan.status == PlanStatus.ACHIEVED else "missed",
            target_date=plan.target_date,
            url=link(root, f"/coaching/{plan.pk}/"),
        )
        for plan in rows
    ]


def _alerts(week: DigestWeek, root: str) -> list[DigestAlert]:
    rows = AlertEvent.objects.filter(
        at__gte=week.start, at__lt=week.end, kind__in=tuple(_ALERT_CHANGES)
    ).order_by("at", "pk")
    return [
        DigestAlert(
            rule_name=event.rule_name,
            change=_ALERT_CHANGES[event.kind],
            at=event.at.astimezone(week.start.tzinfo),
            reason=event.reason,
            url=link(root, f"/alerts/{event.rule_id}/" if event.rule_id else "/alerts/history/"),
        )
        for event in rows
    ]


def build_digest(store: Store, user: User, now: datetime, *, root: str | None = None) -> Digest:
    """`user`'s digest of the week before `now`, scoped as their role allows: owners and
    admins get their teams (or the whole organisation); an agent gets their own numbers
    and plans only, read as themselves (the query layer's agent viewer)."""
    root = base_url() if root is None else root
    preference = preference_of(user)
    week = digest_week(now, zone_of(preference))
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        raise PermissionError(f"{user.username} has no role on the team")
    directory = agent_directory(store)
    names = {agent: str(row.get("name") or agent) for agent, row in directory.items()}
    settings_url = link(root, "/settings/digest/")
    period = {"period": "custom", "from": week.start.isoformat(), "to": week.end.isoformat()}
    if profile.role == Role.AGENT:
        agent_id = str(profile.agent_id)
        tiles = scope_tiles(
            store,
            week,
            filters=Filters(agent=agent_id),
            viewer=Viewer(agent_id=agent_id),
            metrics=AGENT_METRICS,
        )
        scope = DigestScope(
            title="Your numbers",
            tiles=tiles,
            dashboard_url=link(root, f"/analytics/agents/{agent_id}/", **period),
        )
        return Digest(
            recipient=_name(user),
            week=week,
            scopes=(scope,),
            plans=tuple(_plans(week, {agent_id}, names, root)),
            settings_url=settings_url,
            personal=True,
        )
    teams = known_teams(store)
    chosen: list[str | None] = list(preference.teams) or [None]
    scopes = []
    members: set[str] | None = None if None in chosen else set()
    for team in chosen:
        filters = Filters(team=team)
        title = "Whole organisation" if team is None else f"Team {teams.get(team, team)}"
        scopes.append(
            DigestScope(
                title=title,
                tiles=scope_tiles(store, week, filters=filters),
                signals=scope_signals(store, week, filters=filters, base_url=root),
                dashboard_url=link(root, "/analytics/", **period, team=team or ""),
            )
        )
        if members is not None and team is not None:
            members |= {
                agent
                for agent, row in directory.items()
                if team in [str(t) for t in (row.get("team_ids") or ())]
            }
    return Digest(
        recipient=_name(user),
        week=week,
        scopes=tuple(scopes),
        alerts=tuple(_alerts(week, root)),
        plans=tuple(_plans(week, members, names, root)),
        settings_url=settings_url,
    )


def due_preferences(now: datetime) -> list[DigestPreference]:
    """Digests that are on, whose slot has come this week, and not yet sent this week."""
    found = []
    for preference in DigestPreference.objects.filter(enabled=True).select_related("user"):
        tz = zone_of(preference)
        week = digest_week(now, tz).key
        if not slot_reached(now, preference.weekday, preference.hour, tz):
            continue
        done = DigestSend.objects.filter(user=preference.user, week=week).exclude(
            status=SendStatus.FAILED
        )
        if not done.exists():
            found.append(preference)
    return found


def _claim(user: User, week: str, now: datetime) -> DigestSend | None:
    """The ledger row, made ours; None when someone sent (or is sending) it already."""
    try:
        with transaction.atomic():
            return DigestSend.objects.create(user=user, week=week, claimed_at=now)
    except IntegrityError:
        pass
    # A failed week is retried: one conditional update, so two runs cannot both win.
    won = DigestSend.objects.filter(
        user=user, week=week, status=SendStatus.FAILED, attempts__lt=MAX_ATTEMPTS
    ).update(status=SendStatus.SENDING, claimed_at=now)
    return DigestSend.objects.get(user=user, week=week) if won else None


def _deliver(
    send: DigestSend,
    digest: Digest,
    preference: DigestPreference,
    settings: NotificationSettings,
    senders: Senders,
    is_agent: bool,
) -> None:
    if preference.by_email and send.email != DELIVERED:
        if not (settings.smtp_host and settings.from_address):
            send.email = "not configured (Settings, Alert notifications)"
        elif not preference.user.email:
            send.email = "failed: this person has no e-mail address"
        else:
            result = send_email(
                settings.smtp_host,
                settings.smtp_port,
                settings.from_address,
                [preference.user.email],
                digest.subject,
                render_text(digest),
                html=render_html(digest),
                username=settings.smtp_username or None,
                password=settings.smtp_password or None,
                starttls=settings.smtp_starttls,
                delivery_id=f"digest-{preference.user.pk}-{send.week}",
                sleep=senders.sleep,
                timeout=senders.email_timeout,
            )
            send.email = DELIVERED if result.ok else f"failed: {result.error}"[:500]
    if preference.to_webhook and not is_agent and send.webhook != DELIVERED:
        if not settings.webhook_ready:
            send.webhook = "not configured (Settings, Alert notifications)"
        else:
            result = send_webhook(
                settings.webhook_url,
                slack_payload(digest),
                settings.webhook_secret,
                delivery_id=f"digest-{preference.user.pk}-{send.week}",
                sleep=senders.sleep,
                timeout=senders.webhook_timeout,
            )
            send.webhook = DELIVERED if result.ok else f"failed: {result.error}"[:500]


def send_one(
    store: Store, preference: DigestPreference, now: datetime, senders: Senders = Senders()
) -> DigestSend | None:
    """Send `preference`'s digest of this week unless the ledger says it went already."""
    week = digest_week(now, zone_of(preference)).key
    send = _claim(preference.user, week, now)
    if send is None:
        return None
    profile = Profile.objects.filter(user=preference.user).first()
    try:
        digest = build_digest(store, preference.user, now)
        send.subject = digest.subject[:300]
        _deliver(
            send,
            digest,
            preference,
            NotificationSettings.current(),
            senders,
            profile is not None and profile.role == Role.AGENT,
        )
    except Exception as error:  # one person's failure must not stop the others
        logger.exception("digest for %s failed", preference.user.username)
        send.email = f"failed: {type(error).__name__}: {error}"[:500]
    send.attempts += 1
    channels = (send.email, send.webhook)
    # Nothing delivered (SMTP not set up yet, say) is not "sent": the ledger says why,
    # and later runs that week try again.
    failed = any(value.startswith("failed") for value in channels) or DELIVERED not in channels
    if failed:
        send.status = SendStatus.FAILED if send.attempts < MAX_ATTEMPTS else SendStatus.GAVE_UP
    else:
        send.status, send.sent_at = SendStatus.SENT, now
    send.save()
    return send


def send_due(store: Store, now: datetime, senders: Senders = Senders()) -> SendSummary:
    summary = SendSummary()
    for preference in due_preferences(now):
        summary.due += 1
        send = send_one(store, preference, now, senders)
        if send is None:
            summary.skipped += 1
        elif send.status == SendStatus.SENT:
            summary.sent += 1
        else:
            summary.failed += 1
            summary.lines.append(f"{preference.user.username}: {send.email or send.webhook}")
    return summary


def ledger_rows(user: User | None) -> list[dict[str, Any]]:
    """The ledger as pages and the CLI show it: everyone's (user None) or one person's."""
    rows = DigestSend.objects.select_related("user")
    if user is not None:
        rows = rows.filter(user=user)
    return [
        {
            "person": row.user.email or row.user.username,
            "week": row.week,
            "status": row.status,
            "status_text": row.get_status_display(),
            "claimed_at": row.claimed_at,
            "sent_at": row.sent_at,
            "attempts": row.attempts,
            "subject": row.subject,
            "email": row.email,
            "webhook": row.webhook,
        }
        for row in rows[:200]
    ]
