"""Public services JSON API (``/api/v1/publicservices/``) for mobile clients and back offices.

- The catalog is public.
- A citizen's operations take an OpenID Connect access token of this provider with the scope
  ``publicservices``, issued on the citizen's e-ID login (``Authorization: Bearer …``); the
  applicant is always the person signed in, at the level of their e-ID account.
- Officers' operations (``/officer/…``) take an officer's API token (``dancu officer token
  create``), as the rest of the API; the role and area rules are the services'.

Errors are ``{"code", "field", "message"}``: 400 a rule of the procedure or of the law (the
field named: ``data.<name>`` for a form field, ``components.<key>`` for an attachment), 401 no
or a bad token, 403 not entitled (acting for someone without the right, outside the officer's
area or role), 404 unknown procedure or dossier (someone else's dossier is unknown), 409 a
status that does not allow the operation or an idempotency key used for another procedure,
422 a malformed parameter or body.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Header, Query, Router, Schema, Status, UploadedFile

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import NotFound, OutOfJurisdiction
from dancu.core.net import client_ip
from dancu.documents import services as documents
from dancu.documents.models import Document
from dancu.documents.selectors import upload_max_bytes
from dancu.eid.models import EidAccount
from dancu.eid.services import citizen_actor
from dancu.oidc.auth import OAuthBearer
from dancu.population.api import ErrorOut, InvalidParameter
from dancu.population.models import Citizen
from dancu.publicservices import catalog as catalog_file
from dancu.publicservices import selectors, services
from dancu.publicservices.models import Dossier, DossierStep, Procedure, StepStatus
from dancu.publicservices.services import rules

router = Router(tags=["publicservices"])
citizen_auth = OAuthBearer(["publicservices"])
SCOPE = "publicservices"
MY_DOSSIERS = 100  # the newest; older ones on the portal's pages

_CITIZEN_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
_OFFICER_ERRORS = _CITIZEN_ERRORS

PersonalIdParam = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="12-digit personal ID")]
DossierCode = Annotated[str, Field(max_length=20, description="DC-YYYYMMDD-NNNNNN")]
NoteText = Annotated[str, Field(max_length=2000)]
STEP_STATUSES = "ready | waiting | sending | done | refused | cancelled | open | all"


# ---- Schemas -------------------------------------------------------------------------------


class ComponentSpec(Schema):
    key: str
    name_vi: str
    name_en: str
    required: bool


class ProcedureOut(Schema):
    code: str
    slug: str
    name_vi: str
    name_en: str
    legal_basis: str
    agency: str = Field(description="competent agency: commune_police, commune_justice, province_police, …")
    level: str = Field(description="commune | province | ministry")
    time_limit_days: int = Field(description="working days (weekends and public holidays excluded)")
    fee_vnd: int
    fee_exemptions: str
    components: list[ComponentSpec]
    form_schema: dict[str, Any] = Field(description="JSON Schema of the data the applicant enters")
    registry_fields: list[str] = Field(
        description="filled from the registry; never sent by the client "
        "(a request that sends one is refused, E_REGISTRY_FIELD)"
    )
    online_level: str = Field(description="full | partial")
    essential: bool
    essential_number: int | None
    min_loa: int = Field(description="e-ID level required (1 or 2)")
    has_effect: bool = Field(description="approval changes the registry (end-to-end procedure)")


class PrefillOut(Schema):
    procedure: str
    subject_personal_id: str
    values: dict[str, Any]


class SubmitIn(Schema):
    procedure_code: str = Field(max_length=60, description="procedure code or slug")
    subject_personal_id: PersonalIdParam | None = Field(
        None, description="the person the dossier is about, if not the applicant (none for a birth)"
    )
    relation: str = Field(
        "self",
        description="self | parent (of a minor) | household_head (of a member) "
        "| representative (with an 'authorisation' component)",
    )
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="the fields of the procedure's form_schema; never its registry_fields",
    )
    components: dict[str, Annotated[str, Field(max_length=16)]] = Field(
        default_factory=dict,
        description="component key → code of a document in the applicant's store "
        "(upload with POST /publicservices/uploads)",
    )


class EventOut(Schema):
    at: dt.datetime
    action: str
    from_status: str
    to_status: str
    actor: str
    note: str


class ComponentOut(Schema):
    key: str
    document_code: str
    reused: bool


class DossierOut(Schema):
    code: str
    procedure_code: str
    procedure_name: str
    status: str = Field(description="submitted | accepted | supplement | approved | refused | withdrawn")
    channel: str
    relation: str
    applicant_personal_id: str
    subject_personal_id: str | None
    submitted_at: dt.datetime
    due_on: dt.date
    overdue: bool
    fee_vnd: int
    paid: bool
    rating: int | None
    decided_at: dt.datetime | None
    decision_note: str
    result_document_code: str | None


class StepOut(Schema):
    key: str
    name: str
    position: int
    agency: str
    role: str = Field(description="officer role deciding it; empty for a step done by the agency's system")
    after: list[str]
    status: str = Field(description="waiting | ready | sending | done | refused | cancelled")
    due_on: dt.date | None
    overdue: bool
    decided_at: dt.datetime | None
    decided_by: str
    result: dict[str, Any] = Field(
        description="child's personal_id and household, card number and validity, benefit amount and payee…"
    )
    summary: str
    result_document_code: str | None
    refusal_reason: str
    attempts: int = Field(description="exchanges with the agency that failed (retried)")
    next_attempt_at: dt.datetime | None


class DossierDetailOut(DossierOut):
    data: dict[str, Any]
    registry_data: dict[str, Any]
    components: list[ComponentOut]
    events: list[EventOut]
    steps: list[StepOut] = Field(description="the agencies' steps of an interconnected procedure, or none")


class StepQueueItemOut(StepOut):
    dossier_code: str
    procedure_code: str
    procedure_name: str
    commune: str


class StepPageOut(Schema):
    items: list[StepQueueItemOut]
    page: int
    has_next: bool


class StepDecisionIn(Schema):
    approve: bool
    reason: NoteText = Field("", description="required to refuse")


class DossierPageOut(Schema):
    items: list[DossierOut]
    page: int
    has_next: bool


class SupplementIn(Schema):
    data: dict[str, Any] = Field(default_factory=dict, description="changed form fields")
    components: dict[str, Annotated[str, Field(max_length=16)]] = Field(default_factory=dict)
    note: NoteText = ""


class RatingIn(Schema):
    rating: int = Field(ge=1, le=5, description="satisfaction, 1 (very unsatisfied) to 5 (very satisfied)")


class WithdrawIn(Schema):
    reason: NoteText = ""


class FeedbackIn(Schema):
    kind: str = Field(description="feedback | complaint")
    text: str = Field(min_length=1, max_length=4000)
    dossier_code: DossierCode | None = None


class FeedbackOut(Schema):
    id: int
    kind: str
    created_at: dt.datetime


class UploadOut(Schema):
    code: str
    media_type: str
    size: int
    sha256: str


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    dossier_code: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NoteIn(Schema):
    note: NoteText = ""


class SupplementRequestIn(Schema):
    note: str = Field(min_length=1, max_length=2000, description="what the applicant must add")


class RefuseIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class AssignIn(Schema):
    to_username: str | None = Field(None, max_length=150, description="default: the caller")


class QueueItemOut(DossierOut):
    commune: str
    assigned_to: str | None
    due_soon: bool


class QueuePageOut(Schema):
    items: list[QueueItemOut]
    page: int
    has_next: bool


# ---- Rendering -----------------------------------------------------------------------------


def _procedure(p: Procedure) -> dict[str, Any]:
    """The catalog's fields as published (the effect handler's name only as ``has_effect``)."""
    return {
        "code": p.code,
        **{f: getattr(p, f) for f in catalog_file.FIELDS if f != "effect"},
        "has_effect": bool(p.effect),
    }


def _result_codes(dossiers: list[Dossier]) -> dict[int, str]:
    """The codes of the dossiers' results, in one query (never the PDFs themselves)."""
    ids = [d.result_document_id for d in dossiers if d.result_document_id is not None]
    return dict(Document.objects.filter(pk__in=ids).values_list("pk", "code")) if ids else {}


def _dossier(d: Dossier, codes: dict[int, str] | None = None) -> dict[str, Any]:
    if codes is None:
        codes = _result_codes([d])
    return {
        "code": d.code,
        "procedure_code": d.procedure.code,
        "procedure_name": d.procedure.name_vi,
        "status": d.status,
        "channel": d.channel,
        "relation": d.relation,
        "applicant_personal_id": d.applicant.personal_id,
        "subject_personal_id": d.subject.personal_id if d.subject is not None else None,
        "submitted_at": d.submitted_at,
        "due_on": d.due_on,
        "overdue": selectors.is_overdue(d),
        "fee_vnd": d.fee_vnd,
        "paid": d.paid,
        "rating": d.rating,
        "decided_at": d.decided_at,
        "decision_note": d.decision_note,
        "result_document_code": codes.get(d.result_document_id) if d.result_document_id else None,
    }


def _step(s: DossierStep) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "key": s.key,
        "name": s.name,
        "position": s.position,
        "agency": s.agency,
        "role": s.role,
        "after": list(s.after),
        "status": s.status,
        "due_on": s.due_on,
        "overdue": bool(s.due_on and not s.is_final and s.due_on < today),
        "decided_at": s.decided_at,
        "decided_by": s.decided_by_label if s.automatic else ("cán bộ" if s.decided_by_label else ""),
        "result": s.result,
        "summary": services.step_summary(s) if s.status == StepStatus.DONE else "",
        "result_document_code": s.result_document.code if s.result_document is not None else None,
        "refusal_reason": s.refusal_reason,
        "attempts": s.attempts,
        "next_attempt_at": s.next_attempt_at,
    }


def _detail(d: Dossier) -> dict[str, Any]:
    return {
        **_dossier(d),
        "steps": [_step(s) for s in selectors.steps_of(d)],
        "data": d.data,
        "registry_data": d.registry_data,
        "components": [
            {"key": key, "document_code": code, "reused": reused}
            for key, code, reused in d.component_rows.order_by("key").values_list(
                "key", "document__code", "reused"
            )
        ],
        "events": [
            {
                "at": e.at,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor_label if e.actor_label.startswith("citizen:") else "cán bộ",
                "note": e.note,
            }
            for e in selectors.events_of(d)
        ],
    }


# ---- Who is calling ------------------------------------------------------------------------


def _officer(request: HttpRequest) -> Actor:
    """The officer behind the API token (``accounts.auth.TokenAuth``, the API's default auth)."""
    return request.auth  # type: ignore[attr-defined]  # set by ninja


def _known_query(request: HttpRequest, *names: str) -> None:
    """A query parameter the operation does not declare is refused (422, naming it): a typo in a
    filter must not silently return an unfiltered list."""
    for name in request.GET:
        if name not in names:
            raise InvalidParameter("E_INVALID_INPUT", _("Tham số không được hỗ trợ."), name[:60])


def _account(request: HttpRequest) -> EidAccount:
    user_id = getattr(getattr(getattr(request, "auth", None), "user", None), "pk", None)
    account = (
        EidAccount.objects.select_related("citizen").filter(user_id=user_id).first()
        if user_id is not None
        else None
    )
    if account is None:
        raise OutOfJurisdiction("E_NOT_CITIZEN_TOKEN", _("Mã truy cập không gắn với tài khoản công dân."))
    return account


def _citizen(request: HttpRequest) -> tuple[Any, EidAccount]:
    account = _account(request)
    actor = citizen_actor(account.personal_id, user_id=account.user_id, channel="app", ip=client_ip(request))
    return actor, account


# ---- Catalog (public) ----------------------------------------------------------------------


@router.get(
    "/catalog",
    auth=None,
    response={200: list[ProcedureOut], 400: ErrorOut, 422: ErrorOut},
    operation_id="publicservices_catalog",
    summary="The procedure catalog",
)
def catalog(request: HttpRequest, essential: bool = False) -> list[dict[str, Any]]:
    _known_query(request, "essential")
    return [_procedure(p) for p in selectors.catalog(essential_only=essential)]


@router.get(
    "/catalog/{code}",
    auth=None,
    response={200: ProcedureOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    operation_id="publicservices_procedure",
    summary="One procedure, by code or slug",
)
def procedure(request: HttpRequest, code: str) -> dict[str, Any]:
    _known_query(request)
    return _procedure(selectors.procedure_by_code(code, field_name="code"))


# ---- Citizen -------------------------------------------------------------------------------


def _prefill(
    request: HttpRequest, code: str, subject_personal_id: str | None, relation: str
) -> dict[str, Any]:
    _known_query(request)
    actor, account = _citizen(request)
    proc = selectors.procedure_by_code(code, field_name="code")
    subject: Citizen = account.citizen
    if subject_personal_id and subject_personal_id != account.personal_id:
        found = Citizen.objects.filter(personal_id=subject_personal_id).first()
        if found is None:
            raise NotFound("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), "subject_personal_id")
        try:
            if relation == "representative":  # the authorisation is checked with the dossier, not here
                raise OutOfJurisdiction(
                    "E_NOT_ENTITLED",
                    _("Người được ủy quyền không xem trước dữ liệu của người ủy quyền."),
                    "relation",
                )
            rules.check_entitlement(proc, account.citizen, found, relation, set())
        except OutOfJurisdiction as exc:  # a refusal to read someone's data: audited
            audit.record_refusal(
                actor,
                "citizen.view.prefill",
                exc,
                subject_type="citizen",
                subject_id=found.pk,
                personal_id=found.personal_id,
                details={"procedure": proc.code, "relation": relation[:16]},
            )
            raise
        subject = found
        audit.record(
            actor,
            "citizen.view.prefill",
            subject_type="citizen",
            subject_id=found.pk,
            personal_id=found.personal_id,
            reason=proc.name_vi,
            details={"relation": relation},
        )
    return {
        "procedure": proc.code,
        "subject_personal_id": subject.personal_id,
        "values": selectors.prefill(proc, subject),
    }


@router.get(
    "/prefill/{code}",
    auth=citizen_auth,
    response={200: PrefillOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_prefill",
    summary="The registry's values of a procedure's registry_fields, for me",
)
def prefill(request: HttpRequest, code: str) -> dict[str, Any]:
    return _prefill(request, code, None, "self")


@router.get(
    "/prefill/{code}/{relation}/{subject_personal_id}",
    auth=citizen_auth,
    response={200: PrefillOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_prefill_for",
    summary="The registry's values for someone I may act for (relation: parent | household_head; "
    "a representative sees them only in the dossier)",
)
def prefill_for(
    request: HttpRequest, code: str, relation: str, subject_personal_id: PersonalIdParam
) -> dict[str, Any]:
    return _prefill(request, code, subject_personal_id, relation)


@router.post(
    "/dossiers",
    auth=citizen_auth,
    response={200: DossierOut, 201: DossierOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_submit",
    summary="Submit a dossier (201; the same Idempotency-Key again returns the same dossier, 200)",
)
def submit(
    request: HttpRequest,
    body: SubmitIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="8–80 characters [A-Za-z0-9._:-]; a retry with the same key "
            "returns the dossier already made",
        ),
    ] = None,
) -> Status:
    actor, account = _citizen(request)
    existed = (
        bool(idempotency_key)
        and Dossier.objects.filter(applicant_id=account.citizen_id, idempotency_key=idempotency_key).exists()
    )
    dossier = services.submit(
        actor,
        procedure_code=body.procedure_code,
        applicant_personal_id=account.personal_id,
        subject_personal_id=body.subject_personal_id,
        relation=body.relation,
        data=body.data,
        components=body.components,
        channel="online",
        idempotency_key=idempotency_key,
        loa=account.level,
    )
    return Status(200 if existed else 201, _dossier(dossier))


@router.get(
    "/dossiers",
    auth=citizen_auth,
    response={200: DossierPageOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_my_dossiers",
    summary="My dossiers, newest first",
)
def my_dossiers(request: HttpRequest) -> dict[str, Any]:
    _known_query(request)
    _actor, account = _citizen(request)
    size = MY_DOSSIERS
    rows = list(selectors.dossiers_of(account.citizen).select_related("applicant", "subject")[: size + 1])
    codes = _result_codes(rows[:size])
    return {"items": [_dossier(d, codes) for d in rows[:size]], "page": 1, "has_next": len(rows) > size}


@router.get(
    "/dossiers/{code}",
    auth=citizen_auth,
    response={200: DossierDetailOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_dossier",
    summary="A dossier of mine: status, data, every step's time",
)
def dossier(request: HttpRequest, code: str) -> dict[str, Any]:
    _known_query(request)
    _actor, account = _citizen(request)
    return _detail(selectors.dossier_for_citizen(account.citizen, code))


@router.post(
    "/dossiers/{code}/supplement",
    auth=citizen_auth,
    response={200: DossierDetailOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_answer_supplement",
    summary="Answer a request for supplement (the deadline's clock runs again)",
)
def answer_supplement(request: HttpRequest, code: str, body: SupplementIn) -> dict[str, Any]:
    _known_query(request)
    actor = _citizen(request)[0]
    return _detail(
        services.answer_supplement(actor, code, data=body.data, components=body.components, note=body.note)
    )


@router.post(
    "/dossiers/{code}/rating",
    auth=citizen_auth,
    response={200: DossierOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_rate",
    summary="Rate my satisfaction with a decided dossier (1–5)",
)
def rate(request: HttpRequest, code: str, body: RatingIn) -> dict[str, Any]:
    _known_query(request)
    actor = _citizen(request)[0]
    return _dossier(services.rate(actor, code, body.rating))


@router.post(
    "/dossiers/{code}/withdraw",
    auth=citizen_auth,
    response={200: DossierOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_withdraw",
    summary="Withdraw an open dossier of mine",
)
def withdraw(request: HttpRequest, code: str, body: WithdrawIn) -> dict[str, Any]:
    _known_query(request)
    actor = _citizen(request)[0]
    return _dossier(services.withdraw(actor, code, reason=body.reason))


@router.post(
    "/feedback",
    auth=citizen_auth,
    response={201: FeedbackOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_feedback",
    summary="Give feedback or file a complaint",
)
def feedback(request: HttpRequest, body: FeedbackIn) -> Status:
    _known_query(request)
    actor = _citizen(request)[0]
    row = services.give_feedback(actor, kind=body.kind, text=body.text, dossier_code=body.dossier_code)
    return Status(201, {"id": row.pk, "kind": row.kind, "created_at": row.created_at})


@router.post(
    "/uploads",
    auth=citizen_auth,
    response={201: UploadOut, **_CITIZEN_ERRORS},
    operation_id="publicservices_upload",
    summary="Store an attachment (PDF, JPEG or PNG, by content; size-limited) in my document store",
)
def upload(
    request: HttpRequest, file: File[UploadedFile], field: Form[Annotated[str, Field(max_length=60)]] = "file"
) -> Status:
    _known_query(request)
    actor, account = _citizen(request)
    content = file.read(upload_max_bytes() + 1)  # one byte over the limit is enough to refuse it
    doc = documents.store_upload(
        actor,
        owner=account.citizen,
        filename=file.name or "upload",
        content=content,
        field=field,
        declared_type=file.content_type,
    )
    return Status(
        201, {"code": doc.code, "media_type": doc.media_type, "size": doc.size, "sha256": doc.sha256}
    )


@router.get(
    "/inbox",
    auth=citizen_auth,
    response={200: list[NotificationOut], **_CITIZEN_ERRORS},
    operation_id="publicservices_inbox",
    summary="My notifications, newest first (50)",
)
def inbox(request: HttpRequest) -> list[dict[str, Any]]:
    _known_query(request)
    _actor, account = _citizen(request)
    return [
        {
            "id": n.pk,
            "kind": n.kind,
            "title": n.title,
            "body": n.body,
            "dossier_code": n.dossier.code if n.dossier is not None else None,
            "created_at": n.created_at,
            "read_at": n.read_at,
        }
        for n in selectors.inbox(account.citizen).select_related("dossier")[:50]
    ]


# ---- Officers ------------------------------------------------------------------------------


def _queue_item(d: Dossier, codes: dict[int, str], users: dict[int, str]) -> dict[str, Any]:
    return {
        **_dossier(d, codes),
        "commune": d.commune.name,
        "due_soon": selectors.is_due_soon(d),
        "assigned_to": users.get(d.assigned_to_id) if d.assigned_to_id else None,
    }


@router.get(
    "/officer/queue",
    response={200: QueuePageOut, **_OFFICER_ERRORS},
    operation_id="publicservices_queue",
    summary="The queue of my agency in my area (open dossiers by deadline by default)",
)
def queue(
    request: HttpRequest,
    status: Annotated[str, Query(max_length=12, description="open | all | a status")] = "open",
    flag: Annotated[str, Query(max_length=10, description="'' | overdue | due_soon")] = "",
    procedure: Annotated[str, Query(max_length=20)] = "",
    assigned: Annotated[str, Query(max_length=4, description="'' | me | none")] = "",
    sort: Annotated[
        str, Query(max_length=14, description="due_on | -due_on | submitted_at | -submitted_at")
    ] = "due_on",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> dict[str, Any]:
    _known_query(request, "status", "flag", "procedure", "assigned", "sort", "page")
    result = selectors.queue(
        _officer(request),
        {"status": status, "flag": flag, "procedure": procedure, "assigned": assigned},
        sort=sort,
        page=page,
    )
    actor = _officer(request)
    audit.record_many(
        actor,
        "dossier.queue",
        [person.personal_id for d in result.items for person in selectors.people_of(d)],
        reason="hàng đợi xử lý hồ sơ",
    )
    codes = _result_codes(result.items)
    assigned_ids = {d.assigned_to_id for d in result.items if d.assigned_to_id}
    users = (
        dict(get_user_model().objects.filter(pk__in=assigned_ids).values_list("pk", "username"))
        if assigned_ids
        else {}
    )
    return {
        "items": [_queue_item(d, codes, users) for d in result.items],
        "page": result.page,
        "has_next": result.has_next,
    }


@router.get(
    "/officer/dossiers/{code}",
    response={200: DossierDetailOut, **_OFFICER_ERRORS},
    operation_id="publicservices_officer_dossier",
    summary="A dossier in my area",
)
def officer_dossier(request: HttpRequest, code: str) -> dict[str, Any]:
    _known_query(request)
    d = selectors.dossier_for_officer(_officer(request), code)
    for person in selectors.people_of(d):  # the applicant, and the subject the dossier is about
        audit.record(
            _officer(request),
            "dossier.view",
            subject_type="dossier",
            subject_id=d.code,
            personal_id=person.personal_id,
            reason="xử lý hồ sơ",
        )
    return _detail(d)


@router.post(
    "/officer/dossiers/{code}/assign",
    response={200: DossierOut, **_OFFICER_ERRORS},
    operation_id="publicservices_assign",
    summary="Assign a dossier (to me by default)",
)
def assign(request: HttpRequest, code: str, body: AssignIn) -> dict[str, Any]:
    _known_query(request)
    return _dossier(services.assign(_officer(request), code, to_username=body.to_username))


@router.post(
    "/officer/dossiers/{code}/accept",
    response={200: DossierOut, **_OFFICER_ERRORS},
    operation_id="publicservices_accept",
    summary="Accept a submitted dossier for processing",
)
def accept(request: HttpRequest, code: str, body: NoteIn) -> dict[str, Any]:
    _known_query(request)
    return _dossier(services.accept(_officer(request), code, note=body.note))


@router.post(
    "/officer/dossiers/{code}/request-supplement",
    response={200: DossierOut, **_OFFICER_ERRORS},
    operation_id="publicservices_request_supplement",
    summary="Ask the applicant for a supplement (the deadline's clock stops)",
)
def request_supplement(request: HttpRequest, code: str, body: SupplementRequestIn) -> dict[str, Any]:
    _known_query(request)
    return _dossier(services.request_supplement(_officer(request), code, note=body.note))


@router.post(
    "/officer/dossiers/{code}/refuse",
    response={200: DossierOut, **_OFFICER_ERRORS},
    operation_id="publicservices_refuse",
    summary="Refuse, with the reason",
)
def refuse(request: HttpRequest, code: str, body: RefuseIn) -> dict[str, Any]:
    _known_query(request)
    return _dossier(services.refuse(_officer(request), code, reason=body.reason))


@router.post(
    "/officer/dossiers/{code}/approve",
    response={200: DossierOut, **_OFFICER_ERRORS},
    operation_id="publicservices_approve",
    summary="Approve: the effect on the registry and the signed result, in one transaction",
)
def approve(request: HttpRequest, code: str, body: NoteIn) -> dict[str, Any]:
    _known_query(request)
    return _dossier(services.approve(_officer(request), code, note=body.note))


# ---- Interconnected dossiers: the steps (docs/interconnected.md) --------------------------------


@router.get(
    "/steps",
    response={200: StepPageOut, **_OFFICER_ERRORS},
    operation_id="publicservices_steps",
    summary="The steps my role decides, in my area (ready ones by deadline by default)",
)
def steps(
    request: HttpRequest,
    status: Annotated[
        str, Query(max_length=10, description=STEP_STATUSES)
    ] = "ready",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> dict[str, Any]:
    _known_query(request, "status", "page")
    actor = _officer(request)
    items, has_next = selectors.step_queue(actor, status, page)
    dossiers = {s.dossier_id: s.dossier for s in items}
    audit.record_many(
        actor,
        "dossier.queue",
        [person.personal_id for d in dossiers.values() for person in selectors.people_of(d)],
        reason="hàng đợi các bước hồ sơ liên thông",
    )
    return {
        "items": [
            {
                **_step(s),
                "dossier_code": s.dossier.code,
                "procedure_code": s.dossier.procedure.code,
                "procedure_name": s.dossier.procedure.name_vi,
                "commune": s.dossier.commune.name,
            }
            for s in items
        ],
        "page": page,
        "has_next": has_next,
    }


@router.post(
    "/dossiers/{code}/steps/{key}/decision",
    response={200: StepOut, **_OFFICER_ERRORS},
    operation_id="publicservices_step_decision",
    summary="Decide my step of an interconnected dossier (approve: its effect on the registry and "
    "its signed result; refuse: the reason, the steps after it cancelled). A replay is a 409.",
)
def step_decision(request: HttpRequest, code: str, key: str, body: StepDecisionIn) -> dict[str, Any]:
    _known_query(request)
    step = services.decide_step(_officer(request), code, key, approve=body.approve, reason=body.reason)
    return _step(step)
