"""Settings → Business hours: owners and admins read and set each inbox's schedule.

A saved form becomes a contract `business_hours.set` event (source "settings"), stored
like any other; the facts are refreshed at once (a schedule change rebuilds them all).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from deskpulse import clock
from deskpulse.events.ingest import ingest_objects
from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts
from deskpulse.facts.business_hours import DEFAULT_INBOX, MIDNIGHT, WEEKDAYS, schedules_from_events
from deskpulse.web.access import admin_required
from deskpulse.web.runtime import store_with_facts

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
DAY_FIELDS = {day: DAY_NAMES[day].lower() for day in WEEKDAYS}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_SCHEDULE_COLUMNS = ("id", "type", "inbox_id", "occurred_at", "schedule")


@dataclass
class ScheduleForm:
    """The posted form, checked; `event` is set when it is valid."""

    inbox: str = ""
    timezone: str = ""
    days: dict[str, str] = field(default_factory=dict)
    holidays: str = ""
    errors: list[str] = field(default_factory=list)
    intervals: list[dict[str, str]] = field(default_factory=list)
    holiday_dates: list[str] = field(default_factory=list)

    @classmethod
    def from_post(cls, post: Any) -> ScheduleForm:
        form = cls(
            inbox=str(post.get("inbox", "")).strip(),
            timezone=str(post.get("timezone", "")).strip(),
            days={day: str(post.get(name, "")).strip() for day, name in DAY_FIELDS.items()},
            holidays=str(post.get("holidays", "")).strip(),
        )
        form._check()
        return form

    def _check(self) -> None:
        if not self.inbox:
            self.errors.append('inbox: give an inbox id, or "*" for every inbox')
        if not self.timezone:
            self.errors.append("timezone: give an IANA time zone, e.g. Europe/Berlin")
        else:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                self.errors.append(f"timezone: {self.timezone!r} is not an IANA time zone")
        for day, name in DAY_FIELDS.items():
            for part in (p.strip() for p in self.days[day].split(",")):
                if part:
                    self._interval(day, name, part)
        day_errors = [e for e in self.errors if e.split(":")[0] in DAY_FIELDS.values()]
        if not self.intervals and not day_errors:
            self.errors.append("hours: open at least one day (e.g. monday: 09:00-17:00)")
        for part in re.split(r"[\s,]+", self.holidays):
            if not part:
                continue
            try:
                self.holiday_dates.append(date.fromisoformat(part).isoformat())
            except ValueError:
                self.errors.append(f"holidays: {part!r} is not a YYYY-MM-DD date")

    def _interval(self, day: str, name: str, text: str) -> None:
        start, dash, end = (piece.strip() for piece in text.partition("-"))
        if not dash or not _CLOCK.match(start) or not _CLOCK.match(end) or start == "24:00":
            self.errors.append(f"{name}: {text!r} is not HH:MM-HH:MM (24-hour clock)")
        elif end <= start:
            self.errors.append(f"{name}: {start}-{end} ends before it starts")
        else:
            self.intervals.append({"day": day, "start": start, "end": end})

    def event(self) -> dict[str, Any]:
        return {
            "id": f"settings-business-hours-{uuid.uuid4()}",
            "type": "business_hours.set",
            "occurred_at": clock.now().isoformat(),
            "inbox_id": self.inbox,
            "timezone": self.timezone,
            "intervals": self.intervals,
            "holidays": self.holiday_dates,
        }


def _clock(value: time, *, end: bool = False) -> str:
    return "24:00" if end and value == MIDNIGHT else value.strftime("%H:%M")


def schedule_rows(store: Store) -> list[dict[str, Any]]:
    """The schedule in force per inbox, `*` first, for the page."""
    rows = store.execute(
        "SELECT id, type, inbox_id, occurred_at, schedule FROM events "
        "WHERE type = 'business_hours.set'"
    )
    schedules = schedules_from_events(
        dict(zip(_SCHEDULE_COLUMNS, row, strict=True)) for row in rows
    )
    listed = []
    for inbox in sorted(schedules, key=lambda i: (i != DEFAULT_INBOX, i)):
        schedule = schedules[inbox]
        listed.append(
            {
                "inbox": inbox,
                "is_default": inbox == DEFAULT_INBOX,
                "timezone": schedule.timezone.key,
                "days": [
                    {
                        "day": DAY_NAMES[day],
                        "hours": ", ".join(f"{_clock(s)}-{_clock(e, end=True)}" for s, e in shifts),
                    }
                    for day, shifts in zip(WEEKDAYS, schedule.week, strict=True)
                ],
                "holidays": sorted(d.isoformat() for d in schedule.holidays),
            }
        )
    return listed


def known_inboxes(store: Store) -> list[str]:
    rows = store.execute(
        "SELECT DISTINCT inbox_id FROM conversation_facts WHERE inbox_id IS NOT NULL"
    )
    return sorted(str(row[0]) for row in rows)


@admin_required
@require_http_methods(["GET", "POST"])
def business_hours_page(request: HttpRequest) -> HttpResponse:
    store = store_with_facts()
    form = ScheduleForm(days=dict.fromkeys(WEEKDAYS, ""), timezone="UTC", inbox=DEFAULT_INBOX)
    status = 200
    if request.method == "POST":
        form = ScheduleForm.from_post(request.POST)
        if not form.errors:
            result = ingest_objects(store, [form.event()], source="settings")
            if result.rejected:
                form.errors.extend(
                    f"{r.field}: {r.reason}" if r.field else r.reason for r in result.rejected
                )
            else:
                refresh_facts(store)
                messages.success(
                    request, f"Saved: {form.inbox} now counts business hours in {form.timezone}"
                )
                return HttpResponseRedirect(reverse("settings_business_hours"))
        status = 400
    context = {
        "nav": "settings",
        "tab": "business_hours",
        "schedules": schedule_rows(store),
        "inboxes": known_inboxes(store),
        "form": form,
        "day_fields": [
            {"name": name, "label": DAY_NAMES[day], "value": form.days.get(day, "")}
            for day, name in DAY_FIELDS.items()
        ],
    }
    return render(request, "accounts/business_hours.html", context, status=status)
