"""The JSON API under /api/v1/: one NinjaAPI, with a router from each context's api.py.

Every response that is not a success is ``{"code", "field", "message"}`` (plus ``"errors"``
when there are several): domain errors keep their status (400/403/404/409), malformed
parameters are 422 ``E_INVALID_INPUT`` naming the field, a missing or bad token is 401
``E_UNAUTHENTICATED``, anything unexpected is 500 ``E_INTERNAL`` without a trace (the trace
goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from dancu.accounts.auth import TokenAuth
from dancu.core.errors import DomainError
from dancu.population.api import ErrorOut

logger = logging.getLogger("dancu.api")

api = NinjaAPI(
    title="dancu API",
    version="1",
    description=(
        "National population database: citizen look-up, search, residence history.\n\n"
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`dancu officer token create USERNAME --name NAME`). Every look-up is audited with the "
        "purpose given in the `purpose` query parameter or the `X-Purpose` header. Errors are "
        '`{"code", "field", "message"}`.'),
    urls_namespace="api",
    auth=TokenAuth(),
)

# Pydantic error types → a message in the caller's language; others keep pydantic's text.
_VALIDATION_MESSAGES: dict[str, Any] = {
    "missing": _("Trường bắt buộc."),
    "int_parsing": _("Phải là một số nguyên."),
    "int_type": _("Phải là một số nguyên."),
    "greater_than_equal": _("Giá trị nhỏ hơn mức cho phép."),
    "greater_than": _("Giá trị nhỏ hơn mức cho phép."),
    "less_than_equal": _("Giá trị lớn hơn mức cho phép."),
    "less_than": _("Giá trị lớn hơn mức cho phép."),
    "string_too_long": _("Chuỗi quá dài."),
    "string_too_short": _("Chuỗi quá ngắn."),
}
_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file", "payload"})


def error_body(code: str, message: Any, field: str | None = None) -> dict[str, Any]:
    return {"code": code, "field": field, "message": str(message)}


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:  # 429: when the caller may try again
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in _SOURCES]
        message = _VALIDATION_MESSAGES.get(err.get("type", ""), err.get("msg", "invalid"))
        errors.append(error_body("E_INVALID_INPUT", message, ".".join(loc) or None))
    if not errors:
        errors.append(error_body("E_INVALID_INPUT", _("Dữ liệu không hợp lệ.")))
    body = dict(errors[0])
    if len(errors) > 1:
        body["errors"] = errors
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, error_body("E_UNAUTHENTICATED",
                            _("Chưa xác thực: thiếu mã truy cập, mã không đúng hoặc đã bị thu hồi.")),
        status=401)
    response["WWW-Authenticate"] = 'Bearer realm="dancu"'
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("E_NOT_FOUND", _("Không tìm thấy.")), status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, error_body(f"E_HTTP_{exc.status_code}", exc.message),
                               status=exc.status_code)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return api.create_response(
        request, error_body("E_INTERNAL", _("Lỗi hệ thống; đã ghi nhận. Vui lòng thử lại sau.")),
        status=500)


class HealthOut(Schema):
    status: str
    database: str


@api.get("/health", auth=None, response={200: HealthOut, 503: ErrorOut}, tags=["health"],
         summary="Liveness: the process answers and the database responds",
         operation_id="health")
def health(request: HttpRequest) -> Status:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: database unreachable")
        return Status(503, error_body("E_DATABASE_UNAVAILABLE",
                                      _("Cơ sở dữ liệu không phản hồi.")))
    return Status(200, {"status": "ok", "database": "ok"})


def _mount() -> None:
    from dancu.documents.api import router as documents_router
    from dancu.eid.api import router as eid_router
    from dancu.kpi.api import router as kpi_router
    from dancu.oidc.api import me_router
    from dancu.oidc.api import router as ekyc_router
    from dancu.population.api import router as population_router
    from dancu.publicservices.api import router as publicservices_router
    from dancu.residence.api import router as residence_router

    api.add_router("/", population_router)
    api.add_router("/", residence_router)
    api.add_router("/eid", eid_router)
    api.add_router("/ekyc", ekyc_router)
    api.add_router("/me", me_router)
    api.add_router("/publicservices", publicservices_router)  # issue #12
    api.add_router("/documents", documents_router)
    api.add_router("/kpi", kpi_router)  # issue #14
    api.add_router("/", _fallback)  # last: only what no other route matched


_fallback = Router(auth=None)


@_fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}",
                         include_in_schema=False)
def _unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    """A JSON 404 for unknown URLs under /api/v1/, instead of Django's HTML page."""
    return api.create_response(request, error_body("E_NOT_FOUND", _("Không tìm thấy.")), status=404)


_mount()
