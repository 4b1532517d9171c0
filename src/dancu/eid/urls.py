"""Citizen-facing e-ID pages (registration, sign-in, step-up, recovery, self-service) and the
officer console's e-ID pages (under officer/)."""

from django.urls import path
from django.views.generic import RedirectView

from dancu.eid import views

app_name = "eid"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="eid:me", permanent=False)),
    path("register/", views.register, name="register"),
    path("register/confirm/", views.register_confirm, name="register-confirm"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("step-up/", views.step_up, name="step-up"),
    path("recover/", views.recover, name="recover"),
    path("recover/confirm/", views.recover_confirm, name="recover-confirm"),
    path("me/", views.me, name="me"),
    path("me/devices/<int:pk>/release/", views.device_release, name="device-release"),
    path("me/totp/begin/", views.totp_begin, name="totp-begin"),
    path("me/totp/confirm/", views.totp_confirm, name="totp-confirm"),
    path("officer/", views.officer_lookup, name="officer"),
    path("officer/outbox/", views.outbox, name="outbox"),
    path("officer/<str:personal_id>/level2/", views.officer_level2, name="officer-level2"),
    path("officer/<str:personal_id>/status/", views.officer_status, name="officer-status"),
]
