"""Population API: citizen look-up by ID number, search, change history.

Handlers stay thin: check the parameters' shape, call a selector with the caller's ``Actor``
(``request.auth``, set by ``dancu.accounts.auth.TokenAuth``), render. Jurisdiction and the
audit of each read are the selectors' business, exactly as in the console.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Header, Query, Router, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from dancu.accounts.actor import Actor
from dancu.audit.selectors import history_of
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population import domain
from dancu.population.models import Citizen
from dancu.population.selectors import (
    MAX_PAGE,
    citizen_document,
    get_citizen,
    lookup_citizen_document,
    search_citizens,
)
from dancu.population.services import resolve_unit
from dancu.population.validation import format_partial_date

router = Router(tags=["citizens"])

MAX_PAGE_SIZE = 100
PURPOSE_MAX = 500


class InvalidParameter(DomainError):
    """A request parameter of the wrong shape (HTTP 422), named by ``field``."""

    status = 422


# ---- Schemas -------------------------------------------------------------------------------

class ErrorOut(Schema):
    code: str
    field: str | None = None
    message: str


class CodeName(Schema):
    code: str
    name: str


class UnitOut(Schema):
    code: str  # qualified: "2025:00097", "legacy:38"
    name: str


class CitizenOut(Schema):
    personal_id: str
    full_name: str
    birth_date: str  # "1990-05-17", "1990-05" or "1990" (partial dates are allowed)
    birth_date_precision: str  # day | month | year
    sex: str  # M | F
    ethnicity: CodeName
    religion: CodeName
    nationality: str  # ISO 3166-1 alpha-2
    birth_registration_unit: UnitOut
    origin_unit: UnitOut | None
    marital_status: str  # unknown | single | married | divorced | widowed
    life_status: str  # living | deceased | missing
    death_date: dt.date | None
    old_id_number: str | None
    father_personal_id: str | None
    mother_personal_id: str | None
    spouse_personal_id: str | None
    current_commune: UnitOut | None
    current_province: UnitOut | None
    version: int
    updated_at: dt.datetime


class CitizenSummary(Schema):
    personal_id: str
    full_name: str
    birth_date: str
    sex: str
    current_commune: UnitOut | None


class CitizenPage(Schema):
    items: list[CitizenSummary]
    page: int
    page_size: int
    has_next: bool


class HistoryEvent(Schema):
    at: dt.datetime
    action: str
    source: str
    actor: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryPage(Schema):
    personal_id: str
    items: list[HistoryEvent]
    page: int
    page_size: int
    has_next: bool


ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   422: ErrorOut}

# The OpenAPI document states the ID number's shape; the one check stays
# ``domain.check_personal_id`` (422 E_ID_NUMBER_FORMAT), so the declaration only documents it.
PersonalId = Annotated[str, WithJsonSchema({
    "type": "string", "pattern": r"^[0-9]{12}$", "minLength": 12, "maxLength": 12,
    "description": "Personal identification number: 12 digits"})]


def _iso_date_text(value: Any) -> Any:
    """A date only as ``YYYY-MM-DD`` text: pydantic would also take 0 or "1700000000" (seconds
    since 1970), which no caller means."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be a date as YYYY-MM-DD")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_text)]



# ---- Helpers shared with the residence router ---------------------------------------------

def actor_of(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined]


def checked_personal_id(personal_id: str) -> str:
    """The path's ID number, refused before any query when it is not 12 digits."""
    errors = [e for e in domain.check_personal_id(personal_id) if e.code == "E_ID_NUMBER_FORMAT"]
    if errors:
        raise InvalidParameter.many(errors)
    return personal_id


def purpose_of(purpose: str | None, header: str | None) -> str:
    """The stated purpose of a read (audited as its reason): the ``purpose`` query parameter,
    else the ``X-Purpose`` header (UTF-8, raw or percent-encoded)."""
    text = purpose if purpose else _header_text(header or "")
    text = " ".join(text.split())
    if len(text) > PURPOSE_MAX:
        raise InvalidParameter("E_INVALID_INPUT", _("Chuỗi quá dài."), "purpose")
    return text


def _header_text(value: str) -> str:
    # WSGI hands headers over as latin-1; a client sending raw UTF-8 is repaired here.
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("latin-1").decode("utf-8")
    return unquote(value) if "%" in value else value


def unit_out(unit: AdminUnit | None) -> dict[str, str] | None:
    return {"code": unit.qualified_code, "name": unit.name} if unit is not None else None


_DOCUMENT_FIELDS = ("personal_id", "full_name", "birth_year", "birth_month", "birth_day", "sex",
                    "ethnicity", "religion", "nationality", "marital_status", "life_status",
                    "death_date", "old_id_number", "version", "updated_at")
_DOCUMENT_UNITS = ("birth_registration_unit", "origin_unit", "current_commune", "current_province")


def citizen_out(c: Citizen) -> dict[str, Any]:
    """``CitizenOut`` of a loaded record: the same builder as the look-up's happy path
    (``population.selectors.citizen_document``). ``c`` comes from ``get_citizen``, which
    annotates the relatives' ID numbers (father_pid, mother_pid, spouse_pid)."""
    units = {}
    for name in _DOCUMENT_UNITS:
        unit = getattr(c, name)
        units[name] = (unit.qualified_code, unit.name) if unit is not None else None
    return citizen_document({**{name: getattr(c, name) for name in _DOCUMENT_FIELDS}, **units,
                             "father_pid": c.father_pid, "mother_pid": c.mother_pid,  # type: ignore[attr-defined]
                             "spouse_pid": c.spouse_pid})  # type: ignore[attr-defined]


_ENCODER = NinjaJSONEncoder()


def citizen_json(document: dict[str, Any]) -> bytes:
    """The response body ninja renders for ``CitizenOut`` (same encoder, same bytes): used by the
    WSGI fast lane (``dancu.api_fastlane``), which skips ninja."""
    return _ENCODER.encode(document).encode()


def _commune_filter(commune: str | None) -> int | None:
    if not commune:
        return None
    unit = resolve_unit(commune.strip())
    if unit is None or unit.code_system != CodeSystem.V2025 or unit.level != Level.COMMUNE:
        raise InvalidParameter("E_UNIT_UNKNOWN",
                               _("Không có xã/phường mã %(code)s (dạng 2025:xxxxx).")
                               % {"code": commune}, "commune")
    return unit.pk


# ---- Endpoints -----------------------------------------------------------------------------

@router.get("/citizens/{personal_id}", response={200: CitizenOut, **ERRORS},
            summary="Look up a citizen by personal ID number", operation_id="citizen_get")
def citizen_get(request: HttpRequest, personal_id: PersonalId,
                purpose: str | None = Query(None, description="Why this read is needed (audited)"),
                x_purpose: str | None = Header(None, alias="X-Purpose",
                                               description="Alternative to `purpose`")
                ) -> dict[str, Any]:
    """Identity record of one person in the caller's area. Every call, refused or not, leaves
    an audit event with the stated purpose."""
    checked_personal_id(personal_id)
    actor, reason = actor_of(request), purpose_of(purpose, x_purpose)
    document = lookup_citizen_document(actor, personal_id, reason=reason)
    if document is None:  # unknown or out of area: the full path raises and audits the refusal
        document = citizen_out(get_citizen(actor, personal_id, reason=reason))
    return document


@router.get("/citizens", response={200: CitizenPage, **ERRORS},
            summary="Search citizens by name (diacritics optional) or ID number",
            operation_id="citizen_search")
def citizen_search(
        request: HttpRequest,
        q: str = Query(..., min_length=1, max_length=150,
                       description="ID number (12 digits), old ID (9 digits) or full name"),
        birth_year: int | None = Query(None, ge=1850, le=2400),
        commune: str | None = Query(None, max_length=20, description="2025 commune, e.g. 2025:00097"),
        page: int = Query(1, ge=1, le=MAX_PAGE),
        page_size: int | None = Query(None, ge=1, le=MAX_PAGE_SIZE),
        purpose: str | None = Query(None, description="Why this search is needed (audited)"),
        x_purpose: str | None = Header(None, alias="X-Purpose")) -> dict[str, Any]:
    """People in the caller's area only. One audit event per search, with the IDs returned."""
    result = search_citizens(
        actor_of(request), query=q, birth_year=birth_year, commune_id=_commune_filter(commune),
        page=page, page_size=page_size or settings.DANCU_PAGE_SIZE,
        reason=purpose_of(purpose, x_purpose))
    return {
        "items": [{"personal_id": c.personal_id, "full_name": c.full_name,
                   "birth_date": format_partial_date(c.birth_year, c.birth_month, c.birth_day),
                   "sex": c.sex, "current_commune": unit_out(c.current_commune)}
                  for c in result.results],
        "page": result.page, "page_size": result.page_size, "has_next": result.has_next,
    }


@router.get("/citizens/{personal_id}/history", response={200: HistoryPage, **ERRORS},
            summary="Versioned change history of a citizen's records",
            operation_id="citizen_history")
def citizen_history(request: HttpRequest, personal_id: PersonalId,
                    page: int = Query(1, ge=1, le=MAX_PAGE),
                    page_size: int | None = Query(None, ge=1, le=MAX_PAGE_SIZE),
                    purpose: str | None = Query(None),
                    x_purpose: str | None = Header(None, alias="X-Purpose")) -> dict[str, Any]:
    """Each change (before/after) to the person's records, newest first."""
    checked_personal_id(personal_id)
    get_citizen(actor_of(request), personal_id, reason=purpose_of(purpose, x_purpose),
                action="citizen.history.view")
    size = page_size or settings.DANCU_PAGE_SIZE
    offset = (page - 1) * size
    events = list(history_of(personal_id)[offset:offset + size + 1])
    return {
        "personal_id": personal_id,
        "items": [{"at": e.at, "action": e.action, "source": e.source, "actor": e.actor_label,
                   "reason": e.reason, "before": e.before, "after": e.after}
                  for e in events[:size]],
        "page": page, "page_size": size, "has_next": len(events) > size,
    }
