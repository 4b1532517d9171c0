"""KPI API for officers' tokens: the figures and Decision 766's index of a unit over a period
(``GET /api/v1/kpi/figures``, ``GET /api/v1/kpi/index``). Counts only, no personal data: not
audited, except refusals (a unit beyond the token's area)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from dancu.kpi import selectors
from dancu.population.api import ERRORS, actor_of
from dancu.publicservices.selectors import procedure_by_code

router = Router(tags=["kpi"])

UNIT_DOC = "2025 province or commune code (`2025:38`, `2025:14758` or the bare code); empty = the nation"
PERIOD_DOC = "`2026-11` (month), `2026-Q4`, `2026` or `2026-11-01..2026-11-15`"


class FigureOut(Schema):
    code: str
    label: str
    numerator: int | None
    denominator: int | None
    ratio: float | None
    source: str
    freshness: dt.datetime | None
    kind: str = Field(
        description="count (the numerator) | ratio (a share 0..1) | average (a mean, e.g. a rating 1–5)"
    )


class PeriodOut(Schema):
    kind: str
    start: dt.date
    end: dt.date
    label: str


class FiguresOut(Schema):
    unit: str | None
    period: PeriodOut
    procedure: str | None
    figures: list[FigureOut]


class IndicatorOut(Schema):
    code: str
    label: str
    value: float | None
    target: float
    points: float
    max: float
    measured: bool
    note: str


class GroupOut(Schema):
    code: str
    label: str
    points: float
    max: float
    indicators: list[IndicatorOut]


class GradeOut(Schema):
    code: str
    label: str


class IndexOut(Schema):
    unit: str | None
    period: PeriodOut
    rule_version: str
    decision: str
    total: float | None
    grade: GradeOut | None
    groups: list[GroupOut]


class ScopeQuery(Schema):
    """The query of both operations: which unit, period and (optionally) procedure."""

    period: str = Field(..., max_length=30, description=PERIOD_DOC)
    unit: str | None = Field(None, max_length=20, description=UNIT_DOC)
    procedure: str | None = Field(None, max_length=20, description="national procedure code")


def _scope(request: HttpRequest, query: ScopeQuery) -> tuple[Any, ...]:
    actor = actor_of(request)
    parsed = selectors.parse_period(query.period)
    scope = selectors.scope_unit(actor, query.unit or None)
    proc = procedure_by_code(query.procedure, field_name="procedure") if query.procedure else None
    return actor, scope, parsed, proc


def _period(p: selectors.Period) -> dict[str, Any]:
    return {"kind": p.kind, "start": p.start, "end": p.end, "label": p.label}


@router.get(
    "/figures",
    response={200: FiguresOut, **ERRORS},
    summary="Figures of a unit over a period",
    operation_id="kpi_figures",
)
def figures(request: HttpRequest, query: Query[ScopeQuery]) -> dict[str, Any]:
    actor, scope, parsed, proc = _scope(request, query)
    result = selectors.figures(actor, unit=scope, period=parsed, procedure=proc)
    return {
        "unit": scope.qualified_code if scope else None,
        "period": _period(parsed),
        "procedure": proc.code if proc else None,
        "figures": [vars(f) for f in result],
    }


@router.get(
    "/index",
    response={200: IndexOut, **ERRORS},
    summary="Decision 766 index of a unit over a period",
    operation_id="kpi_index",
)
def index(request: HttpRequest, query: Query[ScopeQuery]) -> dict[str, Any]:
    actor, scope, parsed, proc = _scope(request, query)
    result = selectors.index(actor, unit=scope, period=parsed, procedure=proc)
    return {
        "unit": scope.qualified_code if scope else None,
        "period": _period(parsed),
        "rule_version": result.rule_version,
        "decision": result.decision,
        "total": result.total,
        "grade": vars(result.grade) if result.grade else None,
        "groups": [
            {
                "code": g.code,
                "label": g.label,
                "points": g.points,
                "max": g.max,
                "indicators": [vars(i) for i in g.indicators],
            }
            for g in result.groups
        ],
    }
