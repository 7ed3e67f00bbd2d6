"""Settings → Business hours: who may open it, saving a schedule, and what it changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from tests.factories import Events, ingest_and_build, row_of

URL = "/settings/business-hours/"
HOUR = 3600.0
FRIDAY_4PM = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
MONDAY_0930 = 30 + 65 * 60  # minutes after Friday 16:00


def nine_to_five(inbox: str = "*", timezone: str = "UTC", **overrides: str) -> dict[str, str]:
    form = {"inbox": inbox, "timezone": timezone, "holidays": ""}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        form[day] = "09:00-17:00"
    form.update(overrides)
    return form


def stored_schedules(store: Store) -> list[tuple[Any, ...]]:
    return store.execute(
        "SELECT id, inbox_id, schedule FROM events WHERE type = 'business_hours.set'"
    )


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 200), ("agent", 404), ("outsider", 404)]
)
def test_access_per_role(
    client: Client,
    owner: User,
    admin: User,
    agent: User,
    outsider: User,
    api_store: Store,
    role: str,
    status: int,
) -> None:
    # The role fixtures are requested up front (not with getfixturevalue in the test
    # body), so the database is set up before the test runs, as everywhere else.
    user = {"owner": owner, "admin": admin, "agent": agent, "outsider": outsider}[role]
    client.force_login(user)
    assert client.get(URL).status_code == status
    assert client.post(URL, nine_to_five()).status_code == (302 if status == 200 else 404)
    assert len(stored_schedules(api_store)) == (1 if status == 200 else 0)


def test_anonymous_is_sent_to_sign_in(client: Client, db: None, api_store: Store) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.post(URL, nine_to_five()).status_code == 302
    assert stored_schedules(api_store) == []


def test_tab_is_shown_to_owners_and_admins(client: Client, owner: User, admin: User) -> None:
    for user in (owner, admin):
        client.force_login(user)
        assert (
            'href="/settings/business-hours/"' in client.get("/settings/tokens/").content.decode()
        )


def test_saving_stores_one_event_and_lists_it(
    client: Client, admin: User, api_store: Store
) -> None:
    client.force_login(admin)
    response = client.post(
        URL,
        nine_to_five(
            "web",
            "Europe/Berlin",
            monday="09:00-12:00, 13:00-17:00",
            holidays="2026-12-25, 2026-12-26",
        ),
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Saved: web now counts business hours in Europe/Berlin" in page
    rows = stored_schedules(api_store)
    assert len(rows) == 1
    event_id, inbox, _schedule = rows[0]
    assert event_id.startswith("settings-business-hours-")
    assert inbox == "web"
    assert "Europe/Berlin" in page
    assert "09:00-12:00, 13:00-17:00" in page
    assert "2026-12-25, 2026-12-26" in page


def test_known_inboxes_are_offered(client: Client, owner: User, api_store: Store) -> None:
    f = Events(start=FRIDAY_4PM)
    f.conversation("c1", inbox="email", at=0)
    ingest_and_build(api_store, f.events)
    client.force_login(owner)
    page = client.get(URL).content.decode()
    assert '<datalist id="bh-inboxes">' in page
    assert '<option value="email">' in page


def test_saved_schedule_changes_business_time_facts(
    client: Client, owner: User, api_store: Store
) -> None:
    # A customer writes Friday 16:30; Alice answers Monday 09:30.
    f = Events(start=FRIDAY_4PM)
    f.agent("alice", name="Alice", teams=["t1"])
    c = f.conversation("c1", inbox="web", at=30)
    c.assign("alice", at=20, team="t1")
    c.customer(at=30, text="where is my parcel?")
    c.reply("alice", at=MONDAY_0930)
    ingest_and_build(api_store, f.events)
    before = row_of(api_store, "conversation_facts", conversation_id="c1")
    assert before["first_response_business_seconds"] == 65 * HOUR  # no schedule: calendar

    client.force_login(owner)
    response = client.post(URL, nine_to_five("*", "UTC"))
    assert response.status_code == 302

    after = row_of(api_store, "conversation_facts", conversation_id="c1")
    assert after["first_response_seconds"] == 65 * HOUR
    assert after["first_response_business_seconds"] == 1 * HOUR  # Fri 16:30-17, Mon 9-9:30


def test_interval_ending_before_it_starts_is_refused(
    client: Client, owner: User, api_store: Store
) -> None:
    client.force_login(owner)
    response = client.post(URL, nine_to_five(tuesday="13:00-12:00"))
    assert response.status_code == 400
    assert "tuesday: 13:00-12:00 ends before it starts" in response.content.decode()
    assert stored_schedules(api_store) == []


def test_malformed_interval_is_refused(client: Client, owner: User, api_store: Store) -> None:
    client.force_login(owner)
    response = client.post(URL, nine_to_five(wednesday="9am-5pm"))
    assert response.status_code == 400
    assert "wednesday: &#x27;9am-5pm&#x27; is not HH:MM-HH:MM" in response.content.decode()
    assert stored_schedules(api_store) == []


def test_unknown_timezone_is_refused(client: Client, owner: User, api_store: Store) -> None:
    client.force_login(owner)
    response = client.post(URL, nine_to_five(timezone="Mars/Olympus_Mons"))
    assert response.status_code == 400
    assert "timezone: &#x27;Mars/Olympus_Mons&#x27; is not an IANA time zone" in (
        response.content.decode()
    )
    assert stored_schedules(api_store) == []


def test_bad_holiday_and_no_open_day_are_refused(
    client: Client, owner: User, api_store: Store
) -> None:
    client.force_login(owner)
    form = {"inbox": "*", "timezone": "UTC", "holidays": "2026-13-01"}
    page = client.post(URL, form).content.decode()
    assert "holidays: &#x27;2026-13-01&#x27; is not a YYYY-MM-DD date" in page
    assert "hours: open at least one day" in page
    assert stored_schedules(api_store) == []


def test_contract_rejection_is_shown(client: Client, owner: User, api_store: Store) -> None:
    client.force_login(owner)
    response = client.post(URL, nine_to_five(inbox="x" * 300))
    assert response.status_code == 400
    assert "inbox_id:" in response.content.decode()
    assert stored_schedules(api_store) == []
