"""Sending the weekly digest: to a real local SMTP server and webhook receiver, once per
person and week (the ledger), scoped by role, with the alerts and plans of the week."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from deskpulse import clock
from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings
from deskpulse.web import jobs
from deskpulse.web.accounts.models import Team
from deskpulse.web.alerts.models import AlertEvent, NotificationSettings
from deskpulse.web.coaching.models import Plan, PlanStatus
from deskpulse.web.digest.models import DigestPreference, DigestSend, SendStatus
from deskpulse.web.digest.service import Senders, build_digest, send_due, send_one
from deskpulse.web.runtime import using_store
from tests.factories import ingest_and_build
from tests.notify.test_digest import organisation
from tests.notify.test_email import Server, free_port
from tests.notify.test_webhook import SECRET, Receiver
from tests.notify.test_webhook import receiver as receiver
from tests.web.test_alerts_service import smtp as smtp

pytestmark = pytest.mark.django_db

NOW = clock.now()  # Wednesday 2027-01-13 12:00 UTC
NO_WAIT = Senders(sleep=lambda seconds: None, email_timeout=2)


@pytest.fixture(scope="module")
def org_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("digest")))
    ingest_and_build(store, organisation())
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(org_store: Store) -> Iterator[Store]:
    with using_store(org_store):
        yield org_store


def configure(smtp: Server | None = None, receiver: Receiver | None = None) -> None:
    settings = NotificationSettings(dashboard_url="https://dp.example")
    if smtp is not None:
        settings.smtp_host = "127.0.0.1"
        settings.smtp_port = smtp.port
        settings.smtp_starttls = False
        settings.from_address = "digest@deskpulse.example"
    if receiver is not None:
        settings.webhook_url = receiver.url
        settings.webhook_secret = SECRET
    settings.save()


def wants(user: User, **fields: object) -> DigestPreference:
    values: dict[str, object] = {"enabled": True, "weekday": 2, "hour": 8, **fields}
    return DigestPreference.objects.create(user=user, **values)


def plan(agent: str, status: str, target: date, **fields: object) -> Plan:
    values: dict[str, object] = {
        "agent_id": agent,
        "channel": "chat",
        "inquiry": "billing",
        "metric": "first_response_median",
        "direction": "lower",
        "improvement_percent": 20,
        "target_date": target,
        "began_at": NOW - timedelta(days=30),
        "status": status,
        **fields,
    }
    return Plan.objects.create(**values)


def text_and_html(server: Server) -> tuple[str, str]:
    ((_, _, message),) = server.handler.messages
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert html is not None
    # On the wire lines end in CRLF.
    return plain.get_content().replace("\r\n", "\n"), html.get_content()


def test_an_owners_digest_goes_once_a_week_even_across_restarts(
    org_store: Store, owner: User, smtp: Server
) -> None:
    configure(smtp)
    Team.objects.create(team_id="billing", name="Billing")
    wants(owner, teams=["billing"])
    summary = send_due(org_store, NOW, NO_WAIT)
    assert (summary.due, summary.sent, summary.failed) == (1, 1, 0)
    text, html = text_and_html(smtp)
    assert "Team Billing" in text
    assert "  Conversations: 3 (n = 3)  was 1" in text
    assert "  Median first response: 4m 00s (n = 3, few samples)" in text
    assert "https://dp.example/analytics/?period=custom" in text
    assert "team=billing" in text
    assert 'data-metric="conversations"' in html
    row = DigestSend.objects.get(user=owner)
    assert (row.week, row.status, row.email, row.attempts) == ("2027-W02", "sent", "delivered", 1)
    assert row.sent_at == NOW
    # Later that week, and after a restart (nothing in memory): the ledger says sent.
    assert send_due(org_store, NOW + timedelta(hours=1), NO_WAIT).due == 0
    assert send_one(org_store, DigestPreference.objects.get(user=owner), NOW, NO_WAIT) is None
    assert len(smtp.handler.messages) == 1
    # The next week's slot sends the next week's digest.
    assert send_due(org_store, NOW + timedelta(days=7), NO_WAIT).sent == 1
    assert sorted(DigestSend.objects.values_list("week", flat=True)) == ["2027-W02", "2027-W03"]


def test_nothing_goes_before_the_chosen_hour(org_store: Store, owner: User, smtp: Server) -> None:
    configure(smtp)
    wants(owner, hour=13)  # 13:00 UTC; now is 12:00
    assert send_due(org_store, NOW, NO_WAIT).due == 0
    assert send_due(org_store, NOW + timedelta(hours=1), NO_WAIT).sent == 1


def test_the_hour_is_in_the_persons_own_time_zone(
    org_store: Store, owner: User, smtp: Server
) -> None:
    configure(smtp)
    # 08:00 on Wednesday in Tokyo was 23:00 UTC on Tuesday: due at noon UTC Wednesday.
    wants(owner, hour=8, timezone="Asia/Tokyo")
    assert send_due(org_store, NOW, NO_WAIT).sent == 1
    # 13:00 in New York is 18:00 UTC: not yet at 12:00 UTC, due at 18:00.
    DigestSend.objects.all().delete()
    DigestPreference.objects.filter(user=owner).update(hour=13, timezone="America/New_York")
    assert send_due(org_store, NOW, NO_WAIT).due == 0
    assert send_due(org_store, NOW + timedelta(hours=5), NO_WAIT).due == 0
    assert send_due(org_store, NOW + timedelta(hours=6), NO_WAIT).sent == 1


def test_a_switched_off_digest_is_not_sent(org_store: Store, owner: User, smtp: Server) -> None:
    configure(smtp)
    wants(owner, enabled=False)
    assert send_due(org_store, NOW, NO_WAIT).due == 0
    assert not smtp.handler.messages


def test_an_agents_digest_is_their_own_numbers_and_plans_only(
    org_store: Store, agent: User, smtp: Server, receiver: Receiver
) -> None:
    configure(smtp, receiver)
    plan("alice", PlanStatus.ACHIEVED, date(2027, 1, 10), achieved_at=NOW - timedelta(days=4))
    plan("bob", PlanStatus.EXPIRED, date(2027, 1, 11))
    # Even if the row said so, an agent's digest never goes to the shared webhook.
    wants(agent, to_webhook=True, teams=["billing"])
    assert send_due(org_store, NOW, NO_WAIT).sent == 1
    text, _ = text_and_html(smtp)
    assert "Your numbers" in text
    assert "  Conversations handled: 2 (n = 2)  was 1" in text
    # Her own replies after 2 and 4 minutes; bob's 10 minutes are not hers.
    assert "  Median first response: 3m 00s (n = 2, few samples)" in text
    assert "Team" not in text
    assert "Whole organisation" not in text
    assert "Alerts that changed state" not in text
    assert "Median first response on Billing, 20% lower: reached" in text
    assert "Bob" not in text
    assert "missed" not in text
    assert receiver.received == []


def test_the_week_s_alerts_and_plans_are_in_a_leads_digest(org_store: Store, owner: User) -> None:
    AlertEvent.objects.create(
        rule_name="CSAT on chat",
        metric="csat_mean",
        segment_label="channel = chat",
        at=datetime(2027, 1, 8, 10, tzinfo=UTC),
        kind="firing",
        previous_state="pending",
        severity="warning",
        reason="CSAT 4.1 against 4.5",
    )
    AlertEvent.objects.create(
        rule_name="Last month's rule",
        metric="csat_mean",
        segment_label="all conversations",
        at=datetime(2026, 12, 20, tzinfo=UTC),
        kind="firing",
        previous_state="pending",
        severity="warning",
        reason="old news",
    )
    plan("bob", PlanStatus.EXPIRED, date(2027, 1, 11))
    plan("tara", PlanStatus.EXPIRED, date(2027, 1, 11))  # another team's
    plan("alice", PlanStatus.IN_PROGRESS, date(2027, 1, 11))  # not decided yet
    wants(owner, teams=["billing"])
    digest = build_digest(org_store, owner, NOW, root="")
    assert [(a.rule_name, a.change) for a in digest.alerts] == [("CSAT on chat", "firing")]
    assert [(p.agent_name, p.outcome) for p in digest.plans] == [("Bob Baker", "missed")]


def test_the_whole_organisation_when_no_team_is_chosen(org_store: Store, admin: User) -> None:
    wants(admin)
    plan("tara", PlanStatus.EXPIRED, date(2027, 1, 11))
    digest = build_digest(org_store, admin, NOW, root="")
    (scope,) = digest.scopes
    assert scope.title == "Whole organisation"
    assert {t.metric: t.value_text for t in scope.tiles}["conversations"] == "4"
    assert [p.agent_name for p in digest.plans] == ["Tara Tech"]


def test_a_failed_delivery_is_retried_by_the_next_run_and_then_recorded(
    org_store: Store, owner: User, smtp: Server
) -> None:
    settings = NotificationSettings(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False
    )
    settings.from_address = "digest@deskpulse.example"
    settings.save()  # a port nobody listens on
    wants(owner)
    assert send_due(org_store, NOW, NO_WAIT).failed == 1
    row = DigestSend.objects.get(user=owner)
    assert row.status == SendStatus.FAILED
    assert row.email.startswith("failed:")
    configure(smtp)
    assert send_due(org_store, NOW + timedelta(minutes=15), NO_WAIT).sent == 1
    row.refresh_from_db()
    assert (row.status, row.email, row.attempts) == ("sent", "delivered", 2)
    assert len(smtp.handler.messages) == 1


def test_the_webhook_gets_slack_text_for_a_lead(
    org_store: Store, owner: User, receiver: Receiver
) -> None:
    configure(receiver=receiver)
    wants(owner, by_email=False, to_webhook=True, teams=["tech"])
    assert send_due(org_store, NOW, NO_WAIT).sent == 1
    (request,) = receiver.received
    text = json.loads(request.body)["text"]
    assert "Team tech" in text
    assert "Conversations: 1 (n = 1)" in text
    assert DigestSend.objects.get(user=owner).webhook == "delivered"


def test_the_scheduled_job_sends_due_digests(org_store: Store, owner: User, smtp: Server) -> None:
    configure(smtp)
    wants(owner)
    job = jobs.job_named("send-weekly-digests")
    context = jobs.JobContext(org_store.settings, NOW, lambda: org_store)
    result = jobs.run_job(job, context, force=True)
    assert (result.outcome, result.message) == ("ok", "1 due: 1 sent, 0 failed, 0 already sent")
    assert len(smtp.handler.messages) == 1


def test_links_fall_back_to_the_public_url_like_alerts(org_store: Store, owner: User) -> None:
    from django.test import override_settings

    NotificationSettings().save()  # no deskpulse address set
    with override_settings(DESKPULSE_PUBLIC_URL="https://support.example"):
        digest = build_digest(org_store, owner, NOW)
    assert digest.settings_url == "https://support.example/settings/digest/"
    assert digest.scopes[0].dashboard_url.startswith("https://support.example/analytics/?")


def test_without_smtp_settings_nothing_is_marked_sent(org_store: Store, owner: User) -> None:
    NotificationSettings().save()
    wants(owner)
    assert send_due(org_store, NOW, NO_WAIT).failed == 1
    row = DigestSend.objects.get(user=owner)
    assert row.status == SendStatus.FAILED
    assert row.email == "not configured (Settings, Alert notifications)"
    assert row.sent_at is None
