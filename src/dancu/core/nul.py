"""The NUL character (U+0000) is refused at the door, in one place.

PostgreSQL cannot store or compare a text containing NUL: psycopg raises before the statement
is sent, so a NUL in any value that reaches a query (a search term, a purpose, a URL segment,
an authorization code, the client id of HTTP Basic credentials, a registration's name) was a
500 on PostgreSQL and not on SQLite. No legitimate input contains it, so instead of guarding
every query, ``nul_field`` finds it in a request before anything else reads the request, and
``dancu.core.middleware.RefuseNulMiddleware`` answers 400 naming the field. The look-up lane
(``dancu.api_fastlane``) runs inside Django's handler, behind this middleware.

Looked at: the path; every query parameter (name and value); every header, with the two that
dancu decodes decoded first (``Authorization: Basic`` from base64, ``X-Purpose`` from
percent-encoding); cookies; a form body (urlencoded or the non-file fields and file names of a
multipart body — a file's content may hold NUL bytes); a JSON body (its strings and keys, at
any depth); any other body is looked at raw.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

NUL = "\x00"

_JSON_TYPES = ("application/json",)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_DECODED_HEADERS = {"HTTP_X_PURPOSE": "X-Purpose"}


def printable(name: str) -> str:
    """A field name fit for a message (a NUL in the name itself shown as ``\\x00``)."""
    return name.replace(NUL, "\\x00")


def nul_field(request: HttpRequest) -> str | None:
    """The name of the first part of ``request`` that contains NUL: ``"path"``, a query or form
    field's name, a header's name (``"Authorization"``, ``"X-Purpose"``), a cookie's name, a
    JSON member's dotted path, or ``"body"``. None when there is none."""
    if NUL in request.path_info or NUL in request.path:
        return "path"
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in v for v in values):
            return printable(name)
    found = _header_field(request.META)
    if found is not None:
        return found
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            return printable(name)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    return _body_field(request)


def _header_field(meta: dict[str, Any]) -> str | None:
    for key, value in meta.items():
        if not (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")):
            continue
        if not isinstance(value, str):
            continue
        name = key.removeprefix("HTTP_").replace("_", "-").title()
        if NUL in value:
            return name
        if key == "HTTP_AUTHORIZATION" and _basic_has_nul(value):
            return name
        if key in _DECODED_HEADERS and "%" in value and NUL in unquote(value):
            return _DECODED_HEADERS[key]
    return None


def _basic_has_nul(value: str) -> bool:
    scheme, _sep, credentials = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        raw = base64.b64decode(credentials.strip(), validate=False)
    except (binascii.Error, ValueError):
        return False
    # RFC 6749 2.3.1: client id and secret are form-encoded inside the credentials.
    text = raw.decode("utf-8", errors="replace")
    return NUL in text or ("%" in text and NUL in unquote(text))


def _body_field(request: HttpRequest) -> str | None:
    content_type = (request.content_type or "").lower()
    try:
        if content_type in _FORM_TYPES:
            for name, values in request.POST.lists():
                if NUL in name or any(NUL in v for v in values):
                    return printable(name)
            for name, files in request.FILES.lists():
                if NUL in name or any(NUL in (f.name or "") for f in files):
                    return printable(name)
            return None
        body = request.body
    except (SuspiciousOperation, MultiPartParserError, OSError, ValueError):
        # Too big, too many fields, malformed, cut off: the view refuses it as it always did.
        return None
    if not body:
        return None
    if content_type in _JSON_TYPES or content_type.endswith("+json"):
        if b"\\u0000" not in body and b"\x00" not in body:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return "body" if b"\x00" in body else None
        return _json_field(data, "")
    return "body" if b"\x00" in body else None


def _json_field(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return (where or "body") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{printable(key)}" if where else printable(key)
            if NUL in key:
                return path
            found = _json_field(item, path)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _json_field(item, f"{where}.{index}" if where else str(index))
            if found is not None:
                return found
    return None
