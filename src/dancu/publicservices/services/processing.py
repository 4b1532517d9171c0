"""Officers' processing of a dossier: assign, accept, request a supplement (the clock stops),
refuse with a reason, approve (the effect on the registry and the signed result in the same
transaction), hand over; and the payment's arrival.

The permission is one rule, checked by every transition: the actor's role processes the
procedure's agency (``selectors.may_process``; the one-stop counter only receives:
``INTAKE_ACTIONS``) and the actor's area (``Actor.covers``, the accounts rule) includes the
dossier's commune. A refusal is audited (``dossier.<action>.denied``) after the rollback;
every transition writes a ``DossierEvent`` and an audit record.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.accounts.models import OfficerProfile
from dancu.accounts.services import actor_for_profile
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, NotFound, OutOfJurisdiction
from dancu.core.text import nfc
from dancu.publicservices.models import OPEN_STATUSES, Dossier, DossierStep, Status
from dancu.publicservices.selectors import INTAKE_ROLES, may_process
from dancu.publicservices.services.effects import apply_effect, issue_result
from dancu.publicservices.services.notifications import notify
from dancu.publicservices.services.submission import record_event

P = ParamSpec("P")
R = TypeVar("R")
INTAKE_ACTIONS = frozenset({"assign", "accept", "request_supplement", "hand_over", "paid_at_counter"})
MAX_NOTE = 2000


def _refusals_audited(
    action: str,
) -> Callable[[Callable[Concatenate[Actor, P], R]], Callable[Concatenate[Actor, P], R]]:
    """A 403 that leaves the transition is recorded once its transaction has rolled back."""

    def decorate(func: Callable[Concatenate[Actor, P], R]) -> Callable[Concatenate[Actor, P], R]:
        @wraps(func)
        def wrapper(actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(actor, *args, **kwargs)
            except OutOfJurisdiction as exc:
                if not audit.was_recorded(exc):
                    code = args[0] if args else kwargs.get("code", "")
                    audit.record_refusal(
                        actor, f"dossier.{action}", exc, subject_type="dossier", subject_id=str(code)[:40]
                    )
                raise

        return wrapper

    return decorate


def _locked(code: Any) -> Dossier:
    dossier = None
    if isinstance(code, str) and 0 < len(code) <= 20:
        dossier = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure", "applicant", "subject", "commune")
            .filter(code=code)
            .first()
        )
    if dossier is None:
        raise NotFound("E_DOSSIER_NOT_FOUND", _("Không tìm thấy hồ sơ."), "code")
    return dossier


def check_may_act(actor: Actor, dossier: Dossier, action: str) -> None:
    """The one rule: role for the procedure's agency (or the counter's intake actions) and area."""
    role_ok = may_process(actor, dossier.procedure) or (
        actor.role in INTAKE_ROLES and action in INTAKE_ACTIONS
    )
    if not role_ok:
        raise OutOfJurisdiction(
            "E_ROLE_NOT_ALLOWED",
            _("Vai trò của bạn không được thực hiện thao tác này với thủ tục này."),
            "role",
        )
    if not actor.covers(dossier.commune_id, dossier.province_id):
        raise OutOfJurisdiction(
            "E_JURISDICTION", _("Hồ sơ thuộc xã/phường ngoài địa bàn của bạn."), "commune"
        )


def check_not_bundle(dossier: Dossier) -> None:
    """An interconnected dossier is decided step by step (``flows.decide_step``), never whole."""
    if DossierStep.objects.filter(dossier=dossier).exists():
        raise Conflict(
            "E_BUNDLE_USE_STEPS",
            _("Hồ sơ liên thông được giải quyết theo từng bước của từng cơ quan."),
            "steps",
        )


def _transition(
    actor: Actor,
    dossier: Dossier,
    action: str,
    to: str,
    *,
    allowed_from: tuple[str, ...],
    note: str = "",
    fields: tuple[str, ...] = (),
) -> Dossier:
    if dossier.status not in allowed_from:
        raise Conflict(
            "E_STATUS", _("Không thể thực hiện thao tác ở trạng thái hiện tại của hồ sơ."), "status"
        )
    previous = dossier.status
    dossier.status = to
    dossier.save(update_fields=["status", *fields])
    record_event(actor, dossier, action, previous, note=note)
    person = dossier.subject or dossier.applicant
    audit.record(
        actor,
        f"dossier.{action}",
        subject_type="dossier",
        subject_id=dossier.code,
        personal_id=person.personal_id,
        reason=note[:500],
        details={"from": previous, "to": to},
    )
    return dossier


def _note(text: Any, field: str, *, required: bool) -> str:
    value = nfc(text).strip() if isinstance(text, str) else ""
    if required and not value:
        raise DomainError("E_REASON_REQUIRED", _("Cần nêu lý do."), field)
    if len(value) > MAX_NOTE:
        raise DomainError("E_TOO_LONG", _("Chuỗi quá dài."), field)
    return value


@_refusals_audited("assign")
@transaction.atomic
def assign(actor: Actor, code: str, *, to_username: str | None = None) -> Dossier:
    """Assign the dossier to an officer (default: oneself) who may process it."""
    dossier = _locked(code)
    check_may_act(actor, dossier, "assign")
    user_id = actor.user_id
    if to_username:
        profile = (
            OfficerProfile.objects.select_related("user", "jurisdiction")
            .filter(user__username=str(to_username)[:150], user__is_active=True)
            .first()
        )
        if profile is None:
            raise NotFound("E_OFFICER_NOT_FOUND", _("Không tìm thấy cán bộ."), "to_username")
        check_may_act(actor_for_profile(profile), dossier, "approve")
        user_id = profile.user_id
    if user_id is None or not get_user_model().objects.filter(pk=user_id).exists():
        raise DomainError("E_OFFICER_NOT_FOUND", _("Không tìm thấy cán bộ."), "to_username")
    dossier.assigned_to_id = user_id
    return _transition(
        actor,
        dossier,
        "assigned",
        dossier.status,
        allowed_from=OPEN_STATUSES,
        note=str(to_username or actor.label),
        fields=("assigned_to",),
    )


@_refusals_audited("accept")
@transaction.atomic
def accept(actor: Actor, code: str, *, note: str = "") -> Dossier:
    dossier = _locked(code)
    check_may_act(actor, dossier, "accept")
    dossier = _transition(
        actor,
        dossier,
        "accepted",
        Status.ACCEPTED,
        allowed_from=(Status.SUBMITTED,),
        note=_note(note, "note", required=False),
    )
    notify(dossier, "accepted")
    return dossier


@_refusals_audited("request_supplement")
@transaction.atomic
def request_supplement(actor: Actor, code: str, *, note: str) -> Dossier:
    """Ask the applicant for more (what, in ``note``); the deadline's clock stops until the answer."""
    dossier = _locked(code)
    check_may_act(actor, dossier, "request_supplement")
    text = _note(note, "note", required=True)
    dossier.clock_paused_at = timezone.now()
    dossier = _transition(
        actor,
        dossier,
        "supplement_requested",
        Status.SUPPLEMENT,
        allowed_from=(Status.SUBMITTED, Status.ACCEPTED),
        note=text,
        fields=("clock_paused_at",),
    )
    notify(dossier, "supplement", body=text)
    return dossier


@_refusals_audited("refuse")
@transaction.atomic
def refuse(actor: Actor, code: str, *, reason: str) -> Dossier:
    dossier = _locked(code)
    check_may_act(actor, dossier, "refuse")
    check_not_bundle(dossier)
    text = _note(reason, "reason", required=True)
    dossier.decided_at, dossier.decision_note, dossier.clock_paused_at = timezone.now(), text, None
    dossier = _transition(
        actor,
        dossier,
        "refused",
        Status.REFUSED,
        allowed_from=OPEN_STATUSES,
        note=text,
        fields=("decided_at", "decision_note", "clock_paused_at"),
    )
    notify(dossier, "refused", body=text)
    return dossier


@_refusals_audited("approve")
@transaction.atomic
def approve(actor: Actor, code: str, *, note: str = "") -> Dossier:
    """Decide yes: the effect on the registry (through its services, citing the dossier code),
    the signed result in the person's document store, the event and the notification — one
    transaction. The fee must have been paid."""
    dossier = _locked(code)
    check_may_act(actor, dossier, "approve")
    check_not_bundle(dossier)
    if dossier.status != Status.ACCEPTED:
        raise Conflict("E_STATUS", _("Chỉ phê duyệt hồ sơ đã tiếp nhận (không chờ bổ sung)."), "status")
    if not dossier.paid:
        raise Conflict("E_NOT_PAID", _("Hồ sơ chưa nộp phí, lệ phí."), "paid")
    text = _note(note, "note", required=False)
    title, lines = apply_effect(actor, dossier)
    document = issue_result(actor, dossier, title, lines)
    dossier.result_document = document
    dossier.decided_at, dossier.decision_note = timezone.now(), text or title
    dossier = _transition(
        actor,
        dossier,
        "approved",
        Status.APPROVED,
        allowed_from=(Status.ACCEPTED,),
        note=text or title,
        fields=("result_document", "decided_at", "decision_note"),
    )
    notify(dossier, "approved", body=f"{title}. Mã kết quả: {document.code}.")
    return dossier


@_refusals_audited("hand_over")
@transaction.atomic
def hand_over(actor: Actor, code: str, *, note: str = "") -> Dossier:
    """The result handed to the applicant at the counter (an event; the status stays)."""
    dossier = _locked(code)
    check_may_act(actor, dossier, "hand_over")
    if dossier.status not in (Status.APPROVED, Status.REFUSED):
        raise Conflict("E_STATUS", _("Hồ sơ chưa có kết quả."), "status")
    return _transition(
        actor,
        dossier,
        "handed_over",
        dossier.status,
        allowed_from=(Status.APPROVED, Status.REFUSED),
        note=_note(note, "note", required=False),
    )


@_refusals_audited("paid_at_counter")
@transaction.atomic
def paid_at_counter(actor: Actor, code: str, *, receipt: str = "") -> Dossier:
    """The fee paid in cash at the counter (the online rate's counterpart)."""
    dossier = _locked(code)
    check_may_act(actor, dossier, "paid_at_counter")
    return _mark_paid(actor, dossier, note=f"tại quầy {receipt}".strip())


def _mark_paid(actor: Actor, dossier: Dossier, *, note: str) -> Dossier:
    if dossier.paid:
        return dossier
    dossier.paid = True
    dossier.save(update_fields=["paid"])
    record_event(actor, dossier, "paid", dossier.status, note=note)
    notify(dossier, "paid")
    return dossier


def mark_paid(actor: Actor, code: str, *, amount_vnd: int, note: str = "") -> Dossier | None:
    """A payment for the dossier succeeded (``payments.signals.payment_succeeded``; called inside
    the transaction that records it). Unknown references are not dossiers: None. A second success
    changes nothing (payments allows one per reference). A wrong amount is refused: the payment's
    success rolls back with it and the gateway is told."""
    dossier = (
        (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure")
            .filter(code=code)
            .first()
        )
        if isinstance(code, str)
        else None
    )
    if dossier is None:
        return None
    if amount_vnd != dossier.fee_vnd:
        raise DomainError("E_AMOUNT_MISMATCH", _("Số tiền không khớp lệ phí của hồ sơ."), "amount_vnd")
    return _mark_paid(actor, dossier, note=note)
