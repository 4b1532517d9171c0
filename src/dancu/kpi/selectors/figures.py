"""The figures, Decision 766's index, breakdowns for rankings and trends over time — the API
the dashboards and the working groups' reports read (docs/kpi.md)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.kpi.models import ScoringRule
from dancu.kpi.periods import Period, last_periods
from dancu.kpi.selectors import metrics as m
from dancu.kpi.selectors.scope import guard
from dancu.publicservices.models import Agency, Procedure

COUNT, RATIO, AVERAGE = "count", "ratio", "average"
KINDS = (COUNT, RATIO, AVERAGE)


@dataclass(frozen=True)
class FigureDef:
    """A figure: ``kind`` says what its value is — a ``count`` (the numerator, no
    denominator), a ``ratio`` (a share 0..1 of the denominator) or an ``average`` (a mean
    numerator / denominator on the figure's own scale, e.g. a rating 1–5). The one place
    the dashboards, the API and the trends learn how to show a figure."""

    code: str
    label: Any  # lazy gettext
    numerator: str
    denominator: str | None  # None: a count
    source: str  # events | catalog | snapshot | quality
    drill: bool = False  # dossiers_behind can list the records
    kind: str = ""  # count | ratio | average; empty: count without a denominator, else ratio

    def __post_init__(self) -> None:
        kind = self.kind or (COUNT if self.denominator is None else RATIO)
        if kind not in KINDS or (kind == COUNT) != (self.denominator is None):
            raise ValueError(f"figure {self.code}: kind {kind!r} with denominator {self.denominator!r}")
        object.__setattr__(self, "kind", kind)


FIGURES: tuple[FigureDef, ...] = (
    FigureDef("submitted", _("Hồ sơ tiếp nhận"), "submitted", None, "events", True),
    FigureDef(
        "online_dossiers", _("Tỷ lệ hồ sơ nộp trực tuyến"), "submitted_online", "submitted", "events", True
    ),
    FigureDef("decided", _("Hồ sơ đã giải quyết"), "decided", None, "events", True),
    FigureDef("on_time", _("Tỷ lệ hồ sơ giải quyết đúng hạn"), "closed_on_time", "decided", "events", True),
    FigureDef("supplement_requests", _("Yêu cầu bổ sung hồ sơ"), "supplement_requests", None, "events", True),
    FigureDef("withdrawn", _("Hồ sơ rút"), "withdrawn", None, "events", True),
    FigureDef(
        "dossier_digitisation", _("Tỷ lệ số hóa hồ sơ"), "decided_digitised", "decided", "events", True
    ),
    FigureDef("results_digital", _("Tỷ lệ kết quả điện tử"), "results_digital", "approved", "events", True),
    FigureDef(
        "reuse", _("Tỷ lệ tái sử dụng giấy tờ đã số hóa"), "components_reused", "components", "events", True
    ),
    FigureDef("online_payment", _("Tỷ lệ thanh toán trực tuyến"), "paid_online", "paid", "events", True),
    FigureDef("satisfaction", _("Tỷ lệ hài lòng (4–5 sao)"), "satisfied", "rated", "events", True),
    FigureDef(
        "rating_average",
        _("Điểm đánh giá trung bình (1–5)"),
        "rating_sum",
        "rated",
        "events",
        True,
        kind=AVERAGE,
    ),
    FigureDef(
        "catalog_published", _("Thủ tục công khai đầy đủ"), "catalog_complete", "catalog_active", "catalog"
    ),
    FigureDef(
        "essential_online",
        _("Dịch vụ thiết yếu trực tuyến toàn trình"),
        "essential_online",
        "essential_active",
        "catalog",
    ),
    FigureDef("population", _("Dân số (còn sống)"), "alive", None, "snapshot"),
    FigureDef(
        "eid_applications",
        _("Đăng ký định danh điện tử / dân số từ 14 tuổi"),
        "eid_applicants",
        "eligible",
        "snapshot",
    ),
    FigureDef(
        "eid_activated",
        _("Tài khoản định danh điện tử kích hoạt / dân số từ 14 tuổi"),
        "eid_active",
        "eligible",
        "snapshot",
    ),
    FigureDef(
        "eid_level2", _("Tài khoản định danh mức 2 / dân số từ 14 tuổi"), "eid_level2", "eligible", "snapshot"
    ),
    FigureDef(
        "data_quality", _("Dữ liệu dân cư đúng, đủ, sạch, sống"), "quality_clean", "quality_total", "quality"
    ),
)
BY_CODE = {f.code: f for f in FIGURES}
SOURCE_OF = {"catalog": "snapshot"}  # the catalog is read live: reported as a snapshot of now


@dataclass(frozen=True)
class Figure:
    code: str
    label: str
    numerator: int | None
    denominator: int | None
    ratio: float | None  # numerator / denominator (a share, or a mean for an average); None: a
    # count, or nothing to divide by (denominator 0 / no data)
    source: str  # events | snapshot | quality
    freshness: dt.datetime | None  # None: never computed (no snapshot yet)
    kind: str = COUNT  # count | ratio | average (``FigureDef.kind``)


@dataclass(frozen=True)
class Figures:
    unit: AdminUnit | None
    period: Period
    procedure: Procedure | None
    agency: str | None
    items: list[Figure]
    metrics: dict[str, int | None] = field(repr=False, default_factory=dict)

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.items)

    def __getitem__(self, code: str) -> Figure:
        for f in self.items:
            if f.code == code:
                return f
        raise KeyError(code)

    def __contains__(self, code: object) -> bool:
        return any(f.code == code for f in self.items)


def _ratio(num: int | None, den: int | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def _figure(d: FigureDef, values: m.Values, label: str | None = None) -> Figure | None:
    source = SOURCE_OF.get(d.source, d.source)
    if d.source not in values.freshness:
        return None  # the source does not apply (the registry for one procedure)
    num = values.metrics.get(d.numerator)
    den = values.metrics.get(d.denominator) if d.denominator else None
    return Figure(
        d.code,
        str(d.label) if label is None else label,
        num,
        den,
        _ratio(num, den) if d.kind != COUNT else None,
        source,
        values.freshness[d.source],
        d.kind,
    )


def _labels() -> dict[str, str]:
    """The figures' labels in the current language (translated once per read, not per row)."""
    return {d.code: str(d.label) for d in FIGURES}


def _figures(
    unit: AdminUnit | None,
    period: Period,
    procedure: Procedure | None,
    agency: str | None,
    values: m.Values,
    labels: dict[str, str] | None = None,
) -> Figures:
    labels = labels or _labels()
    items = [f for f in (_figure(d, values, labels[d.code]) for d in FIGURES) if f is not None]
    return Figures(unit, period, procedure, agency, items, values.metrics)


def _check_agency(agency: str | None) -> None:
    if agency and agency not in Agency.values:
        raise DomainError("E_CHOICE_INVALID", _("Cơ quan không hợp lệ."), "agency")


def figures(
    actor: Actor,
    *,
    unit: AdminUnit | None,
    period: Period,
    procedure: Procedure | None = None,
    agency: str | None = None,
) -> Figures:
    """Every figure of the unit (None = the nation) over the period, optionally for one
    procedure or one agency (then without the registry and data-quality figures)."""
    guard(actor, unit)
    _check_agency(agency)
    values = m.values_for(actor, unit, period, procedure=procedure, agency=agency)
    return _figures(unit, period, procedure, agency, values)


# ---- the index --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    code: str
    label: str


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    label: str
    value: float | None  # the ratio; None: not measured or nothing to measure
    target: float
    points: float
    max: float
    numerator: int | None
    denominator: int | None
    measured: bool
    note: str = ""


@dataclass(frozen=True)
class GroupResult:
    code: str
    label: str
    points: float
    max: float
    measured_max: float
    indicators: list[IndicatorResult]


@dataclass(frozen=True)
class IndexResult:
    rule_version: str
    decision: str
    total: float | None  # on the rule's scale (100), over the indicators measured; None: no data
    points: float  # points earned
    measured_max: float  # the points of the indicators measured
    max: float
    grade: Grade | None  # None: no data (no dossier counted in the period)
    groups: list[GroupResult]


def _name(item: dict[str, Any], lang: str | None = None) -> str:
    lang = lang or (get_language() or "vi")[:2]
    return str(item.get(f"name_{lang}") or item.get("name_vi") or item.get("code", ""))


RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def bundled_rules() -> list[ScoringRule]:
    """The rule sets shipped in ``kpi/rules/*.json`` as unsaved rows (what migration 0002 seeds)."""
    out = []
    for path in sorted(RULES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append(
            ScoringRule(
                version=data["version"],
                decision=data["decision"],
                effective_from=dt.date.fromisoformat(data["effective_from"]),
                rules=data,
            )
        )
    return out


def rule_sets() -> list[ScoringRule]:
    """Every rule set, oldest first: the ``ScoringRule`` rows; with no row at all (a database
    emptied by hand or by a test's flush) the bundled files."""
    return list(ScoringRule.objects.order_by("effective_from")) or bundled_rules()


def rule_for(period: Period, rules: list[ScoringRule] | None = None) -> ScoringRule:
    """The rule set in force at the period's end: the latest effective on or before it (the
    earliest one for a period before every rule set), among ``rules`` (default: ``rule_sets()``)."""
    rules = rule_sets() if rules is None else rules
    if not rules:
        raise DomainError("E_NO_SCORING_RULE", _("Chưa có bộ quy tắc chấm điểm."), "period")
    in_force = [r for r in rules if r.effective_from <= period.end]
    return in_force[-1] if in_force else rules[0]


def points(value: float | None, target: float, max_points: float) -> float:
    """Decision 766: full points when the ratio meets its target, else ratio × max / target."""
    if value is None:
        return 0.0
    if value >= target:
        return float(max_points)
    return round(value * max_points / target, 2)


def score(rule: ScoringRule, metrics: dict[str, int | None]) -> IndexResult:
    """The index from metric values (see ``points``); indicators without a source in dancu or
    without data in the period are left out of the maximum (``"unmeasured": "excluded"``) and
    the total is brought back to the rule's scale."""
    data = rule.rules
    lang = (get_language() or "vi")[:2]  # once: a breakdown scores every row
    notes = {"unsourced": str(_("Chưa đo được trong dancu")), "no_data": str(_("Không có dữ liệu trong kỳ"))}
    catalog_indicators = {
        i["code"] for g in data["groups"] for i in g["indicators"] if i.get("numerator") in m.CATALOG_METRICS
    }
    groups: list[GroupResult] = []
    for g in data["groups"]:
        indicators: list[IndicatorResult] = []
        for i in g["indicators"]:
            num_name, den_name = i.get("numerator"), i.get("denominator")
            num = metrics.get(num_name) if num_name else None
            den = metrics.get(den_name) if den_name else None
            value = _ratio(num, den)
            measured = value is not None
            note = (
                ""
                if measured
                else (
                    notes["unsourced"]
                    if not num_name
                    else notes["no_data"]
                )
            )
            indicators.append(
                IndicatorResult(
                    i["code"],
                    _name(i, lang),
                    value,
                    float(i["target"]),
                    points(value, float(i["target"]), float(i["max_points"])),
                    float(i["max_points"]),
                    num,
                    den,
                    measured,
                    note,
                )
            )
        groups.append(
            GroupResult(
                g["code"],
                _name(g, lang),
                round(sum(x.points for x in indicators), 2),
                float(g["max_points"]),
                float(sum(x.max for x in indicators if x.measured)),
                indicators,
            )
        )
    earned = round(sum(g.points for g in groups), 2)
    measured_max = sum(g.measured_max for g in groups)
    scale = float(data.get("scale", 100))
    # Only the catalog measured (no dossier in the period): no index, rather than one the
    # catalog alone would make excellent.
    operational = any(x.measured and x.code not in catalog_indicators for g in groups for x in g.indicators)
    if not operational:
        return IndexResult(rule.version, rule.decision, None, earned, measured_max, scale, None, groups)
    if data.get("unmeasured", "excluded") == "excluded":
        total = round(earned * scale / measured_max, 2)
    else:
        total = earned
    band = next(b for b in sorted(data["grades"], key=lambda b: -b["min"]) if total >= b["min"])
    return IndexResult(
        rule.version,
        rule.decision,
        total,
        earned,
        measured_max,
        scale,
        Grade(band["code"], _name(band, lang)),
        groups,
    )


def index(
    actor: Actor,
    *,
    unit: AdminUnit | None,
    period: Period,
    procedure: Procedure | None = None,
    agency: str | None = None,
) -> IndexResult:
    """Decision 766's index of the unit over the period (rules: the ``ScoringRule`` in force)."""
    guard(actor, unit)
    _check_agency(agency)
    values = m.values_for(
        actor, unit, period, procedure=procedure, agency=agency, sources=INDEX_SOURCES
    )
    return score(rule_for(period), values.metrics)


INDEX_SOURCES = ("events", "catalog")  # what the index is scored from
_INDEX_METRICS = frozenset((*m.EVENT_METRICS, *m.CATALOG_METRICS))


def index_of(figs: Figures) -> IndexResult:
    """The index of the scope ``figs`` were read for (``figures(...)``), scored from the same
    values instead of reading the tallies again: what ``index`` returns for the same actor,
    unit, period, procedure and agency (its sources only: the events and the catalog)."""
    return score(rule_for(figs.period), {k: v for k, v in figs.metrics.items() if k in _INDEX_METRICS})


# ---- breakdowns (rankings) ----------------------------------------------------------------------


@dataclass(frozen=True)
class BreakdownRow:
    key: int | str  # unit pk, procedure pk or agency value
    label: str
    code: str  # what a link names: the unit's qualified code, the procedure code, the agency
    figures: Figures
    index_total: float | None
    grade: Grade | None


BY = ("province", "commune", "procedure", "agency")


def _row_units(unit: AdminUnit | None, by: str) -> list[AdminUnit]:
    if by == "province":
        if unit is not None:
            raise DomainError("E_BREAKDOWN", _("Xếp hạng theo tỉnh chỉ ở cấp toàn quốc."), "by")
        return list(
            AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE).order_by("code")
        )
    if unit is None or unit.level == Level.PROVINCE:
        qs = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.COMMUNE)
        if unit is not None:
            qs = qs.filter(province_id=unit.pk)
        return list(qs.order_by("code"))
    return [unit]


# key, label, link code, the row's unit, procedure and agency, its values
_Row = tuple[int | str, str, str, AdminUnit | None, Procedure | None, str | None, m.Values]


def _unit_rows(
    actor: Actor, unit: AdminUnit | None, period: Period, by: str, procedure: Procedure | None
) -> list[_Row]:
    """The provinces or communes below ``unit`` with their values; for one ``procedure`` its
    dossiers and catalog entry only (the registry and data quality know no procedure)."""
    qs = m.tallies(unit, period, procedure=procedure)
    column = "province_id" if by == "province" else "commune_id"
    events = m.event_metrics(qs, by=column)
    empty = m.event_metrics(qs.none())[None]
    catalog = m.catalog_metrics(procedure=procedure)
    now = timezone.now()
    registry: dict[Any, dict[str, int | None]] = {}
    fresh: dt.datetime | None = None
    quality: dict[int, tuple[dict[str, int | None], dt.datetime | None]] = {}
    rows: list[_Row] = []
    if procedure is None:
        registry, fresh = m.registry_metrics(unit, period, by=column)
        quality = m.quality_breakdown(actor, unit if by == "commune" else None)
    for u in _row_units(unit, by):
        metrics = {**empty, **events.get(u.pk, {}), **catalog}
        freshness: dict[str, dt.datetime | None] = {"events": now, "catalog": now}
        if procedure is None:
            q_values, q_fresh = quality.get(u.pk, ({}, None))
            metrics |= {**registry.get(u.pk, {}), **q_values}
            freshness |= {"snapshot": fresh, "quality": q_fresh}
        rows.append((u.pk, u.name, u.qualified_code, u, procedure, None, m.Values(metrics, freshness)))
    return rows


def breakdown(
    actor: Actor,
    *,
    unit: AdminUnit | None,
    period: Period,
    by: str = "province",
    procedure: Procedure | None = None,
) -> list[BreakdownRow]:
    """One row per province (of the nation), commune (of the unit), procedure or agency, with
    its figures and index total, best index first — the rankings. With ``procedure`` (by
    province or commune only): the units ranked on that procedure's dossiers. One grouped
    query per source."""
    guard(actor, unit)
    if by not in BY:
        raise DomainError("E_CHOICE_INVALID", _("Phân tổ: province, commune, procedure hoặc agency."), "by")
    if procedure is not None and by not in ("province", "commune"):
        raise DomainError(
            "E_BREAKDOWN", _("Xếp hạng một thủ tục chỉ theo tỉnh hoặc xã/phường."), "procedure"
        )
    rule = rule_for(period)
    qs = m.tallies(unit, period)
    rows: list[_Row] = []
    if by in ("province", "commune"):
        rows = _unit_rows(actor, unit, period, by, procedure)
    elif by == "procedure":
        events = m.event_metrics(qs, by="procedure_id")
        empty = m.event_metrics(qs.none())[None]
        for p in Procedure.objects.filter(active=True):
            values = m.Values(
                {**empty, **events.get(p.pk, {}), **m.catalog_metrics(procedure=p)},
                {"events": timezone.now(), "catalog": timezone.now()},
            )
            rows.append(
                (p.pk, _name({"name_vi": p.name_vi, "name_en": p.name_en}), p.code, unit, p, None, values)
            )
    else:
        events = m.event_metrics(qs, by="procedure__agency")
        empty = m.event_metrics(qs.none())[None]
        for value, agency_label in Agency.choices:
            values = m.Values(
                {**empty, **events.get(value, {}), **m.catalog_metrics(agency=value)},
                {"events": timezone.now(), "catalog": timezone.now()},
            )
            rows.append((value, str(agency_label), value, unit, None, value, values))
    out = []
    labels = _labels()
    for key, label, code, row_unit, procedure, agency, values in rows:
        result = score(rule, values.metrics)
        out.append(
            BreakdownRow(
                key,
                label,
                code,
                _figures(row_unit, period, procedure, agency, values, labels),
                result.total,
                result.grade,
            )
        )
    out.sort(key=lambda r: (r.index_total is None, -(r.index_total or 0), r.label))
    return out


# ---- trends -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    label: str
    start: dt.date
    end: dt.date
    value: float | None
    numerator: int | None
    denominator: int | None


def trend(
    actor: Actor,
    *,
    unit: AdminUnit | None,
    metric: str,
    kind: str = "month",
    count: int = 12,
    procedure: Procedure | None = None,
    end: dt.date | None = None,
) -> list[TrendPoint]:
    """The figure ``metric`` (a figure code, or ``index``) over the ``count`` periods of
    ``kind`` (month | quarter | year | fifteen_day) ending with the one that contains ``end``
    (default: today) — a dashboard passes its selected period's end. Oldest first. A count's
    value is the count; a ratio's, the ratio; an average's, the mean; the index's, its total."""
    guard(actor, unit)
    if metric != "index" and metric not in BY_CODE:
        raise DomainError("E_METRIC", _("Chỉ tiêu không có."), "metric")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 60:
        raise DomainError("E_COUNT", _("Số kỳ từ 1 đến 60."), "count")
    if end is not None and (isinstance(end, dt.datetime) or not isinstance(end, dt.date)):
        raise DomainError("E_PERIOD", _("Ngày cuối kỳ không hợp lệ."), "end")
    out: list[TrendPoint] = []
    periods = last_periods(kind, count, until=end)
    if kind == "month" and (metric == "index" or BY_CODE[metric].source == "events"):
        return _month_trend(unit, metric, periods, procedure)
    for period in periods:
        if metric == "index":
            result = index(actor, unit=unit, period=period, procedure=procedure)
            out.append(TrendPoint(period.label, period.start, period.end, result.total, None, None))
            continue
        d = BY_CODE[metric]
        values = m.values_for(actor, unit, period, procedure=procedure, sources=(d.source,))
        out.append(_point(period, d, values))
    return out


def _point(period: Period, d: FigureDef, values: m.Values) -> TrendPoint:
    f = _figure(d, values)
    if f is None:
        return TrendPoint(period.label, period.start, period.end, None, None, None)
    value = f.ratio if d.kind != COUNT else (float(f.numerator) if f.numerator is not None else None)
    return TrendPoint(period.label, period.start, period.end, value, f.numerator, f.denominator)


def _month_trend(
    unit: AdminUnit | None, metric: str, months: list[Period], procedure: Procedure | None
) -> list[TrendPoint]:
    """``trend`` of a figure counted from the events (or of the index) by month: the months'
    tallies in one grouped read, each month's point as ``figures``/``index`` make it."""
    by_month = m.event_metrics_by_month(unit, months, procedure=procedure)
    now = timezone.now()
    if metric != "index":
        d = BY_CODE[metric]
        return [_point(p, d, m.Values(by_month[p.start], {"events": now})) for p in months]
    catalog = m.catalog_metrics(procedure=procedure)
    rules = rule_sets()
    return [
        TrendPoint(p.label, p.start, p.end, score(rule_for(p, rules), {**by_month[p.start], **catalog}).total,
                   None, None)
        for p in months
    ]
