"""Reading the data-quality report from its tallies: counts per unit, with their freshness.

The counts are ``QualityTally`` rows (one per commune × code, plus each province's sum) added up
over the scope: milliseconds whatever the population, instead of a scan of every citizen of the scope
(``selectors.scan``; ``quality.services.recompute`` keeps the tallies, docs/data-quality.md).
Each figure carries ``computed_at`` (when the scan behind it started — the oldest of the
tallies summed) and ``as_of`` (the local date its date-dependent checks were evaluated for).

``tallies`` / ``tallies_breakdown`` are the one place other contexts (``kpi``) read
data-quality figures from. ``quality_report`` is the console report (audited as one event:
counts, not people). ``differences`` compares the tallies with a live scan (``dancu quality
check``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import IntegerField, Min, QuerySet, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError, OutOfJurisdiction
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.quality.checks import BY_CODE, CHECKS, Check, Group
from dancu.quality.models import QualityTally
from dancu.quality.selectors.scan import (
    CLEAN,
    MINORS,
    NOT_DECEASED,
    TALLY_CODES,
    TOTAL,
    UNPLACED,
    clean_code,
    provinces,
    scan,
)
from dancu.quality.selectors.scope import Scope, _actor_covers_unit, _denied, report_scope


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
class QualityFigures:
    """The data-quality figures of a unit (None: the nation, or — as a row of the national
    report — the people with no current place), read from tallies."""

    unit: AdminUnit | None
    total: int = 0
    minors: int = 0
    not_deceased: int = 0  # living or missing: the denominator of Q_MISSING_RESIDENCE
    counts: dict[str, int] = field(default_factory=dict)  # check code -> failing records
    clean: int = 0  # citizens failing no citizen check
    group_clean: dict[str, int] = field(default_factory=dict)  # group -> citizens passing it
    as_of: dt.date | None = None
    computed_at: dt.datetime | None = None  # None: never computed

    def denominator(self, code: str) -> int:
        """The denominator of check ``code``'s rate: total, minors or not_deceased."""
        return int(getattr(self, BY_CODE[code].denominator))

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
        return [Cell(c, self.counts.get(c.code, 0), self.denominator(c.code)) for c in CHECKS]


ReportRow = QualityFigures


def _figures(unit: AdminUnit | None, sums: dict[str, int], as_of: dt.date | None,
             computed_at: dt.datetime | None) -> QualityFigures:
    return QualityFigures(
        unit, total=sums.get(TOTAL, 0), minors=sums.get(MINORS, 0),
        not_deceased=sums.get(NOT_DECEASED, 0),
        counts={c.code: sums.get(c.code, 0) for c in CHECKS}, clean=sums.get(CLEAN, 0),
        group_clean={g: sums.get(clean_code(g), 0) for g in Group.LABELS},
        as_of=as_of, computed_at=computed_at)


def _tallies_in(actor: Actor, unit: AdminUnit | None, *, per_commune: bool = False) -> QuerySet[QualityTally]:
    """Tally rows in the actor's area (``Actor.area``, the one rule) and in ``unit``: the
    nation → the provinces' sums and the people with no place; a province → its sum, or with
    ``per_commune`` its communes' rows; a commune → its rows."""
    qs = QualityTally.objects.filter(actor.area.q(commune="commune_id", province="province_id"))
    if unit is None:
        return qs.filter(commune__isnull=True)
    if unit.level == Level.COMMUNE:
        return qs.filter(commune_id=unit.pk)
    return qs.filter(QualityTally.COMMUNES if per_commune else QualityTally.PROVINCE_SUMS,
                     province_id=unit.pk)


def _sum_by(qs: QuerySet[QualityTally], key: str | None) -> dict[Any, tuple[dict[str, int], dt.date | None,
                                                                        dt.datetime | None]]:
    """Tallies summed per ``key`` ("province_id", "commune_id" or None = one sum), with the
    oldest as_of/computed_at of each group. Counts and freshness are read apart: the counts are
    integers only (a date per tally row costs more to decode than the row), the freshness one
    row per group."""
    if key == "commune_id":  # a row per (commune, code) already: nothing to add up
        counts = qs.values_list(key, "code", "count").order_by()
    elif key:
        counts = qs.values(key, "code").annotate(n=Sum("count")).values_list(key, "code", "n").order_by()
    else:
        counts = qs.values("code").annotate(n=Sum("count"), place=Value(None, output_field=IntegerField())
                                            ).values_list("place", "code", "n").order_by()
    sums: dict[Any, dict[str, int]] = {}
    for place, code, n in counts:
        sums.setdefault(place, {})[code] = int(n or 0)
    oldest = {"as_of": Min("as_of"), "at": Min("computed_at")}
    if key:
        fresh = qs.values(key).annotate(**oldest).values_list(key, "as_of", "at").order_by()
        when = {place: (as_of, at) for place, as_of, at in fresh}
    else:
        agg = qs.aggregate(**oldest)
        when = {None: (agg["as_of"], agg["at"])}
    return {place: (by_code, *when.get(place, (None, None))) for place, by_code in sums.items()}


def _check_unit(actor: Actor, unit: AdminUnit | None, action: str) -> None:
    if unit is None:
        if not actor.is_national:
            raise _denied_nation(actor, action)
        return
    if unit.code_system != CodeSystem.V2025 or unit.level not in (Level.PROVINCE, Level.COMMUNE):
        raise DomainError("E_UNIT_LEVEL", _("Cần mã tỉnh hoặc xã/phường (2025)."), "unit")
    if not _actor_covers_unit(actor, unit):
        raise _denied(actor, action, unit)


def _denied_nation(actor: Actor, action: str) -> OutOfJurisdiction:
    denied = OutOfJurisdiction("E_JURISDICTION", _("Đơn vị này ngoài địa bàn của bạn."), "unit")
    audit.record_refusal(actor, action, denied, subject_type="quality_report", subject_id="national")
    return denied


def tallies(actor: Actor, unit: AdminUnit | None) -> QualityFigures:
    """The data-quality figures of ``unit`` (None = the nation, people with no place included)
    from the tallies — the one place other contexts read them from. Refuses (audited) a unit
    beyond the actor's area. No audit event otherwise: counts only."""
    _check_unit(actor, unit, "quality.tallies.read")
    sums, as_of, at = _sum_by(_tallies_in(actor, unit), None).get(None, ({}, None, None))
    return _figures(unit, sums, as_of, at)


def tallies_breakdown(actor: Actor, unit: AdminUnit | None) -> list[QualityFigures]:
    """One ``QualityFigures`` per province (``unit`` None; plus the people with no place) or
    per commune (``unit`` a province), in code order; a commune ``unit`` gives its one row."""
    _check_unit(actor, unit, "quality.tallies.read")
    level = Level.PROVINCE if unit is None else Level.COMMUNE
    return _rows(actor, Scope(unit, level))


def _row_units(scope: Scope) -> list[AdminUnit]:
    if scope.unit is not None and scope.unit.level == Level.COMMUNE:
        return [scope.unit]
    units = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=scope.row_level)
    if scope.unit is not None:
        units = units.filter(province_id=scope.unit.pk)
    return list(units.order_by("code"))


def _rows(actor: Actor, scope: Scope) -> list[QualityFigures]:
    key = "commune_id" if scope.row_level == Level.COMMUNE else "province_id"
    sums = _sum_by(_tallies_in(actor, scope.unit, per_commune=True), key)
    units: list[AdminUnit | None] = list(_row_units(scope))
    if scope.unit is None and UNPLACED in sums:
        units.append(None)  # the people with no current place: national only
    empty: tuple[dict[str, int], None, None] = ({}, None, None)
    return [_figures(u, *sums.get(u.pk if u else None, empty)) for u in units]


@dataclass
class Report:
    scope: Scope
    rows: list[QualityFigures]
    total: QualityFigures
    today: dt.date
    generated_at: dt.datetime
    checks: tuple[Check, ...] = CHECKS

    @property
    def groups(self) -> list[tuple[str, Any, list[Cell]]]:
        """The total's cells by group (đủ, đúng, sạch, sống), for the summary table."""
        cells = self.total.cells
        return [(g, label, [c for c in cells if c.check.group == g])
                for g, label in Group.LABELS.items()]

    @property
    def computed_at(self) -> dt.datetime | None:
        """When the oldest tally of the report was computed; None if a unit has none yet."""
        return None if self.missing else self.total.computed_at

    @property
    def as_of(self) -> dt.date | None:
        return self.total.as_of

    @property
    def missing(self) -> int:
        """Rows (units) with no tally yet: their counts show as 0 until computed."""
        return sum(1 for r in self.rows if r.computed_at is None and r.unit is not None)


def quality_report(actor: Actor, *, province: str | None = None, today: dt.date | None = None,
                   action: str = "quality.report.view") -> Report:
    """The report for the actor's area (see ``report_scope``), from the tallies. Audited as
    one event: it shows counts, not people."""
    today = today or timezone.localdate()
    scope = report_scope(actor, province, action)
    rows = _rows(actor, scope)
    computed = [r.computed_at for r in rows if r.computed_at is not None]
    as_of = [r.as_of for r in rows if r.as_of is not None]
    total = QualityFigures(
        scope.unit, total=sum(r.total for r in rows), minors=sum(r.minors for r in rows),
        not_deceased=sum(r.not_deceased for r in rows),
        counts={c.code: sum(r.counts[c.code] for r in rows) for c in CHECKS},
        clean=sum(r.clean for r in rows),
        group_clean={g: sum(r.group_clean[g] for r in rows) for g in Group.LABELS},
        as_of=min(as_of) if as_of else None, computed_at=min(computed) if computed else None)
    audit.record(actor, action, subject_type="quality_report", subject_id=scope.code,
                 details={"scope": scope.code, "row_level": scope.row_level,
                          "today": today.isoformat(), "rows": len(rows),
                          "computed_at": total.computed_at.isoformat() if total.computed_at else None})
    return Report(scope, rows, total, today, timezone.now())


def report_csv_rows(report: Report) -> Iterator[list[Any]]:
    """Header, one line per unit, then the total: unit × check counts, and when computed."""
    yield ["unit_code", "unit_name", "total", "minors_under_14", *(c.code for c in report.checks),
           "computed_at"]
    for row in [*report.rows, report.total]:
        code = row.qualified_code if row is not report.total else "TOTAL"
        name = row.name if row is not report.total else (
            report.scope.unit.name if report.scope.unit else str(_("Toàn quốc")))
        at = timezone.localtime(row.computed_at).isoformat() if row.computed_at else ""
        yield [code, name, row.total, row.minors, *(row.counts[c.code] for c in report.checks), at]


# --- check: tallies against a live scan ------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    unit: AdminUnit | None  # a commune, a province (its sum), or None: the people with no place
    code: str
    tally: int | None  # None: no tally row
    live: int


def differences(province_ids: list[int | None] | None = None,
                today: dt.date | None = None) -> Iterator[Difference]:
    """Every tally — (commune, code) and the province's sums — that differs from a live scan now
    (``selectors.scan``), province by province (default: every province, then the people with
    no place). A tally computed for another date than ``today`` is compared all the same: a
    stale count is a difference."""
    today = today or timezone.localdate()
    targets: list[int | None] = list(province_ids) if province_ids is not None else [*provinces(), UNPLACED]
    for province_id in targets:
        live: dict[int | None, dict[str, int]] = dict(scan(province_id, today))
        stored: dict[tuple[int | None, str], int | None] = {}
        if province_id is UNPLACED:
            rows = QualityTally.objects.filter(QualityTally.UNPLACED)
        else:
            rows = QualityTally.objects.filter(province_id=province_id)
            # the province's sum, under the province's own key
            live[province_id] = {code: sum(c[code] for c in live.values()) for code in TALLY_CODES}
        for commune_id, code, count in rows.values_list("commune_id", "code", "count"):
            stored[(commune_id or province_id, code)] = count
        units = AdminUnit.objects.in_bulk([pk for pk in live if pk is not None])
        for place, counts in live.items():
            for code in TALLY_CODES:
                tally = stored.get((place, code))
                if tally != counts[code]:
                    yield Difference(units.get(place) if place else None, code, tally, counts[code])
