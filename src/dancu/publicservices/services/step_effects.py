"""What each step of an interconnected dossier does (Decree 63/2024; docs/interconnected.md).

Officer steps (``OFFICER_STEPS``) run inside ``flows.decide_step``'s transaction, through the
registry's own services exactly as a one-decision procedure's effect does (``effects``): the
registry's write, the step's result and the signed result document commit or roll back together.
They return the result's title and lines (for the document) and the ``result`` stored on the
step, which the later steps read (the child's personal ID, the household).

Automatic steps (``AGENCY_STEPS``) name the exchange service and build the message's body; the
exchange itself happens in ``flows.advance`` outside any transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.core.errors import DomainError
from dancu.eid.models import EidAccount
from dancu.population import services as population
from dancu.population.models import Citizen
from dancu.publicservices.models import Dossier
from dancu.publicservices.selectors import active_registration
from dancu.publicservices.services.effects import (
    Lines,
    child_raw,
    identity,
    parent_home,
    place,
    reason_for,
)
from dancu.residence import services as residence
from dancu.residence.models import ResidenceKind

Results = Mapping[str, Mapping[str, Any]]  # the results of the dossier's steps done, by key
StepHandler = Callable[[Actor, Dossier, Results], tuple[str, Lines, dict[str, Any]]]


def _citizen(personal_id: str) -> Citizen:
    return Citizen.objects.select_related("current_commune").get(personal_id=personal_id)


def birth_registration(actor: Actor, dossier: Dossier, results: Results) -> tuple[str, Lines, dict[str, Any]]:
    """The child enters the registry and receives a personal ID number, its parents linked; the
    parent's household is recorded for the police's step."""
    home = parent_home(dossier)
    child = population.register_citizen(
        actor, child_raw(dossier), commune=home["commune"], reason=reason_for(dossier)
    )
    parent = dossier.applicant
    result = {
        "child_personal_id": child.personal_id,
        "child_full_name": child.full_name,
        "child_birth_date": child.birth_display,
        "household_number": home["household_number"] or "",
        "relationship": str(home["relationship"]),
        "commune_code": home["commune"].code,
        "address": home["address"],
    }
    return (
        "Trích lục khai sinh",
        [
            *identity(child),
            ("Giới tính", child.get_sex_display()),
            ("Cha/mẹ khai", f"{parent.full_name} ({parent.personal_id})"),
        ],
        result,
    )


def permanent_residence(
    actor: Actor, dossier: Dossier, results: Results
) -> tuple[str, Lines, dict[str, Any]]:
    """The child's permanent residence in the parent's household recorded by the birth step."""
    born = results["birth_registration"]
    child = _citizen(born["child_personal_id"])
    home = parent_home(dossier)  # where the parent lives now (the commune's police decide there)
    reg = residence.register_permanent(
        actor,
        child.personal_id,
        commune=home["commune"],
        address=home["address"],
        started_on=dt.date.fromisoformat(dossier.data["child_birth_date"]),
        reason=reason_for(dossier),
        household_number=home["household_number"],
        relationship=home["relationship"],
    )
    result = {
        "child_personal_id": child.personal_id,
        "address": place(reg),
        "household_number": reg.household.number if reg.household else "",
        "started_on": reg.started_on.isoformat(),
    }
    return (
        "Xác nhận đăng ký thường trú",
        [
            *identity(child),
            ("Nơi thường trú", result["address"]),
            ("Số hộ", result["household_number"]),
        ],
        result,
    )


def death_registration(actor: Actor, dossier: Dossier, results: Results) -> tuple[str, Lines, dict[str, Any]]:
    """The person recorded deceased; the registry's signal locks their e-ID account in the same
    transaction (``eid.receivers``), which the result states."""
    person = dossier.subject or dossier.applicant
    died = dossier.data["death_date"]
    population.correct_citizen(
        actor, person.personal_id, {"life_status": "deceased", "death_date": died}, reason=reason_for(dossier)
    )
    account = EidAccount.objects.filter(citizen_id=person.pk).first()
    result = {
        "personal_id": person.personal_id,
        "full_name": person.full_name,
        "death_date": died,
        "eid_account": "none" if account is None else account.status,
    }
    return (
        "Trích lục khai tử",
        [
            *identity(person),
            ("Ngày chết", died),
            ("Nơi chết", dossier.data.get("death_place", "")),
        ],
        result,
    )


def residence_deletion(actor: Actor, dossier: Dossier, results: Results) -> tuple[str, Lines, dict[str, Any]]:
    person = dossier.subject or dossier.applicant
    died = dt.date.fromisoformat(dossier.data["death_date"])
    permanent = active_registration(person, ResidenceKind.PERMANENT)
    if permanent is None:
        raise DomainError(
            "E_NO_PERMANENT_RESIDENCE", _("Người này không có đăng ký thường trú còn hiệu lực."), "subject"
        )
    reg = residence.end_registration(
        actor,
        permanent.pk,
        ended_on=max(died, permanent.started_on),
        reason=reason_for(dossier),
        end_reason="deceased",
    )
    result = {"personal_id": person.personal_id, "address": place(reg), "ended_on": str(reg.ended_on)}
    return (
        "Xác nhận xóa đăng ký thường trú",
        [
            *identity(person),
            ("Nơi thường trú đã xóa", result["address"]),
            ("Ngày xóa", result["ended_on"]),
        ],
        result,
    )


OFFICER_STEPS: dict[str, StepHandler] = {
    "birth_registration": birth_registration,
    "permanent_residence": permanent_residence,
    "death_registration": death_registration,
    "residence_deletion": residence_deletion,
}


# ---- Steps done by another agency's system -------------------------------------------------


@dataclass(frozen=True)
class AgencyStep:
    agency: str  # the exchange's agency name
    service: str  # the exchange service
    body: Callable[[Dossier, Results], tuple[str, dict[str, Any]]]  # → (personal_id, body)
    purpose: str


def _health_card_body(dossier: Dossier, results: Results) -> tuple[str, dict[str, Any]]:
    """Built from the dossier's data and the birth step's result only: both are fixed before the
    step is first sent, so every retry sends the same request under the same message id (the
    police's residence step runs beside this one and may end between two tries; a body that
    read it changed, and the exchange refused the retry with E_MESSAGE_ID_REUSED)."""
    born = results["birth_registration"]
    return born["child_personal_id"], {
        "personal_id": born["child_personal_id"],
        "full_name": born["child_full_name"],
        "birth_date": dossier.data["child_birth_date"],
        "sex": dossier.data["child_sex"],
        "province_code": dossier.province.code,
        "address": born.get("address", ""),
        "guardian_personal_id": dossier.applicant.personal_id,
    }


def _funeral_body(dossier: Dossier, results: Results) -> tuple[str, dict[str, Any]]:
    person = dossier.subject or dossier.applicant
    payee = dossier.applicant
    data = dossier.data
    body: dict[str, Any] = {
        "personal_id": person.personal_id,
        "full_name": person.full_name,
        "death_date": data["death_date"],
        "payee": {
            "personal_id": payee.personal_id,
            "full_name": payee.full_name,
            "relationship": data.get("payee_relationship", "other"),
        },
    }
    if data.get("payee_bank_account"):
        body["payee"]["bank_account"] = data["payee_bank_account"]
    return person.personal_id, body


AGENCY_STEPS: dict[str, AgencyStep] = {
    "health_card": AgencyStep(
        "social-insurance",
        "health_card.issue",
        _health_card_body,
        "Liên thông cấp thẻ BHYT cho trẻ dưới 6 tuổi (Nghị định 63/2024)",
    ),
    "funeral_allowance": AgencyStep(
        "social-insurance",
        "funeral_allowance.decide",
        _funeral_body,
        "Liên thông giải quyết mai táng phí, trợ cấp tuất (Nghị định 63/2024)",
    ),
}
