"""What the dashboard pages show, built from ``kpi.selectors`` (the one API of the figures):
the period menu, the breadcrumb nation → province → commune, the index and its five groups,
the figures, the trend, the ranking of the units below, and the dossiers behind a number.

Pages are thin (``kpi/views.py``); this module turns the selectors' results into charts
(``kpi/charts.py``) and rows. Jurisdiction is the selectors' (``scope_unit`` →
``Actor.area``); nothing here decides who sees what. Nothing is cached: every figure is read
for the actor who asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit, Level
from dancu.kpi import charts, selectors
from dancu.kpi.charts import Cell, Chart

DOSSIERS_PAGE_SIZE = 50
TREND_MONTHS = 12
RANKING_BY = {None: "province", Level.PROVINCE: "commune", Level.COMMUNE: "procedure"}
SOURCE_LABELS = {"events": gettext_lazy("Sự kiện hồ sơ"), "snapshot": gettext_lazy("Ảnh chụp định kỳ"),
                 "quality": gettext_lazy("Kiểm tra chất lượng dữ liệu")}


def localized(item: Any, default: str = "") -> str:
    """The name of a figure, indicator, group or procedure in the page's language: the rule
    data and the catalog carry ``name_vi``/``name_en``; other objects a ``label``."""
    english = translation.get_language() == "en"
    if english and getattr(item, "name_en", ""):
        return str(item.name_en)
    for attribute in ("name_vi", "label", "name"):
        value = getattr(item, attribute, "")
        if value:
            return str(value)
    return default


# --- the period menu -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodChoice:
    value: str
    label: str


def _month_value(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _months_back(today: dt.date, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    out = []
    for _i in range(count):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def period_menu(today: dt.date | None = None) -> list[tuple[str, list[PeriodChoice]]]:
    """The periods offered (newest first): 15-day periods of the last three months, the last
    twelve months, the last eight quarters, the last three years."""
    today = today or timezone.localdate()
    halves = []
    for year, month in _months_back(today, 3):
        first = dt.date(year, month, 1)
        for start in (first, first.replace(day=16)):
            if start > today:
                continue
            p = selectors.fifteen_day_period(start)
            halves.append(PeriodChoice(f"{p.start.isoformat()}..{p.end.isoformat()}",
                                       f"{p.start:%d}–{p.end:%d/%m/%Y}"))
    halves.sort(key=lambda c: c.value, reverse=True)
    months = [PeriodChoice(_month_value(y, m), f"{m:02d}/{y}") for y, m in _months_back(today, 12)]
    quarter = (today.month - 1) // 3 + 1
    quarters = []
    year = today.year
    for _i in range(8):
        quarters.append(PeriodChoice(f"{year}-Q{quarter}", _("Quý %(q)s/%(y)s") % {"q": quarter, "y": year}))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    years = [PeriodChoice(str(y), str(y)) for y in range(today.year, today.year - 3, -1)]
    return [(_("Kỳ 15 ngày"), halves), (_("Tháng"), months), (_("Quý"), quarters), (_("Năm"), years)]


def current_month(today: dt.date | None = None) -> str:
    today = today or timezone.localdate()
    return _month_value(today.year, today.month)


def home_unit(actor: Actor) -> str | None:
    """Where an officer lands: their own commune or province (None: the nation)."""
    if actor.is_national:
        return None
    from dancu.geo.selectors import unit_by_pk

    unit = unit_by_pk(int(actor.jurisdiction_id or 0))
    return unit.qualified_code if unit else None


# --- links ---------------------------------------------------------------------------------------

def _query(**params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(clean) if clean else ""


def dashboard_url(unit: AdminUnit | None, period: str) -> str:
    return reverse("kpi:dashboard") + _query(unit=unit.qualified_code if unit else "", period=period)


def procedure_url(code: str, unit: AdminUnit | None, period: str) -> str:
    return reverse("kpi:procedure", args=[code]) + _query(
        unit=unit.qualified_code if unit else "", period=period)


def dossiers_url(metric: str, unit: AdminUnit | None, period: str, procedure: str = "") -> str:
    return reverse("kpi:dossiers") + _query(metric=metric, unit=unit.qualified_code if unit else "",
                                            period=period, procedure=procedure)


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str


def breadcrumb(actor: Actor, unit: AdminUnit | None, period: str) -> list[Crumb]:
    """Nation → province → commune, each level the actor may open a link (a commune officer
    sees their commune only: the levels above are not theirs to open)."""
    chain: list[AdminUnit | None] = [None]
    if unit is not None:
        if unit.level == Level.COMMUNE and unit.province_id and unit.province_id != unit.pk:
            chain.append(unit.province)
        chain.append(unit)
    crumbs = []
    for level_unit in chain:
        if level_unit is not None and not actor.area.covers(
                level_unit.pk if level_unit.level == Level.COMMUNE else None, level_unit.province_id):
            continue
        if level_unit is None and not actor.is_national:
            continue
        crumbs.append(Crumb(level_unit.name if level_unit else _("Toàn quốc"), dashboard_url(level_unit, period)))
    return crumbs


# --- the page of a unit (or of a procedure in a unit) --------------------------------------------

@dataclass
class FigureRow:
    code: str
    label: str
    numerator: int | None
    denominator: int | None
    ratio: float | None
    source: str
    freshness: dt.datetime | None
    drill_url: str  # the dossiers behind the number ("" when it is not counted from dossiers)


@dataclass
class Dashboard:
    unit: AdminUnit | None
    unit_name: str
    period: Any  # kpi.selectors.Period
    period_value: str
    procedure: Any | None
    procedure_name: str
    index: Any
    grade_label: str
    figures: list[FigureRow]
    charts: list[Chart] = field(default_factory=list)
    metric: str = ""
    metrics: list[tuple[str, str]] = field(default_factory=list)
    freshness: dt.datetime | None = None
    ranking_level: str = ""
    procedures_table: list[list[Cell]] = field(default_factory=list)


def _figure_rows(figs: Any, unit: AdminUnit | None, period: str, procedure: str) -> list[FigureRow]:
    rows = []
    for f in figs:
        drill = dossiers_url(f.code, unit, period, procedure) if f.source == "events" else ""
        rows.append(FigureRow(f.code, localized(f), f.numerator, f.denominator, f.ratio,
                              str(SOURCE_LABELS.get(f.source, f.source)), f.freshness, drill))
    return rows


def _groups_chart(result: Any) -> Chart:
    title = _("Chỉ số phục vụ người dân, doanh nghiệp: điểm theo nhóm")
    groups = [(localized(g), float(g.points), float(g.max_points)) for g in result.groups]
    rows = [[Cell(name), Cell(format_number(points), numeric=True), Cell(format_number(maximum), numeric=True)]
            for name, points, maximum in groups]
    return charts.groups_chart(title, groups, series=(_("Điểm"), _("Tối đa")),
                               columns=[_("Nhóm chỉ số"), _("Điểm"), _("Tối đa")], rows=rows)


def format_number(value: float | None) -> str:
    """Points with up to two decimals, the language's decimal mark."""
    if value is None:
        return "—"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if translation.get_language() != "en" else text


def _trend_chart(actor: Actor, unit: AdminUnit | None, metric: str, label: str,
                 procedure: Any | None) -> Chart:
    points = selectors.trend(actor, unit=unit, metric=metric, kind="month", count=TREND_MONTHS,
                             procedure=procedure)
    title = _("%(figure)s, 12 tháng gần nhất") % {"figure": label}
    rows = [[Cell(p.label), Cell(format_count(p.numerator), numeric=True), Cell(format_count(p.denominator), numeric=True),
             Cell(charts.format_percent(p.value), numeric=True)] for p in points]
    return charts.trend_chart(title, [(p.label, p.value) for p in points],
                              columns=[_("Kỳ"), _("Tử số"), _("Mẫu số"), _("Tỷ lệ")], rows=rows)


def format_count(value: int | None) -> str:
    """A count with the language's thousands separator (``1.234`` / ``1,234``)."""
    if value is None:
        return "—"
    text = f"{int(value):,}"
    return text.replace(",", ".") if translation.get_language() != "en" else text


def _ranking_chart(actor: Actor, unit: AdminUnit | None, period_obj: Any, period: str) -> tuple[str, Chart | None]:
    level = unit.level if unit is not None else None
    by = RANKING_BY.get(level, "procedure")
    rows = selectors.breakdown(actor, unit=unit, period=period_obj, by=by)
    if not rows:
        return by, None
    rows = sorted(rows, key=lambda r: (-(r.index_total or 0), r.label))
    titles = {"province": _("Xếp hạng tỉnh/thành phố theo chỉ số"),
              "commune": _("Xếp hạng xã/phường theo chỉ số"),
              "procedure": _("Xếp hạng thủ tục theo chỉ số")}
    table = []
    for rank, row in enumerate(rows, 1):
        if by == "procedure":
            href = procedure_url(row.code, unit, period)
        else:
            from dancu.geo.selectors import find_unit

            href = dashboard_url(find_unit(row.code), period)
        table.append([Cell(str(rank), numeric=True), Cell(row.label, href),
                      Cell(format_number(row.index_total), numeric=True)])
    note = ""
    if len(rows) > charts.MAX_RANKED_BARS:
        note = _("Biểu đồ: 10 đơn vị đầu và 10 đơn vị cuối; bảng: tất cả %(n)s.") % {"n": len(rows)}
    chart = charts.ranking_chart(titles[by], [(r.label, r.index_total) for r in rows], maximum=100,
                                 columns=[_("Hạng"), _("Tên"), _("Điểm")], rows=table, note=note)
    return by, chart


def unit_dashboard(actor: Actor, *, unit_code: str | None, period: str, metric: str = "",
                   procedure_code: str = "") -> Dashboard:
    """The page of a unit (``unit_code`` None: the actor's own unit, the nation for national
    officers), or of one procedure in it. Refusals (beyond the area, a bad period or code)
    are the selectors' ``DomainError``s."""
    unit = selectors.scope_unit(actor, unit_code or home_unit(actor))
    period_obj = selectors.parse_period(period)
    procedure = None
    procedure_name = ""
    if procedure_code:
        from dancu.publicservices.selectors import procedure_by_code

        procedure = procedure_by_code(procedure_code, field_name="procedure")
        procedure_name = localized(procedure)
    figs = list(selectors.figures(actor, unit=unit, period=period_obj, procedure=procedure))
    result = selectors.index(actor, unit=unit, period=period_obj, procedure=procedure)
    rows = _figure_rows(figs, unit, period, procedure_code)
    metrics = [(r.code, r.label) for r in rows if r.source == str(SOURCE_LABELS["events"])] or \
        [(r.code, r.label) for r in rows]
    chosen = metric if metric in {code for code, _label in metrics} else (metrics[0][0] if metrics else "")
    page = Dashboard(unit, unit.name if unit else _("Toàn quốc"), period_obj, period, procedure,
                     procedure_name, result, localized(result.grade), rows, metric=chosen, metrics=metrics)
    page.freshness = min((r.freshness for r in rows if r.freshness), default=None)
    page.charts.append(_groups_chart(result))
    if chosen:
        page.charts.append(_trend_chart(actor, unit, chosen, dict(metrics)[chosen], procedure))
    if procedure is None:
        page.ranking_level, ranking = _ranking_chart(actor, unit, period_obj, period)
        if ranking is not None:
            page.charts.append(ranking)
    return page


# --- the dossiers behind a number ----------------------------------------------------------------

@dataclass
class DossierRow:
    code: str
    url: str
    procedure_code: str
    procedure: str
    applicant: str
    status: str
    channel: str
    submitted_at: dt.datetime
    due_on: dt.date
    decided_at: dt.datetime | None


@dataclass
class DossierPage:
    unit: AdminUnit | None
    unit_name: str
    period: Any
    period_value: str
    metric: str
    metric_label: str
    procedure_code: str
    rows: list[DossierRow]
    page: int
    has_next: bool
    back_url: str


PURPOSE = gettext_lazy("Đối chiếu số liệu chỉ số")


def dossiers_page(actor: Actor, *, unit_code: str | None, period: str, metric: str,
                  procedure_code: str = "", page: int = 1) -> DossierPage:
    """One page of the dossiers behind a figure. The applicants' names are personal data: one
    ``kpi.dossiers.view`` audit event per person shown, with the purpose (the figure, the unit,
    the period), as the counter's queue records ``dossier.queue``."""
    unit = selectors.scope_unit(actor, unit_code or home_unit(actor))
    period_obj = selectors.parse_period(period)
    procedure = None
    if procedure_code:
        from dancu.publicservices.selectors import procedure_by_code

        procedure = procedure_by_code(procedure_code, field_name="procedure")
    qs = selectors.dossiers_behind(actor, unit=unit, period=period_obj, procedure=procedure, metric=metric)
    start = (page - 1) * DOSSIERS_PAGE_SIZE
    items = list(qs.select_related("procedure", "applicant").order_by("-submitted_at", "-pk")
                 [start:start + DOSSIERS_PAGE_SIZE + 1])
    has_next = len(items) > DOSSIERS_PAGE_SIZE
    items = items[:DOSSIERS_PAGE_SIZE]
    figs = {f.code: localized(f) for f in selectors.figures(actor, unit=unit, period=period_obj,
                                                              procedure=procedure)}
    label = figs.get(metric, metric)
    unit_name = unit.name if unit else _("Toàn quốc")
    reason = f"{PURPOSE}: {label} — {unit_name} — {period_obj.label}"
    audit.record_many(actor, "kpi.dossiers.view", [d.applicant.personal_id for d in items], reason=reason)
    rows = [DossierRow(d.code, reverse("counter:dossier", args=[d.code]), d.procedure.code,
                       localized(d.procedure), d.applicant.full_name, d.get_status_display(),
                       d.get_channel_display(), d.submitted_at, d.due_on, d.decided_at) for d in items]
    back = procedure_url(procedure_code, unit, period) if procedure_code else dashboard_url(unit, period)
    return DossierPage(unit, unit_name, period_obj, period, metric, label, procedure_code, rows,
                       page, has_next, back)


def refusal_is_input(err: DomainError) -> bool:
    """A bad period, code or metric (400), not a refusal of the area (403) or a missing unit."""
    from dancu.core.errors import NotFound, OutOfJurisdiction

    return not isinstance(err, (NotFound, OutOfJurisdiction))
