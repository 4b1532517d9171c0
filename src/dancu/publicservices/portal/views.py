"""The citizen portal's pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dancu.publicservices.portal import auth


def _ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"portal_user": auth.current(request), **extra}


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "publicservices/portal/home.html", _ctx(request))


@auth.citizen_required
def dossiers(request: HttpRequest) -> HttpResponse:
    return render(request, "publicservices/portal/home.html", _ctx(request))


@auth.citizen_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "publicservices/portal/home.html", _ctx(request))
