"""The /alerts pages and /settings/notifications/: real numbers from real checks, form
errors that name the field and value, who may open what, and secrets never rendered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client, override_settings

from deskpulse.events.store import Store
from deskpulse.web.alerts.models import AlertEvent, AlertRule, NotificationSettings
from deskpulse.web.alerts.service import check_rules
from deskpulse.web.runtime import using_store
from tests.notify.test_webhook import SECRET, Receiver
from tests.notify.test_webhook import receiver as receiver
from tests.web.alerts_scenario import csat_rule, day
from tests.web.alerts_scenario import month_store as month_store

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def api_store(month_store: Store) -> Iterator[Store]:
    with using_store(month_store):
        yield month_store


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def text_of(response: object) -> str:
    return BeautifulSoup(response.content, "html.parser").get_text(" ")  # type: ignore[attr-defined]


def valid_rule(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "CSAT, app chat",
        "metric": "csat_mean",
        "segment_dimension": "inbox",
        "segment_value": "inbox-q",
        "baseline_kind": "trailing",
        "baseline_days": 28,
        "current_days": 7,
        "warning_percent": 10,
        "critical_percent": 25,
        "min_sample": 30,
        "pending_for": 1,
        "enabled": "on",
        "notify_webhook": "on",
    }
    data.update(changes)
    return data


# -- pages with numbers ---------------------------------------------------------------------


def test_list_shows_state_value_baseline_and_n(
    client: Client,
    owner: User,
    month_store: Store,
) -> None:
    rule = csat_rule()
    better = csat_rule("inbox-up")
    check_rules(month_store, day(12), rules=[rule])
    check_rules(month_store, day(15), rules=[better])
    response = signed_in(client, owner).get("/alerts/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    row = soup.select_one(f'tr[data-rule="{rule.pk}"]')
    assert row is not None
    cells = row.get_text(" ")
    assert "Pending" in cells
    assert "critical" in cells
    assert "2.00 (n=8)" in cells
    assert "4.50" in cells
    assert "-55.6%" in cells
    better_row = soup.select_one(f'tr[data-rule="{better.pk}"]')
    assert better_row is not None
    assert "moved the good way" in better_row.get_text(" ")
    assert "5.00 (n=8)" in better_row.get_text(" ")
    # The nav link is there for owners and admins.
    assert soup.select_one('nav a[href="/alerts/"]') is not None


def test_detail_and_history_show_events(
    client: Client,
    admin: User,
    month_store: Store,
) -> None:
    rule = csat_rule()
    for moment in (day(12), day(13), day(22)):
        check_rules(month_store, moment)
    signed_in(client, admin)
    detail = client.get(f"/alerts/{rule.pk}/")
    assert detail.status_code == 200
    soup = BeautifulSoup(detail.content, "html.parser")
    assert [tr["data-kind"] for tr in soup.select("tr[data-kind]")] == [
        "resolved",
        "firing",
        "pending",
    ]
    assert "Not configured" in text_of(detail)
    history = client.get("/alerts/history/")
    assert history.status_code == 200
    assert "CSAT in inbox-q" in text_of(history)
    # Deleting the rule keeps the history readable.
    deleted = client.post(f"/alerts/{rule.pk}/delete/")
    assert deleted.status_code == 302
    assert not AlertRule.objects.exists()
    after = client.get("/alerts/history/")
    assert after.status_code == 200
    assert "(deleted)" in text_of(after)
    assert AlertEvent.objects.count() == 3


def test_agent_sees_no_alerts_link(client: Client, agent: User) -> None:
    response = signed_in(client, agent).get("/analytics/")
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one('nav a[href="/alerts/"]') is None


# -- the forms ------------------------------------------------------------------------------


def test_new_rule_is_saved(client: Client, owner: User) -> None:
    response = signed_in(client, owner).post("/alerts/new/", valid_rule())
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert response["Location"] == f"/alerts/{rule.pk}/"
    assert rule.segment == {"inbox": "inbox-q"}
    assert rule.created_by == owner
    assert rule.notify_webhook
    assert not rule.notify_email
    assert rule.core_rule().direction == "higher_is_better"  # from the registry


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"warning_percent": 30, "critical_percent": 10},
            "Critical at (%): 10 is below the warning threshold (30)",
        ),
        ({"segment_value": ""}, "Segment value: '' is empty"),
        ({"current_days": 0}, "Current window (days): 0 is not between 1 and 90"),
        ({"metric": "conversations"}, "Metric: Select a valid choice. conversations"),
        ({"baseline_kind": "fixed"}, "Fixed baseline value: '' is empty"),
        ({"name": ""}, "Name: This field is required."),
    ],
)
def test_form_errors_name_the_field_and_value(
    client: Client, admin: User, changes: dict[str, object], line: str
) -> None:
    response = signed_in(client, admin).post("/alerts/new/", valid_rule(**changes))
    assert response.status_code == 400
    errors = BeautifulSoup(response.content, "html.parser").select_one("ul.errorlist")
    assert errors is not None
    assert line in errors.get_text(" "), errors.get_text(" ")
    assert not AlertRule.objects.exists()


def test_edit_changes_the_rule(client: Client, owner: User) -> None:
    rule = csat_rule()
    signed_in(client, owner)
    form = client.get(f"/alerts/{rule.pk}/edit/")
    assert form.status_code == 200
    assert 'value="CSAT in inbox-q"' in form.content.decode()
    saved = client.post(f"/alerts/{rule.pk}/edit/", valid_rule(name="Renamed", warning_percent=15))
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Renamed"
    assert rule.warning_percent == 15


def test_check_now_reports_what_changed(
    client: Client,
    owner: User,
) -> None:
    csat_rule()
    response = signed_in(client, owner).post("/alerts/check/", follow=True)
    assert response.status_code == 200
    # Today is long after the scenario's month: the windows hold no answers.
    assert "Checked: 1 rule checked" in text_of(response)


# -- notification settings ------------------------------------------------------------------


def test_settings_never_render_secrets(client: Client, owner: User) -> None:
    signed_in(client, owner)
    saved = client.post(
        "/settings/notifications/",
        {
            "dashboard_url": "https://deskpulse.example.com/",
            "webhook_url": "https://hooks.example.com/deskpulse",
            "webhook_secret": "very-secret-signing-key",
            "smtp_host": "smtp.example.com",
            "smtp_port": 587,
            "smtp_starttls": "on",
            "smtp_username": "alerts",
            "smtp_password": "hunter2-smtp-password",
            "from_address": "alerts@example.com",
            "to_addresses": "lead@example.com, ops@example.com",
        },
    )
    assert saved.status_code == 302, saved.content
    stored = NotificationSettings.current()
    assert stored.webhook_secret == "very-secret-signing-key"
    assert stored.recipients == ["lead@example.com", "ops@example.com"]
    assert stored.dashboard_url == "https://deskpulse.example.com"  # links append /alerts/…
    page = client.get("/settings/notifications/")
    html = page.content.decode()
    assert "very-secret-signing-key" not in html
    assert "hunter2-smtp-password" not in html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one('[data-secret="webhook"]').get_text() == "set"  # type: ignore[union-attr]
    assert soup.select_one('[data-secret="smtp"]').get_text() == "set"  # type: ignore[union-attr]
    # Saving again with the secret fields empty keeps them.
    client.post(
        "/settings/notifications/",
        {
            "webhook_url": "https://hooks.example.com/other",
            "smtp_port": 587,
            "smtp_starttls": "on",
        },
    )
    assert NotificationSettings.current().webhook_secret == "very-secret-signing-key"


def test_settings_errors_name_the_field(client: Client, admin: User) -> None:
    response = signed_in(client, admin).post(
        "/settings/notifications/",
        {"webhook_url": "https://hooks.example.com/x", "smtp_port": 70000, "to_addresses": "bob"},
    )
    assert response.status_code == 400
    errors = text_of(response)
    assert "Signing secret: '' is empty: a webhook needs a signing secret" in errors
    assert "SMTP port: 70000 is not a port" in errors
    assert "to_addresses[0]: 'bob' is not an e-mail address" in errors


def test_test_notification_reports_the_delivery(
    client: Client,
    owner: User,
    receiver: Receiver,
) -> None:
    NotificationSettings(webhook_url=receiver.url, webhook_secret=SECRET).save()
    response = signed_in(client, owner).post("/settings/notifications/", {"action": "test"})
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    webhook = soup.select_one('li[data-channel="webhook"]')
    assert webhook is not None
    assert "delivered" in webhook.get_text()
    email = soup.select_one('li[data-channel="email"]')
    assert email is not None
    assert "not configured" in email.get_text()
    assert len(receiver.received) == 1
    assert "Test alert" in receiver.received[0].body.decode()


# -- who may open what ----------------------------------------------------------------------


def _views(rule: AlertRule) -> list[tuple[str, str]]:
    return [
        ("get", "/alerts/"),
        ("get", "/alerts/new/"),
        ("get", "/alerts/history/"),
        ("get", f"/alerts/{rule.pk}/"),
        ("get", f"/alerts/{rule.pk}/edit/"),
        ("post", f"/alerts/{rule.pk}/delete/"),
        ("post", "/alerts/check/"),
        ("get", "/settings/notifications/"),
    ]


@pytest.mark.parametrize("who", ["owner", "admin", "agent", "outsider", "anonymous"])
def test_every_view_checks_the_role(
    request: pytest.FixtureRequest, client: Client, db: None, who: str
) -> None:
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    for method, url in _views(csat_rule()):
        response = getattr(client, method)(url)
        if who in ("owner", "admin"):
            expected = 302 if method == "post" else 200
        elif who == "anonymous":
            expected = 302
        else:
            expected = 403
        assert response.status_code == expected, (who, url, response.status_code)
        if who == "anonymous":
            assert response["Location"].startswith(f"{LOGIN}?next=")
        if who == "agent":
            assert b"owners and admins" in response.content
    if who in ("agent", "outsider", "anonymous"):
        assert AlertRule.objects.count() == 1  # the delete did not happen


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_unknown_rule_is_404(request: pytest.FixtureRequest, client: Client, who: str) -> None:
    client.force_login(request.getfixturevalue(who))
    for url in ("/alerts/99999/", "/alerts/99999/edit/"):
        assert client.get(url).status_code == 404
    assert client.post("/alerts/99999/delete/").status_code == 404


def test_delete_needs_post(client: Client, owner: User) -> None:
    rule = csat_rule()
    response = signed_in(client, owner).get(f"/alerts/{rule.pk}/delete/")
    assert response.status_code == 405
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_delete_needs_csrf(owner: User) -> None:
    rule = csat_rule()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(f"/alerts/{rule.pk}/delete/").status_code == 403
    assert AlertRule.objects.filter(pk=rule.pk).exists()


def test_the_address_field_says_the_public_url_stands_in(client: Client, owner: User) -> None:
    signed_in(client, owner)
    with override_settings(DESKPULSE_PUBLIC_URL="https://support.example.com"):
        page = BeautifulSoup(client.get("/settings/notifications/").content, "html.parser")
    field = page.select_one("input[name=dashboard_url]")
    assert field is not None
    assert field.get("placeholder") == "https://support.example.com"
    assert "Leave empty to use https://support.example.com" in page.get_text()
