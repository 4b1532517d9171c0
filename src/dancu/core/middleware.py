"""Request middleware of the project: the language, and the refusal of NUL characters.

Language: Vietnamese unless the user chose another language in the console.

Django's LocaleMiddleware would follow the browser's Accept-Language, so an officer with an
English browser would land in English. A national system starts in Vietnamese; the language
selector (Django's set_language, stored in a cookie) is the only way to switch.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from dancu.core.nul import nul_field


class LanguageChoiceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


def chosen_language(request: HttpRequest) -> str:
    """The language the user chose (the language cookie), else the site's (Vietnamese)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE


# Under /oidc/ these are pages a browser shows; the other endpoints answer OAuth clients (RFC 6749).
_OIDC_PAGES = ("/oidc/authorize/", "/oidc/logout/")


class RefuseNulMiddleware:
    """400 for a request with a NUL character anywhere (``dancu.core.nul``), before anything
    reads it: the JSON API gets ``{"code": "E_NUL_CHARACTER", "field", "message"}``, the OAuth
    endpoints RFC 6749's ``invalid_request``, pages a 400 page naming the field."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_field(request)
        if field is None:
            return self.get_response(request)
        return nul_refusal(request, field)


def nul_refusal(request: HttpRequest, field: str) -> HttpResponse:
    """The 400 answer to a request with NUL in ``field``, in the caller's language."""
    with translation.override(chosen_language(request)):
        message = str(_("Ký tự NUL (mã 0) không được phép trong “%(field)s”.") % {"field": field})
        path = request.path_info
        if path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"code": "E_NUL_CHARACTER", "field": field, "message": message}, status=400,
                content_type="application/json; charset=utf-8")
        elif path.startswith("/oidc/") and not path.startswith(_OIDC_PAGES):
            response = JsonResponse({"error": "invalid_request", "error_description": message},
                                    status=400)
            response["Cache-Control"] = "no-store"
        else:
            response = render(request, "400.html", {"message": message}, status=400)
        response.headers.setdefault("Content-Language", translation.get_language())
    return response
