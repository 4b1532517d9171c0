"""Reads of the public services: the catalog, the form pre-filled from the registry, a
citizen's dossiers, and the officers' queue (jurisdiction-filtered, on the partial indexes of
open dossiers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.accounts.models import Role
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.population.models import Citizen
from dancu.publicservices import workdays
from dancu.publicservices.models import (
    CLOSED_STATUSES,
    FINAL_STEP_STATUSES,
    OPEN_STATUSES,
    Agency,
    Dossier,
    DossierEvent,
    DossierStep,
    Notification,
    Procedure,
)
from dancu.residence.models import Registration, ResidenceKind

# Who processes a procedure, by its competent agency (docs/publicservices.md, "Roles"). The
# ministry administrator may process every procedure (demo, oversight); the other agencies of the
# catalog (social insurance, electricity, provincial departments) have no officers in dancu yet.
PROCESSING_ROLES: dict[str, frozenset[str]] = {
    Agency.COMMUNE_POLICE: frozenset({Role.COMMUNE_POLICE, Role.PROVINCE_POLICE, Role.MINISTRY_ADMIN}),
    Agency.COMMUNE_JUSTICE: frozenset({Role.COMMUNE_JUSTICE, Role.MINISTRY_ADMIN}),
    Agency.COMMUNE_PEOPLES_COMMITTEE: frozenset({Role.COMMUNE_JUSTICE, Role.MINISTRY_ADMIN}),
    Agency.PROVINCE_POLICE: frozenset({Role.PROVINCE_POLICE, Role.MINISTRY_ADMIN}),
}
# The one-stop counter receives every dossier of its commune (intake, completeness, hand-over);
# auditors see the queues; neither decides.
INTAKE_ROLES = frozenset({Role.COUNTER})
QUEUE_READ_ROLES = frozenset({Role.COUNTER, Role.AUDITOR})
DUE_SOON_WORKING_DAYS = 1


def agencies_processed_by(role: str) -> list[str]:
    return [agency for agency, roles in PROCESSING_ROLES.items() if role in roles]


def may_process(actor: Actor, procedure: Procedure, *, agency: str | None = None) -> bool:
    """The actor's role processes the procedure's agency — or, for one step of an interconnected
    procedure, that step's ``agency``."""
    roles = PROCESSING_ROLES.get(agency or procedure.agency, frozenset())
    return actor.role == Role.MINISTRY_ADMIN or actor.role in roles


def step_agencies(procedure: Procedure) -> list[str]:
    """The agencies of an interconnected procedure's officer steps (none for the others)."""
    return [s["agency"] for s in procedure.steps if s.get("role")]


# ---- Catalog -------------------------------------------------------------------------------


def catalog(*, essential_only: bool = False) -> QuerySet[Procedure]:
    qs = Procedure.objects.filter(active=True)
    return qs.filter(essential=True) if essential_only else qs


def procedure_by_code(code: str, *, field_name: str = "procedure_code") -> Procedure:
    procedure = (
        Procedure.objects.filter(active=True).filter(Q(code=code) | Q(slug=code)).first()
        if isinstance(code, str) and 0 < len(code) <= 60
        else None
    )
    if procedure is None:
        raise NotFound("E_PROCEDURE_NOT_FOUND", _("Không tìm thấy thủ tục."), field_name)
    return procedure


# ---- Registry pre-fill ---------------------------------------------------------------------


def _registration_text(r: Registration | None) -> str | None:
    if r is None:
        return None
    return f"{r.address}, {r.commune.name}"


def active_registration(citizen: Citizen, kind: str) -> Registration | None:
    return (
        Registration.objects.filter(citizen=citizen, kind=kind, ended_on__isnull=True)
        .select_related("commune")
        .order_by("-started_on", "-id")
        .first()
    )


RESIDENCE_FIELDS = frozenset({"permanent_address", "current_address", "temporary_residence"})


def registry_values(
    citizen: Citizen, today: dt.date | None = None, *, residence: bool = True
) -> dict[str, Any]:
    """Every field a procedure may pre-fill, from the registry (population + residence);
    without ``residence``, the person's own fields only (no query: the citizen row is read)."""
    own = {
        "full_name": citizen.full_name,
        "personal_id": citizen.personal_id,
        "birth_date": citizen.birth_display,
        "sex": citizen.sex,
        "old_id_number": citizen.old_id_number or "",
        "marital_status": citizen.marital_status,
    }
    if not residence:
        return own
    today = today or timezone.localdate()
    permanent = active_registration(citizen, ResidenceKind.PERMANENT)
    temporary = active_registration(citizen, ResidenceKind.TEMPORARY)
    current = temporary if temporary is not None and (temporary.expires_on or today) >= today else permanent
    return {
        **own,
        "permanent_address": _registration_text(permanent),
        "current_address": _registration_text(current),
        "temporary_residence": None
        if temporary is None
        else {
            "id": temporary.pk,
            "address": _registration_text(temporary),
            "started_on": temporary.started_on.isoformat(),
            "expires_on": temporary.expires_on.isoformat() if temporary.expires_on else None,
        },
    }


def prefill(procedure: Procedure, citizen: Citizen) -> dict[str, Any]:
    """The registry's values of the procedure's ``registry_fields``: shown read-only on the form,
    stored as the dossier's ``registry_data``, never taken from the client."""
    fields = procedure.registry_fields
    values = registry_values(citizen, residence=not RESIDENCE_FIELDS.isdisjoint(fields))
    return {name: values.get(name) for name in fields}


# ---- Citizen's dossiers --------------------------------------------------------------------


def dossiers_of(citizen: Citizen) -> QuerySet[Dossier]:
    """The dossiers the person applied for (themself or for someone), newest first."""
    return (
        Dossier.objects.filter(applicant=citizen).select_related("procedure").order_by("-submitted_at", "-id")
    )


def dossier_for_citizen(citizen: Citizen, code: str) -> Dossier:
    """One of the person's dossiers (as applicant or as its subject); 404 otherwise — the
    same answer for a code that exists but is someone else's."""
    dossier = None
    if isinstance(code, str) and 0 < len(code) <= 20:
        dossier = (
            Dossier.objects.select_related("procedure", "subject", "applicant")
            .filter(code=code)
            .filter(Q(applicant=citizen) | Q(subject=citizen))
            .first()
        )
    if dossier is None:
        raise NotFound("E_DOSSIER_NOT_FOUND", _("Không tìm thấy hồ sơ."), "code")
    return dossier


def people_of(dossier: Dossier) -> list[Citizen]:
    """The people whose data a dossier shows: the applicant and, if another, the subject."""
    subject = dossier.subject
    others = [subject] if subject is not None and subject.pk != dossier.applicant_id else []
    return [dossier.applicant, *others]


def events_of(dossier: Dossier) -> QuerySet[DossierEvent]:
    return DossierEvent.objects.filter(dossier=dossier).order_by("at", "id")


def inbox(citizen: Citizen) -> QuerySet[Notification]:
    return Notification.objects.filter(citizen=citizen).order_by("-created_at", "-id")


# ---- Deadline flags ------------------------------------------------------------------------


def is_overdue(dossier: Dossier, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return dossier.is_open and dossier.clock_paused_at is None and dossier.due_on < today


def is_due_soon(dossier: Dossier, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        dossier.is_open
        and dossier.clock_paused_at is None
        and dossier.due_on >= today
        and workdays.working_days_between(today, dossier.due_on) <= DUE_SOON_WORKING_DAYS
    )


# ---- Officers' queue -----------------------------------------------------------------------

SORTS = {
    "due_on": ("due_on", "id"),
    "-due_on": ("-due_on", "-id"),
    "submitted_at": ("submitted_at", "id"),
    "-submitted_at": ("-submitted_at", "-id"),
    "code": ("code",),  # the counter's sort by dossier code (unique)
    "-code": ("-code",),
}
STATUS_FILTERS = ("open", "all", *[s for s in OPEN_STATUSES], *[s for s in CLOSED_STATUSES])
FLAG_FILTERS = ("", "overdue", "due_soon")
PAGE_SIZE = 50
MAX_PAGE = 10_000


@dataclass
class QueuePage:
    items: list[Dossier]
    page: int
    has_next: bool
    page_size: int
    filters: dict[str, Any] = field(default_factory=dict)


def _bad(field_name: str, message: Any) -> DomainError:
    return DomainError("E_INVALID_FILTER", message, field_name)


def queue(
    actor: Actor,
    filters: dict[str, Any] | None = None,
    sort: str = "due_on",
    page: int = 1,
    page_size: int = PAGE_SIZE,
    today: dt.date | None = None,
) -> QueuePage:
    """The dossiers the actor's agency handles in the actor's area. Filters: ``status`` (open —
    the default —, all, or one status), ``procedure`` (code), ``flag`` (overdue | due_soon),
    ``assigned`` ("me" | "none"), ``channel``. Sort by deadline or submission time. Pages are
    counted without COUNT(*) (``has_next``): the open-dossier filters run on partial indexes
    ordered by (due_on, id), per commune, per province and nationally."""
    filters = dict(filters or {})
    today = today or timezone.localdate()
    if actor.role not in QUEUE_READ_ROLES and not agencies_processed_by(actor.role):
        raise OutOfJurisdiction("E_ROLE_NOT_ALLOWED", _("Vai trò này không xử lý hồ sơ thủ tục."), "role")
    if sort not in SORTS:
        raise _bad("sort", _("Cách sắp xếp không hợp lệ."))
    if not isinstance(page, int) or page < 1 or page > MAX_PAGE:
        raise _bad("page", _("Số trang không hợp lệ."))
    status = filters.get("status") or "open"
    flag = filters.get("flag") or ""
    if status not in STATUS_FILTERS:
        raise _bad("status", _("Trạng thái không hợp lệ."))
    if flag not in FLAG_FILTERS:
        raise _bad("flag", _("Bộ lọc hạn xử lý không hợp lệ."))
    qs = Dossier.objects.filter(actor.area.q(commune="commune_id", province="province_id"))
    if actor.role not in QUEUE_READ_ROLES and actor.role != Role.MINISTRY_ADMIN:
        # The procedures' ids (a few dozen rows), not a join: the filter stays on the dossier's
        # own columns and the partial index serves it.
        qs = qs.filter(
            procedure_id__in=list(
                Procedure.objects.filter(agency__in=agencies_processed_by(actor.role)).values_list(
                    "pk", flat=True
                )
            )
        )
    if status == "open" or flag:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if status not in ("open", "all"):
        qs = qs.filter(status=status)
    if flag == "overdue":
        qs = qs.filter(due_on__lt=today, clock_paused_at__isnull=True)
    elif flag == "due_soon":
        qs = qs.filter(
            due_on__gte=today,
            due_on__lte=workdays.add_working_days(today, DUE_SOON_WORKING_DAYS),
            clock_paused_at__isnull=True,
        )
    if filters.get("procedure"):
        qs = qs.filter(
            procedure_id__in=list(
                Procedure.objects.filter(code=str(filters["procedure"])[:20]).values_list("pk", flat=True)
            )
        )
    if filters.get("channel"):
        qs = qs.filter(channel=str(filters["channel"])[:8])
    if filters.get("assigned") == "me":
        qs = qs.filter(assigned_to_id=actor.user_id)
    elif filters.get("assigned") == "none":
        qs = qs.filter(assigned_to__isnull=True)
    start = (page - 1) * page_size
    rows = list(
        qs.select_related("procedure", "applicant", "subject", "commune").order_by(*SORTS[sort])[
            start : start + page_size + 1
        ]
    )
    return QueuePage(
        items=rows[:page_size],
        page=page,
        has_next=len(rows) > page_size,
        page_size=page_size,
        filters={
            "status": status,
            "flag": flag,
            **{k: v for k, v in filters.items() if k not in ("status", "flag")},
        },
    )


def handles(actor: Actor, dossier: Dossier) -> bool:
    """The queue's rule for one dossier: in the actor's area, and of a procedure the actor's role
    processes (``may_process``), or of which it decides a step — or any procedure for the roles
    that read every queue (the counter receives, the auditor reads). The API and the counter
    pages both apply it."""
    if not actor.covers(dossier.commune_id, dossier.province_id):
        return False
    return (
        actor.role in QUEUE_READ_ROLES
        or may_process(actor, dossier.procedure)
        or any(may_process(actor, dossier.procedure, agency=a) for a in step_agencies(dossier.procedure))
    )


def dossier_for_officer(actor: Actor, code: str) -> Dossier:
    """A dossier the actor handles (``handles``; 404 otherwise: the queue's rule, not a second
    one)."""
    dossier = None
    if isinstance(code, str) and 0 < len(code) <= 20:
        dossier = (
            Dossier.objects.select_related("procedure", "applicant", "subject", "commune", "province")
            .filter(actor.area.q(commune="commune_id", province="province_id"))
            .filter(code=code)
            .first()
        )
    if dossier is None or not handles(actor, dossier):
        raise NotFound("E_DOSSIER_NOT_FOUND", _("Không tìm thấy hồ sơ."), "code")
    return dossier


# ---- Interconnected dossiers: the steps --------------------------------------------------------

STEP_FILTERS = ("ready", "waiting", "sending", "done", "refused", "cancelled", "open", "all")


def steps_of(dossier: Dossier) -> list[DossierStep]:
    return list(
        DossierStep.objects.filter(dossier=dossier).select_related("result_document").order_by("position")
    )


def step_queue(
    actor: Actor, status: str = "ready", page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[DossierStep], bool]:
    """The steps of the agencies the actor's role processes (``may_process`` of the step's
    agency; every step for the roles that read every queue), in the actor's area, by deadline —
    the ready ones by default (partial index ``dossier_step_ready``). ``open``: not final."""
    if status not in STEP_FILTERS:
        raise _bad("status", _("Trạng thái không hợp lệ."))
    if not isinstance(page, int) or page < 1 or page > MAX_PAGE:
        raise _bad("page", _("Số trang không hợp lệ."))
    agencies = agencies_processed_by(actor.role)
    if actor.role not in QUEUE_READ_ROLES and not agencies:
        raise OutOfJurisdiction("E_ROLE_NOT_ALLOWED", _("Vai trò này không xử lý hồ sơ thủ tục."), "role")
    area = actor.area.q(commune="dossier__commune_id", province="dossier__province_id")
    qs = DossierStep.objects.filter(area)
    if actor.role not in QUEUE_READ_ROLES:
        qs = qs.filter(agency__in=agencies).exclude(role="")
    if status == "open":
        qs = qs.exclude(status__in=FINAL_STEP_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    start = (page - 1) * page_size
    rows = list(
        qs.select_related("dossier", "dossier__procedure", "dossier__commune", "result_document").order_by(
            F("due_on").asc(nulls_last=True), "id"
        )[start : start + page_size + 1]
    )
    return rows[:page_size], len(rows) > page_size


def dossiers_with_ready_steps(actor: Actor, limit: int = PAGE_SIZE) -> list[Dossier]:
    """The counter's list of interconnected dossiers with a step ready for the actor's role."""
    steps, _more = step_queue(actor, "ready", page_size=limit)
    seen: dict[int, Dossier] = {}
    for step in steps:
        seen.setdefault(step.dossier_id, step.dossier)
    return list(seen.values())
