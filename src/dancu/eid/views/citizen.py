"""The citizen's e-ID pages: registration, sign-in, second factor, recovery and self-service.

Thin: parse a form, call ``eid.services`` (writes) or ``eid.selectors`` (reads), render.
Everything about the signed-in citizen goes through ``eid.sessions``. Pending one-time-code
challenges are remembered in the session (server side), never in the page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dancu.accounts.forms import add_domain_errors
from dancu.core.errors import DomainError
from dancu.core.net import client_ip
from dancu.eid import assurance, selectors, sessions
from dancu.eid.forms import (
    CodeForm,
    LoginForm,
    RecoverConfirmForm,
    RecoverForm,
    RegisterConfirmForm,
    RegisterForm,
)
from dancu.eid.models import Channel
from dancu.eid.services import citizen_actor, clean_phone
from dancu.eid.services.applications import (
    PORTRAIT_MAX_BYTES,
    confirm_level1_application,
    submit_level1_application,
)
from dancu.eid.services.devices import release_device
from dancu.eid.services.login import LoginResult, authenticate_password
from dancu.eid.services.recovery import complete_recovery
from dancu.eid.services.step_up import available_methods, start_sms_step_up, verify_sms_step_up
from dancu.eid.services.totp import begin_totp_enrolment, confirm_totp_enrolment, verify_totp
from dancu.eid.views.common import as_wrong_code, start_recovery_without_disclosure

REGISTRATION_KEY = "dancu_eid_registration"  # {"application", "challenge", "phone"}
RECOVERY_KEY = "dancu_eid_recovery"          # {"challenge": pk | None, "phone"}
STEP_UP_KEY = "dancu_eid_step_up"            # pk of the SMS challenge of a step-up
HISTORY_PAGE_SIZE = 20


def masked_phone(phone: str) -> str:
    """"+84912345678" → "+8491••••678": enough for the person to recognise their number."""
    return f"{phone[:5]}••••{phone[-3:]}" if len(phone) > 8 else phone


def safe_next(request: HttpRequest, value: str | None, default: str = "eid:me") -> str:
    """A local URL to go on to after a step (``?next=``), else the default page."""
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return reverse(default)


def client_id_of(url: str) -> str:
    """The OAuth ``client_id`` an authorize URL carries (to name the service that asked)."""
    values = parse_qs(urlsplit(url).query).get("client_id") or [""]
    return values[0][:100]


def _login_url(request: HttpRequest) -> str:
    return f"{reverse('eid:login')}?{urlencode({'next': request.get_full_path()})}"


ViewFunc = Callable[..., HttpResponse]


def citizen_required(view: ViewFunc) -> ViewFunc:
    """A signed-in citizen (``eid.sessions.current``) only; sets ``request.eid``. Others go to
    the e-ID sign-in page and come back."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        current = sessions.current(request)
        if current is None:
            return redirect(_login_url(request))
        request.eid = current  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _render(request: HttpRequest, template: str, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    """A citizen page: the header shows who is signed in."""
    eid = getattr(request, "eid", None) or sessions.current(request)
    return render(request, template, {"eid": eid, **ctx}, status=status)


# ---- Level 1 registration -----------------------------------------------------------------------

def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None, request.FILES or None)
    refusal = None
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        upload = cd.get("portrait")
        try:
            result = submit_level1_application(
                personal_id=cd["personal_id"], full_name=cd["full_name"], birth_date=cd["birth_date"],
                phone=cd["phone"], email=cd.get("email") or "",
                # One byte over the limit is enough for the service to refuse the size.
                portrait=upload.read(PORTRAIT_MAX_BYTES + 1) if upload else None,
                channel=Channel.WEB, ip=client_ip(request))
        except DomainError as err:
            add_domain_errors(form, err)
        else:
            if result.refused:
                refusal = result.application
            else:
                assert result.challenge is not None
                request.session[REGISTRATION_KEY] = {
                    "application": result.application.pk, "challenge": result.challenge.pk,
                    "phone": masked_phone(result.application.phone)}
                return redirect("eid:register-confirm")
    return _render(request, "eid/register.html", {"form": form, "refusal": refusal},
                   status=200 if refusal is None else 422)


def register_confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(REGISTRATION_KEY)
    if not pending:
        return redirect("eid:register")
    form = RegisterConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            account = confirm_level1_application(
                pending["application"], pending["challenge"], cd["otp"], cd["password"],
                ip=client_ip(request))
        except DomainError as err:
            add_domain_errors(form, err)
        else:
            request.session.pop(REGISTRATION_KEY, None)
            sessions.establish(request, account, ["pwd"])
            messages.success(request, _("Đã tạo tài khoản định danh điện tử mức 1."))
            return redirect("eid:me")
    return _render(request, "eid/register_confirm.html", {"form": form, "phone": pending.get("phone", "")})


# ---- Sign-in, second factor, sign-out -----------------------------------------------------------

def _login_error(result: LoginResult) -> Any:
    """The service's reason (it says so on the very attempt that locks the account)."""
    if result.error is not None:
        return result.error.message
    return _("Cần xác nhận thiết bị mới bằng ứng dụng di động.")  # device binding: app only


def login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    client_id = client_id_of(next_url)
    client_name = selectors.relying_party_name(client_id)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        result = authenticate_password(
            cd["personal_id"], cd["password"], ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""), client_id=client_id,
            client_name=client_name, start_session=sessions.starter(request))
        if result.ok:
            return HttpResponseRedirect(next_url)  # a local URL already (no reverse() attempt)
        form.add_error(None, _login_error(result))
    return _render(request, "eid/login.html", {"form": form, "next": next_url, "client_name": client_name})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    sessions.end(request)
    messages.success(request, _("Bạn đã đăng xuất."))
    return redirect("eid:login")


def _wanted_level(request: HttpRequest) -> int:
    try:
        return min(4, max(1, int(request.GET.get("level") or 2)))
    except ValueError:
        return 2


@citizen_required
def step_up(request: HttpRequest) -> HttpResponse:
    """``?level=N``: reach assurance level N (the OIDC provider's step-up). ``?need=sms``: prove
    the phone by SMS whatever the level (before adding an authenticator to the account)."""
    current: sessions.EidSession = request.eid  # type: ignore[attr-defined]
    account = current.account
    next_url = safe_next(request, request.GET.get("next"))
    wanted = _wanted_level(request)
    need_sms = request.GET.get("need") == "sms"
    available = available_methods(account) - ({"otp"} if need_sms else set())
    done = "sms" in current.methods if need_sms else current.level >= wanted
    if request.method != "POST" and done:
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    action = request.POST.get("action", "")
    challenge_id = request.session.get(STEP_UP_KEY)
    if request.method == "POST":
        try:
            if action == "send_sms":
                challenge = start_sms_step_up(account)
                request.session[STEP_UP_KEY] = challenge.pk
                messages.success(request, _("Đã gửi mã xác thực tới %(phone)s.")
                                 % {"phone": masked_phone(account.phone)})
                return redirect(request.get_full_path())
            if form.is_valid():
                code = form.cleaned_data["code"]
                if action == "totp" and "otp" in available:
                    added = verify_totp(account, code, ip=client_ip(request))
                elif challenge_id:
                    added = verify_sms_step_up(account, challenge_id, code, ip=client_ip(request))
                else:
                    raise DomainError("E_OTP_NOT_SENT", _("Hãy bấm gửi mã trước."), "code")
                request.session.pop(STEP_UP_KEY, None)
                sessions.add_methods(request, added)
                return redirect(next_url)
        except DomainError as err:
            add_domain_errors(form, err, {"otp": "code"})
    reachable = assurance.max_reachable_level(account.level, available | set(current.methods))
    return _render(request, "eid/step_up.html", {
        "form": form, "wanted": wanted, "reachable": wanted if need_sms else reachable,
        "need_sms": need_sms, "sms_sent": bool(challenge_id),
        "has_totp": "otp" in available, "phone": masked_phone(account.phone), "next": next_url,
        "sms_errors": action in ("sms", "send_sms"), "totp_errors": action == "totp"})


# ---- Recovery / first activation ---------------------------------------------------------------

def recover(request: HttpRequest) -> HttpResponse:
    form = RecoverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            challenge = start_recovery_without_disclosure(cd["personal_id"], cd["phone"])
        except DomainError as err:
            add_domain_errors(form, err)
        else:
            previous = request.session.get(RECOVERY_KEY) or {}
            request.session[RECOVERY_KEY] = {
                # A repeated request inside the resend delay keeps the code already sent.
                "challenge": challenge.pk if challenge else previous.get("challenge"),
                "phone": masked_phone(clean_phone(cd["phone"]))}
            return redirect("eid:recover-confirm")
    return _render(request, "eid/recover.html", {"form": form})


def recover_confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(RECOVERY_KEY)
    if not pending:
        return redirect("eid:recover")
    form = RecoverConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            # No challenge (nothing matched): the same answers as a wrong code.
            complete_recovery(pending.get("challenge") or 0, cd["otp"], cd["password"],
                              ip=client_ip(request))
        except DomainError as err:
            add_domain_errors(form, as_wrong_code(err), {"challenge": "otp"})
        else:
            request.session.pop(RECOVERY_KEY, None)
            messages.success(request, _("Đã đặt mật khẩu mới. Hãy đăng nhập."))
            return redirect("eid:login")
    return _render(request, "eid/recover_confirm.html", {"form": form, "phone": pending.get("phone", "")})


# ---- Self-service --------------------------------------------------------------------------------

@citizen_required
def me(request: HttpRequest) -> HttpResponse:
    current: sessions.EidSession = request.eid  # type: ignore[attr-defined]
    account = current.account
    actor = citizen_actor(account.personal_id, user_id=account.user_id, ip=client_ip(request))
    citizen = selectors.own_profile(actor, account)
    history = Paginator(selectors.login_history(account), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "eid/me.html", {
        "account": account, "citizen": citizen,
        "session_level": current.level, "session_methods": current.methods,
        "methods": sorted(available_methods(account)),
        "devices": selectors.devices_of(account), "history": history,
        "totp_pending": selectors.pending_totp_uri(account), "code_form": CodeForm(),
        "phone": masked_phone(account.phone)})


@require_POST
@citizen_required
def device_release(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        release_device(request.eid.account, pk)  # type: ignore[attr-defined]
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("Đã gỡ thiết bị khỏi tài khoản."))
    return redirect(reverse("eid:me") + "#devices")


def _phone_proven_first(request: HttpRequest) -> HttpResponse | None:
    """An authenticator is a second factor: adding one with the password alone would let whoever
    knows the password pass every later step-up. The session must hold a possession factor (an
    SMS code, or the authenticator already enrolled); else the person proves the phone first."""
    current: sessions.EidSession = request.eid  # type: ignore[attr-defined]
    if {"sms", "otp"} & set(current.methods):
        return None
    messages.info(request, _("Hãy xác nhận bằng mã SMS trước khi bật ứng dụng xác thực."))
    me = reverse("eid:me") + "#totp"
    return redirect(f"{reverse('eid:step-up')}?{urlencode({'need': 'sms', 'next': me})}")


@require_POST
@citizen_required
def totp_begin(request: HttpRequest) -> HttpResponse:
    if (first := _phone_proven_first(request)) is not None:
        return first
    begin_totp_enrolment(request.eid.account)  # type: ignore[attr-defined]
    return redirect(reverse("eid:me") + "#totp")


@require_POST
@citizen_required
def totp_confirm(request: HttpRequest) -> HttpResponse:
    if (first := _phone_proven_first(request)) is not None:
        return first
    form = CodeForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("E_TOTP_WRONG", _("Mã từ ứng dụng xác thực không đúng."), "code")
        confirm_totp_enrolment(request.eid.account, form.cleaned_data["code"])  # type: ignore[attr-defined]
    except DomainError as err:
        messages.error(request, err.message)
    else:
        messages.success(request, _("Đã bật xác thực bằng ứng dụng (TOTP)."))
    return redirect(reverse("eid:me") + "#totp")
