"""The fast lane: ``GET /api/v1/citizens/<12 digits>`` — and the client-credentials grant
``POST /oidc/token/`` (``dancu.oidc.fastlane``) — without Django's request stack.

The citizen look-up is the API's hot path (relying parties call it at high rates). Through
Django it pays for the whole middleware chain, URL resolution, ninja's parameter and response
models and the ORM — about ten times the work of the look-up itself. This WSGI wrapper answers
only the successful look-up, with the very same pieces the ninja endpoint uses:

- the bearer token → ``dancu.accounts.auth.actor_for_bearer`` (its per-process cache, its
  revocation delay, its throttled ``last_used_at``);
- the purpose → ``dancu.population.api.purpose_of``; the ID number →
  ``dancu.population.api.checked_personal_id``;
- the read and its audit row → ``dancu.population.selectors.lookup_citizen_document`` (on
  PostgreSQL one statement: the audit row exists exactly when the person is returned);
- the body → ``dancu.population.api.citizen_json`` (byte for byte ninja's rendering), with
  the headers Django's middleware would add (security headers, Content-Language).

Everything else goes, untouched, to the Django application: other paths and methods, a
request with a NUL character anywhere (``dancu.core.nul``: Django refuses it), a missing or
unknown token, a malformed ID number or purpose, an unknown person or one outside
the caller's area (Django answers 404/403 and audits the refusal), a host not in
``ALLOWED_HOSTS``, and any exception (after which nothing of the lane's work remains: the
statement either committed with its response, or did not commit).

``DANCU_API_FASTLANE=0`` turns the lane off (every request then goes through Django).
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest

from dancu.core.errors import DomainError
from dancu.core.nul import nul_field

logger = logging.getLogger("dancu.api")

_LOOKUP_PATH = re.compile(r"/api/v1/citizens/([0-9]{12})")
_TOKEN_PATH = "/oidc/token/"  # noqa: S105 (a URL path)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def enabled_by_environment() -> bool:
    return os.environ.get("DANCU_API_FASTLANE", "1").strip() != "0"


class LookupFastLane:
    """WSGI middleware around the Django application (``dancu.wsgi``)."""

    def __init__(self, app: WSGIApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled
        self._static_headers: list[tuple[str, str]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.enabled and environ.get("HTTP_AUTHORIZATION"):
            method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
            answer = None
            if method == "GET":
                match = _LOOKUP_PATH.fullmatch(path)
                if match is not None:
                    answer = self._answer(environ, match.group(1))
            elif method == "POST" and path == _TOKEN_PATH:
                answer = self._answer(environ, None)
            if answer is not None:
                headers, body = answer
                start_response("200 OK", headers)
                return [body]
            if method == "POST" and path == _TOKEN_PATH and "dancu.fastlane.body" in environ:
                environ["wsgi.input"] = io.BytesIO(environ.pop("dancu.fastlane.body"))
        return self.app(environ, start_response)

    def _answer(self, environ: dict[str, Any], personal_id: str | None) -> tuple[list, bytes] | None:
        """Headers and body of the successful look-up (or client-credentials grant), or None
        to let Django answer."""
        # Same connection life cycle as Django's handler: request_started / request_finished
        # run close_old_connections (CONN_MAX_AGE, health checks, broken connections).
        # The health check included: on PostgreSQL it polls the socket (``dancu.core.postgresql``),
        # no round trip.
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            if personal_id is None:
                return self._token(environ)
            return self._lookup(WSGIRequest(environ), personal_id)
        except DomainError:
            return None  # a malformed ID number or purpose: Django answers 422
        except Exception:
            # Nothing to undo: the look-up is one statement (PostgreSQL) or one atomic block
            # (SQLite) and nothing was sent. Django answers, with its own error handling.
            logger.warning("fast lane: delegating %s to Django after an error",
                           environ.get("PATH_INFO"), exc_info=True)
            return None
        finally:
            signals.request_finished.send(sender=self.__class__)

    def _lookup(self, request: WSGIRequest, personal_id: str) -> tuple[list, bytes] | None:
        from dancu.accounts.auth import actor_for_bearer
        from dancu.core.net import client_ip
        from dancu.population.api import checked_personal_id, citizen_json, purpose_of
        from dancu.population.selectors import lookup_citizen_document

        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None  # SecurityMiddleware redirects
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
        except DisallowedHost:
            return None
        # request.META["HTTP_…"] is what request.headers[…] reads, without building the whole map.
        if nul_field(request) is not None:
            return None  # Django refuses it (dancu.core.middleware.RefuseNulMiddleware)
        token = _bearer_token(request.META.get("HTTP_AUTHORIZATION"))
        if not token:
            return None
        actor = actor_for_bearer(token, client_ip(request))
        if actor is None:
            return None
        checked_personal_id(personal_id)
        reason = purpose_of(request.GET.get("purpose"), request.META.get("HTTP_X_PURPOSE"))
        document = lookup_citizen_document(actor, personal_id, reason=reason)
        if document is None:
            return None
        body = citizen_json(document)
        return self._headers(request, len(body)), body

    def _token(self, environ: dict[str, Any]) -> tuple[list, bytes] | None:
        """The client-credentials and refresh-token grants (``dancu.oidc.fastlane``). The body it
        reads is kept so that Django can read it again when the lane declines."""
        from dancu.oidc import fastlane

        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= fastlane.MAX_BODY:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["dancu.fastlane.body"] = raw
        environ["wsgi.input"] = io.BytesIO(raw)
        request = WSGIRequest(dict(environ, **{"wsgi.input": io.BytesIO(b"")}))
        if b"\x00" in raw or b"%00" in raw or nul_field(request) is not None:
            return None  # Django refuses it (dancu.core.middleware.RefuseNulMiddleware)
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        try:
            request.get_host()
        except DisallowedHost:
            return None
        answer = fastlane.answer(environ, request)
        if answer is None:
            return None
        extra, body = answer
        headers = [h for h in self._headers(request, len(body)) if h[0] != "Content-Type"]
        return [*extra, *headers], body

    def _headers(self, request: WSGIRequest, length: int) -> list[tuple[str, str]]:
        """What Django + ninja send with the look-up: ninja's Content-Type, CommonMiddleware's
        Content-Length, SecurityMiddleware's and XFrameOptionsMiddleware's headers,
        dancu.core.middleware's Content-Language (tests/test_api_fastlane.py compares)."""
        if self._static_headers is None:
            static = [("Content-Type", "application/json; charset=utf-8")]
            if settings.SECURE_REFERRER_POLICY:
                policy = settings.SECURE_REFERRER_POLICY
                static.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
            if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
                static.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
            if settings.SECURE_CONTENT_TYPE_NOSNIFF:
                static.append(("X-Content-Type-Options", "nosniff"))
            static.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()))
            self._static_headers = static
        headers = [*self._static_headers, ("Content-Length", str(length))]
        if settings.SECURE_HSTS_SECONDS and request.is_secure():
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                hsts += "; preload"
            headers.append(("Strict-Transport-Security", hsts))
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        headers.append(("Content-Language", chosen if chosen in supported else settings.LANGUAGE_CODE))
        return headers


def _bearer_token(value: str | None) -> str:
    """The token of ``Authorization: Bearer …``, parsed as ninja's HttpBearer and
    dancu.accounts.auth.TokenAuth do ("" when the header is not a bearer one)."""
    if not value:
        return ""
    parts = value.split(" ")
    if parts[0].lower() != "bearer":
        return ""
    return " ".join(parts[1:]).strip()


def wrap(app: WSGIApp, *, enabled: bool | None = None) -> WSGIApp:
    """The Django application behind the fast lane (or unchanged when the lane is off)."""
    if enabled is None:
        enabled = enabled_by_environment()
    return LookupFastLane(app) if enabled else app
