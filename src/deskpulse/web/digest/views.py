"""/settings/digest/: each person's weekly digest, its preview, and the ledger."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from deskpulse import clock
from deskpulse.notify.digest import WEEKDAYS, render_html, render_text, slot_in_week
from deskpulse.web.access import member_required
from deskpulse.web.api.viewer import profile_of
from deskpulse.web.digest.forms import DigestForm
from deskpulse.web.digest.service import (
    build_digest,
    known_teams,
    ledger_rows,
    preference_of,
    zone_of,
)
from deskpulse.web.runtime import install_settings, store_with_facts


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@member_required
@require_http_methods(["GET", "POST"])
def digest_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    profile = profile_of(user)
    personal = profile is None or not profile.sees_whole_team
    preference = preference_of(user)
    teams = {} if personal else known_teams(store_with_facts())
    initial = {
        "enabled": preference.enabled,
        "teams": list(preference.teams),
        "weekday": preference.weekday,
        "hour": preference.hour,
        "timezone": preference.timezone,
        "by_email": preference.by_email,
        "to_webhook": preference.to_webhook,
    }
    reporting = install_settings().reporting_timezone
    status = 200
    if request.method == "POST":
        form = DigestForm(
            request.POST, teams=teams, personal=personal, reporting_timezone=reporting
        )
        if form.is_valid():
            data = form.cleaned_data
            preference.enabled = bool(data["enabled"])
            preference.teams = [] if personal else list(data.get("teams") or [])
            preference.weekday = int(data["weekday"])
            preference.hour = int(data["hour"])
            preference.timezone = str(data.get("timezone") or "")
            preference.by_email = bool(data["by_email"])
            preference.to_webhook = False if personal else bool(data.get("to_webhook"))
            preference.updated_at = clock.now()
            preference.save()
            return redirect("/settings/digest/?saved=1")
        status = 400
    else:
        form = DigestForm(
            initial=initial, teams=teams, personal=personal, reporting_timezone=reporting
        )
    tz = zone_of(preference)
    now = clock.now()
    next_slot = slot_in_week(now, preference.weekday, preference.hour, tz)
    return render(
        request,
        "digest/settings.html",
        {
            "nav": "settings",
            "tab": "digest",
            "form": form,
            "personal": personal,
            "timezone": preference.timezone or reporting,
            "own_timezone": bool(preference.timezone),
            "slot_text": f"{WEEKDAYS[preference.weekday]}s at {preference.hour:02d}:00",
            "next_slot": next_slot,
            # Formatted here: the template would show it in the server's zone, not theirs.
            "next_slot_text": next_slot.astimezone(tz).strftime("%a %-d %b %Y, %H:%M"),
            "preference": preference,
            "saved": request.GET.get("saved") == "1" and request.method == "GET",
            "ledger": ledger_rows(None if not personal else user),
            "everyone": not personal,
        },
        status=status,
    )


# The e-mail's HTML styles itself inline (mail clients drop stylesheets); this one
# response, made only of our escaped text, may use those style attributes.
@csp_update({"style-src": ["'self'", "'unsafe-inline'"]})
@member_required
@require_http_methods(["GET"])
def digest_preview(request: HttpRequest) -> HttpResponse:
    """This week's digest as it would be sent now: the e-mail's HTML, or ?format=text."""
    user = _user(request)
    digest = build_digest(store_with_facts(), user, clock.now())
    if request.GET.get("format") == "text":
        return HttpResponse(render_text(digest), content_type="text/plain; charset=utf-8")
    return HttpResponse(render_html(digest), content_type="text/html; charset=utf-8")
