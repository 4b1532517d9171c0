"""Sign-in and sign-out of the portal through dancu's OpenID Connect provider."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_POST

from dancu.publicservices.portal import auth, rp
from dancu.publicservices.portal.client import HOME_PATH, credentials


def _safe_next(value: str | None) -> str:
    """Only a path of the portal itself: no open redirect."""
    if value and value.startswith(HOME_PATH) and "//" not in value and "\\" not in value:
        return value
    return HOME_PATH


_MESSAGES = {
    "E_NOT_CONFIGURED": _l("Cổng chưa được đăng ký với dịch vụ xác thực "
                           "(chạy: dancu publicservices setup-portal)."),
    "E_PROVIDER_UNREACHABLE": _l("Không kết nối được dịch vụ xác thực. Vui lòng thử lại sau."),
    "E_ISSUER_MISMATCH": _l("Dịch vụ xác thực trả lời không đúng định danh."),
    "E_STATE": _l("Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Vui lòng đăng nhập lại."),
    "E_TOKEN_EXCHANGE": _l("Không đổi được mã đăng nhập. Vui lòng đăng nhập lại."),
    "E_ID_TOKEN_INVALID": _l("Mã định danh (ID token) không hợp lệ."),
    "E_LOA_TOO_LOW": _l("Thủ tục này cần mức xác thực cao hơn mức bạn vừa đăng nhập."),
    "E_NO_IDENTITY": _l("Dịch vụ xác thực không cung cấp số định danh cá nhân."),
    "unmet_authentication_requirements": _l("Tài khoản định danh điện tử của bạn chưa đạt mức 2, "
    "cần cho thủ tục này. Hãy đến cơ quan công an để nâng cấp tài khoản lên mức 2."),
    "access_denied": _l("Bạn đã từ chối chia sẻ thông tin với Cổng Dịch vụ công."),
}


def _failure(request: HttpRequest, code: str, status: int = 400) -> HttpResponse:
    message = _MESSAGES.get(code, _l("Đăng nhập không thành công."))
    return render(request, "publicservices/portal/login_failed.html",
                  {"code": code, "message": message, "portal_user": None}, status=status)


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    creds = credentials()
    if creds is None:
        return _failure(request, "E_NOT_CONFIGURED", 503)
    try:
        loa = min(max(int(request.GET.get("loa", "1")), 1), 2)
    except ValueError:
        loa = 1
    try:
        url = rp.begin(request, creds, next_url=_safe_next(request.GET.get("next")), min_loa=loa)
    except rp.RpError as exc:
        return _failure(request, exc.code, 502)
    return HttpResponseRedirect(url)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    creds = credentials()
    if creds is None:
        return _failure(request, "E_NOT_CONFIGURED", 503)
    error = request.GET.get("error")
    if error:
        pending = dict(request.session.get(rp.PENDING_KEY, {}))
        pending.pop(request.GET.get("state", ""), None)
        request.session[rp.PENDING_KEY] = pending
        return _failure(request, error if error in _MESSAGES else "E_LOGIN_FAILED", 403)
    try:
        signed = rp.complete(request, creds, state=request.GET.get("state", ""),
                             code=request.GET.get("code", ""))
    except rp.RpError as exc:
        return _failure(request, exc.code, 403 if exc.code == "E_LOA_TOO_LOW" else 400)
    auth.store(request, signed)
    return HttpResponseRedirect(_safe_next(signed.next_url))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Ends the portal's sign-in, then the provider's session (RP-initiated logout) and back."""
    id_token = auth.forget(request)
    if not id_token:
        return HttpResponseRedirect(HOME_PATH)
    query = urlencode({"id_token_hint": id_token,
                       "post_logout_redirect_uri": request.build_absolute_uri(HOME_PATH)})
    return HttpResponseRedirect(f"{rp.issuer_for(request)}/logout/?{query}")
