"""Citizen-facing e-ID pages (registration, sign-in, step-up, recovery, self-service) and the
officer console's e-ID pages (under officer/)."""

from django.urls import path
from django.views.generic import RedirectView

from dancu.eid.views import citizen, officer

app_name = "eid"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="eid:me", permanent=False)),
    path("register/", citizen.register, name="register"),
    path("register/confirm/", citizen.register_confirm, name="register-confirm"),
    path("login/", citizen.login, name="login"),
    path("logout/", citizen.logout, name="logout"),
    path("step-up/", citizen.step_up, name="step-up"),
    path("recover/", citizen.recover, name="recover"),
    path("recover/confirm/", citizen.recover_confirm, name="recover-confirm"),
    path("me/", citizen.me, name="me"),
    path("me/devices/<int:pk>/release/", citizen.device_release, name="device-release"),
    path("me/totp/begin/", citizen.totp_begin, name="totp-begin"),
    path("me/totp/confirm/", citizen.totp_confirm, name="totp-confirm"),
    path("officer/", officer.officer_lookup, name="officer"),
    path("officer/outbox/", officer.outbox, name="outbox"),
    path("officer/<str:personal_id>/level2/", officer.officer_level2, name="officer-level2"),
    path("officer/<str:personal_id>/status/", officer.officer_status, name="officer-status"),
]
