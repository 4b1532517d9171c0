"""Reads of the kpi context — the API the dashboards and the working groups' reports use
(docs/kpi.md). Officers only, by their area (``Actor.area``); citizens never."""

from dancu.kpi.periods import Period, fifteen_day_period, parse_period
from dancu.kpi.selectors.behind import dossiers_behind
from dancu.kpi.selectors.figures import (
    FIGURES,
    BreakdownRow,
    Figure,
    Figures,
    Grade,
    GroupResult,
    IndexResult,
    IndicatorResult,
    TrendPoint,
    breakdown,
    figures,
    index,
    index_of,
    rule_for,
    trend,
)
from dancu.kpi.selectors.recompute import Difference, check
from dancu.kpi.selectors.scope import scope_unit

__all__ = [
    "FIGURES",
    "BreakdownRow",
    "Difference",
    "Figure",
    "Figures",
    "Grade",
    "GroupResult",
    "IndexResult",
    "IndicatorResult",
    "Period",
    "TrendPoint",
    "breakdown",
    "check",
    "dossiers_behind",
    "fifteen_day_period",
    "figures",
    "index",
    "index_of",
    "parse_period",
    "rule_for",
    "scope_unit",
    "trend",
]
