"""The fast lane of ``GET /api/v1/citizens/<12 digits>``: Django's own WSGI handler, the whole
middleware chain included, with URL resolution and ninja skipped for this one route.

The citizen look-up is the API's hot path (relying parties call it at high rates). Through
Django + ninja it pays for URL resolution (ninja's many patterns), ninja's parameter and
response models and the ORM — several times the work of the look-up itself. This handler is
Django's ``WSGIHandler`` in every respect — request and response middleware
(``settings.MIDDLEWARE``, whatever it holds: hosts, HTTPS redirect, security headers, language,
any middleware added later), ``process_view``/``process_exception``, the connection life cycle
(``request_started``/``request_finished``), error handling — except that a ``GET`` of this route
with an ``Authorization`` header resolves to a view of its own (``resolve_request``), which
carries the endpoint's attributes (CSRF exemption and the like) for the middleware to see. It
answers only the successful look-up, with the very pieces the ninja endpoint uses:

- the bearer token → ``dancu.accounts.auth.TokenAuth`` (ninja's header parsing, the token
  cache, its revocation delay, its throttled ``last_used_at``);
- the purpose → ``dancu.population.api.purpose_of``; the ID number →
  ``dancu.population.api.checked_personal_id``;
- the read and its audit row → ``dancu.population.selectors.lookup_citizen_document`` (on
  PostgreSQL one statement: the audit row exists exactly when the person is returned);
- the body → ``dancu.population.api.citizen_json`` (byte for byte ninja's rendering).

Anything else — a missing or unknown token, a malformed ID number or purpose, an unknown person
or one outside the caller's area, any exception in the lane (after which nothing of its work
remains: the statement committed with its response, or did not) — is handed, within the same
request, to the endpoint the URL conf resolves: ninja answers and audits the refusal.

``DANCU_API_FASTLANE=0`` turns the lane off (Django's plain handler).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, get_resolver

from dancu.core.errors import DomainError

logger = logging.getLogger("dancu.api")

_LOOKUP_PATH = re.compile(r"/api/v1/citizens/([0-9]{12})")
_SAMPLE_PATH = "/api/v1/citizens/000000000000"


def enabled_by_environment() -> bool:
    return os.environ.get("DANCU_API_FASTLANE", "1").strip() != "0"


class LookupFastLane(WSGIHandler):
    """Django's WSGI handler, with the look-up route resolved to ``lookup`` (the fast view)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._route: ResolverMatch | None = None
        self._view: Callable[..., HttpResponse] | None = None

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        if (request.method == "GET" and "HTTP_AUTHORIZATION" in request.META
                and not hasattr(request, "urlconf")):  # a middleware's own URL conf: Django resolves
            match = _LOOKUP_PATH.fullmatch(request.path_info)
            if match is not None:
                route = self._lookup_route()
                if route is not None and self._view is not None:
                    resolved = ResolverMatch(
                        self._view, (), {"personal_id": match.group(1)}, url_name=route.url_name,
                        app_names=list(route.app_names), namespaces=list(route.namespaces),
                        route=route.route,
                        captured_kwargs={"personal_id": match.group(1)})
                    request.resolver_match = resolved
                    return resolved
        return super().resolve_request(request)

    def _lookup_route(self) -> ResolverMatch | None:
        """The URL conf's match for the look-up route, read once: the fast view takes that
        endpoint's attributes. None (the lane stays off) if the URL conf sends the path elsewhere."""
        if self._route is None:
            from dancu.population.api import citizen_get

            route = get_resolver().resolve(_SAMPLE_PATH)
            if route.url_name != citizen_get.__name__ or route.kwargs != {"personal_id": _SAMPLE_PATH[-12:]}:
                logger.warning("fast lane off: %s resolves to %s", _SAMPLE_PATH, route.view_name)
                return None
            self._view = _fast_view(route.func, self.declined)
            self._route = route
        return self._route

    def declined(self, request: HttpRequest) -> HttpResponse:
        """The endpoint's own answer (ninja), when the lane does not answer."""
        match = super().resolve_request(request)
        return match.func(request, *match.args, **match.kwargs)


def _fast_view(endpoint: Callable[..., HttpResponse],
               declined: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    from dancu.accounts.auth import TokenAuth
    from dancu.population.api import checked_personal_id, citizen_json, purpose_of
    from dancu.population.selectors import lookup_citizen_document

    bearer = TokenAuth()  # the API's authentication (dancu.api), header parsing included

    def lookup(request: HttpRequest, personal_id: str) -> HttpResponse:
        try:
            actor = bearer(request)
            if actor is None:
                return declined(request)  # ninja's 401
            checked_personal_id(personal_id)
            reason = purpose_of(request.GET.get("purpose"), request.META.get("HTTP_X_PURPOSE"))
            document = lookup_citizen_document(actor, personal_id, reason=reason)
        except DomainError:
            return declined(request)  # a malformed ID number or purpose: ninja answers 422
        except Exception:
            # Nothing to undo: the look-up is one statement (PostgreSQL) or one atomic block
            # (SQLite). The endpoint answers, with its own error handling.
            logger.warning("fast lane: handing %s to the endpoint after an error", request.path,
                           exc_info=True)
            return declined(request)
        if document is None:
            return declined(request)  # unknown or out of area: ninja's 404/403, audited there
        return HttpResponse(citizen_json(document), content_type="application/json; charset=utf-8")

    # The endpoint's attributes (csrf_exempt, …) for process_view middleware, and its name.
    return functools.update_wrapper(lookup, endpoint)


def application(*, enabled: bool | None = None) -> WSGIHandler:
    """Django's WSGI handler, with the look-up lane unless it is turned off."""
    if enabled is None:
        enabled = enabled_by_environment()
    return LookupFastLane() if enabled else WSGIHandler()
