"""Reading the data-quality report: counts per unit, and the records behind a count.

The report is aggregated data: one ``GROUP BY`` query over the citizen table with one
``COUNT(*) FILTER (WHERE …)`` per check (``quality.checks``), plus one small grouped query
per check living in another table (households, registrations). It is audited as one event
(``quality.report.view``). The drill-down lists people, so it is a personal-data read and
every person shown or exported gets an audit event (``quality.drilldown.view`` / ``.export``).

Scope follows the officer's area: a commune officer sees their commune; a province officer
their province with a row per commune; the ministry a row per province, and may open a
province (a row per commune). All units are 2025 units (``current_commune``/``current_province``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.core.text import search_key
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population import domain
from dancu.population.models import Citizen
from dancu.population.selectors import visible_citizens
from dancu.population.validation import format_partial_date
from dancu.quality.checks import (
    BY_CODE,
    CHECKS,
    CITIZEN,
    CITIZEN_CHECKS,
    HOUSEHOLD,
    MIN_PARENT_GAP_YEARS,
    REGISTRATION,
    Check,
    Group,
    is_minor,
    not_deceased,
)
from dancu.residence.models import Household, Registration

DRILLDOWN_PAGE_SIZE = 50
EXPORT_AUDIT_CHUNK = 500


# --- scope ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What a report covers (``unit`` None = the whole country) and the level of its rows."""

    unit: AdminUnit | None
    row_level: str  # Level.PROVINCE or Level.COMMUNE

    @property
    def code(self) -> str:
        return self.unit.qualified_code if self.unit else "national"


def _jurisdiction(actor: Actor) -> AdminUnit | None:
    if actor.is_national:
        return None
    # not national: a jurisdiction_id
    return AdminUnit.objects.select_related("province").get(pk=cast(int, actor.jurisdiction_id))


def _unit_from_code(qualified: str, field_name: str) -> AdminUnit:
    from dancu.geo.selectors import find_unit

    unit = find_unit(qualified)
    if unit is None or unit.code_system != CodeSystem.V2025:
        raise NotFound("E_UNIT_UNKNOWN", _("Không có đơn vị hành chính (từ 2025) mã %(code)s.")
                       % {"code": qualified}, field_name)
    return unit


def _actor_covers_unit(actor: Actor, unit: AdminUnit) -> bool:
    """The whole unit lies in the actor's area (``Actor.covers``, the one rule): a commune as the
    place of its residents, a province as a place with no commune (only a province's area, or
    the nation, holds all of it)."""
    if unit.level == Level.COMMUNE:
        return actor.covers(unit.pk, unit.province_id)
    return actor.covers(None, unit.pk)


def _denied(actor: Actor, action: str, unit: AdminUnit) -> OutOfJurisdiction:
    denied = OutOfJurisdiction("E_JURISDICTION", _("Đơn vị này ngoài địa bàn của bạn."), "unit")
    audit.record_refusal(actor, action, denied, subject_type="quality_report",
                         subject_id=unit.qualified_code)
    return denied


def report_scope(actor: Actor, province: str | None = None,
                 action: str = "quality.report.view") -> Scope:
    """The actor's report: national → a row per province (or, with ``province``, a row per
    commune of it); province police → a row per commune; commune police → their commune."""
    home = _jurisdiction(actor)
    if province:
        unit = _unit_from_code(province, "province")
        if unit.level != Level.PROVINCE:
            raise DomainError("E_UNIT_LEVEL", _("Cần mã tỉnh/thành phố (2025)."), "province")
        if not _actor_covers_unit(actor, unit) or (home is not None and home.level == Level.COMMUNE):
            raise _denied(actor, action, unit)
        return Scope(unit, Level.COMMUNE)
    if home is None:
        return Scope(None, Level.PROVINCE)
    return Scope(home, Level.COMMUNE)


def _citizens_in(actor: Actor, unit: AdminUnit | None) -> QuerySet[Citizen]:
    qs = visible_citizens(actor)  # the actor's area first, whatever unit was asked
    if unit is None:
        return qs
    if unit.level == Level.COMMUNE:
        return qs.filter(current_commune_id=unit.pk)
    return qs.filter(current_province_id=unit.pk)


def _commune_rows_in(model: type[Household] | type[Registration], actor: Actor,
                     unit: AdminUnit | None) -> QuerySet[Any]:
    """Households / registrations in the actor's area (``Actor.area``), by the commune they
    belong to."""
    qs = model.objects.filter(actor.area.q(commune="commune_id", province="commune__province_id"))
    limit = _unit_filter(unit)
    return qs.filter(**limit) if limit else qs


def _unit_filter(unit: AdminUnit | None) -> dict[str, int]:
    if unit is None:
        return {}
    if unit.level == Level.COMMUNE:
        return {"commune_id": unit.pk}
    return {"commune__province_id": unit.pk}


# --- the report ----------------------------------------------------------------------------------

@dataclass
class Cell:
    check: Check
    count: int
    denominator: int

    @property
    def percent_complete(self) -> float | None:
        """Completeness checks only: share of records (or minors) with the field present."""
        if not self.check.completeness or not self.denominator:
            return None
        return round(100.0 * (self.denominator - self.count) / self.denominator, 1)


@dataclass
class ReportRow:
    unit: AdminUnit | None  # None: people with no current place (national report only)
    total: int = 0
    minors: int = 0
    not_deceased: int = 0  # living or missing: the denominator of Q_MISSING_RESIDENCE
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def qualified_code(self) -> str:
        return self.unit.qualified_code if self.unit else ""

    @property
    def name(self) -> str:
        return self.unit.name if self.unit else str(_("Chưa xác định nơi ở"))

    @property
    def issues(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[Cell]:
        return [Cell(c, self.counts.get(c.code, 0), getattr(self, c.denominator)) for c in CHECKS]


@dataclass
class Report:
    scope: Scope
    rows: list[ReportRow]
    total: ReportRow
    today: dt.date
    generated_at: dt.datetime
    checks: tuple[Check, ...] = CHECKS

    @property
    def groups(self) -> list[tuple[str, Any, list[Cell]]]:
        """The total's cells by group (đủ, đúng, sạch, sống), for the summary table."""
        cells = self.total.cells
        return [(g, label, [c for c in cells if c.check.group == g])
                for g, label in Group.LABELS.items()]


def _citizen_counts(actor: Actor, scope: Scope, today: dt.date) -> dict[int | None, dict[str, int]]:
    key = "current_commune_id" if scope.row_level == Level.COMMUNE else "current_province_id"
    aggregates = {"total": Count("pk"), "minors": Count("pk", filter=is_minor(today)),
                  "not_deceased": Count("pk", filter=not_deceased(today))}
    aggregates.update({c.code: Count("pk", filter=c.condition(today)) for c in CITIZEN_CHECKS})
    rows = _citizens_in(actor, scope.unit).values(key).annotate(**aggregates).order_by()
    return {r.pop(key): r for r in rows}


def _other_counts(actor: Actor, scope: Scope, check: Check, today: dt.date) -> dict[int | None, int]:
    model = Household if check.source == HOUSEHOLD else Registration
    key = "commune_id" if scope.row_level == Level.COMMUNE else "commune__province_id"
    rows = (_commune_rows_in(model, actor, scope.unit).filter(check.condition(today))
            .values(key).annotate(n=Count("pk")).order_by())
    return {r[key]: r["n"] for r in rows}


def _row_units(scope: Scope) -> list[AdminUnit]:
    if scope.unit is not None and scope.unit.level == Level.COMMUNE:
        return [scope.unit]
    units = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=scope.row_level)
    if scope.unit is not None:
        units = units.filter(province_id=scope.unit.pk)
    return list(units.order_by("code"))


def quality_report(actor: Actor, *, province: str | None = None, today: dt.date | None = None,
                   action: str = "quality.report.view") -> Report:
    """The report for the actor's area (see ``report_scope``). Audited as one event: it shows
    counts, not people."""
    today = today or timezone.localdate()
    scope = report_scope(actor, province, action)
    citizen_counts = _citizen_counts(actor, scope, today)
    other = {c.code: _other_counts(actor, scope, c, today) for c in CHECKS if c.source != CITIZEN}
    units = _row_units(scope)
    keys: list[int | None] = [u.pk for u in units]
    by_pk: dict[int | None, AdminUnit | None] = {u.pk: u for u in units}
    if scope.unit is None and None in citizen_counts:
        keys.append(None)
        by_pk[None] = None
    rows = []
    for pk in keys:
        counts = dict(citizen_counts.get(pk) or {})
        row = ReportRow(by_pk[pk], total=counts.pop("total", 0), minors=counts.pop("minors", 0),
                        not_deceased=counts.pop("not_deceased", 0))
        row.counts = {c.code: counts.get(c.code, 0) if c.source == CITIZEN else other[c.code].get(pk, 0)
                      for c in CHECKS}
        rows.append(row)
    total = ReportRow(scope.unit, total=sum(r.total for r in rows), minors=sum(r.minors for r in rows),
                      not_deceased=sum(r.not_deceased for r in rows),
                      counts={c.code: sum(r.counts[c.code] for r in rows) for c in CHECKS})
    audit.record(actor, action, subject_type="quality_report", subject_id=scope.code,
                 details={"scope": scope.code, "row_level": scope.row_level,
                          "today": today.isoformat(), "rows": len(rows)})
    return Report(scope, rows, total, today, timezone.now())


def report_csv_rows(report: Report) -> Iterator[list[Any]]:
    """Header, one line per unit, then the total: unit × check counts."""
    yield ["unit_code", "unit_name", "total", "minors_under_14", *(c.code for c in report.checks)]
    for row in [*report.rows, report.total]:
        code = row.qualified_code if row is not report.total else "TOTAL"
        name = row.name if row is not report.total else (
            report.scope.unit.name if report.scope.unit else str(_("Toàn quốc")))
        yield [code, name, row.total, row.minors, *(row.counts[c.code] for c in report.checks)]


# --- drill-down ----------------------------------------------------------------------------------

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
