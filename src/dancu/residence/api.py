"""Residence API: a person's residence history (permanent, temporary, absence, stay).

The read is allowed and audited by ``population.selectors.get_citizen`` (action
``citizen.residences.view``), so the caller's area applies as for the identity record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, Query, Router, Schema

from dancu.population.api import (
    ERRORS,
    PersonalId,
    UnitOut,
    actor_of,
    checked_personal_id,
    purpose_of,
    unit_out,
)
from dancu.population.selectors import get_citizen
from dancu.residence.models import Registration
from dancu.residence.selectors import residence_history

router = Router(tags=["residence"])


class RegistrationOut(Schema):
    id: int
    kind: str  # permanent | temporary | absence | stay
    commune: UnitOut
    address: str
    household: str | None  # household number
    started_on: dt.date
    expires_on: dt.date | None
    ended_on: dt.date | None
    end_reason: str
    absence_case: str
    destination: str
    active: bool  # not ended and not expired today


class ResidenceHistoryOut(Schema):
    personal_id: str
    items: list[RegistrationOut]


def registration_out(r: Registration, today: dt.date) -> dict[str, Any]:
    return {
        "id": r.pk, "kind": r.kind, "commune": unit_out(r.commune), "address": r.address,
        "household": r.household.number if r.household is not None else None,
        "started_on": r.started_on, "expires_on": r.expires_on, "ended_on": r.ended_on,
        "end_reason": r.end_reason, "absence_case": r.absence_case, "destination": r.destination,
        "active": r.ended_on is None and (r.expires_on is None or r.expires_on >= today),
    }


@router.get("/citizens/{personal_id}/residences", response={200: ResidenceHistoryOut, **ERRORS},
            summary="Residence history of a citizen", operation_id="citizen_residences")
def citizen_residences(request: HttpRequest, personal_id: PersonalId,
                       purpose: str | None = Query(None, description="Why (audited)"),
                       x_purpose: str | None = Header(None, alias="X-Purpose")) -> dict[str, Any]:
    """All registrations, newest first, ended ones included."""
    checked_personal_id(personal_id)
    citizen = get_citizen(actor_of(request), personal_id, reason=purpose_of(purpose, x_purpose),
                          action="citizen.residences.view")
    today = timezone.localdate()
    return {"personal_id": citizen.personal_id,
            "items": [registration_out(r, today) for r in residence_history(citizen)]}
