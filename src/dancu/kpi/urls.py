"""``/chi-so/``: the dashboards (``views``); the figures' API is in ``kpi/api.py`` when present."""

from django.urls import path

from dancu.kpi import views

app_name = "kpi"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("thu-tuc/<str:code>/", views.procedure, name="procedure"),
    path("ho-so/", views.dossiers, name="dossiers"),
]
