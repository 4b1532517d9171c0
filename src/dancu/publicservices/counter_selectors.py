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
from dancu.geo.selectors import unit_by_pk
from dancu.population import selectors as population
from dancu.population.models import Citizen
from dancu.publicservices import selectors as ps
from dancu.publicservices.models import (
    OPEN_STATUSES,
    Dossier,
    DossierComponent,
    DossierEvent,
    Procedure,
    Status,
)
from dancu.publicservices.workdays import add_working_days

HAND_OVER_ROLES = frozenset({"counter", "commune_police", "commune_justice"})
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


def handles(actor: Actor, dossier: Dossier) -> bool:
    """Is this dossier in the actor's area, and of a procedure the actor's role processes (or
    one the counter receives / the auditor reads)? The rule of ``selectors.may_process``."""
    if not actor.covers(dossier.commune_id, dossier.province_id):
        return False
    return actor.role in ps.QUEUE_READ_ROLES or ps.may_process(actor, dossier.procedure)


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


SORT_KEYS = {"due": "due_on", "submitted": "-submitted_at", "code": "code"}


def queue(actor: Actor, filters: QueueFilters, *, sort: str = "due", page: int = 1,
          page_size: int = 25) -> QueuePage:
    """One page of the queue (``selectors.queue``: area, agency, the partial indexes, no COUNT)
    with each row's deadline flag and names for the page."""
    today = timezone.localdate()
    soon = add_working_days(today, 1)
    result = ps.queue(actor, {"status": filters.status, "procedure": filters.procedure,
                              "channel": filters.channel, "flag": filters.flag,
                              "assigned": "me" if filters.mine else ""},
                      sort=SORT_KEYS.get(sort, "due_on"), page=page, page_size=page_size, today=today)
    out = []
    for d in result.items:
        unit = unit_by_pk(d.commune_id)
        out.append(QueueRow(d, d.procedure.code, d.procedure.name_vi, d.procedure.name_en,
                            d.applicant.full_name, unit.name if unit else "",
                            flag_of(d, today, soon)))
    return QueuePage(out, result.page, result.has_next, today)


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


def _load(code: str) -> Dossier:
    d = (Dossier.objects.select_related("procedure", "applicant", "subject")
         .filter(code=code[:20]).first())
    if d is None:
        raise NotFound("E_DOSSIER_NOT_FOUND", _("Không tìm thấy hồ sơ."), "code")
    return d


def _check(actor: Actor, d: Dossier, action: str) -> None:
    if not handles(actor, d):
        denied = OutOfJurisdiction("E_JURISDICTION", NOT_HANDLED, "code")
        audit.record_refusal(actor, action, denied, subject_type="dossier", subject_id=d.code,
                             personal_id=d.applicant.personal_id)
        raise denied


def dossier_for_action(actor: Actor, code: str) -> Dossier:
    """The dossier an action is asked on (the service checks again, under its lock)."""
    d = _load(code)
    _check(actor, d, "dossier.act")
    return d


def _documents(ids: list[int]) -> dict[int, Any]:
    from dancu.documents.models import Document

    return {doc.pk: doc for doc in Document.objects.filter(pk__in=ids).defer("content")}


def dossier_for_officer(actor: Actor, code: str) -> DossierView:
    """A dossier with its applicant, subject, components and events, if the actor handles it.
    Audited as ``dossier.view`` (purpose: processing the dossier)."""
    d = _load(code)
    _check(actor, d, "dossier.view")
    comps = list(DossierComponent.objects.filter(dossier=d).order_by("id"))
    ids = [c.document_id for c in comps]
    if d.result_document_id:
        ids.append(d.result_document_id)
    docs = _documents(ids)
    names = {c["key"]: c for c in d.procedure.components or []}
    components = [{"row": c, "doc": docs.get(c.document_id), "spec": names.get(c.key, {})}
                  for c in comps]
    result = docs.get(d.result_document_id) if d.result_document_id else None
    assigned = ""
    if d.assigned_to_id:
        user = get_user_model().objects.filter(pk=d.assigned_to_id).select_related("officer").first()
        if user is not None:
            profile = getattr(user, "officer", None)
            assigned = (profile.display_name if profile else "") or user.get_username()
    today = timezone.localdate()
    unit = unit_by_pk(d.commune_id)
    audit.record(actor, "dossier.view", subject_type="dossier", subject_id=d.code,
                 personal_id=d.applicant.personal_id,
                 reason=str(_("Giải quyết hồ sơ %(code)s") % {"code": d.code}))
    return DossierView(d, d.applicant, d.subject, components,
                       list(DossierEvent.objects.filter(dossier=d).order_by("at", "id")),
                       assigned, flag_of(d, today, add_working_days(today, 1)),
                       unit.name if unit else "", result.code if result else "")


def component_document(actor: Actor, code: str, component_id: int) -> Any:
    """The document of one component (or the result, component_id 0), read by an officer who
    handles the dossier; audited as ``dossier.document``."""
    d = _load(code)
    _check(actor, d, "dossier.document")
    if component_id == 0:
        doc_id = d.result_document_id
    else:
        row = DossierComponent.objects.filter(dossier=d, pk=component_id).first()
        doc_id = row.document_id if row else None
    from dancu.documents.models import Document

    doc = Document.objects.filter(pk=doc_id).first() if doc_id else None
    if doc is None:
        raise NotFound("E_DOCUMENT_NOT_FOUND", _("Không tìm thấy tài liệu."), "component")
    audit.record(actor, "dossier.document", subject_type="dossier", subject_id=d.code,
                 personal_id=d.applicant.personal_id, details={"document": doc.code},
                 reason=str(_("Giải quyết hồ sơ %(code)s") % {"code": d.code}))
    return doc


def download_name(doc: Any) -> str:
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(doc.media_type, "bin")
    return f"{doc.code}.{ext}"


def allowed_actions(actor: Actor, d: Dossier) -> dict[str, bool]:
    """Which buttons the page shows (the services decide; a refused one answers 403)."""
    decide = ps.may_process(actor, d.procedure)
    writer = decide or actor.role == "counter"
    open_ = d.status in OPEN_STATUSES
    return {
        "assign": writer and open_,
        "accept": decide and d.status == Status.SUBMITTED,
        "supplement": decide and d.status in (Status.SUBMITTED, Status.ACCEPTED),
        "refuse": decide and d.status in (Status.SUBMITTED, Status.ACCEPTED),
        "approve": decide and d.status == Status.ACCEPTED,
        "handover": actor.role in HAND_OVER_ROLES and d.status == Status.APPROVED,
    }


def assignable_officers(actor: Actor, d: Dossier) -> list[tuple[str, str]]:
    """Officers of the actor's unit who may decide this dossier (same jurisdiction)."""
    from dancu.accounts.models import OfficerProfile

    roles = sorted(ps.PROCESSING_ROLES.get(d.procedure.agency, ()))
    qs = (OfficerProfile.objects.filter(role__in=roles, user__is_active=True)
          .select_related("user").order_by("display_name", "user__username"))
    if actor.jurisdiction_id is not None:
        qs = qs.filter(jurisdiction_id=actor.jurisdiction_id)
    else:
        qs = qs.filter(Q(jurisdiction_id=d.commune_id) | Q(jurisdiction_id=d.province_id)
                       | Q(jurisdiction__isnull=True))
    return [(str(p.user_id), p.display_name or p.user.get_username()) for p in qs[:200]]


def applicant_for_intake(actor: Actor, personal_id: str, *, reason: str) -> Citizen:
    """The applicant at the counter, found by the ID number on their card (they may live
    elsewhere: the registry's arrival door), read under the stated purpose and audited."""
    return population.get_citizen_for_arrival(actor, personal_id, reason=reason)


def commune_code(unit_id: int) -> str:
    unit = unit_by_pk(unit_id)
    return f"2025:{unit.code}" if unit is not None else ""
