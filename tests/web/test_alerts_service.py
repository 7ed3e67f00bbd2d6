"""`check_rules` on the hand-made month of tests/web/alerts_scenario.py: the states a
rule goes through, the history rows it leaves, and the notifications, delivered to a real
local HTTP receiver and a real local SMTP server exactly once per transition."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.test import override_settings

from deskpulse.events.store import Store
from deskpulse.web.alerts.models import (
    AlertEvent,
    AlertRule,
    AlertStateRecord,
    Delivery,
    NotificationSettings,
    SentNotification,
)
from deskpulse.web.alerts.service import Senders, check_rules, deliver_pending
from deskpulse.web.runtime import using_store
from tests.notify.test_email import Handler, Server
from tests.notify.test_webhook import SECRET, Receiver
from tests.notify.test_webhook import receiver as receiver
from tests.web.alerts_scenario import csat_rule, day
from tests.web.alerts_scenario import month_store as month_store

pytestmark = pytest.mark.django_db

NO_WAIT = Senders(sleep=lambda seconds: None)


@pytest.fixture(autouse=True)
def api_store(month_store: Store) -> Iterator[Store]:
    with using_store(month_store):
        yield month_store


@pytest.fixture
def smtp() -> Iterator[Server]:
    from aiosmtpd.controller import Controller

    from tests.notify.test_email import free_port

    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Server(handler, controller.port)
    finally:
        controller.stop()


def configure(receiver: Receiver | None, smtp: Server | None) -> None:
    settings = NotificationSettings()
    if receiver is not None:
        settings.webhook_url = receiver.url
        settings.webhook_secret = SECRET
    if smtp is not None:
        settings.smtp_host = "127.0.0.1"
        settings.smtp_port = smtp.port
        settings.smtp_starttls = False
        settings.from_address = "alerts@deskpulse.example"
        settings.to_addresses = "lead@example.com"
    settings.save()


def state_of(rule: AlertRule) -> AlertStateRecord:
    return AlertStateRecord.objects.get(rule=rule)


def kinds(rule: AlertRule) -> list[str]:
    return [e.kind for e in AlertEvent.objects.filter(rule=rule).order_by("at", "pk")]


def test_ok_pending_firing_resolved_ok_with_one_notification_each(
    month_store: Store,
    receiver: Receiver,
    smtp: Server,
) -> None:
    configure(receiver, smtp)
    rule = csat_rule()

    first = check_rules(month_store, day(8), senders=NO_WAIT)
    assert first.checked == 1
    assert not first.changes
    assert state_of(rule).state == "ok"
    assert state_of(rule).current == pytest.approx(5.0)
    assert state_of(rule).n == 8
    assert kinds(rule) == []

    pending = check_rules(month_store, day(12), senders=NO_WAIT)
    assert [(c.previous, c.state, c.severity) for c in pending.changes] == [
        ("ok", "pending", "critical")
    ]
    assert receiver.received == []  # pending announces nothing

    # The same check again (a second click, a retried job): it changes nothing.
    again = check_rules(month_store, day(12), senders=NO_WAIT)
    assert again.skipped == 1
    assert state_of(rule).state == "pending"

    firing = check_rules(month_store, day(13), senders=NO_WAIT)
    assert [c.state for c in firing.changes] == ["firing"]
    assert firing.delivered == 2
    check_rules(month_store, day(13), senders=NO_WAIT)
    deliver_pending(day(13), senders=NO_WAIT)  # a second worker delivering: nothing new
    assert len(receiver.received) == 1
    assert len(smtp.handler.messages) == 1
    sent = receiver.received[0]
    key = sent.headers["X-Deskpulse-Delivery"]
    assert key.startswith(f"rule-{rule.pk}:inbox=inbox-q:")
    assert key.endswith("/firing")
    assert "Alert firing: CSAT in inbox-q" in sent.body.decode()
    _sender, recipients, message = smtp.handler.messages[0]
    assert recipients == ["lead@example.com"]
    subject = "[deskpulse critical] Alert firing: CSAT in inbox-q (inbox = inbox-q)"
    assert message["Subject"] == subject
    assert message["X-Deskpulse-Delivery"] == key

    # Still breaching: firing stays firing and says nothing new.
    quiet = check_rules(month_store, day(15), senders=NO_WAIT)
    assert not quiet.changes
    assert len(receiver.received) == 1

    resolved = check_rules(month_store, day(22), senders=NO_WAIT)
    assert [c.state for c in resolved.changes] == ["resolved"]
    check_rules(month_store, day(23), senders=NO_WAIT)
    assert kinds(rule) == ["pending", "firing", "resolved", "ok"]
    assert len(receiver.received) == 2
    assert receiver.received[1].headers["X-Deskpulse-Delivery"] == key.replace(
        "/firing", "/resolved"
    )
    assert len(smtp.handler.messages) == 2

    events = list(AlertEvent.objects.filter(rule=rule).order_by("at", "pk"))
    pending_row, firing_row, resolved_row, ok_row = events
    assert pending_row.severity == "critical"
    assert pending_row.current == pytest.approx(2.0)
    assert pending_row.baseline == pytest.approx(4.5)
    assert pending_row.n == 8
    assert pending_row.baseline_n is None  # a fixed baseline has no n
    assert pending_row.deviation == pytest.approx((2.0 - 4.5) / 4.5)
    assert "worse than baseline" in pending_row.reason
    assert pending_row.webhook == Delivery.NONE  # nothing to deliver for pending
    assert firing_row.webhook == Delivery.DELIVERED
    assert firing_row.email == Delivery.DELIVERED
    assert firing_row.dedup_key == key
    assert resolved_row.webhook == Delivery.DELIVERED
    assert ok_row.kind == "ok"
    assert ok_row.dedup_key == ""
    assert state_of(rule).state == "ok"
    assert SentNotification.objects.filter(status=Delivery.DELIVERED).count() == 4


def test_notifications_link_to_the_rule_when_the_address_is_set(
    month_store: Store, receiver: Receiver, smtp: Server
) -> None:
    configure(receiver, smtp)
    settings = NotificationSettings.current()
    settings.dashboard_url = "https://deskpulse.example.com"
    settings.save()
    rule = csat_rule()
    check_rules(month_store, day(12), senders=NO_WAIT)
    check_rules(month_store, day(13), senders=NO_WAIT)
    link = f"https://deskpulse.example.com/alerts/{rule.pk}/"
    slack = json.loads(receiver.received[0].body)
    assert f"<{link}|Open the dashboard>" in slack["blocks"][0]["text"]["text"]
    _sender, _recipients, message = smtp.handler.messages[0]
    assert f"Dashboard: {link}" in message.get_content()


def test_without_an_address_the_public_url_gives_the_link(
    month_store: Store, receiver: Receiver
) -> None:
    configure(receiver, None)
    rule = csat_rule()
    with override_settings(DESKPULSE_PUBLIC_URL="https://support.example.com"):
        check_rules(month_store, day(12), senders=NO_WAIT)
        check_rules(month_store, day(13), senders=NO_WAIT)
    slack = json.loads(receiver.received[0].body)
    link = f"https://support.example.com/alerts/{rule.pk}/"
    assert f"<{link}|Open the dashboard>" in slack["blocks"][0]["text"]["text"]


def test_a_lost_delivery_mark_never_sends_twice(
    month_store: Store,
    receiver: Receiver,
) -> None:
    """A worker that delivered but died before marking the history row: the ledger row
    says delivered, so the next run does not send again."""
    configure(receiver, None)
    rule = csat_rule()
    check_rules(month_store, day(12), senders=NO_WAIT)
    check_rules(month_store, day(13), senders=NO_WAIT)
    assert len(receiver.received) == 1
    AlertEvent.objects.filter(rule=rule, kind="firing").update(webhook=Delivery.QUEUED)
    deliver_pending(day(13), senders=NO_WAIT)
    assert len(receiver.received) == 1
    firing = AlertEvent.objects.get(rule=rule, kind="firing")
    assert firing.webhook == Delivery.DELIVERED


def test_failed_webhook_is_recorded_and_retried_later_without_losing_the_state(
    month_store: Store,
    receiver: Receiver,
) -> None:
    configure(receiver, None)
    rule = csat_rule()
    check_rules(month_store, day(12), senders=NO_WAIT)
    receiver.script = [(500, {})] * 4  # every attempt of this check fails
    firing = check_rules(month_store, day(13), senders=NO_WAIT)
    assert firing.failed == 1
    assert len(receiver.received) == 4
    assert state_of(rule).state == "firing"  # the state change is kept
    event = AlertEvent.objects.get(rule=rule, kind="firing")
    assert event.webhook == Delivery.FAILED
    assert "HTTP 500" in event.webhook_detail
    assert "retry" in event.webhook_detail
    assert event.email == Delivery.NOT_CONFIGURED

    later = check_rules(month_store, day(14), senders=NO_WAIT)
    assert not later.changes
    assert later.delivered == 1
    event.refresh_from_db()
    assert event.webhook == Delivery.DELIVERED
    assert len(receiver.received) == 5
    ids = {r.headers["X-Deskpulse-Delivery"] for r in receiver.received}
    assert ids == {event.dedup_key}  # the same delivery id on every attempt
    check_rules(month_store, day(15), senders=NO_WAIT)
    assert len(receiver.received) == 5


def test_an_improvement_is_shown_but_does_not_alert(
    month_store: Store,
    receiver: Receiver,
) -> None:
    configure(receiver, None)
    rule = csat_rule("inbox-up", pending_for=0)
    summary = check_rules(month_store, day(15), senders=NO_WAIT)
    assert not summary.changes
    state = state_of(rule)
    assert state.state == "ok"
    assert state.improvement
    assert state.current == pytest.approx(5.0)
    assert "an improvement, not an alert" in state.reason
    assert kinds(rule) == []
    assert receiver.received == []


def test_too_small_a_sample_holds_the_state(month_store: Store) -> None:
    rule = csat_rule()
    check_rules(month_store, day(12))
    check_rules(month_store, day(13))
    assert state_of(rule).state == "firing"
    # Now it needs more answers than two days hold: the check that would resolve it can
    # neither confirm nor clear the alert.
    AlertRule.objects.filter(pk=rule.pk).update(min_sample=100)
    rule.refresh_from_db()
    held = check_rules(month_store, day(22))
    assert held.held == 1
    assert not held.changes
    state = state_of(rule)
    assert state.state == "firing"
    assert not state.conclusive
    assert "only 8 samples" in state.reason
    assert kinds(rule) == ["pending", "firing"]
    # Without notification settings the history says so.
    firing = AlertEvent.objects.get(rule=rule, kind="firing")
    assert firing.webhook == Delivery.NOT_CONFIGURED
    assert firing.email == Delivery.NOT_CONFIGURED


def test_deleted_rule_keeps_its_history(month_store: Store) -> None:
    rule = csat_rule()
    check_rules(month_store, day(12))
    rule.delete()
    (event,) = AlertEvent.objects.all()
    assert event.rule_id is None
    assert event.rule_name == "CSAT in inbox-q"
    assert event.kind == "pending"


def test_disabled_rules_are_not_checked(month_store: Store) -> None:
    csat_rule(enabled=False)
    summary = check_rules(month_store, day(12))
    assert summary.checked == 0
    assert AlertStateRecord.objects.count() == 0
