"""Sign-in/out of the officer console, and the guard every console view goes through.

``officer_required`` builds the request's ``Actor`` (``request.actor``) from the signed-in
officer's profile and client IP, so services decide jurisdiction and audit from it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from dancu.accounts.forms import OfficerLoginForm
from dancu.accounts.services import actor_for_profile
from dancu.core.net import client_ip

ViewFunc = Callable[..., HttpResponseBase]  # also streamed responses (CSV exports)


def officer_profile(request: HttpRequest) -> Any | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.officer
    except ObjectDoesNotExist:
        return None


def forbidden(request: HttpRequest, message: Any, status: int = 403) -> HttpResponse:
    """The console's refusal page (403.html) with a message saying why."""
    return render(request, "403.html", {"message": message}, status=status)


def not_found(request: HttpRequest, message: Any) -> HttpResponse:
    return render(request, "404.html", {"message": message}, status=404)


def officer_required(view: ViewFunc) -> ViewFunc:
    """Signed-in officers only; sets ``request.actor``. Anonymous users go to the sign-in
    page; signed-in users without an officer profile get a 403 page saying so."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        profile = officer_profile(request)
        if profile is None:
            return forbidden(request, _("Tài khoản này không phải tài khoản cán bộ; "
                                        "không được dùng trang quản lý dân cư."))
        request.actor = actor_for_profile(profile, ip=client_ip(request))  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


class OfficerLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = OfficerLoginForm
    redirect_authenticated_user = True


class OfficerLogoutView(auth_views.LogoutView):
    """POST only (Django ≥ 5): a link cannot sign an officer out behind their back."""
