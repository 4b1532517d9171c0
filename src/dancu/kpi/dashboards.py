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
RANKING_BY: dict[str | None, str] = {None: "province", Level.PROVINCE: "commune", Level.COMMUNE: "procedure"}
SOURCE_LABELS = {"events": gettext_lazy("Hồ sơ (trực tiếp)"),
                 "snapshot": gettext_lazy("Ảnh chụp định kỳ"),
                 "quality": gettext_lazy("Kiểm tra chất lượng dữ liệu")}


def localized(item: Any, default: str = "") -> str:
    """The name of a figure, indicator, group or procedure in the page's language: the rule
    data and the catalog carry ``name_vi``/``name_en``; other objects a ``label``."""
    names: tuple[str, ...] = ("name_vi", "label", "name")
    if translation.get_language() == "en":
        names = ("name_en", *names)
    for attribute in names:
        value = getattr(item, attribute, None)
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


def dossiers_url(metric: str, unit: AdminUnit | None, period: str, procedure: str = "",
                 part: str = "") -> str:
    return reverse("kpi:dossiers") + _query(metric=metric, part=part, period=period, procedure=procedure,
                                            unit=unit.qualified_code if unit else "")


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str


def _levels(actor: Actor, unit: AdminUnit | None) -> list[AdminUnit | None]:
    """Nation → province → commune down to ``unit``, the levels the actor may open only (a
    commune officer: their commune alone)."""
    chain: list[AdminUnit | None] = [None]
    if unit is not None:
        if unit.level == Level.COMMUNE and unit.province_id and unit.province_id != unit.pk:
            chain.append(unit.province)
        chain.append(unit)
    out = []
    for level_unit in chain:
        if level_unit is not None and not actor.area.covers(
                level_unit.pk if level_unit.level == Level.COMMUNE else None, level_unit.province_id):
            continue
        if level_unit is None and not actor.is_national:
            continue
        out.append(level_unit)
    return out


def _level_name(unit: AdminUnit | None) -> str:
    return unit.name if unit else _("Toàn quốc")


def breadcrumb(actor: Actor, unit: AdminUnit | None, period: str) -> list[Crumb]:
    """Nation → province → commune, each level the actor may open a link (a commune officer
    sees their commune only: the levels above are not theirs to open)."""
    return [Crumb(_level_name(u), dashboard_url(u, period)) for u in _levels(actor, unit)]


def procedure_levels(actor: Actor, unit: AdminUnit | None, code: str, period: str) -> list[Crumb]:
    """The same procedure's page at the levels above ``unit`` the actor may open (a commune's
    procedure page links to it in the province and the nation)."""
    return [Crumb(_level_name(u), procedure_url(code, u, period)) for u in _levels(actor, unit)[:-1]]


# --- the page of a unit (or of a procedure in a unit) --------------------------------------------

def figure_kind(code: str) -> str:
    """count | ratio | average: how a figure's value is shown (``FigureDef.kind``, kpi's one
    place for it)."""
    return _DEFS[code].kind


_DEFS = {d.code: d for d in selectors.FIGURES}


def _drillable(code: str) -> bool:
    definition = _DEFS.get(code)
    return bool(definition and definition.drill)


def format_value(kind: str, numerator: int | None, ratio: float | None) -> str:
    if kind == "count":
        return format_count(numerator)
    if kind == "average":
        return "—" if ratio is None else f"{format_number(ratio)}/5"
    return charts.format_percent(ratio).replace(".", "," if translation.get_language() != "en" else ".")


@dataclass
class FigureRow:
    code: str
    label: str
    kind: str
    numerator: int | None
    denominator: int | None
    value: str  # the count, the percentage or the mean, formatted for the page's language
    source: str
    live: bool  # counted as the events happen (no freshness to show)
    freshness: dt.datetime | None
    numerator_url: str  # the dossiers behind the number ("" when not counted from dossiers)
    denominator_url: str


@dataclass
class Dashboard:
    unit: AdminUnit | None
    unit_name: str
    period: Any  # kpi.selectors.Period
    period_value: str
    procedure: Any | None
    procedure_name: str
    index: Any  # kpi.selectors.IndexResult
    figures: list[FigureRow]
    charts: list[Chart] = field(default_factory=list)
    metric: str = ""
    metrics: list[tuple[str, str]] = field(default_factory=list)
    sources: list[tuple[str, dt.datetime | None]] = field(default_factory=list)  # periodic ones
    ranking_level: str = ""


def _figure_rows(figs: Any, unit: AdminUnit | None, period: str, procedure: str) -> list[FigureRow]:
    rows = []
    for f in figs:
        kind = f.kind
        drill = _drillable(f.code)
        num_url = dossiers_url(f.code, unit, period, procedure) if drill and f.numerator else ""
        den_url = (dossiers_url(f.code, unit, period, procedure, part="denominator")
                   if drill and kind == "ratio" and f.denominator else "")
        rows.append(FigureRow(f.code, f.label, kind, f.numerator, f.denominator,
                              format_value(kind, f.numerator, f.ratio),
                              str(SOURCE_LABELS.get(f.source, f.source)), f.source == "events",
                              f.freshness, num_url, den_url))
    return rows


def _groups_chart(result: Any) -> Chart:
    title = _("Điểm theo năm nhóm chỉ số")
    groups = [(g.label, float(g.points), float(g.max)) for g in result.groups]
    rows = [[Cell(name), Cell(format_number(earned), numeric=True), Cell(format_number(top), numeric=True)]
            for name, earned, top in groups]
    return charts.groups_chart(title, groups, series=(_("Điểm"), _("Tối đa")),
                               columns=[_("Nhóm chỉ số"), _("Điểm"), _("Tối đa")], rows=rows)


def format_number(value: float | None) -> str:
    """Points with up to two decimals, the language's decimal mark."""
    if value is None:
        return "—"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if translation.get_language() != "en" else text


def format_count(value: float | None) -> str:
    """A count with the language's thousands separator (``1.234`` / ``1,234``)."""
    if value is None:
        return "—"
    text = f"{int(value):,}"
    return text.replace(",", ".") if translation.get_language() != "en" else text


INDEX_METRIC = "index"


def freshness_of(figs: Any) -> list[tuple[str, dt.datetime | None]]:
    """The periodic sources behind the page and when each was computed (the oldest, None:
    never); dossier figures are counted as events happen and need none."""
    out: dict[str, dt.datetime | None] = {}
    for f in figs:
        if f.source == "events":
            continue
        seen = out.get(f.source)
        if f.source not in out or f.freshness is None or (seen is not None and f.freshness < seen):
            out[f.source] = f.freshness
    return [(str(SOURCE_LABELS.get(k, k)), v) for k, v in out.items()]


def _trend_chart(actor: Actor, unit: AdminUnit | None, metric: str, label: str,
                 procedure: Any | None, end: dt.date) -> Chart:
    """The figure over the 12 months ending with the month of ``end`` (the selected period's
    last day: a past period shows the year up to it, not up to now)."""
    points = selectors.trend(actor, unit=unit, metric=metric, kind="month", count=TREND_MONTHS,
                             procedure=procedure, end=end)
    title = _("%(figure)s — 12 tháng đến %(month)s") % {"figure": label, "month": points[-1].label}
    kind = "index" if metric == INDEX_METRIC else figure_kind(metric)
    if kind == "ratio":
        columns = [_("Tháng"), _("Tử số"), _("Mẫu số"), _("Tỷ lệ")]
        rows = [[Cell(p.label), Cell(format_count(p.numerator), numeric=True),
                 Cell(format_count(p.denominator), numeric=True),
                 Cell(format_value(kind, p.numerator, p.value), numeric=True)] for p in points]
    else:
        columns = [_("Tháng"), _("Điểm") if kind in ("index", "average") else _("Số lượng")]
        rows = [[Cell(p.label), Cell(format_count(p.value) if kind == "count" else format_number(p.value),
                                     numeric=True)] for p in points]
    top = {"index": 100.0, "average": 5.0}.get(kind)
    return charts.trend_chart(title, [(p.label, p.value) for p in points], percent_axis=kind == "ratio",
                              maximum=top, columns=columns, rows=rows)


def _figure_cell(row: Any, code: str) -> Cell:
    try:
        f = row.figures[code]
    except KeyError:
        return Cell("—", numeric=True)
    return Cell(format_value(f.kind, f.numerator, f.ratio), numeric=True)


def _ranking_chart(actor: Actor, unit: AdminUnit | None, period_obj: Any, period: str,
                   procedure: Any | None = None) -> tuple[str, Chart | None]:
    """The units below (or, in a commune, the procedures) best index first, with their number of
    dossiers and two of the figures the working groups report on. On a procedure's page: the
    provinces (nation) or communes (province) ranked on that procedure's dossiers, each row
    linking to the procedure's page one level down; none in a commune (nothing below it)."""
    level = unit.level if unit is not None else None
    by = RANKING_BY.get(level, "procedure")
    if procedure is not None and by == "procedure":
        return "", None
    rows = selectors.breakdown(actor, unit=unit, period=period_obj, by=by, procedure=procedure)
    if by == "procedure":  # a commune ranks the procedures it received dossiers of
        rows = [r for r in rows if r.figures["submitted"].numerator or r.figures["decided"].numerator]
    if not rows:
        return by, None
    if procedure is not None:
        titles = {"province": _("Xếp hạng tỉnh/thành phố theo chỉ số của thủ tục"),
                  "commune": _("Xếp hạng xã/phường theo chỉ số của thủ tục")}
    else:
        titles = {"province": _("Xếp hạng tỉnh/thành phố theo chỉ số"),
                  "commune": _("Xếp hạng xã/phường theo chỉ số"),
                  "procedure": _("Xếp hạng thủ tục theo chỉ số")}
    table = []
    for rank, row in enumerate(rows, 1):
        if by == "procedure":
            href = procedure_url(row.code, unit, period)
        elif procedure is not None:
            href = reverse("kpi:procedure", args=[procedure.code]) + _query(unit=row.code, period=period)
        else:
            href = reverse("kpi:dashboard") + _query(unit=row.code, period=period)
        table.append([Cell(str(rank), numeric=True), Cell(row.label, href),
                      Cell(format_number(row.index_total), numeric=True),
                      _figure_cell(row, "submitted"), _figure_cell(row, "online_dossiers"),
                      _figure_cell(row, "on_time")])
    note = ""
    if len(rows) > charts.MAX_RANKED_BARS:
        half = charts.MAX_RANKED_BARS // 2
        note = _("Biểu đồ: %(half)s đơn vị đầu và %(half)s đơn vị cuối; bảng: cả %(n)s.") % {
            "half": half, "n": len(rows)}
    see_all = {"province": _("Xem tất cả %(n)s tỉnh/thành phố"), "commune": _("Xem tất cả %(n)s xã/phường"),
               "procedure": _("Xem tất cả %(n)s thủ tục")}
    chart = charts.ranking_chart(titles[by], [(r.label, r.index_total) for r in rows], maximum=100,
                                 columns=[_("Hạng"), _("Tên"), _("Điểm"), _("Số hồ sơ nộp"), _("Trực tuyến"),
                                          _("Đúng hạn")], rows=table, note=note,
                                 fold_label=see_all[by] % {"n": len(rows)})
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
    figs = selectors.figures(actor, unit=unit, period=period_obj, procedure=procedure)
    result = selectors.index_of(figs)  # the same values: no second read of the tallies
    rows = _figure_rows(figs, unit, period_obj.code, procedure_code)
    metrics = [(INDEX_METRIC, _("Chỉ số phục vụ (điểm)"))] + [(r.code, r.label) for r in rows]
    chosen = metric if metric in dict(metrics) else DEFAULT_METRIC
    if chosen not in dict(metrics):
        chosen = INDEX_METRIC
    page = Dashboard(unit, unit.name if unit else _("Toàn quốc"), period_obj, period_obj.code, procedure,
                     procedure_name, result, rows, metric=chosen, metrics=metrics)
    page.sources = freshness_of(figs)
    page.charts.append(_groups_chart(result))
    page.charts.append(_trend_chart(actor, unit, chosen, dict(metrics)[chosen], procedure, period_obj.end))
    page.ranking_level, ranking = _ranking_chart(actor, unit, period_obj, period_obj.code, procedure)
    if ranking is not None:
        page.charts.append(ranking)
    return page


DEFAULT_METRIC = "online_dossiers"


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


PURPOSE = "Đối chiếu số liệu chỉ số"  # the audit trail's purpose, in Vietnamese whatever the page's language
PARTS = ("numerator", "denominator")


def _metric_label(metric: str, part: str) -> str:
    definition = _DEFS.get(metric)
    label = str(definition.label) if definition else metric
    if part == "denominator" and definition is not None and definition.denominator:
        label = f"{label} ({_('mẫu số')})"
    return label


def dossiers_page(actor: Actor, *, unit_code: str | None, period: str, metric: str, part: str = "",
                  procedure_code: str = "", page: int = 1) -> DossierPage:
    """One page of the dossiers behind a figure (its numerator, or ``part="denominator"``). The
    applicants' names are personal data: one ``kpi.dossiers.view`` audit event per person shown,
    with the purpose (the figure, the unit, the period), as the counter's queue records
    ``dossier.queue``."""
    unit = selectors.scope_unit(actor, unit_code or home_unit(actor))
    period_obj = selectors.parse_period(period)
    part = part or "numerator"
    if part not in PARTS:
        raise DomainError("E_CHOICE_INVALID", _("Phần của số liệu: numerator hoặc denominator."), "part")
    procedure = None
    if procedure_code:
        from dancu.publicservices.selectors import procedure_by_code

        procedure = procedure_by_code(procedure_code, field_name="procedure")
    qs = selectors.dossiers_behind(actor, unit=unit, period=period_obj, procedure=procedure, metric=metric,
                                   part=part)
    start = (page - 1) * DOSSIERS_PAGE_SIZE
    items = list(qs.select_related("procedure", "applicant")[start:start + DOSSIERS_PAGE_SIZE + 1])
    has_next = len(items) > DOSSIERS_PAGE_SIZE
    items = items[:DOSSIERS_PAGE_SIZE]
    unit_name = unit.name if unit else _("Toàn quốc")
    with translation.override("vi"):
        where = unit.name if unit else "Toàn quốc"
        reason = f"{PURPOSE}: {_metric_label(metric, part)} — {where} — {period_obj.label}"
    audit.record_many(actor, "kpi.dossiers.view", [d.applicant.personal_id for d in items], reason=reason)
    rows = [DossierRow(d.code, reverse("counter:dossier", args=[d.code]), d.procedure.code,
                       localized(d.procedure), d.applicant.full_name, d.get_status_display(),
                       d.get_channel_display(), d.submitted_at, d.due_on, d.decided_at) for d in items]
    back = (procedure_url(procedure_code, unit, period_obj.code) if procedure_code
            else dashboard_url(unit, period_obj.code))
    return DossierPage(unit, unit_name, period_obj, period_obj.code, metric, _metric_label(metric, part),
                       procedure_code, rows, page, has_next, back)
