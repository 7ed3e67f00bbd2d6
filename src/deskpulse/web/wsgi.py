"""WSGI entry point for servers that import a module path (deskpulse.web.wsgi:application)."""

from __future__ import annotations

import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskpulse.web.settings")

application: WSGIHandler = get_wsgi_application()
