"""Correction requests ("báo sai"): the citizen says a value the portal pre-filled from the
registry is wrong; a police officer of the person's area handles it.

``request_correction`` is the citizen's act: the field must be one of the procedure's
``registry_fields`` (never any other name), the proposed value plain text (NUL and control
characters refused, at most ``MAX_VALUE`` characters), and there is at most one open request per
person and field (a partial unique constraint; a second one is a 409 naming the field).

``handle_correction`` is the officer's: a police role (``WRITE_ROLES``) whose area covers the
person's current residence (``Actor.covers``, the one rule), audited with its purpose; a refusal
is audited after the rollback. Handling never rewrites the registry: the officer corrects it
through the registry's own page and service (``/citizens/<id>/correct/``, audited there), then
closes the request here as handled, or rejects it with a reason. The citizen is told by a
``Notification`` (inbox, with e-mail and SMS copies by the notification task).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import WRITE_ROLES, Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, NotFound, OutOfJurisdiction
from dancu.core.text import nfc
from dancu.population.models import Citizen
from dancu.publicservices.correction_selectors import display_value, label_of
from dancu.publicservices.models import (
    CorrectionRequest,
    CorrectionStatus,
    Dossier,
    Notification,
    Procedure,
)
from dancu.publicservices.selectors import registry_values
from dancu.publicservices.services.notifications import deliver_notification
from dancu.publicservices.services.submission import citizen_of

MAX_VALUE = 500
MAX_NOTE = 2000
OUTCOMES = (CorrectionStatus.HANDLED, CorrectionStatus.REJECTED)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PURPOSE = "xử lý đề nghị điều chỉnh thông tin #{id}"
def clean_text(value: Any, field: str, *, limit: int, required: bool) -> str:
    """NFC, stripped; refuses a non-string, a NUL or control character, an empty required value
    and one over ``limit`` characters — each naming ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DomainError("E_TYPE", _("Giá trị phải là chuỗi ký tự."), field)
    if _CONTROL.search(value):
        raise DomainError("E_CONTROL_CHAR", _("Chuỗi chứa ký tự không hợp lệ."), field)
    value = nfc(value).strip()
    if required and not value:
        raise DomainError("E_REQUIRED", _("Trường bắt buộc."), field)
    if len(value) > limit:
        raise DomainError("E_TOO_LONG", _("Chuỗi quá dài."), field)
    return value


def allowed_fields(procedure: Procedure | None) -> set[str]:
    """The registry fields a request may name: the procedure's, or (no procedure) any active
    procedure's."""
    if procedure is not None:
        return set(procedure.registry_fields or [])
    names: set[str] = set()
    for fields in Procedure.objects.filter(active=True).values_list("registry_fields", flat=True):
        names.update(fields or [])
    return names


def _own_citizen(actor: Actor, citizen: Citizen) -> Citizen:
    if not isinstance(citizen, Citizen) or citizen_of(actor) != citizen.personal_id:
        raise OutOfJurisdiction(
            "E_NOT_ENTITLED", _("Chỉ công dân mới được đề nghị điều chỉnh thông tin của mình."), "citizen"
        )
    return citizen


def request_correction(
    actor: Actor,
    citizen: Citizen,
    field: str,
    proposed_value: str,
    note: str = "",
    dossier: Dossier | None = None,
    *,
    procedure: Procedure | None = None,
) -> CorrectionRequest:
    """The citizen (``actor`` is their own e-ID actor) asks that a registry ``field`` be corrected
    to ``proposed_value``. ``procedure`` (or the dossier's) names the form the value was shown
    on; the field must be one of its registry fields. Anyone else is refused (403, audited)."""
    try:
        return _request(actor, citizen, field, proposed_value, note, dossier, procedure)
    except OutOfJurisdiction as exc:  # recorded once the transaction has rolled back
        if not audit.was_recorded(exc):
            audit.record_refusal(actor, "correction.request", exc, subject_type="citizen",
                                 personal_id=getattr(citizen, "personal_id", "") or "")
        raise


@transaction.atomic
def _request(actor: Actor, citizen: Citizen, field: str, proposed_value: str, note: str,
             dossier: Dossier | None, procedure: Procedure | None) -> CorrectionRequest:
    _own_citizen(actor, citizen)
    if dossier is not None:
        if citizen.pk not in (dossier.applicant_id, dossier.subject_id):
            raise NotFound("E_DOSSIER_NOT_FOUND", _("Không tìm thấy hồ sơ."), "dossier")
        procedure = dossier.procedure
    if not isinstance(field, str) or field not in allowed_fields(procedure):
        raise DomainError(
            "E_REGISTRY_FIELD_UNKNOWN",
            _("Thông tin này không phải thông tin lấy từ Cơ sở dữ liệu quốc gia về dân cư của thủ tục."),
            "field",
        )
    value = clean_text(proposed_value, "proposed_value", limit=MAX_VALUE, required=True)
    text = clean_text(note, "note", limit=MAX_NOTE, required=False)
    duplicate = Conflict(
        "E_CORRECTION_OPEN",
        _("Bạn đã có một đề nghị điều chỉnh thông tin này đang chờ xử lý."),
        "field",
    )
    if CorrectionRequest.objects.filter(citizen=citizen, field=field, status=CorrectionStatus.OPEN).exists():
        raise duplicate
    current = display_value(registry_values(citizen).get(field))
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin hits the constraint
            request = CorrectionRequest.objects.create(
                citizen=citizen, procedure=procedure, dossier=dossier, field=field,
                current_value=current[:MAX_VALUE], proposed_value=value, note=text,
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise duplicate from None
    audit.record(actor, "correction.request", subject_type="correction", subject_id=request.pk,
                 personal_id=citizen.personal_id, reason="đề nghị điều chỉnh thông tin",
                 details={"field": field, "dossier": dossier.code if dossier else None})
    return request


def check_may_handle(actor: Actor, request: CorrectionRequest) -> None:
    """The one rule: a police role, and an area that includes the person's current residence."""
    if actor.role not in WRITE_ROLES:
        raise OutOfJurisdiction(
            "E_ROLE_NOT_ALLOWED", _("Chỉ cán bộ công an được xử lý đề nghị điều chỉnh thông tin."), "role"
        )
    person = request.citizen
    if not actor.covers(person.current_commune_id, person.current_province_id):
        raise OutOfJurisdiction(
            "E_JURISDICTION", _("Công dân cư trú ngoài địa bàn của bạn."), "citizen"
        )


def _refusal_recorded(actor: Actor, request_id: Any, exc: OutOfJurisdiction) -> None:
    if not audit.was_recorded(exc):
        audit.record_refusal(actor, "correction.handle", exc, subject_type="correction",
                             subject_id=str(request_id)[:40])


def handle_correction(
    actor: Actor, request: CorrectionRequest | int, outcome: str, note: str = ""
) -> CorrectionRequest:
    """Close an open request: ``outcome`` "handled" (the officer has corrected the registry
    through its own page) or "rejected" (``note`` gives the reason, required)."""
    request_id = request.pk if isinstance(request, CorrectionRequest) else request
    try:
        return _handle(actor, request_id, outcome, note)
    except OutOfJurisdiction as exc:  # recorded once the transaction has rolled back
        _refusal_recorded(actor, request_id, exc)
        raise


def locked(request_id: Any) -> CorrectionRequest:
    found = None
    if isinstance(request_id, int) and not isinstance(request_id, bool) and request_id > 0:
        found = (
            CorrectionRequest.objects.select_for_update(of=("self",))
            .select_related("citizen", "dossier", "procedure")
            .filter(pk=request_id)
            .first()
        )
    if found is None:
        raise NotFound("E_CORRECTION_NOT_FOUND", _("Không tìm thấy đề nghị điều chỉnh."), "request")
    return found


@transaction.atomic
def _handle(actor: Actor, request_id: Any, outcome: str, note: str) -> CorrectionRequest:
    request = locked(request_id)
    check_may_handle(actor, request)
    if outcome not in OUTCOMES:
        raise DomainError("E_CHOICE_INVALID", _("Kết quả xử lý không hợp lệ."), "outcome")
    text = clean_text(note, "note", limit=MAX_NOTE, required=outcome == CorrectionStatus.REJECTED)
    if request.status != CorrectionStatus.OPEN:
        raise Conflict("E_STATUS", _("Đề nghị này đã được xử lý."), "status")
    request.status = outcome
    request.handled_at = timezone.now()
    request.handled_by_id = actor.user_id
    request.handled_by_label = actor.label[:150]
    request.officer_note = text
    request.save(update_fields=["status", "handled_at", "handled_by", "handled_by_label", "officer_note"])
    audit.record(actor, "correction.handle", subject_type="correction", subject_id=request.pk,
                 personal_id=request.citizen.personal_id, reason=PURPOSE.format(id=request.pk),
                 details={"field": request.field, "outcome": outcome})
    _notify(request)
    return request


TITLES = {
    CorrectionStatus.HANDLED: "Đề nghị điều chỉnh thông tin đã được xử lý",
    CorrectionStatus.REJECTED: "Đề nghị điều chỉnh thông tin không được chấp nhận",
}


def _notify(request: CorrectionRequest) -> Notification:
    """The inbox row now; the e-mail and SMS copies by the task enqueued in this transaction."""
    with translation.override("vi"):
        body = f"{label_of(request.field)}: {request.proposed_value}"
    if request.officer_note:
        body += f" — {request.officer_note}"
    notification = Notification.objects.create(
        citizen_id=request.citizen_id, dossier=request.dossier, kind="correction",
        title=TITLES[CorrectionStatus(request.status)], body=body[:2000], created_at=timezone.now(),
    )
    deliver_notification.enqueue(notification.pk)
    return notification
