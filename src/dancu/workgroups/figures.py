"""The one door from the working groups to the kpi context: the live figures and the index of a
unit over a period, as plain JSON-able data (what a report freezes), and the report periods.

Everything the working groups need of ``dancu.kpi.selectors`` goes through this module, so the
rest of the app does not depend on the shapes of kpi's classes.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dancu.accounts.actor import Actor
    from dancu.geo.models import AdminUnit


def report_period(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The period of a report of ``kind`` containing ``day``: the month, or its half (1–15,
    16–end) for a 15-day report."""
    last = calendar.monthrange(day.year, day.month)[1]
    if kind == "monthly":
        return day.replace(day=1), day.replace(day=last)
    if day.day <= 15:
        return day.replace(day=1), day.replace(day=15)
    return day.replace(day=16), day.replace(day=last)


def live_figures(actor: Actor, *, unit: AdminUnit, start: dt.date, end: dt.date,
                 procedure: str | None = None, with_index: bool = True) -> dict[str, Any]:
    """``{"available", "figures": [{code, label, numerator, denominator, ratio, source,
    freshness}], "index": {total, grade, grade_label, groups: [...]} | None}`` for the unit and
    period. ``available`` is False while the kpi context has no figures to give."""
    return {"available": False, "figures": [], "index": None}


def figure_value(figure: dict[str, Any]) -> float | None:
    """The value a target is compared with: the ratio in percent for a ratio figure, else the
    count (numerator)."""
    if figure.get("ratio") is not None:
        return round(float(figure["ratio"]) * 100, 2)
    if figure.get("numerator") is not None:
        return float(figure["numerator"])
    return None
