"""Reads of the citizen record, always through the actor's area; reads of a person's page
are audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When, Window
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.core.pg import fetchone_prepared
from dancu.core.reference import ETHNICITIES, RELIGIONS
from dancu.core.text import nfc, search_key
from dancu.geo.selectors import unit_by_pk
from dancu.population.models import Citizen
from dancu.population.validation import format_partial_date

_PLACE = {"commune": "current_commune_id", "province": "current_province_id"}  # a person's place


def visible_citizens(actor: Actor) -> QuerySet[Citizen]:
    return Citizen.objects.filter(actor.area.q(**_PLACE))


def get_citizen(actor: Actor, personal_id: str, *, reason: str = "",
                action: str = "citizen.view") -> Citizen:
    """One person, if in the actor's area. Audited, including refusals."""
    # One single-table query; the units come from the per-process cache (no 4-way join).
    # The relatives' ID numbers come along (three PK self-joins) as father_pid, mother_pid, spouse_pid.
    citizen = (Citizen.objects.filter(personal_id=personal_id).order_by()
               .annotate(father_pid=F("father__personal_id"), mother_pid=F("mother__personal_id"),
                         spouse_pid=F("spouse__personal_id")).first())
    if citizen is None:
        audit.record(actor, f"{action}.not_found", subject_type="citizen", subject_id=personal_id,
                     reason=reason)
        raise NotFound("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), "personal_id")
    if not actor.covers(citizen.current_commune_id, citizen.current_province_id):
        denied = OutOfJurisdiction("E_JURISDICTION", _("Công dân này ngoài địa bàn của bạn."),
                                   "personal_id")
        audit.record_refusal(actor, action, denied, subject_type="citizen", subject_id=citizen.pk,
                             personal_id=personal_id, reason=reason)
        raise denied
    _attach_units(citizen)
    audit.record(actor, action, subject_type="citizen", subject_id=citizen.pk,
                 personal_id=personal_id, reason=reason)
    return citizen


def _attach_units(citizen: Citizen) -> None:
    """The record's units from the per-process cache (no join)."""
    for field in ("birth_registration_unit", "origin_unit", "current_commune", "current_province"):
        unit_id = getattr(citizen, f"{field}_id")
        if unit_id is not None:
            setattr(citizen, field, unit_by_pk(unit_id))


# ---- The look-up of one person by a relying party (API) ---------------------------------------

def _unit_columns(fk: str, key: str) -> str:
    return (f"(SELECT u.code_system || ':' || u.code FROM geo_adminunit u WHERE u.id = c.{fk}) "  # noqa: S608
            f"AS {key}_code, (SELECT u.name FROM geo_adminunit u WHERE u.id = c.{fk}) AS {key}_name")


def _relative_column(fk: str, key: str) -> str:
    return f"(SELECT r.personal_id FROM population_citizen r WHERE r.id = c.{fk}) AS {key}"  # noqa: S608


# The look-up's row: the record, its units' qualified codes and names, the relatives' ID numbers.
# Scalar subqueries rather than seven joins: PostgreSQL plans them in a fraction of the time.
_LOOKUP_COLUMNS = ", ".join((
    "c.id", "c.personal_id", "c.full_name", "c.birth_year", "c.birth_month", "c.birth_day",
    "c.sex", "c.ethnicity", "c.religion", "c.nationality",
    _unit_columns("birth_registration_unit_id", "birth_registration_unit"),
    _unit_columns("origin_unit_id", "origin_unit"),
    "c.marital_status", "c.life_status", "c.death_date", "c.old_id_number",
    _relative_column("father_id", "father_pid"), _relative_column("mother_id", "mother_pid"),
    _relative_column("spouse_id", "spouse_pid"),
    _unit_columns("current_commune_id", "current_commune"),
    _unit_columns("current_province_id", "current_province"),
    "c.version", "c.updated_at"))
_LOOKUP_KEYS = (
    "id", "personal_id", "full_name", "birth_year", "birth_month", "birth_day", "sex", "ethnicity",
    "religion", "nationality", "birth_registration_unit_code", "birth_registration_unit_name",
    "origin_unit_code", "origin_unit_name", "marital_status", "life_status", "death_date",
    "old_id_number", "father_pid", "mother_pid", "spouse_pid", "current_commune_code",
    "current_commune_name", "current_province_code", "current_province_name", "version",
    "updated_at")
# The actor's area (Actor.area: the one rule), as a condition on the row's columns.
_PLACE_COLUMNS = {"commune": "c.current_commune_id", "province": "c.current_province_id"}


def _select(area_sql: str) -> str:
    return f"SELECT {_LOOKUP_COLUMNS} FROM population_citizen c WHERE c.personal_id = %s AND {area_sql}"  # noqa: S608


_AUDIT_COLUMNS = ("at", "actor_id", "actor_label", "action", "source", "source_ref", "reason",
                  "subject_type", "ip")  # given as parameters, in this order
# PostgreSQL: the read and its audit row in ONE statement. The INSERT takes its rows from the
# read, so an event is written exactly when the person is returned, in the same transaction.
_PG_AUDIT = (
    "INSERT INTO audit_auditevent (at, actor_id, actor_label, action, source, source_ref, reason, "
    "subject_type, ip, subject_id, personal_id, before, after, details) "
    "SELECT %s::timestamptz, %s::bigint, %s, %s, %s, %s, %s, %s, %s::inet, "
    "c.id::text, c.personal_id, NULL, NULL, NULL FROM c")


@lru_cache(maxsize=8)  # one text per kind of area: each is a prepared statement of its own
def _pg_lookup(area_sql: str) -> str:
    return f"WITH c AS ({_select(area_sql)}), a AS ({_PG_AUDIT}) SELECT {', '.join(_LOOKUP_KEYS)} FROM c"  # noqa: S608


def lookup_citizen_document(actor: Actor, personal_id: str, *, reason: str = "",
                            action: str = "citizen.view") -> dict[str, Any] | None:
    """The happy path of a relying party's look-up: the person's identity document (the API's
    ``CitizenOut``) if ``personal_id`` exists and lies in the actor's area, after writing the
    audit event ``get_citizen`` would write (``action``, subject the citizen, ``reason``).

    None when the person is unknown or outside the area — and then nothing was written: the
    caller falls back to ``get_citizen``, which raises the right error and audits the refusal.

    On PostgreSQL the read and the audit INSERT are ONE statement (a data-modifying CTE):
    atomic on its own, in autocommit as inside the caller's transaction, and nothing touches
    the database after it. It is a prepared statement (planned once per connection).
    Elsewhere (SQLite) the read and ``audit.record`` run in one transaction."""
    area, area_params = actor.area.sql(**_PLACE_COLUMNS)
    if connection.vendor == "postgresql":
        # The values audit.services.record writes (same truncations); subject_id and
        # personal_id come from the row.
        event = audit.event_fields(actor, action, "citizen", "", personal_id, None, None, reason)
        params = [personal_id, *area_params, *(event[col] for col in _AUDIT_COLUMNS)]
        if connection.in_atomic_block:  # a savepoint: a failure leaves the caller's transaction usable
            with transaction.atomic():
                row = fetchone_prepared(_pg_lookup(area), params)
        else:  # autocommit (the API): the statement is its own transaction, no BEGIN/COMMIT trips
            row = fetchone_prepared(_pg_lookup(area), params)
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_select(area), [personal_id, *area_params])
            row = cursor.fetchone()
            if row is not None:
                audit.record(actor, action, subject_type="citizen", subject_id=row[0],
                             personal_id=personal_id, reason=reason)
    if row is None:
        return None
    v = dict(zip(_LOOKUP_KEYS, row, strict=True))
    for key in ("birth_registration_unit", "origin_unit", "current_commune", "current_province"):
        code, name = v.pop(f"{key}_code"), v.pop(f"{key}_name")
        v[key] = (code, name) if code is not None else None
    return citizen_document(v)



def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite through a plain cursor
        value = parse_datetime(value)
    return timezone.make_aware(value, dt.UTC) if timezone.is_naive(value) else value


def _code_name(unit: tuple[str, str] | None) -> dict[str, str] | None:
    return {"code": unit[0], "name": unit[1]} if unit is not None else None


def citizen_document(v: Mapping[str, Any]) -> dict[str, Any]:
    """The identity document of the API look-up (``population.api.CitizenOut``, same keys in the
    same order) from the record's values; units as ``(qualified code, name)`` or None,
    relatives as ``father_pid``/``mother_pid``/``spouse_pid``."""
    day, month = v["birth_day"], v["birth_month"]
    death_date = v["death_date"]
    return {
        "personal_id": v["personal_id"],
        "full_name": v["full_name"],
        "birth_date": format_partial_date(v["birth_year"], month, day),
        "birth_date_precision": "day" if day else "month" if month else "year",
        "sex": v["sex"],
        "ethnicity": {"code": v["ethnicity"], "name": ETHNICITIES.get(v["ethnicity"], "")},
        "religion": {"code": v["religion"], "name": RELIGIONS.get(v["religion"], "")},
        "nationality": v["nationality"],
        "birth_registration_unit": _code_name(v["birth_registration_unit"]),
        "origin_unit": _code_name(v["origin_unit"]),
        "marital_status": v["marital_status"],
        "life_status": v["life_status"],
        "death_date": parse_date(death_date) if isinstance(death_date, str) else death_date,
        "old_id_number": v["old_id_number"],
        "father_personal_id": v["father_pid"],
        "mother_personal_id": v["mother_pid"],
        "spouse_personal_id": v["spouse_pid"],
        "current_commune": _code_name(v["current_commune"]),
        "current_province": _code_name(v["current_province"]),
        "version": v["version"],
        "updated_at": _utc(v["updated_at"]),
    }


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


def get_citizen_for_arrival(actor: Actor, personal_id: str, *, reason: str = "") -> Citizen:
    """A person arriving in the actor's area: the commune police registering someone's permanent
    or temporary residence or stay may read them wherever they live now (the person presents
    their card at the counter). Only for writers; audited as ``citizen.view.arrival``. Everyone
    else, and people already in the area, go through ``get_citizen``."""
    if actor.can_write and not actor.is_national:
        citizen = Citizen.objects.filter(personal_id=personal_id).first()
        if citizen is not None and not actor.covers(citizen.current_commune_id,
                                                    citizen.current_province_id):
            audit.record(actor, "citizen.view.arrival", subject_type="citizen", subject_id=citizen.pk,
                         personal_id=personal_id, reason=reason)
            return citizen
    return get_citizen(actor, personal_id, reason=reason)


def own_record(actor: Actor, personal_id: str) -> Citizen:
    """The person's own record, read by that person (e-ID self-service): no jurisdiction applies,
    the actor must be the citizen named ``citizen:<personal_id>``. Audited as
    ``citizen.view.self``."""
    if actor.source != "citizen" or actor.label != f"citizen:{personal_id}":
        raise OutOfJurisdiction("E_NOT_OWN_RECORD", _("Chỉ được xem thông tin của chính mình."),
                                "personal_id")
    citizen = Citizen.objects.filter(personal_id=personal_id).first()
    if citizen is None:
        raise NotFound("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), "personal_id")
    _attach_units(citizen)
    audit.record(actor, "citizen.view.self", subject_type="citizen", subject_id=citizen.pk,
                 personal_id=personal_id, reason=_("Công dân xem thông tin của mình"))
    return citizen


@dataclass
class SearchPage:
    results: list[Citizen]
    page: int
    page_size: int
    has_next: bool
    count: int = 0  # results over all pages


# The deepest page of a search (console and API): further, narrow the search. A bound the
# database can take too (a page of 10^20 was "bigint out of range" on PostgreSQL).
MAX_PAGE = 1000


def search_citizens(actor: Actor, *, query: str, birth_year: int | None = None,
                    commune_id: int | None = None, page: int = 1, page_size: int = 25,
                    reason: str = "") -> SearchPage:
    """By ID number (12 digits), old ID number (9 digits) or name without diacritics
    (``name_matches``), narrowed by birth year and commune. Audited as one search event.

    Exact matches come first: the full name as typed (diacritics included; as typed or in title
    case), then the whole name equal to the query without diacritics, then the prefix and
    family + given name matches, by name (an ID number is always an exact match).
    The ranking is a sort key over the same B-tree range scans, not another search, and the
    count a window over the rows the sort reads anyway (``COUNT(*) OVER ()``): one statement."""
    text = (query or "").strip()
    if not text:
        raise DomainError("E_QUERY_REQUIRED", _("Nhập số định danh hoặc họ tên."), "q")
    page = max(1, page)
    if page > MAX_PAGE:
        raise DomainError("E_PAGE_TOO_FAR", _("Chỉ xem được tới trang %(max)d; hãy thu hẹp tìm kiếm.")
                          % {"max": MAX_PAGE}, "page")
    qs = visible_citizens(actor)
    if text.isdigit():
        qs = qs.filter(personal_id=text) if len(text) == 12 else qs.filter(old_id_number=text)
        exact: tuple[Q, Q] | None = None
    else:
        qs = qs.filter(name_matches(text))
        typed = " ".join(nfc(text).split())
        exact = (Q(full_name__in=sorted({typed, typed.title()})),  # as written, diacritics too
                 Q(name_key=" ".join(search_key(text).split())))  # the whole name, without them
    if birth_year:
        qs = qs.filter(birth_year=birth_year)
    if commune_id:
        qs = qs.filter(current_commune_id=commune_id)
    offset = (page - 1) * page_size
    # No join for the commune: units come from the per-process cache (a join hashed the whole
    # unit table, 14,000 rows, for every search).
    ordered = qs
    if exact is not None:
        rank = Case(When(exact[0], then=Value(0)), When(exact[1], then=Value(1)), default=Value(2),
                    output_field=IntegerField())
        ordered = ordered.annotate(rank=rank).order_by("rank", "name_key", "personal_id")
    else:
        ordered = ordered.order_by("name_key", "personal_id")
    rows: list[Citizen] = list(ordered.annotate(total=Window(Count("pk")))[offset:offset + page_size + 1])
    for c in rows:
        c.current_commune = unit_by_pk(c.current_commune_id) if c.current_commune_id else None
    has_next = len(rows) > page_size
    # past the end, no row carries the window's total: count apart
    count = rows[0].total if rows else (qs.order_by().count() if offset else 0)  # type: ignore[attr-defined]
    audit.record(actor, "citizen.search", subject_type="search",
                 reason=reason, details={"q": text, "birth_year": birth_year,
                                       "commune_id": commune_id, "page": page,
                                       "results": [c.personal_id for c in rows[:page_size]]})
    return SearchPage(rows[:page_size], page, page_size, has_next, count=count)


def family_of(citizen: Citizen) -> dict[str, list[Citizen]]:
    children = list(Citizen.objects.filter(Q(father=citizen) | Q(mother=citizen))
                    .order_by("birth_year"))
    return {"children": children}


# ---- Identity match (e-ID registration, eKYC) ---------------------------------------------------

@dataclass(frozen=True)
class IdentityCheck:
    """``status``: "match", "no_match" (unknown ID number, or name/date of birth differ — the two
    are deliberately not told apart), "deceased" or "missing"."""

    status: str
    citizen: Citizen | None = None


def check_identity(personal_id: str, full_name: str, birth_date: dt.date) -> IdentityCheck:
    """Does this ID number, name and date of birth match one person of the registry?

    The name must be the registered name (Unicode NFC, case and spacing ignored, diacritics
    significant). A registered partial date of birth (year, or month and year) matches on the
    parts it has. Not audited here: the caller records the check with its own actor and purpose.
    """
    citizen = Citizen.objects.filter(personal_id=personal_id).first()
    if citizen is None:
        return IdentityCheck("no_match")
    if nfc(full_name).casefold() != nfc(citizen.full_name).casefold():
        return IdentityCheck("no_match")
    known = (citizen.birth_year, citizen.birth_month, citizen.birth_day)
    declared = (birth_date.year, birth_date.month, birth_date.day)
    if any(k is not None and k != d for k, d in zip(known, declared, strict=True)):
        return IdentityCheck("no_match")
    if citizen.life_status != "living":
        return IdentityCheck(citizen.life_status, citizen)
    return IdentityCheck("match", citizen)


# ---- Counts for the figures (kpi) ---------------------------------------------------------------


def aged_at_least(years: int, on: dt.date) -> Q:
    """Citizens who are ``years`` old or more on ``on``; a partial birth date counts from the
    first day it may be (a year alone: 1 January)."""
    y = on.year - years
    same_month = Q(birth_month=on.month) & (Q(birth_day__isnull=True) | Q(birth_day__lte=on.day))
    return Q(birth_year__lt=y) | Q(birth_year=y) & (
        Q(birth_month__isnull=True) | Q(birth_month__lt=on.month) | same_month)


def living_by_commune(on: dt.date, *, eligible_age: int) -> dict[tuple[int, int], dict[str, int]]:
    """(current commune, province) → {"alive": living citizens, "eligible": of them aged
    ``eligible_age`` or more on ``on``}: one grouped query (people with no place are left out).
    Counts only, no personal data: not audited."""
    rows = (Citizen.objects.filter(life_status="living", current_commune__isnull=False)
            .values("current_commune_id", "current_province_id").order_by()
            .annotate(alive=Count("id"), eligible=Count("id", filter=aged_at_least(eligible_age, on)))
            .values_list("current_commune_id", "current_province_id", "alive", "eligible"))
    return {(c, p): {"alive": a, "eligible": e} for c, p, a, e in rows}
