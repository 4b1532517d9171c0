"""The Django admin, locked down: read-only everywhere, no accounts, tokens or secrets.

Every change of accounts and rights goes through the officer screens and ``dancu officer``
(``accounts.services``: rules and audit). The admin is mounted only with ``DANCU_ADMIN=1``
(``dancu.urls``); even then it only lists reference data (administrative units), to staff
officers (ministry administrators) signed in with their second factor through the console's
sign-in — the admin's own password-only login form is not used.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from dancu.accounts.backends import SECOND_FACTOR_BACKEND

# Accounts, rights, OAuth clients, grants and tokens: never listed in the admin.
HIDDEN_APPS = frozenset({"auth", "oauth2_provider", "accounts", "sessions"})


def _staff_with_second_factor(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff
                and request.session.get(BACKEND_SESSION_KEY) == SECOND_FACTOR_BACKEND)


def _no(*args: Any, **kwargs: Any) -> bool:
    return False


def lock_down(site: admin.AdminSite) -> None:
    """Unregister accounts and tokens, make every other model read-only, and send sign-ins to the
    console's (password + TOTP). Called once the admin modules are loaded (AccountsConfig.ready)."""
    for model in [m for m in site._registry if m._meta.app_label in HIDDEN_APPS]:
        site.unregister(model)
    for model_admin in site._registry.values():
        model_admin.has_add_permission = _no  # type: ignore[method-assign]
        model_admin.has_change_permission = _no  # type: ignore[method-assign]
        model_admin.has_delete_permission = _no  # type: ignore[method-assign]
        model_admin.has_view_permission = (  # type: ignore[method-assign]
            lambda request, obj=None: _staff_with_second_factor(request))
        model_admin.has_module_permission = _staff_with_second_factor  # type: ignore[method-assign]
    site.has_permission = _staff_with_second_factor  # type: ignore[method-assign]

    def login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"),
                                 login_url=reverse("accounts:login"))

    site.login = login  # type: ignore[method-assign]
