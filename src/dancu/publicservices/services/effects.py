"""What an approved dossier does to the registry, through the registry's own services.

``apply_effect`` runs inside ``processing.approve``'s transaction: the registry's write and the
decision commit or roll back together. The registry services run as the approving officer with
source ``dossier`` and the dossier code as ``source_ref``, and their reason names the code, so
the person's history (the audit trail's before/after) cites the dossier. The services check
their own rules and the officer's area again; a refusal there refuses the approval.

Each handler returns the result's title and lines; ``issue_result`` turns them into the signed
PDF (documents.services.issue_signed_result) — the one place the documents context is called.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError
from dancu.documents import services as documents
from dancu.documents.models import Document
from dancu.geo.selectors import get_unit
from dancu.population import services as population
from dancu.population.models import Citizen, Sex
from dancu.publicservices.models import Dossier
from dancu.publicservices.selectors import active_registration, registry_values
from dancu.residence import services as residence
from dancu.residence.models import Relationship, ResidenceKind
from dancu.residence.selectors import current_household

Lines = list[tuple[str, str]]
Handler = Callable[[Actor, Dossier], tuple[str, Lines]]


def effect_actor(actor: Actor, dossier: Dossier) -> Actor:
    """The officer, acting on this dossier: audited with source "dossier" and its code."""
    return dataclasses.replace(actor, source="dossier", source_ref=dossier.code)


def reason_for(dossier: Dossier) -> str:
    return f"Hồ sơ {dossier.code}: {dossier.procedure.name_vi}"


def _day(dossier: Dossier, name: str) -> dt.date:
    return dt.date.fromisoformat(dossier.data[name])


def _person(dossier: Dossier) -> Citizen:
    person = dossier.subject or dossier.applicant
    return person


def identity(person: Citizen) -> Lines:
    return [
        ("Họ và tên", person.full_name),
        ("Số định danh cá nhân", person.personal_id),
        ("Ngày sinh", person.birth_display),
    ]


def _where(dossier: Dossier) -> dict[str, Any]:
    """The commune, address and first day the dossier registers the person at."""
    data = dossier.data
    return {
        "commune": get_unit(data["commune"], field="commune"),
        "address": data["address"],
        "started_on": _day(dossier, "started_on"),
    }


def place(reg: Any) -> str:
    return f"{reg.address}, {reg.commune.name}"


def _period(reg: Any) -> str:
    return f"{reg.started_on.isoformat()} – {reg.expires_on.isoformat() if reg.expires_on else ''}"


def permanent_residence(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    person, data = _person(dossier), dossier.data
    reg = residence.register_permanent(
        actor,
        person.personal_id,
        **_where(dossier),
        reason=reason_for(dossier),
        household_number=data.get("household_number") or None,
        relationship=data.get("relationship") or Relationship.HEAD,
    )
    return "Xác nhận đăng ký thường trú", [
        *identity(person),
        ("Nơi thường trú", place(reg)),
        ("Số hộ", reg.household.number if reg.household else ""),
        ("Ngày đăng ký", reg.started_on.isoformat()),
    ]


def temporary_residence(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    person = _person(dossier)
    reg = residence.register_temporary(
        actor,
        person.personal_id,
        **_where(dossier),
        expires_on=_day(dossier, "expires_on"),
        reason=reason_for(dossier),
    )
    return "Xác nhận đăng ký tạm trú", [
        *identity(person),
        ("Nơi tạm trú", place(reg)),
        ("Thời hạn tạm trú", _period(reg)),
    ]


def temporary_residence_renewal(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    person = _person(dossier)
    current = active_registration(person, ResidenceKind.TEMPORARY)
    if current is None:
        raise DomainError(
            "E_NO_TEMPORARY_RESIDENCE", _("Không có đăng ký tạm trú còn hiệu lực."), "subject_personal_id"
        )
    reg = residence.renew_temporary(
        actor, current.pk, expires_on=_day(dossier, "expires_on"), reason=reason_for(dossier)
    )
    return "Xác nhận gia hạn tạm trú", [
        *identity(person),
        ("Nơi tạm trú", place(reg)),
        ("Tạm trú đến ngày", reg.expires_on.isoformat() if reg.expires_on else ""),
    ]


def temporary_absence(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    person, data = _person(dossier), dossier.data
    reg = residence.declare_absence(
        actor,
        person.personal_id,
        case=data["case"],
        started_on=_day(dossier, "started_on"),
        expires_on=dt.date.fromisoformat(data["expires_on"]) if data.get("expires_on") else None,
        destination=data["destination"],
        reason=reason_for(dossier),
    )
    return "Xác nhận khai báo tạm vắng", [
        *identity(person),
        ("Trường hợp", reg.get_absence_case_display()),
        ("Từ ngày", reg.started_on.isoformat()),
        ("Nơi đến", reg.destination),
    ]


def stay_notice(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    person = _person(dossier)
    reg = residence.notify_stay(
        actor,
        person.personal_id,
        **_where(dossier),
        ends_on=_day(dossier, "ends_on"),
        reason=reason_for(dossier),
    )
    return "Xác nhận thông báo lưu trú", [
        *identity(person),
        ("Nơi lưu trú", place(reg)),
        ("Thời gian", _period(reg)),
    ]


def residence_confirmation(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    """The printed extract of residence information (form CT07): a read, audited."""
    person = _person(dossier)
    values = registry_values(person)
    audit.record(
        actor,
        "residence.confirm",
        subject_type="citizen",
        subject_id=person.pk,
        personal_id=person.personal_id,
        reason=reason_for(dossier),
        details={"purpose": dossier.data.get("purpose", "")},
    )
    temporary = values["temporary_residence"]
    return "Xác nhận thông tin về cư trú", [
        *identity(person),
        ("Nơi thường trú", values["permanent_address"] or "—"),
        ("Nơi tạm trú", temporary["address"] if temporary else "—"),
        ("Nơi ở hiện tại", values["current_address"] or "—"),
        ("Mục đích", dossier.data.get("purpose", "")),
    ]


def child_raw(dossier: Dossier) -> dict[str, Any]:
    """The child's record as the birth dossier declares it, the applicant parent (and the other
    parent, if named) linked."""
    parent, data = dossier.applicant, dossier.data
    raw: dict[str, Any] = {
        "full_name": data["child_full_name"],
        "birth_date": data["child_birth_date"],
        "sex": data["child_sex"],
        "ethnicity": data["child_ethnicity"],
        "birth_registration_unit": f"2025:{dossier.commune.code}",
        "father_id" if parent.sex == Sex.MALE else "mother_id": parent.personal_id,
    }
    if data.get("other_parent_personal_id"):
        raw["mother_id" if parent.sex == Sex.MALE else "father_id"] = data["other_parent_personal_id"]
    return raw


def parent_home(dossier: Dossier) -> dict[str, Any]:
    """Where the child is registered: the applicant parent's permanent residence and household
    (the child is a child of the head, or "other" in someone else's household)."""
    parent = dossier.applicant
    permanent = active_registration(parent, ResidenceKind.PERMANENT)
    if permanent is None:
        raise DomainError(
            "E_NO_PERMANENT_RESIDENCE",
            _("Cha/mẹ chưa có nơi thường trú để đăng ký thường trú cho con."),
            "applicant_personal_id",
        )
    membership = current_household(parent)
    relationship = (
        Relationship.CHILD
        if membership and membership.relationship == Relationship.HEAD
        else Relationship.OTHER
    )
    return {
        "commune": permanent.commune,
        "address": permanent.address,
        "household_number": membership.household.number if membership else None,
        "relationship": relationship if membership else Relationship.HEAD,
    }


def birth(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    """Birth registration with permanent residence (Decree 63/2024): the child enters the
    registry in the applicant parent's household and commune of permanent residence."""
    parent = dossier.applicant
    reg = residence.register_new_resident(
        actor,
        child_raw(dossier),
        **parent_home(dossier),
        started_on=_day(dossier, "child_birth_date"),
        reason=reason_for(dossier),
    )
    child = reg.citizen
    return "Trích lục khai sinh", [
        *identity(child),
        ("Giới tính", child.get_sex_display()),
        ("Cha/mẹ khai", f"{parent.full_name} ({parent.personal_id})"),
        ("Nơi thường trú", place(reg)),
    ]


def death(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    """Death registration with deletion of permanent residence (Decree 63/2024)."""
    person = _person(dossier)
    died = dossier.data["death_date"]
    population.correct_citizen(
        actor, person.personal_id, {"life_status": "deceased", "death_date": died}, reason=reason_for(dossier)
    )
    permanent = active_registration(person, ResidenceKind.PERMANENT)
    if permanent is not None:
        residence.end_registration(
            actor,
            permanent.pk,
            ended_on=dt.date.fromisoformat(died),
            reason=reason_for(dossier),
            end_reason="deceased",
        )
    return "Trích lục khai tử", [
        *identity(person),
        ("Ngày chết", died),
        ("Nơi chết", dossier.data.get("death_place", "")),
    ]


def marriage(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    applicant = dossier.applicant
    spouse_id = dossier.data["spouse_personal_id"]
    spouse = Citizen.objects.get(personal_id=spouse_id)
    reason = reason_for(dossier)
    population.correct_citizen(
        actor, applicant.personal_id, {"marital_status": "married", "spouse_id": spouse_id}, reason=reason
    )
    population.correct_citizen(
        actor, spouse_id, {"marital_status": "married", "spouse_id": applicant.personal_id}, reason=reason
    )
    return "Giấy chứng nhận kết hôn", [
        ("Bên thứ nhất", f"{applicant.full_name} ({applicant.personal_id})"),
        ("Bên thứ hai", f"{spouse.full_name} ({spouse.personal_id})"),
        ("Ngày đăng ký", dossier.submitted_at.date().isoformat()),
    ]


def id_card_reissue(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    """dancu holds no card register (the card production system is outside it): the decision
    is recorded in the person's audit trail and the result is the appointment to collect."""
    person = _person(dossier)
    audit.record(
        actor,
        "idcard.reissue",
        subject_type="citizen",
        subject_id=person.pk,
        personal_id=person.personal_id,
        reason=reason_for(dossier),
        details={"reason": dossier.data.get("reason", "")},
    )
    return "Giấy hẹn trả thẻ căn cước (cấp lại)", [
        *identity(person),
        ("Lý do cấp lại", dossier.data.get("reason", "")),
        ("Nơi nhận", dossier.data.get("delivery_address") or dossier.commune.name),
    ]


EFFECTS: dict[str, Handler] = {
    "permanent_residence": permanent_residence,
    "temporary_residence": temporary_residence,
    "temporary_residence_renewal": temporary_residence_renewal,
    "temporary_absence": temporary_absence,
    "stay_notice": stay_notice,
    "residence_confirmation": residence_confirmation,
    "birth": birth,
    "death": death,
    "marriage": marriage,
    "id_card_reissue": id_card_reissue,
}


def apply_effect(actor: Actor, dossier: Dossier) -> tuple[str, Lines]:
    """Run the procedure's effect (inside the caller's transaction). A procedure without one
    (processed outside dancu) gets a plain decision."""
    handler = EFFECTS.get(dossier.procedure.effect)
    acting = effect_actor(actor, dossier)
    if handler is None:
        person = _person(dossier)
        return f"Kết quả giải quyết: {dossier.procedure.name_vi}", [
            *identity(person),
            ("Thủ tục", dossier.procedure.name_vi),
        ]
    return handler(acting, dossier)


def issue_result(actor: Actor, dossier: Dossier, title: str, lines: Lines) -> Document:
    """The signed result document (PAdES, QR to /verify/<code>/), kept in the store of the
    person it is about (the applicant parent for a birth). The one call into documents."""
    owner = dossier.applicant if dossier.procedure.effect == "birth" else _person(dossier)
    issuer = f"{dossier.procedure.get_agency_display()} — {dossier.commune.name}"
    return documents.issue_signed_result(
        effect_actor(actor, dossier),
        owner=owner,
        title=title,
        reference=dossier.code,
        lines=[("Mã hồ sơ", dossier.code), ("Thủ tục", dossier.procedure.name_vi), *lines],
        issuer=issuer,
    )
