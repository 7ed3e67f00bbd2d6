"""/models/ and /models/topics/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from deskpulse.web.models import views

app_name = "models"

urlpatterns: list[URLPattern | URLResolver] = [
    path("models", RedirectView.as_view(url="/models/", query_string=True)),
    path("models/", views.models_page, name="home"),
    path("models/topics/", views.topics_page, name="topics"),
]
