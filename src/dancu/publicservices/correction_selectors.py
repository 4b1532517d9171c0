"""Reads of the correction requests ("báo sai"): the officer's list of the open requests of
their area (the person's current residence, by the one rule ``Area.q``), one request, and the
citizen's own requests. Officers' reads show personal data: audited with their purpose
(``correction.list``, ``correction.view``); a refusal is audited before it is raised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import WRITE_ROLES, Actor
from dancu.accounts.models import Role
from dancu.audit import services as audit
from dancu.core.errors import NotFound, OutOfJurisdiction
from dancu.population.models import Citizen
from dancu.publicservices.models import CorrectionRequest, CorrectionStatus
from dancu.publicservices.selectors import registry_values

# Who sees the requests: the police (who handle them) and the auditors (read only).
READ_ROLES = WRITE_ROLES | {Role.AUDITOR}
LIST_PURPOSE = "danh sách đề nghị điều chỉnh thông tin"
VIEW_PURPOSE = "xử lý đề nghị điều chỉnh thông tin #{id}"
# The registry fields' names (the same words as the portal's form), for the pages and the notice.
FIELD_LABELS: dict[str, Any] = {
    "full_name": _("Họ, chữ đệm và tên"),
    "personal_id": _("Số định danh cá nhân"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "permanent_address": _("Nơi thường trú"),
    "current_address": _("Nơi ở hiện tại"),
    "marital_status": _("Tình trạng hôn nhân"),
    "old_id_number": _("Số CMND cũ"),
    "temporary_residence": _("Nơi tạm trú"),
}
# Where the officer corrects each field: the person's correction page (population) for the
# identity fields; the person's page (its residence actions) for the places of residence.
RESIDENCE_FIELDS = frozenset({"permanent_address", "current_address", "temporary_residence"})


def label_of(field: str) -> Any:
    return FIELD_LABELS.get(field, field)


def display_value(value: Any) -> str:
    """A registry value as one line of text (an address dict by its address)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get("address") or ", ".join(str(v) for v in value.values() if v))
    return str(value)


@dataclass
class Row:
    request: CorrectionRequest
    registry_value: str  # the registry's value now (it may have been corrected since)


@dataclass
class Page:
    rows: list[Row]
    number: int
    has_next: bool


def _check_role(actor: Actor, action: str, subject_id: Any = "") -> None:
    if actor.role not in READ_ROLES:
        denied = OutOfJurisdiction(
            "E_ROLE_NOT_ALLOWED", _("Vai trò của bạn không được xem đề nghị điều chỉnh thông tin."), "role"
        )
        audit.record_refusal(actor, action, denied, subject_type="correction", subject_id=subject_id)
        raise denied


def open_for_officer(actor: Actor, *, page: int = 1, page_size: int = 25) -> Page:
    """The open requests of people living in the actor's area, oldest first."""
    _check_role(actor, "correction.list")
    page = max(1, min(int(page), 10_000))
    qs = (
        CorrectionRequest.objects.filter(status=CorrectionStatus.OPEN)
        .filter(actor.area.q(commune="citizen__current_commune", province="citizen__current_province"))
        .select_related("citizen", "dossier")
        .order_by("created_at", "id")
    )
    start = (page - 1) * page_size
    found = list(qs[start : start + page_size + 1])
    has_next = len(found) > page_size
    found = found[:page_size]
    rows = [Row(r, display_value(registry_values(r.citizen).get(r.field))) for r in found]
    if rows:
        audit.record_many(actor, "correction.list", [r.request.citizen.personal_id for r in rows],
                          reason=LIST_PURPOSE)
    return Page(rows, page, has_next)


def for_officer(actor: Actor, request_id: int) -> Row:
    """One request, for an officer whose area includes the person (else 403, audited)."""
    _check_role(actor, "correction.view", request_id)
    found = CorrectionRequest.objects.select_related("citizen", "dossier", "procedure").filter(
        pk=request_id).first()
    if found is None:
        raise NotFound("E_CORRECTION_NOT_FOUND", _("Không tìm thấy đề nghị điều chỉnh."), "request")
    person: Citizen = found.citizen
    if not actor.covers(person.current_commune_id, person.current_province_id):
        denied = OutOfJurisdiction("E_JURISDICTION", _("Công dân cư trú ngoài địa bàn của bạn."), "citizen")
        audit.record_refusal(actor, "correction.view", denied, subject_type="correction",
                             subject_id=found.pk)
        raise denied
    audit.record(actor, "correction.view", subject_type="correction", subject_id=found.pk,
                 personal_id=person.personal_id, reason=VIEW_PURPOSE.format(id=found.pk))
    return Row(found, display_value(registry_values(person).get(found.field)))


def of_citizen(citizen: Citizen) -> QuerySet[CorrectionRequest]:
    """The person's own requests, newest first."""
    return CorrectionRequest.objects.filter(citizen=citizen).select_related("dossier").order_by(
        "-created_at", "-id")
