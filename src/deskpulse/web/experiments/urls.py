"""The /experiments pages (namespace `experiments`)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from deskpulse.web.experiments import views

app_name = "experiments"

urlpatterns: list[URLPattern | URLResolver] = [
    path("experiments", RedirectView.as_view(url="/experiments/", query_string=True)),
    path("experiments/", views.experiment_list, name="list"),
    # Before <key>: "new" is the form, not an experiment (and no key may be "new").
    path("experiments/new/", views.experiment_new, name="new"),
    path("experiments/<str:key>/", views.experiment_detail, name="detail"),
    path("experiments/<str:key>/edit/", views.experiment_edit, name="edit"),
]
