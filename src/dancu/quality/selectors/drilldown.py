"""The records behind a count of the data-quality report: the drill-down, live.

The drill-down lists people, so it is a personal-data read and every person shown or exported
gets an audit event (``quality.drilldown.view`` / ``.export``). It reads the citizen (household,
registration) tables directly with the check's condition (``quality.checks``): the report's
counts come from tallies and carry their freshness, the list is always today's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound
from dancu.core.text import search_key
from dancu.geo.models import AdminUnit, Level
from dancu.population import domain
from dancu.population.models import Citizen
from dancu.population.validation import format_partial_date
from dancu.quality.checks import BY_CODE, HOUSEHOLD, MIN_PARENT_GAP_YEARS, REGISTRATION, Check
from dancu.quality.selectors.scope import (
    _actor_covers_unit,
    _citizens_in,
    _commune_rows_in,
    _denied,
    _jurisdiction,
    _unit_from_code,
)
from dancu.residence.models import Household, Registration

DRILLDOWN_PAGE_SIZE = 50
EXPORT_AUDIT_CHUNK = 500


@dataclass
class DrillRow:
    personal_id: str
    full_name: str
    birth_date: str
    commune: str
    code: str
    detail: str


@dataclass
class DrillPage:
    check: Check
    unit: AdminUnit | None
    rows: list[DrillRow]
    page: int
    page_size: int
    count: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def get_check(code: str) -> Check:
    check = BY_CODE.get((code or "").upper())
    if check is None:
        raise NotFound("E_CHECK_UNKNOWN", _("Không có phép kiểm tra mã %(code)s.") % {"code": code},
                       "check")
    return check


def drill_unit(actor: Actor, unit_code: str | None, action: str) -> AdminUnit | None:
    """The unit of a drill-down: the one asked (within the actor's area), else the actor's area."""
    if not unit_code:
        return _jurisdiction(actor)
    unit = _unit_from_code(unit_code, "unit")
    if unit.level not in (Level.COMMUNE, Level.PROVINCE):
        raise DomainError("E_UNIT_LEVEL", _("Cần mã tỉnh hoặc xã/phường (2025)."), "unit")
    if not _actor_covers_unit(actor, unit):
        raise _denied(actor, action, unit)
    return unit


def _failing(actor: Actor, check: Check, unit: AdminUnit | None, today: dt.date) -> QuerySet[Any]:
    """The rows failing ``check`` in ``unit``, in a stable order, ready for ``_row``."""
    cond = check.condition(today)
    if check.source == HOUSEHOLD:
        return (_commune_rows_in(Household, actor, unit).filter(cond)
                .select_related("head", "commune").order_by("number"))
    if check.source == REGISTRATION:
        return (_commune_rows_in(Registration, actor, unit).filter(cond)
                .select_related("citizen", "commune").order_by("expires_on", "pk"))
    qs = (_citizens_in(actor, unit).filter(cond)
          .select_related("current_commune", "father", "mother"))
    if check.code == "Q_DUPLICATE":
        same = Citizen.objects.filter(
            name_key=OuterRef("name_key"), birth_year=OuterRef("birth_year")).filter(
            *(Exact(Coalesce(F(f), 0), Coalesce(OuterRef(f), 0))
              for f in ("birth_month", "birth_day", "father_id", "mother_id")))
        size = same.order_by().values("name_key").annotate(n=Count("pk")).values("n")[:1]
        return qs.annotate(group_size=Subquery(size)).order_by(
            "name_key", "birth_year", "birth_month", "birth_day", "father_id", "mother_id", "personal_id")
    return qs.order_by("personal_id")


def _detail(check: Check, c: Citizen, today: dt.date) -> str:
    code = check.code
    if code == "Q_MINOR_NO_PARENT":
        return str(_("Sinh %(birth)s; chưa có cha/mẹ trong hồ sơ.") % {"birth": c.birth_display})
    if code == "Q_ID_FORMAT":
        return str(_("Số định danh “%(pid)s” (%(n)s ký tự).") % {"pid": c.personal_id,
                                                               "n": len(c.personal_id)})
    if code == "Q_ID_PROVINCE":
        return str(_("Mã tỉnh %(code)s.") % {"code": c.personal_id[:3]})
    if code == "Q_OLD_ID_FORMAT":
        return str(_("Số CMND cũ “%(old)s”.") % {"old": c.old_id_number})
    if code in ("Q_ID_DOB_MISMATCH", "Q_ID_SEX_MISMATCH"):
        decoded = domain.decode(c.personal_id)
        return str(_("Số định danh ứng với năm sinh %(id_year)s, giới tính %(id_sex)s; hồ sơ ghi "
                     "%(year)s, %(sex)s.") % {"id_year": decoded.birth_year, "id_sex": decoded.sex,
                                              "year": c.birth_year, "sex": c.sex})
    if code == "Q_PARENT_YOUNGER":
        parts = [f"{label} {p.personal_id} ({p.birth_year})"
                 for label, p in ((_("cha"), c.father), (_("mẹ"), c.mother))
                 if p is not None and p.birth_year > c.birth_year - MIN_PARENT_GAP_YEARS]
        return str(_("Sinh %(year)s; %(parents)s.") % {"year": c.birth_year, "parents": ", ".join(parts)})
    if code == "Q_DEATH_BEFORE_BIRTH":
        return str(_("Sinh %(birth)s, chết %(death)s.") % {"birth": c.birth_display,
                                                          "death": c.death_date.strftime("%d/%m/%Y")
                                                          if c.death_date else "—"})
    if code == "Q_OVER_120":
        return str(_("Sinh %(birth)s; %(age)s tuổi trong năm %(year)s.")
                   % {"birth": c.birth_display, "age": today.year - c.birth_year, "year": today.year})
    if code == "Q_DUPLICATE":
        return str(_("Nhóm “%(key)s” sinh %(birth)s: %(n)s bản ghi (toàn quốc).")
                   % {"key": c.name_key, "birth": c.birth_display, "n": getattr(c, "group_size", "?")})
    if code == "Q_NAME_KEY_STALE":
        return str(_("name_key “%(key)s”, đúng ra “%(expected)s”.")
                   % {"key": c.name_key, "expected": search_key(c.full_name)})
    return ""


def _row(check: Check, obj: Any, today: dt.date) -> DrillRow:
    if check.source == HOUSEHOLD:
        c, commune = obj.head, obj.commune
        detail = str(_("Hộ số %(number)s, chủ hộ chết ngày %(death)s.") % {
            "number": obj.number,
            "death": c.death_date.strftime("%d/%m/%Y") if c.death_date else "?"})
    elif check.source == REGISTRATION:
        c, commune = obj.citizen, obj.commune
        detail = str(_("Tạm trú tại %(address)s, hết hạn %(date)s.") % {
            "address": obj.address, "date": obj.expires_on.strftime("%d/%m/%Y")})
    else:
        c, commune = obj, obj.current_commune
        detail = _detail(check, c, today)
    return DrillRow(c.personal_id, c.full_name, format_partial_date(c.birth_year, c.birth_month, c.birth_day),
                    commune.name if commune else "", check.code, detail)


def drilldown(actor: Actor, code: str, *, unit: str | None = None, page: int = 1,
              page_size: int = DRILLDOWN_PAGE_SIZE, today: dt.date | None = None,
              reason: str = "") -> DrillPage:
    """One page of the people failing check ``code`` in ``unit`` (default: the actor's area).
    Every person on the page is audited (``quality.drilldown.view``)."""
    today = today or timezone.localdate()
    check = get_check(code)
    where = drill_unit(actor, unit, "quality.drilldown.view")
    qs = _failing(actor, check, where, today)
    count = qs.count()
    num_pages = max(1, -(-count // page_size))
    page = min(max(1, page), num_pages)
    start = (page - 1) * page_size
    rows = [_row(check, obj, today) for obj in qs[start:start + page_size]]
    audit.record_many(actor, "quality.drilldown.view", [r.personal_id for r in rows],
                      reason=reason or _audit_reason(check, where, page))
    return DrillPage(check, where, rows, page, page_size, count)


def _audit_reason(check: Check, unit: AdminUnit | None, page: int | None = None) -> str:
    where = unit.qualified_code if unit else "national"
    return f"{check.code} {where}" + (f" page {page}" if page else "")


DRILL_CSV_HEADER = ["personal_id", "full_name", "birth_date", "commune", "check_code", "detail"]


def drilldown_export(actor: Actor, code: str, *, unit: str | None = None,
                     today: dt.date | None = None, reason: str = "") -> Iterator[list[str]]:
    """All people failing ``code`` in ``unit`` as CSV lines (header first), streamed.

    Resolves the check and unit (raising) before the first line; then each chunk of people
    is audited (``quality.drilldown.export``) before it is handed out, so nothing leaves
    unaudited even if the download stops half-way."""
    today = today or timezone.localdate()
    check = get_check(code)
    where = drill_unit(actor, unit, "quality.drilldown.export")
    qs = _failing(actor, check, where, today)
    reason = reason or _audit_reason(check, where)

    def lines() -> Iterator[list[str]]:
        yield DRILL_CSV_HEADER
        chunk: list[DrillRow] = []
        for obj in qs.iterator(chunk_size=EXPORT_AUDIT_CHUNK):
            chunk.append(_row(check, obj, today))
            if len(chunk) >= EXPORT_AUDIT_CHUNK:
                yield from _audited(actor, chunk, reason)
                chunk = []
        yield from _audited(actor, chunk, reason)

    return lines()


def _audited(actor: Actor, chunk: list[DrillRow], reason: str) -> Iterator[list[str]]:
    if not chunk:
        return
    audit.record_many(actor, "quality.drilldown.export", [r.personal_id for r in chunk], reason=reason)
    for r in chunk:
        yield [r.personal_id, r.full_name, r.birth_date, r.commune, r.code, r.detail]
