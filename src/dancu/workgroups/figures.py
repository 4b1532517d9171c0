"""The one door from the working groups to the kpi context (``dancu.kpi.selectors``): the live
figures and the index of a unit over a period as plain JSON-able data (what a report freezes),
the report periods (kpi's ``Period``), and the figure codes a task's target may name.

Nothing else in this app imports kpi, so a change of kpi's classes is absorbed here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.utils import timezone, translation

from dancu.kpi import selectors as kpi
from dancu.kpi.periods import month
from dancu.publicservices.selectors import procedure_by_code

if TYPE_CHECKING:
    from dancu.accounts.actor import Actor
    from dancu.geo.models import AdminUnit


def report_period(kind: str, day: dt.date) -> kpi.Period:
    """The period of a report of ``kind`` containing ``day``: the month, or its half (1–15,
    16–end) for a 15-day report."""
    return month(day) if kind == "monthly" else kpi.fifteen_day_period(day)


def figure_choices() -> list[tuple[str, str]]:
    """The figures a task's target may name: (code, label) in the current language."""
    return [(f.code, str(f.label)) for f in kpi.FIGURES]


def figure_codes() -> frozenset[str]:
    return frozenset(f.code for f in kpi.FIGURES)


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def live_figures(actor: Actor, *, unit: AdminUnit, start: dt.date, end: dt.date,
                 procedure: str | None = None, with_index: bool = True,
                 language: str | None = None) -> dict[str, Any]:
    """``{"available", "figures": [{code, label, numerator, denominator, ratio, source,
    freshness}], "index": {total, grade, grade_label, rule_version, decision, groups: [{code,
    label, points, max_points}]} | None}`` for the unit and period (``procedure`` a procedure
    code), labels in ``language`` (default: the current one). kpi refuses an actor whose area
    does not cover the unit (OutOfJurisdiction, audited by kpi)."""
    period = kpi.parse_period(f"{start.isoformat()}..{end.isoformat()}")
    proc = procedure_by_code(procedure, field_name="target_procedure") if procedure else None
    with translation.override(language or translation.get_language()):
        items = kpi.figures(actor, unit=unit, period=period, procedure=proc)
        figures = [{"code": f.code, "label": f.label, "numerator": f.numerator, "denominator": f.denominator,
                    "ratio": f.ratio, "kind": f.kind, "source": f.source, "freshness": _iso(f.freshness)}
                   for f in items]
        index = None
        if with_index:
            result = kpi.index(actor, unit=unit, period=period, procedure=proc)
            measured = result.total is not None and result.grade is not None
            index = {"total": round(result.total, 2) if result.total is not None else None,
                     "grade": result.grade.code if result.grade is not None else None,
                     "grade_label": str(result.grade.label) if result.grade is not None else "",
                     "measured": measured, "rule_version": result.rule_version,
                     "decision": result.decision,
                     "groups": [{"code": g.code, "label": str(g.label), "points": round(g.points, 2),
                                 "max_points": g.max} for g in result.groups]}
    return {"available": True, "figures": figures, "index": index}


def figure_value(figure: dict[str, Any]) -> float | None:
    """The value a target is compared with: the ratio in percent for a ratio figure, the mean
    itself for an average (e.g. the 1–5 rating), else the count (numerator)."""
    if figure.get("kind") == "average" and figure.get("ratio") is not None:
        return round(float(figure["ratio"]), 2)
    if figure.get("ratio") is not None:
        return round(float(figure["ratio"]) * 100, 2)
    if figure.get("denominator") is None and figure.get("numerator") is not None:
        return float(figure["numerator"])
    return None
