"""GET /api/v1/signals: the friction signals of /analytics/signals/, as JSON.

Same roles and error shape as the other analytics endpoints (a session or a `read`
token; no role answers 403). Signals name queues, inquiries and channels only, so an
agent gets the same team-level list as everyone else.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router
from ninja import Query as NinjaQuery

from deskpulse.analysis.signals import find_signals
from deskpulse.web.analytics.api import ScopedParams
from deskpulse.web.api.auth import READ, viewer_of
from deskpulse.web.api.contract import errors
from deskpulse.web.runtime import store_with_facts

router = Router(auth=READ, tags=["signals"])


class SignalParams(ScopedParams):
    limit: int | None = Field(default=None, ge=1, le=500, description="the strongest N")


@router.get(
    "/signals", summary="Friction signals by queue, inquiry and channel", openapi_extra=errors(504)
)
def get_signals(request: HttpRequest, params: NinjaQuery[SignalParams]) -> dict[str, Any]:
    viewer = viewer_of(request)
    # The dashboard's filters, checked the same way: an unknown value is a 422 naming it.
    filters = params.scope(viewer)
    report = find_signals(store_with_facts(), params.window(), viewer, filters=filters)
    # The conversations links keep the period exactly as asked for.
    period = {"period": params.period, "from": params.start, "to": params.end}
    period["as_of"] = params.as_of
    return report.as_json({k: v for k, v in period.items() if v}, params.limit)
