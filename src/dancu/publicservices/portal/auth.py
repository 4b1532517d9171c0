"""The portal's own sign-in state: who the relying party signed in (from the verified ID
token), at which assurance level. Kept in the Django session under ``dancu_portal``,
separately from the provider's e-ID session (the portal is a relying party like any other)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from dancu.accounts.actor import Actor
from dancu.eid.services import citizen_actor
from dancu.publicservices.portal.rp import SESSION_KEY, SignedIn

# A portal sign-in lasts at most this long, then the citizen signs in again (the provider's
# session may still be alive and make that one click).
MAX_AGE_SECONDS = 8 * 3600


@dataclass(frozen=True)
class PortalUser:
    personal_id: str
    name: str
    loa: int
    auth_time: int
    id_token: str

    def actor(self, request: HttpRequest) -> Actor:
        return citizen_actor(self.personal_id, ip=request.META.get("REMOTE_ADDR"), channel="portal")


def store(request: HttpRequest, signed: SignedIn) -> None:
    request.session.cycle_key()  # a new key at every sign-in: no fixation
    request.session[SESSION_KEY] = {"personal_id": signed.personal_id, "name": signed.name, "loa": signed.loa,
                                    "auth_time": signed.auth_time, "id_token": signed.id_token,
                                    "at": int(time.time())}


def current(request: HttpRequest) -> PortalUser | None:
    data: dict[str, Any] | None = request.session.get(SESSION_KEY)
    if not data or int(time.time()) - int(data.get("at", 0)) > MAX_AGE_SECONDS:
        return None
    return PortalUser(data["personal_id"], data.get("name", ""), int(data.get("loa", 1)),
                      int(data.get("auth_time", 0)), data.get("id_token", ""))


def forget(request: HttpRequest) -> str:
    data = request.session.pop(SESSION_KEY, None) or {}
    return str(data.get("id_token", ""))


def login_url(next_url: str, loa: int = 1) -> str:
    query = {"next": next_url}
    if loa > 1:
        query["loa"] = str(loa)
    return reverse("portal:login") + "?" + urlencode(query)


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in to the portal, else to the sign-in (and back)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = current(request)
        if user is None:
            return HttpResponseRedirect(login_url(request.get_full_path()))
        request.portal_user = user  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped
