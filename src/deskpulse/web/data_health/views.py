"""Settings → Data health: what was refused, held back or retracted, and why."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from deskpulse.facts.data_health import health_summary
from deskpulse.web.access import admin_required
from deskpulse.web.runtime import get_store


@admin_required
@require_GET
def data_health_page(request: HttpRequest) -> HttpResponse:
    context = {"nav": "settings", "tab": "data_health", **health_summary(get_store(), limit=100)}
    return render(request, "data_health/data_health.html", context)
