"""Checking alert rules: measure, evaluate, store the state, write history, notify.

`check_rules(store, now)` is what the hourly job, the "Check now" button, the API and
`deskpulse alerts check` all run. For each enabled rule it measures the two windows of
`windows(rule, now)` through the query layer (the same numbers every page shows), calls
the pure core's `evaluate` and `next_state`, and saves the new state, a history row for
every state change and the notifications to send, in one transaction. Only then does it
deliver.

Delivering twice is prevented in two places:
- the state update is conditional on the version read, so a second worker (or a second
  click) doing the same check finds the row changed and writes nothing;
- before sending, a (de-dup key, channel) row is claimed in `SentNotification`, which is
  unique: a retry, a second worker or a re-run finds it delivered (or being sent) and
  does not send again.
A failed delivery is recorded on its history row and retried by the following checks (up
to `MAX_DELIVERY_RUNS` of them); the state change it belongs to is saved either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from deskpulse import clock
from deskpulse.analysis.alerts import (
    Evaluation,
    FixedBaseline,
    Observation,
    Rule,
    Transition,
    alert_email,
    alert_message,
    evaluate,
    next_state,
    windows,
)
from deskpulse.errors import DeskpulseError, NotFoundError
from deskpulse.events.store import Store
from deskpulse.metrics.query import TEAM_VIEWER, Filters, Query, query
from deskpulse.metrics.report import agent_directory
from deskpulse.names import agent_names, segment_label
from deskpulse.notify import DeliveryResult
from deskpulse.notify.email import send_email
from deskpulse.notify.webhook import send_webhook
from deskpulse.web.alerts.models import (
    AlertEvent,
    AlertRule,
    AlertStateRecord,
    Delivery,
    EventKind,
    NotificationSettings,
    SentNotification,
)
from deskpulse.web.runtime import store_with_facts

logger = logging.getLogger("deskpulse.web.alerts")

CHANNELS = ("webhook", "email")
# A failed delivery is tried again by this many checks in all (hourly: about 6 hours),
# then given up: an alert that arrives a day late helps nobody.
MAX_DELIVERY_RUNS = 6
# A claim still "sending" after this long belongs to a worker that died mid-send. It is
# not sent again: it may have arrived, and a repeat is what the ledger exists to prevent.
SENDING_LEASE = timedelta(minutes=15)
# Clocks of the caller and the server may differ a little; a check later than this is a
# mistake (a mistyped --as-of), not skew.
FUTURE_TOLERANCE = timedelta(minutes=5)

Progress = Callable[[int, int], None]


class FutureCheckError(DeskpulseError, ValueError):
    """A check dated after now (see check_rules); `field` is as_of."""


class RuleNotFoundError(NotFoundError):
    """No alert rule has this id. Pages answer 404, the API its 404 error shape."""

    def __init__(self, rule_id: str) -> None:
        super().__init__("no such alert rule")
        self.rule_id = rule_id


def ai_agent_ids() -> set[str] | None:
    """The AI agents the store knows, for the form's segment check; None without a store."""
    try:
        directory = agent_directory(store_with_facts())
    except Exception:  # no store configured (yet): the form skips the check
        return None
    return {agent for agent, known in directory.items() if (known.get("kind") or "") == "ai"}


def rule_for(rule_id: int | str) -> AlertRule:
    """The rule a page, the API or the CLI opens. Only owners and admins reach here."""
    try:
        found = AlertRule.objects.filter(pk=int(rule_id)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise RuleNotFoundError(str(rule_id))
    return found


@dataclass(frozen=True)
class Senders:
    """How notifications leave: the notify module's senders, with their waits. Tests pass
    a `sleep` that records instead of waiting; everything else is the real thing."""

    sleep: Callable[[float], None] = time.sleep
    webhook_timeout: float = 5.0
    email_timeout: float = 10.0


@dataclass(frozen=True)
class Change:
    """One state change a check made, for the summary a person reads."""

    rule_id: int
    rule_name: str
    previous: str
    state: str
    severity: str
    kind: str
    reason: str


@dataclass
class CheckSummary:
    checked: int = 0
    held: int = 0  # inconclusive checks: too few samples or no baseline
    skipped: int = 0  # already checked at a later moment, or by another worker
    changes: list[Change] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"{self.checked} rule{'s' if self.checked != 1 else ''} checked"]
        if self.changes:
            parts.append(
                "; ".join(f"{c.rule_name}: {c.previous} -> {c.state}" for c in self.changes)
            )
        else:
            parts.append("no state changed")
        if self.held:
            parts.append(f"{self.held} held (too few samples or no baseline)")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (checked already)")
        if self.delivered or self.failed:
            parts.append(f"{self.delivered} notification(s) delivered, {self.failed} failed")
        if self.errors:
            parts.append(f"{len(self.errors)} error(s): " + "; ".join(self.errors))
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "held": self.held,
            "skipped": self.skipped,
            "changes": [c.__dict__ for c in self.changes],
            "delivered": self.delivered,
            "failed": self.failed,
            "errors": list(self.errors),
            "summary": self.describe(),
        }


# -- measuring --------------------------------------------------------------------------


def _reading(
    store: Store, metric: str, filters: Filters, start: datetime, end: datetime
) -> tuple[float | None, int]:
    # A custom period with explicit ends, as signals.py and ai_agents.py ask: the core's
    # windows are exact instants, not the named periods' local days.
    result = query(
        store,
        Query(metrics=[metric], period="custom", filters=filters, **{"from": start, "to": end}),
        TEAM_VIEWER,
    )
    found = result.single().metrics[metric]
    return (None if found.value is None else float(found.value)), found.n


def observe(store: Store, rule: AlertRule, now: datetime) -> Observation:
    """The rule's current window (and trailing baseline window) through the query layer."""
    core = rule.core_rule()
    spans = windows(core, now)
    filters = Filters(**rule.segment)
    current, n = _reading(store, rule.metric, filters, spans.current_start, spans.current_end)
    if spans.baseline_start is None or spans.baseline_end is None:
        return Observation(current=current, n=n)
    baseline, baseline_n = _reading(
        store, rule.metric, filters, spans.baseline_start, spans.baseline_end
    )
    return Observation(current=current, n=n, baseline=baseline, baseline_n=baseline_n)


# -- one rule -------------------------------------------------------------------------------


def _event_kind(transition: Transition) -> str | None:
    """The history row a transition makes; None when nothing changed worth a row."""
    if transition.notifications:
        return transition.notifications[0].kind
    if transition.changed:
        return EventKind.PENDING if transition.state.state == "pending" else EventKind.OK
    return None


def _channel_status(
    rule: AlertRule, channel: str, settings: NotificationSettings
) -> tuple[str, str]:
    wanted = rule.notify_webhook if channel == "webhook" else rule.notify_email
    if not wanted:
        return Delivery.OFF_FOR_RULE, ""
    ready = settings.webhook_ready if channel == "webhook" else settings.email_ready
    if not ready:
        where = "/settings/notifications/"
        return Delivery.NOT_CONFIGURED, f"no {channel} is set up at {where}"
    return Delivery.QUEUED, ""


def _reading_fields(evaluation: Evaluation) -> dict[str, Any]:
    obs = evaluation.observation
    return {
        "current": obs.current,
        "n": obs.n,
        "baseline": evaluation.baseline,
        "baseline_n": evaluation.baseline_n,
        "deviation": evaluation.deviation,
    }


def _check_one(
    rule: AlertRule,
    store: Store,
    now: datetime,
    settings: NotificationSettings,
    summary: CheckSummary,
) -> None:
    core = rule.core_rule()
    record = AlertStateRecord.objects.filter(rule=rule, segment_key=core.segment_key).first()
    if record is not None and record.last_evaluated >= now:
        # Checked at this very moment already (a second click, a retried job) or later (a
        # backfill, --as-of): a repeat must not count as one more breaching check.
        summary.skipped += 1
        return
    evaluation = evaluate(core, observe(store, rule, now))
    transition = next_state(None if record is None else record.as_core(), evaluation, now)
    kind = _event_kind(transition)
    with transaction.atomic():
        if record is None:
            record = AlertStateRecord(rule=rule, segment_key=core.segment_key, version=0)
            previous_version = None
        else:
            previous_version = record.version
        record.take(transition.state)
        record.current = evaluation.observation.current
        record.n = evaluation.observation.n
        record.baseline = evaluation.baseline
        record.baseline_n = evaluation.baseline_n
        record.deviation = evaluation.deviation
        record.bad_deviation = evaluation.bad_deviation
        record.improvement = evaluation.improvement
        record.conclusive = evaluation.conclusive
        record.reason = evaluation.reason[:500]
        record.version = (previous_version or 0) + 1
        if previous_version is None:
            try:
                with transaction.atomic():
                    record.save(force_insert=True)
            except IntegrityError:
                summary.skipped += 1  # another worker made the first check at this moment
                return
        else:
            won = AlertStateRecord.objects.filter(pk=record.pk, version=previous_version).update(
                **{
                    name: getattr(record, name)
                    for name in (
                        "state",
                        "severity",
                        "started_at",
                        "firing_since",
                        "resolved_at",
                        "last_evaluated",
                        "breaches",
                        "notified_severity",
                        "version",
                        "current",
                        "n",
                        "baseline",
                        "baseline_n",
                        "deviation",
                        "bad_deviation",
                        "improvement",
                        "conclusive",
                        "reason",
                    )
                }
            )
            if won != 1:
                summary.skipped += 1  # another worker saved this check first
                return
        summary.checked += 1
        if transition.held:
            summary.held += 1
        if kind is None:
            return
        # Notifications name the segment's AI agent or inquiry in words; events are rare,
        # so the names are read only when one is recorded.
        words = segment_label(core.segment, agent_names(store))
        _record_event(rule, core, evaluation, transition, kind, now, settings, words)
    summary.changes.append(
        Change(
            rule_id=rule.pk,
            rule_name=rule.name,
            previous=transition.previous,
            state=transition.state.state,
            severity=transition.state.severity,
            kind=kind,
            reason=evaluation.reason,
        )
    )


def _record_event(
    rule: AlertRule,
    core: Any,
    evaluation: Evaluation,
    transition: Transition,
    kind: str,
    now: datetime,
    settings: NotificationSettings,
    segment_text: str | None = None,
) -> AlertEvent:
    notification = transition.notifications[0] if transition.notifications else None
    severity = (
        notification.severity
        if notification is not None
        else (transition.state.severity if kind == EventKind.PENDING else "none")
    )
    event = AlertEvent(
        rule=rule,
        rule_name=rule.name,
        metric=rule.metric,
        segment_label=rule.segment_label,
        at=now,
        kind=kind,
        previous_state=transition.previous,
        severity=severity,
        value_format=core.format,
        reason=evaluation.reason[:500],
        episode_key=transition.state.episode_key or "",
        **_reading_fields(evaluation),
    )
    if notification is not None:
        event.dedup_key = notification.dedup_key
        # The address set on the notifications page, else the install's public URL.
        base = settings.dashboard_url or getattr(django_settings, "DESKPULSE_PUBLIC_URL", None)
        link = f"{base}/alerts/{rule.pk}/" if base else None
        subject, body = alert_email(
            core, evaluation, transition, dashboard_url=link, segment_text=segment_text
        )
        event.message = {
            "webhook": alert_message(
                core, evaluation, transition, dashboard_url=link, segment_text=segment_text
            ),
            "email": {"subject": subject, "body": body},
        }
        event.webhook, event.webhook_detail = _channel_status(rule, "webhook", settings)
        event.email, event.email_detail = _channel_status(rule, "email", settings)
    event.save()
    return event


# -- delivering -----------------------------------------------------------------------------


def _send(
    channel: str, event: AlertEvent, settings: NotificationSettings, senders: Senders
) -> DeliveryResult:
    try:
        if channel == "webhook":
            return send_webhook(
                settings.webhook_url,
                event.message["webhook"],
                settings.webhook_secret,
                delivery_id=event.dedup_key,
                timeout=senders.webhook_timeout,
                sleep=senders.sleep,
            )
        mail = event.message["email"]
        return send_email(
            settings.smtp_host,
            settings.smtp_port,
            settings.from_address,
            settings.recipients,
            mail["subject"],
            mail["body"],
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=settings.smtp_starttls,
            delivery_id=event.dedup_key,
            timeout=senders.email_timeout,
            sleep=senders.sleep,
        )
    except ValueError as error:
        # Settings the sender refuses (a password without TLS, say): a failed delivery
        # with the reason, never a lost state change.
        return DeliveryResult(ok=False, attempts=0, status=None, error=str(error))


def _claim(channel: str, event: AlertEvent, now: datetime) -> SentNotification | None:
    """The ledger row for this (key, channel), if this worker may send it now."""
    try:
        with transaction.atomic():
            return SentNotification.objects.create(
                dedup_key=event.dedup_key,
                channel=channel,
                event=event,
                status=Delivery.SENDING,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    found = SentNotification.objects.get(dedup_key=event.dedup_key, channel=channel)
    if found.event_id != event.pk:
        return None  # another event already carries this notification
    # A failed delivery is ours to retry if no other worker took it meanwhile.
    won = SentNotification.objects.filter(
        pk=found.pk, status=Delivery.FAILED, runs__lt=MAX_DELIVERY_RUNS
    ).update(status=Delivery.SENDING, claimed_at=now)
    if won != 1:
        return None
    found.refresh_from_db()
    return found


def _set_channel(event: AlertEvent, channel: str, status: str, detail: str) -> None:
    detail = detail[:500]
    AlertEvent.objects.filter(pk=event.pk).update(**{channel: status, f"{channel}_detail": detail})
    setattr(event, channel, status)
    setattr(event, f"{channel}_detail", detail)


def deliver_pending(
    now: datetime,
    settings: NotificationSettings | None = None,
    senders: Senders | None = None,
    summary: CheckSummary | None = None,
) -> CheckSummary:
    """Send every queued notification and retry the failed ones, each at most once per
    (de-dup key, channel) ever delivered."""
    settings = settings or NotificationSettings.current()
    senders = senders or Senders()
    summary = summary or CheckSummary()
    # Claims left "sending" by a worker that died: not re-sent (they may have arrived).
    stale = SentNotification.objects.filter(
        status=Delivery.SENDING, claimed_at__lt=now - SENDING_LEASE
    )
    for abandoned in stale:
        abandoned.status = Delivery.FAILED
        abandoned.runs = MAX_DELIVERY_RUNS
        abandoned.error = "interrupted while sending; not sent again, as it may have arrived"
        abandoned.save(update_fields=["status", "runs", "error"])
        event = AlertEvent.objects.get(pk=abandoned.event_id)
        _set_channel(event, abandoned.channel, Delivery.GAVE_UP, abandoned.error)
    waiting = AlertEvent.objects.filter(
        Q(webhook__in=(Delivery.QUEUED, Delivery.FAILED))
        | Q(email__in=(Delivery.QUEUED, Delivery.FAILED))
    ).order_by("at", "pk")
    for event in waiting:
        for channel in CHANNELS:
            if getattr(event, channel) not in (Delivery.QUEUED, Delivery.FAILED):
                continue
            ready = settings.webhook_ready if channel == "webhook" else settings.email_ready
            if not ready:
                # Unset since the check: say so rather than retry into nothing.
                _set_channel(event, channel, Delivery.NOT_CONFIGURED, "removed from settings")
                continue
            claim = _claim(channel, event, now)
            if claim is None:
                sent = SentNotification.objects.filter(
                    dedup_key=event.dedup_key, channel=channel
                ).first()
                if sent is None:
                    continue
                if sent.event_id != event.pk:
                    detail = f"already sent as {sent.dedup_key}"
                    _set_channel(event, channel, Delivery.DUPLICATE, detail)
                elif sent.status == Delivery.DELIVERED:
                    _set_channel(event, channel, Delivery.DELIVERED, "delivered by another run")
                elif sent.status == Delivery.FAILED:
                    _set_channel(event, channel, Delivery.GAVE_UP, sent.error)
                continue
            result = _send(channel, event, settings, senders)
            claim.runs += 1
            claim.attempts += result.attempts
            if result.ok:
                claim.status = Delivery.DELIVERED
                claim.delivered_at = now
                claim.error = ""
                summary.delivered += 1
                detail = f"{claim.attempts} attempt(s)"
                _set_channel(event, channel, Delivery.DELIVERED, detail)
            else:
                claim.status = Delivery.FAILED
                claim.error = (result.error or "failed")[:500]
                summary.failed += 1
                left = MAX_DELIVERY_RUNS - claim.runs
                if left > 0:
                    detail = f"{claim.error}; the next {left} check(s) will retry"
                    _set_channel(event, channel, Delivery.FAILED, detail)
                else:
                    _set_channel(event, channel, Delivery.GAVE_UP, claim.error)
            claim.save()
    return summary


# -- the entry point ------------------------------------------------------------------------


def check_rules(
    store: Store,
    now: datetime,
    *,
    progress: Progress | None = None,
    rules: list[AlertRule] | None = None,
    senders: Senders | None = None,
    deliver: bool = True,
) -> CheckSummary:
    """Check every enabled rule (or `rules`) as of `now`, then deliver what is due.

    One rule failing to measure (a query timeout, say) is reported in the summary and
    does not stop the others.
    """
    if now.tzinfo is None:
        raise ValueError("now: must be timezone-aware")
    if now > clock.now() + FUTURE_TOLERANCE:
        # A check stores its moment, and a rule is never checked again at or before it:
        # one check dated next year would silence every rule until then.
        raise FutureCheckError(f"{now.isoformat()} is in the future", "as_of")
    chosen = rules if rules is not None else list(AlertRule.objects.filter(enabled=True))
    settings = NotificationSettings.current()
    summary = CheckSummary()
    total = len(chosen)
    if progress is not None:
        progress(0, total)
    for done, rule in enumerate(chosen, start=1):
        try:
            _check_one(rule, store, now, settings, summary)
        except Exception as error:
            logger.exception("alert rule %s could not be checked", rule.pk)
            summary.errors.append(f"{rule.name}: {type(error).__name__}: {error}")
        if progress is not None:
            progress(done, total)
    if deliver:
        deliver_pending(now, settings, senders, summary)
    return summary


def send_test_notification(
    now: datetime, settings: NotificationSettings | None = None, senders: Senders | None = None
) -> dict[str, DeliveryResult | None]:
    """One made-up "firing" alert through each configured channel; None: not set up.
    Nothing is stored: it tests the settings, not a rule."""
    settings = settings or NotificationSettings.current()
    senders = senders or Senders()
    rule = Rule(
        id="deskpulse-test",
        metric="escalation_rate",
        direction="lower_is_better",
        baseline=FixedBaseline(0.12),
        pending_for=0,
        label="Test alert (not a real one)",
    )
    evaluation = evaluate(rule, Observation(current=0.18, n=240))
    transition = next_state(None, evaluation, now)
    subject, body = alert_email(rule, evaluation, transition)
    event = AlertEvent(
        dedup_key=f"deskpulse-test:{now.timestamp():.0f}",
        message={
            "webhook": alert_message(rule, evaluation, transition),
            "email": {"subject": subject, "body": body},
        },
    )
    results: dict[str, DeliveryResult | None] = {}
    for channel in CHANNELS:
        ready = settings.webhook_ready if channel == "webhook" else settings.email_ready
        results[channel] = _send(channel, event, settings, senders) if ready else None
    return results
