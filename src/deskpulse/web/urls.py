"""URL routes. Everything under /api/ answers JSON, errors included."""

from __future__ import annotations

from pathlib import Path

import ninja
import plotly
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

from deskpulse.web.api.v1 import api
from deskpulse.web.home import home
from deskpulse.web.plotly_assets import maplibre_css, plotly_css

# Static assets are served from the installed packages (ninja's Swagger UI, Plotly's
# bundle, our stylesheet): pages must work on an offline machine, and no static-file
# server sits in front of gunicorn by default.
NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"
PLOTLY_STATIC = Path(plotly.__file__).parent / "package_data"
OUR_STATIC = Path(__file__).parent / "static" / "deskpulse"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    path("api/v1/", api.urls),
    path("", include("deskpulse.web.accounts.urls")),
    path("", include("deskpulse.web.analytics.urls")),
    path("", include("deskpulse.web.signals.urls")),
    path("", include("deskpulse.web.performance.urls")),
    path("", include("deskpulse.web.coaching.urls")),
    path("", include("deskpulse.web.models.urls")),
    path("", include("deskpulse.web.ai_agents.urls")),
    path("", include("deskpulse.web.experiments.urls")),
    path("", include("deskpulse.web.alerts.urls")),
    path("", include("deskpulse.web.data_health.urls")),
    path("", include("deskpulse.web.connectors.urls")),
    path("", include("deskpulse.web.digest.urls")),
    path("", include("deskpulse.web.saved_views.urls")),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", serve, {"document_root": str(OUR_STATIC), "path": "favicon.svg"}),
    re_path(r"^static/ninja/(?P<path>.+)$", serve, {"document_root": str(NINJA_STATIC)}),
    re_path(r"^static/deskpulse/(?P<path>.+)$", serve, {"document_root": str(OUR_STATIC)}),
    re_path(
        r"^static/plotly/(?P<path>plotly\.min\.js)$", serve, {"document_root": str(PLOTLY_STATIC)}
    ),
    # Plotly's own CSS, read from that bundle (web/plotly_assets.py: the CSP refuses the
    # <style> elements it would inject).
    path("static/plotly/plotly.css", plotly_css),
    path("static/plotly/maplibre.css", maplibre_css),
]

handler404 = "deskpulse.web.api.errors.handler404"
handler500 = "deskpulse.web.api.errors.handler500"
