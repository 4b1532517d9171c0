"""Citizen-facing e-ID pages (registration, sign-in, step-up, self-service)."""

from django.urls import path  # noqa: F401

app_name = "eid"
urlpatterns: list = []
