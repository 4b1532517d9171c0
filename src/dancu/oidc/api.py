"""The authentication service's JSON API: eKYC verification (client credentials, scope ``ekyc``), and
the e-ID mobile app's own-account endpoints (a citizen's token with scope ``eid.self``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from dancu.core.net import client_ip
from dancu.oidc import ekyc
from dancu.oidc.auth import OAuthBearer
from dancu.population.api import ErrorOut, IsoDate

# Every refusal is the API's error body; 401 for a missing, unknown or expired token, 403 for a
# token without the scope (or not a citizen's, for /me), 400 for a NUL character or a body that is
# not JSON, 422 for a malformed field.
_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}

router = Router(tags=["ekyc"], auth=OAuthBearer(["ekyc"]))


class VerifyIn(Schema):
    personal_id: str = Field(min_length=12, max_length=12, pattern=r"^\d{12}$")
    full_name: str = Field(min_length=1, max_length=150)
    birth_date: IsoDate
    purpose: str = Field(default="", max_length=500)


class VerifyOut(Schema):
    result: str  # match | no_match | deceased | account_locked


@router.post("/verify", response={200: VerifyOut, **_ERRORS, 429: ErrorOut}, operation_id="ekyc_verify",
             summary="eKYC: does this ID number, name and date of birth match a living person?")
def verify(request: HttpRequest, body: VerifyIn) -> dict[str, str] | HttpResponse:
    return {"result": ekyc.verify(request.auth, personal_id=body.personal_id, full_name=body.full_name,  # type: ignore[attr-defined]
                                  birth_date=body.birth_date, purpose=body.purpose)}


# ---- The e-ID mobile app: the person's own account (scope eid.self, token from a citizen login) ----

me_router = Router(tags=["eid-self"], auth=OAuthBearer(["eid.self"]))


class DeviceOut(Schema):
    id: int
    device_id: str
    name: str
    bound_at: dt.datetime
    last_seen_at: dt.datetime | None
    released_at: dt.datetime | None


class LoginOut(Schema):
    at: dt.datetime
    outcome: str
    methods: str
    client_name: str
    device_id: str


class ConsentOut(Schema):
    id: int
    client_id: str
    service: str
    organisation: str
    scopes: list[str]
    purpose: str
    granted_at: dt.datetime


class MeOut(Schema):
    personal_id: str
    full_name: str
    birth_date: str
    sex: str
    current_commune: str | None
    current_province: str | None
    eid_level: int
    eid_status: str
    phone: str
    email: str
    devices: list[DeviceOut]
    logins: list[LoginOut]
    consents: list[ConsentOut]


def _account(request: HttpRequest) -> Any:
    from dancu.core.errors import OutOfJurisdiction
    from dancu.eid.models import EidAccount

    user_id = getattr(request.auth.user, "pk", None)  # type: ignore[attr-defined]  # set by ninja
    account = EidAccount.objects.filter(user_id=user_id).first() if user_id is not None else None
    if account is None:
        raise OutOfJurisdiction("E_NOT_CITIZEN_TOKEN", _("Mã truy cập không gắn với tài khoản công dân."))
    return account


@me_router.get("", response={200: MeOut, **_ERRORS}, operation_id="eid_me",
               summary="My e-ID account: registry record, level, devices, logins, consents")
def me(request: HttpRequest) -> dict[str, Any]:
    from dancu.eid import selectors as eid_selectors
    from dancu.eid.services import citizen_actor
    from dancu.oidc import selectors

    account = _account(request)
    actor = citizen_actor(account.personal_id, user_id=account.user_id, channel="app",
                          ip=client_ip(request))
    c = eid_selectors.own_profile(actor, account)
    return {
        "personal_id": c.personal_id, "full_name": c.full_name, "birth_date": c.birth_display, "sex": c.sex,
        "current_commune": c.current_commune.name if c.current_commune else None,
        "current_province": c.current_province.name if c.current_province else None,
        "eid_level": account.level, "eid_status": account.status, "phone": account.phone,
        "email": account.email, "devices": list(eid_selectors.devices_of(account)),
        "logins": list(eid_selectors.login_history(account)[:50]),
        "consents": [{"id": v.consent.pk, "client_id": v.consent.application.client_id,
                      "service": v.consent.application.name, "organisation": v.organisation,
                      "scopes": sorted(v.consent.scope_set), "purpose": v.consent.purpose,
                      "granted_at": v.consent.granted_at} for v in selectors.consents_of(account)],
    }


@me_router.post("/consents/{consent_id}/revoke", response={204: None, **_ERRORS, 404: ErrorOut},
                operation_id="eid_consent_revoke",
                summary="Revoke my consent to share data with a relying party")
def revoke_consent(request: HttpRequest, consent_id: int) -> Status:
    from dancu.eid.services import citizen_actor
    from dancu.oidc import services

    account = _account(request)
    services.revoke_consent(account.user, consent_id, actor=citizen_actor(
        account.personal_id, user_id=account.user_id, channel="app", ip=client_ip(request)))
    return Status(204, None)


@me_router.post("/devices/{device_pk}/release", response={204: None, **_ERRORS, 404: ErrorOut},
                operation_id="eid_device_release",
                summary="Release a device from my account")
def release_device(request: HttpRequest, device_pk: int) -> Status:
    from dancu.eid.services.devices import release_device as release

    release(_account(request), device_pk)
    return Status(204, None)
