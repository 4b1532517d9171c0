"""Reads of the citizen record, always through the actor's area; reads of a person's page
are audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.core.text import search_key
from dancu.geo.selectors import unit_by_pk
from dancu.population.models import Citizen


def visible_citizens(actor: Actor) -> QuerySet[Citizen]:
    qs = Citizen.objects.all()
    if actor.is_national:
        return qs
    if actor.jurisdiction_level == "commune":
        return qs.filter(current_commune_id=actor.jurisdiction_id)
    return qs.filter(current_province_id=actor.jurisdiction_id)


def get_citizen(actor: Actor, personal_id: str, *, reason: str = "",
                action: str = "citizen.view") -> Citizen:
    """One person, if in the actor's area. Audited, including refusals."""
    # One single-table query; the units come from the per-process cache (no 4-way join).
    # The relatives' ID numbers come along (three PK self-joins) as father_pid, mother_pid, spouse_pid.
    citizen = (Citizen.objects.filter(personal_id=personal_id).order_by()
               .annotate(father_pid=F("father__personal_id"), mother_pid=F("mother__personal_id"),
                         spouse_pid=F("spouse__personal_id")).first())
    if citizen is not None:
        for field in ("birth_registration_unit", "origin_unit", "current_commune", "current_province"):
            unit_id = getattr(citizen, f"{field}_id")
            if unit_id is not None:
                setattr(citizen, field, unit_by_pk(unit_id))
    if citizen is None:
        audit.record(actor, f"{action}.not_found", subject_type="citizen", subject_id=personal_id,
                     reason=reason)
        raise NotFound("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), "personal_id")
    if not actor.covers(citizen.current_commune_id, citizen.current_province_id):
        audit.record(actor, f"{action}.denied", subject_type="citizen", subject_id=citizen.pk,
                     personal_id=personal_id, reason=reason)
        raise OutOfJurisdiction("E_JURISDICTION", _("Công dân này ngoài địa bàn của bạn."),
                                "personal_id")
    audit.record(actor, action, subject_type="citizen", subject_id=citizen.pk,
                 personal_id=personal_id, reason=reason)
    return citizen


def name_matches(text: str) -> Q:
    """How officers look people up by name (accents and case ignored):

    - one word: a family name starting with it ('nguy'), or that given name ('an');
    - several words: the full name starting with them ('nguyen van a'), or the first word as
      the family name and the last as the given name, middle names free ('nguyen an' finds
      'Nguyễn Văn An', not 'Nguyễn Văn Anh').

    Each branch is a range scan of a B-tree index: (name_key, birth_year) and
    (given_key, birth_year, name_key), so a birth year narrows inside the index."""
    words = search_key(text).split()
    first, last = words[0], words[-1]
    if len(words) == 1:
        return Q(name_key__startswith=first) | Q(given_key=first)
    return Q(name_key__startswith=" ".join(words)) | (
        Q(given_key=last) & Q(name_key__startswith=f"{first} "))


@dataclass
class SearchPage:
    results: list[Citizen]
    page: int
    page_size: int
    has_next: bool


def search_citizens(actor: Actor, *, query: str, birth_year: int | None = None,
                    commune_id: int | None = None, page: int = 1, page_size: int = 25,
                    reason: str = "") -> SearchPage:
    """By ID number (12 digits), old ID number (9 digits) or name without diacritics
    (``name_matches``), narrowed by birth year and commune. Audited as one search event."""
    text = (query or "").strip()
    if not text:
        raise DomainError("E_QUERY_REQUIRED", _("Nhập số định danh hoặc họ tên."), "q")
    page = max(1, page)
    qs = visible_citizens(actor)
    if text.isdigit():
        qs = qs.filter(personal_id=text) if len(text) == 12 else qs.filter(old_id_number=text)
    else:
        qs = qs.filter(name_matches(text))
    if birth_year:
        qs = qs.filter(birth_year=birth_year)
    if commune_id:
        qs = qs.filter(current_commune_id=commune_id)
    offset = (page - 1) * page_size
    rows = list(qs.select_related("current_commune").order_by("name_key", "personal_id")
                [offset:offset + page_size + 1])
    audit.record(actor, "citizen.search", subject_type="search",
                 reason=reason, details={"q": text, "birth_year": birth_year,
                                       "commune_id": commune_id, "page": page,
                                       "results": [c.personal_id for c in rows[:page_size]]})
    return SearchPage(rows[:page_size], page, page_size, len(rows) > page_size)


def family_of(citizen: Citizen) -> dict[str, list[Citizen]]:
    children = list(Citizen.objects.filter(Q(father=citizen) | Q(mother=citizen))
                    .order_by("birth_year"))
    return {"children": children}
