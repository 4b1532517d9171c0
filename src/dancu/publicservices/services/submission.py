"""Submitting a dossier, and what the applicant does afterwards (answer a supplement request,
withdraw, rate, give feedback).

Declare once: the fields the registry holds (``Procedure.registry_fields``) are never taken from
the client — a request that sends one is refused (``E_REGISTRY_FIELD``, naming it) — and are
stored as a snapshot read from the registry (``registry_data``). The entered fields are checked
against the procedure's JSON Schema (the same schema drives the web form and the API), then
against the law's rules (``rules``). One transaction writes the dossier, its components, its
first event, the audit record and the notification (with its task): all or nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, FieldError, NotFound, OutOfJurisdiction
from dancu.core.text import nfc
from dancu.documents import services as documents
from dancu.documents.models import Document
from dancu.documents.selectors import get_by_code
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.geo.selectors import find_unit
from dancu.population.models import Citizen
from dancu.publicservices import workdays
from dancu.publicservices.models import (
    FINAL_STEP_STATUSES,
    Channel,
    Dossier,
    DossierComponent,
    DossierCounter,
    DossierEvent,
    DossierStep,
    Feedback,
    FeedbackKind,
    Notification,
    Procedure,
    Relation,
    Status,
    StepStatus,
)
from dancu.publicservices.selectors import (
    INTAKE_ROLES,
    active_registration,
    may_process,
    prefill,
    procedure_by_code,
)
from dancu.publicservices.services import rules
from dancu.publicservices.services.notifications import notify
from dancu.publicservices.signals import dossier_event
from dancu.residence.models import ResidenceKind

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,80}$")
MAX_COMPONENTS = 20
MAX_TEXT = 4000
MIN_YEAR, MAX_YEAR = 1900, 2100  # dates outside are typing errors (and overflow date arithmetic)


# ---- Who is acting ---------------------------------------------------------------------------


def citizen_of(actor: Actor) -> str | None:
    """The personal ID of a citizen actor (``eid.services.citizen_actor``), else None."""
    if actor.source == "citizen" and actor.label.startswith("citizen:"):
        return actor.label.removeprefix("citizen:")
    return None


def _citizen(personal_id: str | None, field: str) -> Citizen:
    citizen = None
    if isinstance(personal_id, str) and re.fullmatch(r"[0-9]{12}", personal_id):
        citizen = Citizen.objects.filter(personal_id=personal_id).first()
    if citizen is None:
        raise NotFound("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), field)
    return citizen


# ---- The form ----------------------------------------------------------------------------------


def _field_of(error: SchemaError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        path.append(str(missing[0]) if missing else "")
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        path.append(str(extra[0]) if extra else "")
    return ".".join(p for p in path if p) or "data"


def _message(error: SchemaError) -> Any:
    return {
        "required": _("Trường bắt buộc."),
        "additionalProperties": _("Trường không có trong biểu mẫu của thủ tục."),
        "format": _("Sai định dạng (ngày: YYYY-MM-DD)."),
        "pattern": _("Sai định dạng."),
        "enum": _("Giá trị không nằm trong danh sách cho phép."),
        "type": _("Sai kiểu dữ liệu."),
        "minLength": _("Chuỗi quá ngắn."),
        "maxLength": _("Chuỗi quá dài."),
    }.get(str(error.validator), _("Giá trị không hợp lệ."))


def clean_data(procedure: Procedure, data: Any) -> dict[str, Any]:
    """The entered data, NFC, after the declare-once check and the procedure's JSON Schema."""
    if not isinstance(data, Mapping):
        raise DomainError("E_INVALID_INPUT", _("Dữ liệu biểu mẫu phải là một đối tượng JSON."), "data")
    forged = [k for k in data if k in procedure.registry_fields or k in ("personal_id", "full_name")]
    if forged:
        raise DomainError(
            "E_REGISTRY_FIELD",
            _("Thông tin này lấy từ Cơ sở dữ liệu quốc gia về dân cư, không được khai lại."),
            f"data.{forged[0]}",
        )
    cleaned = {str(k): (nfc(v).strip() if isinstance(v, str) else v) for k, v in data.items()}
    cleaned = {k: v for k, v in cleaned.items() if v != ""}  # an empty optional field is absent
    validator = Draft202012Validator(
        procedure.form_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(cleaned), key=lambda e: (list(e.absolute_path), str(e.validator)))
    if errors:
        raise DomainError.many(
            [FieldError("E_FORM_INVALID", _message(e), f"data.{_field_of(e)}") for e in errors]
        )
    for name, spec in procedure.form_schema.get("properties", {}).items():
        if spec.get("format") == "date" and name in cleaned:
            day = dt.date.fromisoformat(cleaned[name])  # the schema's format check passed
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise DomainError("E_FORM_INVALID", _("Ngày ngoài khoảng cho phép."), f"data.{name}")
            cleaned[name] = day.isoformat()  # one spelling (the format also admits 20260101)
    return cleaned


# ---- Components --------------------------------------------------------------------------------


def _documents(
    applicant: Citizen,
    subject: Citizen | None,
    procedure: Procedure,
    relation: str,
    components: Any,
    attached: frozenset[str] = frozenset(),
) -> dict[str, tuple[Document, bool]]:
    """key → (document, reused). A value is a Document just stored for this dossier, or the code
    of a document already in the applicant's (or the subject's) store — a reuse."""
    if components is None:
        components = {}
    if not isinstance(components, Mapping) or len(components) > MAX_COMPONENTS:
        raise DomainError("E_INVALID_INPUT", _("Thành phần hồ sơ không hợp lệ."), "components")
    known = {c["key"] for c in procedure.components} | {rules.AUTHORISATION}
    owners = {applicant.pk} | ({subject.pk} if subject is not None else set())
    out: dict[str, tuple[Document, bool]] = {}
    for key, value in components.items():
        if key not in known:
            raise DomainError(
                "E_COMPONENT_UNKNOWN", _("Thủ tục không có thành phần này."), f"components.{key}"
            )
        reused = not isinstance(value, Document)
        document = (
            value
            if isinstance(value, Document)
            else (get_by_code(value) if isinstance(value, str) and 0 < len(value) <= 16 else None)
        )
        if document is None or document.owner_id not in owners:
            raise DomainError(
                "E_DOCUMENT_NOT_FOUND",
                _("Không tìm thấy tài liệu trong kho dữ liệu của bạn."),
                f"components.{key}",
            )
        out[str(key)] = (document, reused)
    for component in procedure.components:
        if component.get("required") and component["key"] not in out and component["key"] not in attached:
            raise DomainError(
                "E_COMPONENT_REQUIRED",
                _("Thiếu thành phần hồ sơ bắt buộc."),
                f"components.{component['key']}",
            )
    if relation == Relation.REPRESENTATIVE and rules.AUTHORISATION not in set(out) | attached:
        raise OutOfJurisdiction(
            "E_NOT_ENTITLED",
            _("Người được ủy quyền phải đính kèm văn bản ủy quyền."),
            f"components.{rules.AUTHORISATION}",
        )
    return out


def _attach(actor: Actor, dossier: Dossier, docs: Mapping[str, tuple[Document, bool]]) -> None:
    for key, (document, reused) in docs.items():
        DossierComponent.objects.update_or_create(
            dossier=dossier, key=key, defaults={"document": document, "reused": reused}
        )
        documents.record_use(
            actor, document, reference=dossier.code, purpose=f"{dossier.procedure.name_vi} — {key}"
        )


# ---- Jurisdiction ------------------------------------------------------------------------------


def _unit(qualified: Any, field: str) -> AdminUnit:
    unit = find_unit(qualified) if isinstance(qualified, str) else None
    if unit is None or unit.code_system != CodeSystem.V2025 or unit.level != Level.COMMUNE:
        raise DomainError("E_UNIT_UNKNOWN", _("Xã/phường không tồn tại trong danh mục từ 2025."), field)
    return unit


def competent_commune(
    procedure: Procedure, applicant: Citizen, subject: Citizen | None, data: Mapping[str, Any]
) -> AdminUnit:
    """The commune whose agency decides: where one registers (residence, stay), the commune of
    permanent residence (absence), of the registration (renewal), the parent's (birth); else
    where the person lives now."""
    person = subject or applicant
    if procedure.effect in ("permanent_residence", "temporary_residence", "stay_notice"):
        return _unit(data.get("commune"), "data.commune")
    registration = None
    if procedure.effect == "temporary_absence":
        registration = active_registration(person, ResidenceKind.PERMANENT)
    elif procedure.effect == "temporary_residence_renewal":
        registration = active_registration(person, ResidenceKind.TEMPORARY)
    elif procedure.effect == "birth":
        registration = active_registration(applicant, ResidenceKind.PERMANENT)
    if registration is not None:
        return registration.commune
    if person.current_commune_id is None:
        raise DomainError(
            "E_NO_RESIDENCE",
            _("Người này chưa có nơi cư trú trong cơ sở dữ liệu."),
            "subject_personal_id" if subject is not None else "applicant_personal_id",
        )
    return AdminUnit.objects.get(pk=person.current_commune_id)


# ---- Codes and events --------------------------------------------------------------------------


def next_code(day: dt.date) -> str:
    """'DC-YYYYMMDD-NNNNNN' from the day's counter row, locked to the end of the transaction
    (concurrent submissions queue on it; never COUNT(*)+1)."""
    counter = DossierCounter.objects.select_for_update().filter(day=day).first()
    if counter is None:
        try:
            with transaction.atomic():
                DossierCounter.objects.create(day=day, last_number=0)
        except IntegrityError:  # created meanwhile by another submission: its lock is ours next
            pass
        counter = DossierCounter.objects.select_for_update().get(day=day)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"DC-{day:%Y%m%d}-{counter.last_number:06d}"


def record_event(
    actor: Actor,
    dossier: Dossier,
    action: str,
    from_status: str,
    note: str = "",
    *,
    rating: int | None = None,
    rating_before: int | None = None,
) -> DossierEvent:
    """The one place a ``DossierEvent`` is written; ``signals.dossier_event`` is sent with it,
    in the caller's transaction (the kpi tallies are counted there). ``rating``/``rating_before``:
    a ``rated`` event's new and previous rating, as data."""
    event = DossierEvent.objects.create(
        dossier=dossier,
        at=timezone.now(),
        actor_label=actor.label[:150],
        actor_user_id=actor.user_id if actor.source != "citizen" else None,
        action=action,
        from_status=from_status,
        to_status=dossier.status,
        note=nfc(note or "")[:MAX_TEXT],
        rating=rating,
        rating_before=rating_before,
    )
    dossier_event.send(sender=DossierEvent, dossier=dossier, event=event)
    return event


def _existing(applicant: Citizen, key: str | None, procedure: Procedure) -> Dossier | None:
    if key is None:
        return None
    found = (
        Dossier.objects.select_related("procedure").filter(applicant=applicant, idempotency_key=key).first()
    )
    if found is not None and found.procedure_id != procedure.pk:
        raise Conflict(
            "E_IDEMPOTENCY_KEY_REUSED",
            _("Khóa chống gửi trùng đã dùng cho một hồ sơ khác."),
            "idempotency_key",
        )
    return found


# ---- Submit ------------------------------------------------------------------------------------


def submit(
    actor: Actor,
    *,
    procedure_code: str,
    applicant_personal_id: str,
    subject_personal_id: str | None = None,
    relation: str = Relation.SELF,
    data: Mapping[str, Any] | None = None,
    components: Mapping[str, Any] | None = None,
    channel: str = Channel.ONLINE,
    idempotency_key: str | None = None,
    loa: int | None = None,
) -> Dossier:
    """A new dossier (see the module docstring). Online: the actor is the applicant (a citizen
    signed in with e-ID of at least the procedure's level ``loa``). At the counter: an officer
    of the competent commune's one-stop counter (or of the deciding agency) enters it for the
    applicant, who is present. The same ``idempotency_key`` of the same applicant returns the
    dossier already made, never a second one. Refusals are audited."""
    try:
        return _submit(
            actor,
            procedure_code=procedure_code,
            applicant_personal_id=applicant_personal_id,
            subject_personal_id=subject_personal_id,
            relation=relation,
            data=data,
            components=components,
            channel=channel,
            idempotency_key=idempotency_key,
            loa=loa,
        )
    except IntegrityError:  # the same key submitted concurrently: the other one won
        applicant = _citizen(applicant_personal_id, "applicant_personal_id")
        found = _existing(applicant, idempotency_key, procedure_by_code(procedure_code))
        if found is None:
            raise
        return found
    except OutOfJurisdiction as exc:
        if not audit.was_recorded(exc):
            audit.record_refusal(
                actor,
                "dossier.submit",
                exc,
                subject_type="dossier",
                personal_id=subject_personal_id or applicant_personal_id or "",
                details={"procedure": str(procedure_code)[:20], "relation": str(relation)[:16]},
            )
        raise


@transaction.atomic
def _submit(
    actor: Actor,
    *,
    procedure_code: str,
    applicant_personal_id: str,
    subject_personal_id: str | None,
    relation: str,
    data: Mapping[str, Any] | None,
    components: Mapping[str, Any] | None,
    channel: str,
    idempotency_key: str | None,
    loa: int | None,
) -> Dossier:
    procedure = procedure_by_code(procedure_code)
    if channel not in Channel.values:
        raise DomainError("E_CHOICE_INVALID", _("Kênh nộp không hợp lệ."), "channel")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(str(idempotency_key)):
        raise DomainError(
            "E_IDEMPOTENCY_KEY", _("Khóa chống gửi trùng: 8–80 ký tự chữ, số, . _ : -"), "idempotency_key"
        )
    applicant = _citizen(applicant_personal_id, "applicant_personal_id")
    own = citizen_of(actor)
    if channel == Channel.ONLINE:
        if own != applicant.personal_id:
            raise OutOfJurisdiction(
                "E_NOT_ENTITLED",
                _("Nộp trực tuyến: người nộp là người đã đăng nhập."),
                "applicant_personal_id",
            )
        if loa is not None and loa < procedure.min_loa:
            raise OutOfJurisdiction(
                "E_LOA_TOO_LOW",
                _("Thủ tục này cần tài khoản định danh điện tử mức %(n)s.") % {"n": procedure.min_loa},
                "loa",
            )
    elif own is not None:
        raise OutOfJurisdiction("E_NOT_ENTITLED", _("Chỉ cán bộ một cửa nhận hồ sơ tại quầy."), "channel")
    existing = _existing(applicant, idempotency_key, procedure)
    if existing is not None:
        return existing
    subject = None
    if subject_personal_id not in (None, ""):
        subject = _citizen(subject_personal_id, "subject_personal_id")
    elif relation == Relation.SELF and procedure.effect != "birth":
        subject = applicant
    entered = clean_data(procedure, data if data is not None else {})
    docs = _documents(applicant, subject, procedure, relation, components)
    rules.check_entitlement(procedure, applicant, subject, relation, set(docs))
    rules.check_law(procedure, applicant, subject, entered, set(docs))
    commune = competent_commune(procedure, applicant, subject, entered)
    if channel == Channel.COUNTER and not (
        (actor.role in INTAKE_ROLES or may_process(actor, procedure))
        and actor.covers(commune.pk, commune.province_id)
    ):
        raise OutOfJurisdiction(
            "E_JURISDICTION", _("Hồ sơ thuộc xã/phường ngoài địa bàn của bạn."), "commune"
        )
    registry_data = prefill(procedure, subject or applicant)  # read before the day's counter is locked
    now = timezone.now()
    today = timezone.localdate(now)
    dossier = Dossier.objects.create(
        code=next_code(today),
        procedure=procedure,
        applicant=applicant,
        subject=subject,
        relation=relation,
        channel=channel,
        status=Status.SUBMITTED,
        commune=commune,
        province_id=commune.province_id or commune.pk,
        data=entered,
        registry_data=registry_data,
        submitted_at=now,
        due_on=workdays.add_working_days(today, procedure.time_limit_days),
        fee_vnd=procedure.fee_vnd,
        paid=procedure.fee_vnd == 0,
        idempotency_key=idempotency_key,
    )
    _attach(actor, dossier, docs)
    record_event(actor, dossier, "submitted", "", note=channel)
    audit.record(
        actor,
        "dossier.submit",
        subject_type="dossier",
        subject_id=dossier.code,
        personal_id=(subject or applicant).personal_id,
        reason=procedure.name_vi,
        details={"procedure": procedure.code, "relation": relation, "channel": channel},
    )
    notify(dossier, "submitted")
    if procedure.steps:
        from dancu.publicservices.services.flows import create_steps  # flows records its events here

        create_steps(dossier)
    return dossier


def _own_dossier(actor: Actor, code: str) -> Dossier:
    own = citizen_of(actor)
    dossier = None
    if own is not None and isinstance(code, str) and 0 < len(code) <= 20:
        dossier = (
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure", "applicant", "subject")
            .filter(code=code, applicant__personal_id=own)
            .first()
        )
    if dossier is None:
        raise NotFound("E_DOSSIER_NOT_FOUND", _("Không tìm thấy hồ sơ."), "code")
    return dossier


@transaction.atomic
def answer_supplement(
    actor: Actor,
    code: str,
    *,
    data: Mapping[str, Any] | None = None,
    components: Mapping[str, Any] | None = None,
    note: str = "",
) -> Dossier:
    """The applicant's answer to a request for supplement: changed fields (the whole data is
    checked again, schema and law), added or replaced components. The clock runs again, the
    deadline moved by the working days it stood still."""
    dossier = _own_dossier(actor, code)
    if dossier.status != Status.SUPPLEMENT:
        raise Conflict("E_STATUS", _("Hồ sơ không ở trạng thái chờ bổ sung."), "status")
    procedure = dossier.procedure
    merged = {**dossier.data, **dict(data or {})} if isinstance(data or {}, Mapping) else data
    entered = clean_data(procedure, merged)
    attached = frozenset(dossier.component_rows.values_list("key", flat=True))
    docs = _documents(dossier.applicant, dossier.subject, procedure, dossier.relation, components, attached)
    keys = set(docs) | attached
    rules.check_law(procedure, dossier.applicant, dossier.subject, entered, keys)
    _attach(actor, dossier, docs)
    paused = 0
    if dossier.clock_paused_at is not None:
        paused = workdays.working_days_between(
            timezone.localdate(dossier.clock_paused_at), timezone.localdate()
        )
    dossier.paused_days += paused
    dossier.due_on = workdays.add_working_days(dossier.due_on, paused) if paused else dossier.due_on
    dossier.clock_paused_at = None
    dossier.data = entered
    dossier.status = Status.ACCEPTED
    dossier.save(update_fields=["paused_days", "due_on", "clock_paused_at", "data", "status"])
    record_event(actor, dossier, "supplemented", Status.SUPPLEMENT, note=note)
    return dossier


@transaction.atomic
def withdraw(actor: Actor, code: str, *, reason: str = "") -> Dossier:
    dossier = _own_dossier(actor, code)
    if not dossier.is_open:
        raise Conflict("E_STATUS", _("Hồ sơ đã kết thúc."), "status")
    steps = DossierStep.objects.filter(dossier=dossier)
    if steps.filter(status__in=(StepStatus.DONE, StepStatus.SENDING)).exists():
        raise Conflict(
            "E_STEP_DECIDED", _("Hồ sơ liên thông đã có bước được giải quyết, không rút được."), "status"
        )
    steps.exclude(status__in=FINAL_STEP_STATUSES).update(
        status=StepStatus.CANCELLED, refusal_reason=str(_("Hồ sơ đã rút."))
    )
    previous = dossier.status
    dossier.status, dossier.decided_at = Status.WITHDRAWN, timezone.now()
    dossier.save(update_fields=["status", "decided_at"])
    record_event(actor, dossier, "withdrawn", previous, note=reason)
    return dossier


@transaction.atomic
def rate(actor: Actor, code: str, rating: int) -> Dossier:
    """Satisfaction 1–5, once the dossier is decided (it may be changed)."""
    dossier = _own_dossier(actor, code)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError("E_RATING", _("Mức hài lòng từ 1 đến 5."), "rating")
    if dossier.status not in (Status.APPROVED, Status.REFUSED):
        raise Conflict("E_STATUS", _("Chỉ đánh giá hồ sơ đã có kết quả."), "status")
    previous = dossier.rating
    dossier.rating = rating
    dossier.save(update_fields=["rating"])
    record_event(
        actor,
        dossier,
        "rated",
        dossier.status,
        note=f"{previous or ''}→{rating}",
        rating=rating,
        rating_before=previous,
    )
    return dossier


@transaction.atomic
def give_feedback(actor: Actor, *, kind: str, text: str, dossier_code: str | None = None) -> Feedback:
    own = citizen_of(actor)
    citizen = _citizen(own, "citizen")
    if kind not in FeedbackKind.values:
        raise DomainError("E_CHOICE_INVALID", _("Loại phản ánh không hợp lệ."), "kind")
    text = nfc(text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise DomainError("E_REQUIRED", _("Trường bắt buộc."), "text")
    if len(text) > MAX_TEXT:
        raise DomainError("E_TOO_LONG", _("Chuỗi quá dài."), "text")
    dossier = _own_dossier(actor, dossier_code) if dossier_code else None
    feedback = Feedback.objects.create(
        dossier=dossier, citizen=citizen, kind=kind, text=text, created_at=timezone.now()
    )
    if dossier is not None:
        record_event(actor, dossier, kind, dossier.status, note=text[:200])
    return feedback


@transaction.atomic
def mark_inbox_read(actor: Actor) -> int:
    """The citizen's inbox was shown to them: its unread notifications are read now."""
    citizen = _citizen(citizen_of(actor), "citizen")
    return Notification.objects.filter(citizen=citizen, read_at__isnull=True).update(read_at=timezone.now())
