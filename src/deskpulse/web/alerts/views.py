"""The /alerts pages and /settings/notifications/.

Monitoring is for the people who run the team: owners and admins see and change rules.
An agent gets 403 (the pages exist, they are just not theirs to use), an account without
a role 403, an anonymous visitor the sign-in page. The one object a view loads, a rule,
goes through `service.rule_for`: an unknown id is a 404. Changes are POSTs with Django's
CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from deskpulse import clock
from deskpulse.web.access import member_required, viewer_of
from deskpulse.web.alerts import present, service
from deskpulse.web.alerts.forms import AlertRuleForm, NotificationSettingsForm
from deskpulse.web.alerts.models import AlertEvent, AlertRule, NotificationSettings
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.api.viewer import signed_in_user
from deskpulse.web.runtime import store_with_facts

LIST = "/alerts/"
HISTORY = "/alerts/history/"
SETTINGS = "/settings/notifications/"
PAGE_SIZE = 50

View = TypeVar("View", bound=Callable[..., HttpResponse])


def managers_only(view: View) -> View:
    """Owners and admins. Anonymous: sign in; no role: 403 saying why; agents: 403.
    An unknown rule is the 404 page (api/problems.py)."""

    @member_required
    @errors_as_page
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if viewer_of(request).is_agent:
            return render(
                request,
                "alerts/forbidden.html",
                {"nav": "alerts"},
                status=403,
            )
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


@managers_only
def rule_list(request: HttpRequest) -> HttpResponse:
    """/alerts/: every rule with its state, severity and latest reading."""
    rules = AlertRule.objects.prefetch_related("states")
    return render(
        request,
        "alerts/list.html",
        {
            "nav": "alerts",
            "rows": [present.rule_row(rule) for rule in rules],
            "history_href": HISTORY,
            "settings_href": SETTINGS,
        },
    )


@managers_only
def rule_detail(request: HttpRequest, rule_id: int) -> HttpResponse:
    """/alerts/<id>/: one rule, its state and its history, newest first."""
    rule = service.rule_for(rule_id)
    page = Paginator(AlertEvent.objects.filter(rule=rule), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "alerts/detail.html",
        {
            "nav": "alerts",
            "row": present.rule_row(rule),
            "rule": rule,
            "events": [present.event_row(event) for event in page],
            "page": page,
            "edit_href": f"{LIST}{rule.pk}/edit/",
            "delete_href": f"{LIST}{rule.pk}/delete/",
            "json_href": f"/api/v1/alerts/rules/{rule.pk}",
        },
    )


@managers_only
def history(request: HttpRequest) -> HttpResponse:
    """/alerts/history/: every alert event, newest first, 50 a page."""
    page = Paginator(AlertEvent.objects.all(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/history.html",
        {"nav": "alerts", "events": [present.event_row(event) for event in page], "page": page},
    )


def _form_page(
    request: HttpRequest, form: AlertRuleForm, rule: AlertRule | None, status: int
) -> HttpResponse:
    return render(
        request,
        "alerts/form.html",
        {
            "nav": "alerts",
            "form": form,
            "rule": rule,
            "error_lines": form.error_lines() if form.is_bound else [],
            "action": f"{LIST}{rule.pk}/edit/" if rule else f"{LIST}new/",
            "cancel_href": f"{LIST}{rule.pk}/" if rule else LIST,
        },
        status=status,
    )


@managers_only
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = AlertRuleForm(request.POST, ai_agent_ids=service.ai_agent_ids())
        if form.is_valid():
            saved = form.save(signed_in_user(request))
            messages.success(request, f"Alert rule “{saved.name}” saved.")
            return HttpResponseRedirect(f"{LIST}{saved.pk}/")
        return _form_page(request, form, None, 400)
    return _form_page(request, AlertRuleForm(), None, 200)


@managers_only
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = service.rule_for(rule_id)
    if request.method == "POST":
        form = AlertRuleForm(request.POST, instance=rule, ai_agent_ids=service.ai_agent_ids())
        if form.is_valid():
            form.save(signed_in_user(request))
            messages.success(request, f"Alert rule “{rule.name}” saved.")
            return HttpResponseRedirect(f"{LIST}{rule.pk}/")
        return _form_page(request, form, rule, 400)
    return _form_page(request, AlertRuleForm(instance=rule), rule, 200)


@managers_only
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    """POST only. The rule's history stays on /alerts/history/ under its name."""
    rule = service.rule_for(rule_id)
    name = rule.name
    rule.delete()
    messages.success(request, f"Alert rule “{name}” deleted; its history is kept.")
    return HttpResponseRedirect(LIST)


@managers_only
@require_POST
def check_now(request: HttpRequest) -> HttpResponse:
    """Run every enabled rule now and say what changed."""
    summary = service.check_rules(store_with_facts(), clock.now())
    level = messages.error if summary.errors or summary.failed else messages.success
    level(request, f"Checked: {summary.describe()}.")
    return HttpResponseRedirect(request.POST.get("next") or LIST)


@managers_only
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """/settings/notifications/: the webhook and SMTP settings, and a test send."""
    current = NotificationSettings.current()
    status = 200
    results: list[dict[str, Any]] = []
    if request.method == "POST" and request.POST.get("action") == "test":
        form = NotificationSettingsForm(instance=current)
        for channel, result in service.send_test_notification(clock.now(), current).items():
            if result is None:
                results.append({"channel": channel, "ok": False, "text": "not configured"})
            elif result.ok:
                text = f"delivered ({result.attempts} attempt(s))"
                results.append({"channel": channel, "ok": True, "text": text})
            else:
                text = f"failed after {result.attempts} attempt(s): {result.error}"
                results.append({"channel": channel, "ok": False, "text": text})
    elif request.method == "POST":
        form = NotificationSettingsForm(request.POST, instance=current)
        if form.is_valid():
            form.save(signed_in_user(request))
            messages.success(request, "Notification settings saved.")
            return HttpResponseRedirect(SETTINGS)
        status = 400
    else:
        form = NotificationSettingsForm(instance=current)
    return render(
        request,
        "alerts/settings.html",
        {
            "nav": "settings",
            "tab": "notifications",
            "form": form,
            "error_lines": form.error_lines() if form.is_bound else [],
            # Only whether a secret is set, never the secret.
            "webhook_secret_set": bool(current.webhook_secret),
            "smtp_password_set": bool(current.smtp_password),
            "results": results,
        },
        status=status,
    )
