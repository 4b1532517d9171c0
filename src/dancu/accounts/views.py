"""Sign-in/out of the officer console, the guard every console view goes through, the console's
refusal page, and the officer-management screens.

``officer_required`` builds the request's ``Actor`` (``request.actor``) from the signed-in
officer's profile and client IP, so services decide jurisdiction and audit from it. It admits only
sessions signed in with the password and the TOTP code (``backends.SECOND_FACTOR_BACKEND``),
ends them after ``DANCU_OFFICER_IDLE_MINUTES`` idle or ``DANCU_OFFICER_SESSION_HOURS`` in all,
and refuses — with an audit record (``audit.services.record_refusal``) — anonymous visitors,
citizens, and officers whose role the page does not admit (``write=True``, ``roles=``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dancu.accounts import services
from dancu.accounts.actor import Actor
from dancu.accounts.backends import SECOND_FACTOR_BACKEND
from dancu.accounts.forms import (
    OfficerCreateForm,
    OfficerEditForm,
    OfficerFilterForm,
    OfficerLoginForm,
    OfficerPasswordForm,
    OfficerStatusForm,
    TotpForm,
    add_domain_errors,
)
from dancu.accounts.models import OfficerProfile
from dancu.audit import services as audit
from dancu.audit.models import Source
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.core.net import client_ip

ViewFunc = Callable[..., HttpResponseBase]
SESSION_KEY = "dancu_officer"          # {"auth_time": epoch, "seen": epoch}
PENDING_KEY = "dancu_officer_pending"  # {"profile": pk, "at": epoch, "next": url}: password done
PENDING_SECONDS = 300
SEEN_WRITE_SECONDS = 60  # the idle clock is written at most once a minute


def officer_profile(request: HttpRequest) -> Any | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.officer
    except ObjectDoesNotExist:
        return None


def _visitor(request: HttpRequest) -> Actor:
    """Who is refused: the officer (request.actor), a signed-in non-officer (a citizen), or an
    anonymous visitor."""
    actor = getattr(request, "actor", None)
    if actor is not None:
        return actor
    user = getattr(request, "user", None)
    ip = client_ip(request)
    if user is not None and user.is_authenticated:
        profile = officer_profile(request)
        if profile is not None:
            return services.actor_for_profile(profile, ip=ip)
        return Actor(label=user.get_username(), role="", source=Source.CITIZEN, user_id=user.pk, ip=ip)
    return Actor(label="anonymous", role="", source=Source.OFFICER, source_ref="console", ip=ip)


def record_page_refusal(request: HttpRequest, error: DomainError | None = None, **details: Any) -> None:
    """The console's refusal of a page, audited as ``console.page.denied`` with the path."""
    audit.record_refusal(_visitor(request), "console.page", error, subject_type="page",
                         subject_id=request.path[:40], details={"path": request.path[:500], **details})


def forbidden(request: HttpRequest, message: Any, status: int = 403) -> HttpResponse:
    """The console's refusal page (403.html) with a message saying why. ``message`` may be the
    service's refusal itself; a 403 not yet on the audit trail is recorded here."""
    error = message if isinstance(message, DomainError) else None
    if status == 403 and (error is None or not audit.was_recorded(error)):
        record_page_refusal(request, error)
    text = error.message if error is not None else message
    return render(request, "403.html", {"message": text}, status=status)


def not_found(request: HttpRequest, message: Any) -> HttpResponse:
    return render(request, "404.html", {"message": message}, status=404)


READ_ONLY = _("Vai trò của bạn chỉ được xem, không được sửa dữ liệu.")
NOT_OFFICER = _("Tài khoản này không phải tài khoản cán bộ; không được dùng trang quản lý dân cư.")


def _session_expired(request: HttpRequest) -> bool:
    """Idle and absolute expiry of an officer's session; refreshes the idle clock."""
    now = time.time()
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):  # a test's force_login: the session starts now
        data = {"auth_time": now, "seen": now}
        request.session[SESSION_KEY] = data
    if (now - data.get("auth_time", 0) > settings.DANCU_OFFICER_SESSION_HOURS * 3600
            or now - data.get("seen", 0) > settings.DANCU_OFFICER_IDLE_MINUTES * 60):
        return True
    if now - data["seen"] >= SEEN_WRITE_SECONDS:
        request.session[SESSION_KEY] = {**data, "seen": now}
    return False


@dataclass(frozen=True)
class PageRule:
    """Whom a console page admits besides being a signed-in officer: ``officer_required``'s
    ``write`` and ``roles``. The guard enforces it and the nav asks it (``admits``), so a link is
    shown exactly when its page would not refuse the officer's role."""

    write: bool = False
    roles: frozenset[str] | None = None

    def refusal(self, actor: Actor) -> OutOfJurisdiction | None:
        if self.write and not actor.can_write:
            return OutOfJurisdiction("E_ROLE_READ_ONLY", READ_ONLY)
        if self.roles is not None and actor.role not in self.roles:
            return OutOfJurisdiction("E_ROLE", _("Vai trò của bạn không được dùng trang này."))
        return None


def officer_required(view: ViewFunc | None = None, *, write: bool = False,
                     roles: frozenset[str] | set[str] | None = None) -> Any:
    """Signed-in officers only (password and second factor); sets ``request.actor``. Anonymous
    visitors go to the sign-in page, signed-in users without an officer profile get a 403 page;
    ``write=True`` admits only roles that write (``Actor.can_write``), ``roles`` only those roles
    (the view's ``page_rule``). Every refusal is audited."""
    rule = PageRule(write, frozenset(roles) if roles is not None else None)

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                record_page_refusal(request, reason="anonymous")
                return redirect_to_login(request.get_full_path())
            profile = officer_profile(request)
            if profile is None:
                return forbidden(request, NOT_OFFICER)
            if request.session.get(BACKEND_SESSION_KEY) != SECOND_FACTOR_BACKEND:
                record_page_refusal(request, reason="no second factor")
                logout(request)
                return redirect_to_login(request.get_full_path())
            if _session_expired(request):
                logout(request)
                messages.info(request, _("Phiên làm việc đã hết hạn; hãy đăng nhập lại."))
                return redirect_to_login(request.get_full_path())
            request.actor = services.actor_for_profile(profile, ip=client_ip(request))  # type: ignore[attr-defined]
            refusal = rule.refusal(request.actor)  # type: ignore[attr-defined]
            if refusal is not None:
                return forbidden(request, refusal)
            return view(request, *args, **kwargs)

        wrapper.page_rule = rule  # type: ignore[attr-defined]
        return wrapper

    return decorate(view) if view is not None else decorate


def admits(actor: Actor, url_name: str) -> bool:
    """Whether the console page named ``url_name`` (no arguments) admits ``actor``: the rule
    its view's ``officer_required`` enforces. False for a page not mounted or not guarded."""
    try:
        view = resolve(reverse(url_name)).func
    except NoReverseMatch:
        return False
    rule = getattr(view, "page_rule", None)
    return isinstance(rule, PageRule) and rule.refusal(actor) is None


# ---- Sign-in: password, then the TOTP code (enrolled at the first sign-in) -----------------------

def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return reverse(settings.LOGIN_REDIRECT_URL)


def login_view(request: HttpRequest) -> HttpResponse:
    """The first factor. A right password leads to the second factor, not into the console."""
    if (officer_profile(request) is not None
            and request.session.get(BACKEND_SESSION_KEY) == SECOND_FACTOR_BACKEND):
        return redirect(_safe_next(request, request.GET.get("next")))
    form = OfficerLoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                profile = services.check_officer_password(form.cleaned_data["username"],
                                                          form.cleaned_data["password"],
                                                          ip=client_ip(request))
            except DomainError as err:
                add_domain_errors(form, err, {"password": "__all__"})
            else:
                request.session.cycle_key()
                request.session[PENDING_KEY] = {"profile": profile.pk, "at": time.time(),
                                                "next": _safe_next(request, next_url)}
                return redirect("accounts:second_factor")
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


def _pending_profile(request: HttpRequest) -> OfficerProfile | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return (OfficerProfile.objects.select_related("user", "jurisdiction")
            .filter(pk=int(pending.get("profile") or 0), user__is_active=True).first())


def second_factor(request: HttpRequest) -> HttpResponse:
    """The TOTP code of the officer's app; at the first sign-in (or after a reset) the app is
    enrolled here first, from a QR code."""
    profile = _pending_profile(request)
    if profile is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Hãy đăng nhập lại bằng mật khẩu."))
        return redirect("accounts:login")
    enrolling = not profile.has_totp
    uri = None
    if enrolling:
        uri = services.pending_totp_uri(profile) or services.begin_officer_totp(profile)
    form = TotpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                profile = services.verify_officer_totp(profile, form.cleaned_data["code"].strip(),
                                                       ip=client_ip(request))
            except DomainError as err:
                add_domain_errors(form, err)
                if err.code == "E_ACCOUNT_TEMP_LOCKED":
                    request.session.pop(PENDING_KEY, None)
            else:
                next_url = request.session.pop(PENDING_KEY)["next"]
                login(request, profile.user, backend=SECOND_FACTOR_BACKEND)  # cycles the key
                now = time.time()
                request.session[SESSION_KEY] = {"auth_time": now, "seen": now}
                return redirect(_safe_next(request, next_url))
        status = 400
    ctx = {"form": form, "enrolling": enrolling, "officer_name": profile.user.get_username()}
    if uri:
        ctx["qr_svg"] = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
        ctx["secret"] = uri.split("secret=", 1)[1].split("&", 1)[0]
    return render(request, "accounts/second_factor.html", ctx, status=status)


class OfficerLogoutView(auth_views.LogoutView):
    """POST only (Django ≥ 5): a link cannot sign an officer out behind their back."""


# ---- Officer management (ministry and province administrators) ----------------------------------

MANAGERS = services.MANAGER_ROLES


def _managed(actor: Actor) -> Any:
    """The accounts in the actor's area (a province officer: those of their province)."""
    qs = OfficerProfile.objects.select_related("user", "jurisdiction").order_by("user__username")
    if actor.is_national:
        return qs
    return qs.filter(Q(jurisdiction_id=actor.jurisdiction_id)
                     | Q(jurisdiction__province_id=actor.jurisdiction_id))


@officer_required(roles=MANAGERS)
def officer_list(request: HttpRequest) -> HttpResponse:
    form = OfficerFilterForm(request.GET or None)
    qs = _managed(request.actor)  # type: ignore[attr-defined]
    status = 200
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        if cd["q"]:
            qs = qs.filter(Q(user__username__icontains=cd["q"]) | Q(display_name__icontains=cd["q"]))
        if cd["role"]:
            qs = qs.filter(role=cd["role"])
        if cd["unit"] is not None:
            unit = cd["unit"]
            qs = qs.filter(Q(jurisdiction=unit) | Q(jurisdiction__province=unit))
        if cd["state"]:
            qs = qs.filter(user__is_active=cd["state"] == "active")
    elif form.is_bound:
        status = 400
        qs = qs.none()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "accounts/officer_list.html",
                  {"form": form, "page": page, "params": params.urlencode()}, status=status)


@officer_required(roles=MANAGERS)
def officer_new(request: HttpRequest) -> HttpResponse:
    form = OfficerCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            cd = form.cleaned_data
            try:
                profile = services.create_officer(
                    cd["username"], cd["password"], cd["role"], jurisdiction=cd["unit"],
                    display_name=cd["display_name"], actor=request.actor)  # type: ignore[attr-defined]
            except OutOfJurisdiction as err:
                return forbidden(request, err)
            except DomainError as err:
                add_domain_errors(form, err, {"jurisdiction": "unit"})
            else:
                messages.success(request, _("Đã tạo tài khoản %(name)s.") % {"name": profile.user.username})
                return redirect("accounts:officer_edit", profile_id=profile.pk)
        status = 400
    return render(request, "accounts/officer_form.html", {"form": form, "profile": None}, status=status)


def _managed_profile(request: HttpRequest, profile_id: int) -> OfficerProfile | HttpResponse:
    profile = _managed(request.actor).filter(pk=profile_id).first()  # type: ignore[attr-defined]
    if profile is None:
        if OfficerProfile.objects.filter(pk=profile_id).exists():
            return forbidden(request, OutOfJurisdiction(
                "E_JURISDICTION", _("Tài khoản này ngoài quyền quản lý của bạn."), "username"))
        return not_found(request, _("Không tìm thấy tài khoản cán bộ."))
    return profile


def _edit_page(request: HttpRequest, profile: OfficerProfile, *, form: Any = None, status_form: Any = None,
               password_form: Any = None, status: int = 200) -> HttpResponse:
    unit = profile.jurisdiction
    form = form or OfficerEditForm(initial={"role": profile.role, "display_name": profile.display_name,
                                            "unit": unit.qualified_code if unit else ""})
    return render(request, "accounts/officer_form.html", {
        "form": form, "profile": profile,
        "status_form": status_form or OfficerStatusForm(
            initial={"action": "reactivate" if not profile.user.is_active else "suspend"}),
        "password_form": password_form or OfficerPasswordForm(),
        "is_self": profile.user_id == request.user.pk,
    }, status=status)


def _run(request: HttpRequest, profile: OfficerProfile, form: Any, call: Callable[[], Any],
         done: Any, form_key: str) -> HttpResponse:
    try:
        call()
    except OutOfJurisdiction as err:
        return forbidden(request, err)
    except NotFound as err:
        return not_found(request, err.message)
    except DomainError as err:
        add_domain_errors(form, err, {"jurisdiction": "unit"})
        return _edit_page(request, profile, status=400, **{form_key: form})
    messages.success(request, done)
    return redirect("accounts:officer_edit", profile_id=profile.pk)


@officer_required(roles=MANAGERS)
def officer_edit(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = _managed_profile(request, profile_id)
    if isinstance(profile, HttpResponse):
        return profile
    if request.method != "POST":
        return _edit_page(request, profile)
    form = OfficerEditForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, profile, form=form, status=400)
    cd = form.cleaned_data
    return _run(request, profile, form, lambda: services.update_officer(
        request.actor, profile.pk, role=cd["role"], jurisdiction=cd["unit"],  # type: ignore[attr-defined]
        display_name=cd["display_name"], reason=cd["reason"]), _("Đã lưu vai trò và địa bàn."), "form")


@require_POST
@officer_required(roles=MANAGERS)
def officer_status(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = _managed_profile(request, profile_id)
    if isinstance(profile, HttpResponse):
        return profile
    form = OfficerStatusForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, profile, status_form=form, status=400)
    active = form.cleaned_data["action"] == "reactivate"
    return _run(request, profile, form, lambda: services.set_officer_active(
        request.actor, profile.pk, active, reason=form.cleaned_data["reason"]),  # type: ignore[attr-defined]
        _("Đã kích hoạt lại tài khoản.") if active else _("Đã tạm dừng tài khoản."), "status_form")


@require_POST
@officer_required(roles=MANAGERS)
def officer_password(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = _managed_profile(request, profile_id)
    if isinstance(profile, HttpResponse):
        return profile
    form = OfficerPasswordForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, profile, password_form=form, status=400)
    cd = form.cleaned_data
    return _run(request, profile, form, lambda: services.reset_officer_password(
        request.actor, profile.pk, cd["password"],  # type: ignore[attr-defined]
        reset_second_factor=cd["reset_second_factor"], reason=cd["reason"]),
        _("Đã đặt lại mật khẩu."), "password_form")
