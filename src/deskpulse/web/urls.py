"""URL routes. Everything under /api/ answers JSON, errors included."""

from __future__ import annotations

from pathlib import Path

import ninja
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.static import serve

from deskpulse.web.api import api
from deskpulse.web.home import home

# ninja's Swagger UI assets, served from the installed package: the docs page must work
# on an offline machine, and no static-file server sits in front of gunicorn by default.
NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    path("api/v1/", api.urls),
    re_path(r"^static/ninja/(?P<path>.+)$", serve, {"document_root": str(NINJA_STATIC)}),
]

handler404 = "deskpulse.web.errors.handler404"
handler500 = "deskpulse.web.errors.handler500"
