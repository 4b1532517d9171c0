"""Reads of the one-stop counter pages: the queue, a dossier for an officer, its components,
the officers a dossier may be assigned to, the applicant found at the counter.

Who sees which dossier is the one rule of ``accounts.actor`` (``Actor.area``: the dossier's
commune/province) plus the agency: a commune police officer the procedures of the commune
police, a civil-status officer those of the commune's justice office, the one-stop counter
officer every dossier of the commune (the counter receives them all), province police those of
the police in their province, the ministry and auditors all. Opening a dossier reads personal
data: audited (``dossier.view``) with the purpose "processing dossier <code>"; a refusal is
audited (``dossier.view.denied``) before it is raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import NotFound, OutOfJurisdiction
from dancu.documents import selectors as document_selectors
from dancu.documents.models import Document
from dancu.geo.selectors import unit_by_pk
from dancu.population import selectors as population
from dancu.population.models import Citizen
from dancu.publicservices import selectors as ps
from dancu.publicservices.models import (
    OPEN_STATUSES,
    Dossier,
    DossierComponent,
    DossierEvent,
    DossierStep,
    Procedure,
    Status,
    StepStatus,
)
from dancu.publicservices.workdays import add_working_days

NOT_HANDLED = _("Hồ sơ này không thuộc lĩnh vực hoặc địa bàn bạn được giao giải quyết.")


@dataclass(frozen=True)
class QueueFilters:
    status: str = "open"  # "open" | "all" | a Status value
    procedure: str = ""   # a procedure code
    channel: str = ""
    flag: str = ""        # "" | "due_soon" | "overdue"
    mine: bool = False


@dataclass
class QueueRow:
    dossier: Dossier
    procedure_code: str
    procedure_name_vi: str
    procedure_name_en: str
    applicant_name: str
    commune_name: str
    flag: str  # "" | "due_soon" | "overdue" | "paused"


@dataclass
class QueuePage:
    rows: list[QueueRow]
    number: int
    has_next: bool
    today: dt.date




def flag_of(dossier: Dossier, today: dt.date, soon: dt.date) -> str:
    if dossier.status not in OPEN_STATUSES:
        return ""
    if dossier.status == Status.SUPPLEMENT or dossier.clock_paused_at is not None:
        return "paused"
    if dossier.due_on < today:
        return "overdue"
    if dossier.due_on <= soon:
        return "due_soon"
    return ""


def procedures() -> QuerySet[Procedure]:
    return Procedure.objects.filter(active=True).order_by("code")


def procedure_by_code(code: str) -> Procedure:
    found = Procedure.objects.filter(code=code).first()
    if found is None:
        raise NotFound("E_PROCEDURE", _("Không có thủ tục này."), "procedure")
    return found


QUEUE_PURPOSE = "hàng đợi xử lý hồ sơ"  # the API's queue records the same purpose
SORT_KEYS = {"due": "due_on", "submitted": "-submitted_at", "code": "code"}


def queue(actor: Actor, filters: QueueFilters, *, sort: str = "due", page: int = 1,
          page_size: int = 25) -> QueuePage:
    """One page of the queue (``selectors.queue``: area, agency, the partial indexes, no COUNT)
    with each row's deadline flag and names for the page. The applicants' names are personal
    data: one ``dossier.queue`` audit event per person shown, as the API's queue records."""
    today = timezone.localdate()
    soon = add_working_days(today, 1)
    result = ps.queue(actor, {"status": filters.status, "procedure": filters.procedure,
                              "channel": filters.channel, "flag": filters.flag,
                              "assigned": "me" if filters.mine else ""},
                      sort=SORT_KEYS.get(sort, "due_on"), page=page, page_size=page_size, today=today)
    audit.record_many(actor, "dossier.queue", [d.applicant.personal_id for d in result.items],
                      reason=QUEUE_PURPOSE)
    out = []
    for d in result.items:
        unit = unit_by_pk(d.commune_id)
        out.append(QueueRow(d, d.procedure.code, d.procedure.name_vi, d.procedure.name_en,
                            d.applicant.full_name, unit.name if unit else "",
                            flag_of(d, today, soon)))
    return QueuePage(out, result.page, result.has_next, today)


@dataclass
class StepRow:
    """One step of an interconnected dossier as the counter page shows it."""

    step: DossierStep
    summary: str
    result_code: str
    can_decide: bool


def step_rows(actor: Actor, d: Dossier) -> list[StepRow]:
    """The dossier's steps; ``can_decide`` is the service's own rule (``flows.check_may_decide``:
    the step's agency processed by the role, the area) and the step's status — a forged POST
    meets the same rule in the service."""
    from dancu.publicservices.services.flows import check_may_decide, step_summary

    rows = []
    for step in ps.steps_of(d):
        try:
            check_may_decide(actor, d, step)
            allowed = step.status == StepStatus.READY and d.status in (Status.SUBMITTED, Status.ACCEPTED)
        except OutOfJurisdiction:
            allowed = False
        rows.append(StepRow(step, step_summary(step) if step.status == StepStatus.DONE else "",
                            step.result_document.code if step.result_document is not None else "",
                            allowed))
    return rows


@dataclass
class StepQueueRow:
    step: DossierStep
    applicant_name: str
    flag: str  # "" | "overdue"


def step_queue(actor: Actor) -> list[StepQueueRow]:
    """The steps of interconnected dossiers ready for the actor's role in their area, by
    deadline (``selectors.step_queue``). For the roles that read every queue (the counter, the
    auditor): the steps waiting for another agency's system that failed to answer or are past
    their deadline — nothing waits unseen. Applicants' names shown: audited as the queue is."""
    today = timezone.localdate()
    if actor.role in ps.QUEUE_READ_ROLES:
        sending, _more = ps.step_queue(actor, "sending", page_size=200)
        steps = [s for s in sending if s.attempts or (s.due_on and s.due_on < today)][:50]
    elif ps.agencies_processed_by(actor.role):
        steps, _more = ps.step_queue(actor, "ready", page_size=50)
    else:
        return []
    applicants = {c.pk: c for c in Citizen.objects.filter(pk__in={s.dossier.applicant_id for s in steps})}
    audit.record_many(actor, "dossier.queue", [c.personal_id for c in applicants.values()],
                      reason=QUEUE_PURPOSE)
    return [StepQueueRow(s, applicants[s.dossier.applicant_id].full_name,
                         "overdue" if s.due_on and s.due_on < today else "") for s in steps]


@dataclass
class DossierView:
    dossier: Dossier
    applicant: Citizen
    subject: Citizen | None
    components: list[dict[str, Any]]
    events: list[DossierEvent]
    assigned_name: str
    flag: str
    commune_name: str
    result_code: str
    steps: list[StepRow]


def _load(code: str) -> Dossier:
    d = (Dossier.objects.select_related("procedure", "applicant", "subject")
         .filter(code=code[:20]).first())
    if d is None:
        raise NotFound("E_DOSSIER_NOT_FOUND", _("Không tìm thấy hồ sơ."), "code")
    return d


def _check(actor: Actor, d: Dossier, action: str) -> None:
    if not ps.handles(actor, d):
        denied = OutOfJurisdiction("E_JURISDICTION", NOT_HANDLED, "code")
        audit.record_refusal(actor, action, denied, subject_type="dossier", subject_id=d.code,
                             personal_id=d.applicant.personal_id)
        raise denied


def dossier_for_officer(actor: Actor, code: str) -> DossierView:
    """A dossier with its applicant, subject, components and events, if the actor handles it.
    Audited as ``dossier.view`` (purpose: processing the dossier)."""
    d = _load(code)
    _check(actor, d, "dossier.view")
    comps = list(DossierComponent.objects.filter(dossier=d).select_related("document")
                 .defer("document__content").order_by("id"))
    names = {c["key"]: c for c in d.procedure.components or []}
    components = [{"row": c, "doc": c.document, "spec": names.get(c.key, {})} for c in comps]
    result_code = (Document.objects.filter(pk=d.result_document_id).values_list("code", flat=True)
                   .first() if d.result_document_id else None)
    assigned = ""
    if d.assigned_to_id:
        user = get_user_model().objects.filter(pk=d.assigned_to_id).select_related("officer").first()
        if user is not None:
            profile = getattr(user, "officer", None)
            assigned = (profile.display_name if profile else "") or user.get_username()
    today = timezone.localdate()
    unit = unit_by_pk(d.commune_id)
    for person in ps.people_of(d):  # the applicant, and the subject the dossier is about
        audit.record(actor, "dossier.view", subject_type="dossier", subject_id=d.code,
                     personal_id=person.personal_id,
                     reason=str(_("Giải quyết hồ sơ %(code)s") % {"code": d.code}))
    return DossierView(d, d.applicant, d.subject, components,
                       list(DossierEvent.objects.filter(dossier=d).order_by("at", "id")),
                       assigned, flag_of(d, today, add_working_days(today, 1)),
                       unit.name if unit else "", result_code or "", step_rows(actor, d))


def component_document(actor: Actor, code: str, component_id: int) -> Any:
    """The document of one component (or the result, component_id 0), read by an officer who
    handles the dossier: the dossier's rule here, then the documents context's one rule for an
    officer's read of a personal document (``documents.selectors.open_for_officer``: used in
    this dossier, audited as ``document.read`` for its owner with the dossier code as purpose)."""
    d = _load(code)
    _check(actor, d, "dossier.document")
    if component_id == 0:
        doc_id = d.result_document_id
    else:
        row = DossierComponent.objects.filter(dossier=d, pk=component_id).first()
        doc_id = row.document_id if row else None
    doc_code = Document.objects.filter(pk=doc_id).values_list("code", flat=True).first() if doc_id else None
    if doc_code is None:
        raise NotFound("E_DOCUMENT_NOT_FOUND", _("Không tìm thấy tài liệu."), "component")
    return document_selectors.open_for_officer(actor, doc_code, purpose=d.code)


def download_name(doc: Any) -> str:
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(doc.media_type, "bin")
    return f"{doc.code}.{ext}"


def allowed_actions(actor: Actor, d: Dossier, *, bundle: bool = False) -> dict[str, bool]:
    """Which buttons the page shows: the services' own rule (``check_may_act`` — the role
    processes the procedure, or the counter's intake actions — and the area) and the status.
    A forged POST meets the same rule in the service."""
    from dancu.publicservices.services.processing import INTAKE_ACTIONS

    def may(action: str) -> bool:
        return actor.covers(d.commune_id, d.province_id) and (
            ps.may_process(actor, d.procedure)
            or (actor.role in ps.INTAKE_ROLES and action in INTAKE_ACTIONS))

    open_ = d.status in OPEN_STATUSES
    return {
        "assign": may("assign") and open_,
        "accept": may("accept") and d.status == Status.SUBMITTED,
        "supplement": may("request_supplement") and d.status in (Status.SUBMITTED, Status.ACCEPTED),
        # An interconnected dossier is decided step by step (``step_rows``), never whole.
        "refuse": may("refuse") and open_ and not bundle,
        "approve": may("approve") and d.status == Status.ACCEPTED and d.paid and not bundle,
        "paid": may("paid_at_counter") and not d.paid and d.fee_vnd > 0 and open_,
        "handover": may("hand_over") and d.status in (Status.APPROVED, Status.REFUSED),
    }


def assignable_officers(d: Dossier) -> list[tuple[str, str]]:
    """Officers who may decide this dossier: a role that processes its procedure, an area that
    covers its commune (the actor's unit, or the province, or national)."""
    from dancu.accounts.models import OfficerProfile

    roles = sorted(ps.PROCESSING_ROLES.get(d.procedure.agency, ()))
    qs = (OfficerProfile.objects.filter(role__in=roles, user__is_active=True)
          .filter(Q(jurisdiction_id=d.commune_id) | Q(jurisdiction_id=d.province_id)
                  | Q(jurisdiction__isnull=True))
          .select_related("user").order_by("display_name", "user__username"))
    return [(p.user.get_username(), p.display_name or p.user.get_username()) for p in qs[:200]]


def assignable_officers_for(actor: Actor, code: str) -> list[tuple[str, str]]:
    d = Dossier.objects.select_related("procedure").filter(code=code[:20]).first()
    return assignable_officers(d) if d is not None and ps.handles(actor, d) else []


def applicant_for_intake(actor: Actor, personal_id: str, *, reason: str) -> Citizen:
    """The applicant at the counter, found by the ID number on their card (they may live
    elsewhere: the registry's arrival door), read under the stated purpose and audited."""
    return population.get_citizen_for_arrival(actor, personal_id, reason=reason)


def commune_code(unit_id: int) -> str:
    unit = unit_by_pk(unit_id)
    return f"2025:{unit.code}" if unit is not None else ""
