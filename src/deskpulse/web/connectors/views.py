"""Settings → Connectors: owners and admins see every webhook connector and set, rotate
or remove its signing secret and its allow-unsigned flag.

An agent gets 403 (the page exists, it is not theirs to use), an account without a role
403, an anonymous visitor the sign-in page, like Settings → Notifications. Connectors
belong to the install, not to a person: an unknown id is a 404. Changes are POSTs with
Django's CSRF token; the secret is never rendered back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from deskpulse.web.access import member_required, viewer_of
from deskpulse.web.connectors.forms import SigningForm
from deskpulse.web.connectors.models import Connector
from deskpulse.web.connectors.service import all_connectors, set_signing

logger = logging.getLogger("deskpulse.web")

View = TypeVar("View", bound=Callable[..., HttpResponse])


def managers_only(view: View) -> View:
    """Owners and admins; agents and accounts without a role get a 403 page."""

    @member_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if viewer_of(request).is_agent:
            return render(request, "connectors/forbidden.html", {"nav": "settings"}, status=403)
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


def _connector_or_404(pk: int) -> Connector:
    found = Connector.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("no such connector")
    return found


@managers_only
@require_GET
def connector_list(request: HttpRequest) -> HttpResponse:
    """/settings/connectors/: every connector and whether it checks signatures."""
    connectors = all_connectors()
    return render(
        request,
        "connectors/list.html",
        {
            "nav": "settings",
            "tab": "connectors",
            "connectors": connectors,
            "unsigned_allowed": [c for c in connectors if c.signing_state == "unsigned allowed"],
        },
    )


@managers_only
@require_http_methods(["GET", "POST"])
def connector_signing(request: HttpRequest, pk: int) -> HttpResponse:
    """/settings/connectors/<id>/: set, rotate or remove the signing secret; allow or
    refuse unsigned webhooks."""
    connector = _connector_or_404(pk)
    status = 200
    if request.method == "POST":
        form = SigningForm(request.POST, connector=connector)
        if form.is_valid():
            data = form.cleaned_data
            set_signing(
                connector,
                signing_secret=data["signing_secret"] or None,
                clear_secret=bool(data["remove_secret"]),
                allow_unsigned=bool(data["allow_unsigned"]),
            )
            # Who changed what, never the secret itself.
            logger.info(
                "connector %s (id %s): signing settings changed by %s: %s",
                connector.name,
                connector.pk,
                request.user.get_username(),
                connector.signing_state,
            )
            messages.success(
                request, f"Connector {connector.name}: signatures {connector.signing_state}."
            )
            return HttpResponseRedirect(reverse("settings_connectors"))
        status = 400
    else:
        form = SigningForm(connector=connector)
    return render(
        request,
        "connectors/signing.html",
        {
            "nav": "settings",
            "tab": "connectors",
            "connector": connector,
            "form": form,
            "error_lines": form.error_lines() if form.is_bound else [],
        },
        status=status,
    )
