"""The JSON API under /api/v1/: one NinjaAPI, with a router from each context's api.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from dancu.core.errors import DomainError

api = NinjaAPI(
    title="dancu API",
    version="1",
    description="National population database: citizen look-up, search, residence history.",
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
        errors.append({"code": "E_INVALID_INPUT", "field": ".".join(loc) or None,
                       "message": err.get("msg", "invalid")})
    body = dict(errors[0]) if errors else {"code": "E_INVALID_INPUT", "field": None,
                                           "message": "invalid input"}
    body["errors"] = errors
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "E_UNAUTHENTICATED", "field": None,
                  "message": "Missing or invalid bearer token"}, status=401)


def _mount() -> None:
    from dancu.population.api import router as population_router

    api.add_router("/", population_router)


_mount()
