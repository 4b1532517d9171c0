"""e-ID JSON API for mobile clients: level-1 registration, its confirmation, and password
recovery / first activation. Public endpoints (no bearer token): what they reveal is limited
exactly as on the web pages. Sign-in and self-service for apps use OpenID Connect access
tokens (the ``oidc`` context), not a token scheme of their own.

Errors are the API's JSON errors ``{"code", "field", "message"}``: the services' ``DomainError``
keeps its status (400/404/409), malformed input is 422 ``E_INVALID_INPUT`` naming the field.

Registration is ``multipart/form-data`` (the fields plus the ``portrait`` file): a 2 MB image
as base64 in JSON would pass Django's 2.5 MB request-body limit, and a file part is neither
held in memory whole nor counted against it.
"""

from __future__ import annotations

import datetime as dt

from cryptography.fernet import InvalidToken
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile

from dancu.core import crypto
from dancu.core.errors import DomainError
from dancu.core.net import client_ip
from dancu.eid.models import Channel, EidAccount
from dancu.eid.services import CITIZEN_PASSWORD_MIN_LENGTH, otp_ttl_seconds
from dancu.eid.services.applications import (
    PORTRAIT_MAX_BYTES,
    confirm_level1_application,
    submit_level1_application,
)
from dancu.eid.services.recovery import complete_recovery
from dancu.eid.views.common import as_wrong_code, start_recovery_without_disclosure
from dancu.population.api import ErrorOut, IsoDate, PersonalId

router = Router(tags=["eid"])

_ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class InvalidChallenge(DomainError):
    status = 422


# ---- Schemas -------------------------------------------------------------------------------

class RegistrationIn(Schema):
    personal_id: PersonalId
    full_name: str
    birth_date: IsoDate
    phone: str           # Vietnamese mobile number: 0912345678, +84912345678
    email: str = ""


class ApplicationOut(Schema):
    application_id: int
    status: str          # pending | refused
    reason_code: str     # "" or why the registry refused (E_REGISTRY_MISMATCH, E_PERSON_DECEASED, …)
    reason: str
    challenge_id: int | None  # the OTP sent to the phone (pending only)
    otp_expires_at: dt.datetime | None


# The strength rule is the service's (E_PASSWORD_WEAK, naming the field); the schema documents
# its minimum without a second check of its own.
PASSWORD_SCHEMA = Field(description=f"At least {CITIZEN_PASSWORD_MIN_LENGTH} characters, "
                        "not a common password, not only digits.",
                        json_schema_extra={"minLength": CITIZEN_PASSWORD_MIN_LENGTH})


class ConfirmIn(Schema):
    challenge_id: int
    otp: str
    password: str = PASSWORD_SCHEMA


class AccountOut(Schema):
    personal_id: str
    level: int
    status: str


class RecoveryIn(Schema):
    personal_id: PersonalId
    phone: str


class RecoveryOut(Schema):
    challenge_id: str    # opaque; the same shape whether or not a code was sent
    expires_in: int      # seconds
    message: str


class RecoveryConfirmIn(Schema):
    challenge_id: str
    otp: str
    password: str = PASSWORD_SCHEMA


def _account_out(account: EidAccount) -> dict[str, object]:
    return {"personal_id": account.personal_id, "level": account.level, "status": account.status}


# ---- Registration -------------------------------------------------------------------------

@router.post("/registrations", auth=None, response={201: ApplicationOut, **_ERRORS},
             summary="Level-1 registration (multipart: fields + portrait file)",
             operation_id="eid_register")
def register(request: HttpRequest, payload: Form[RegistrationIn],
             portrait: File[UploadedFile | None] = None) -> Status:
    """Checks the person against the registry and sends an OTP to the phone. A refusal by the
    registry is still 201 (the application is recorded) with ``status: "refused"`` and the
    reason; bad input is 400/422 naming the field."""
    result = submit_level1_application(
        personal_id=payload.personal_id, full_name=payload.full_name, birth_date=payload.birth_date,
        phone=payload.phone, email=payload.email,
        portrait=portrait.read(PORTRAIT_MAX_BYTES + 1) if portrait else None,
        channel=Channel.APP, ip=client_ip(request))
    app, challenge = result.application, result.challenge
    return Status(201, {"application_id": app.pk, "status": app.status, "reason_code": app.reason_code,
                        "reason": app.reason, "challenge_id": challenge.pk if challenge else None,
                        "otp_expires_at": challenge.expires_at if challenge else None})


@router.post("/registrations/{application_id}/confirm", auth=None, response={201: AccountOut, **_ERRORS},
             summary="Confirm a registration with the OTP and set the password",
             operation_id="eid_register_confirm")
def register_confirm(request: HttpRequest, application_id: int, payload: ConfirmIn) -> Status:
    account = confirm_level1_application(application_id, payload.challenge_id, payload.otp,
                                         payload.password, ip=client_ip(request))
    return Status(201, _account_out(account))


# ---- Recovery / first activation ------------------------------------------------------------
# The challenge handle is the challenge's number encrypted (Fernet, fixed length): a request whose
# ID number and phone match nothing gets a handle just like a real one, so the answer does not
# tell whether they belong together.

def _handle(challenge_pk: int | None) -> str:
    return crypto.encrypt(f"recovery:{challenge_pk or 0:020d}")


def _challenge_of(handle: str) -> int:
    try:
        kind, _sep, number = crypto.decrypt(handle).partition(":")
    except (InvalidToken, ValueError, TypeError):
        kind, number = "", ""
    if kind != "recovery" or not number.isdigit():
        raise InvalidChallenge("E_INVALID_INPUT", _("Mã yêu cầu không hợp lệ."), "challenge_id")
    return int(number)


@router.post("/recovery", auth=None, response={202: RecoveryOut, **_ERRORS},
             summary="Password recovery or first activation: OTP to the phone on record",
             operation_id="eid_recovery")
def recovery(request: HttpRequest, payload: RecoveryIn) -> Status:
    """Always 202 with a challenge handle when the input is well formed: a code is sent only if
    the ID number and phone belong to one account (no enumeration)."""
    challenge = start_recovery_without_disclosure(payload.personal_id, payload.phone)
    return Status(202, {"challenge_id": _handle(challenge.pk if challenge else None),
                        "expires_in": int(otp_ttl_seconds()),
                        "message": str(_("Nếu thông tin khớp với một tài khoản, mã xác thực đã được "
                                         "gửi tới số điện thoại đó."))})


@router.post("/recovery/confirm", auth=None, response={200: AccountOut, **_ERRORS},
             summary="Set a new password with the OTP", operation_id="eid_recovery_confirm")
def recovery_confirm(request: HttpRequest, payload: RecoveryConfirmIn) -> Status:
    try:
        account = complete_recovery(_challenge_of(payload.challenge_id), payload.otp,
                                    payload.password, ip=client_ip(request))
    except DomainError as err:
        raise as_wrong_code(err) from None  # nothing was sent: answer like a wrong code
    return Status(200, _account_out(account))
