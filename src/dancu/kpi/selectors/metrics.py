"""Metric values (named numbers: counters summed over the tallies, the catalog's counts, the
registry snapshot, the data-quality tallies) for a unit and a period — grouped by a key when a
breakdown asks. Figures and the index are ratios of these names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.geo.models import AdminUnit, Level
from dancu.kpi.models import COUNTERS, DossierTally, RegistryTally
from dancu.kpi.periods import Period
from dancu.kpi.selectors.registry import FIELDS as REGISTRY_FIELDS
from dancu.publicservices.models import Procedure
from dancu.quality.selectors import QualityFigures, tallies_breakdown
from dancu.quality.selectors import tallies as quality_tallies

# Metrics derived from the counters (name → the counters added).
DERIVED = {
    "decided": ("approved", "refused"),
    "decided_digitised": ("approved", "refused"),  # every dancu component is a stored document
    "paid": ("paid_online", "paid_at_counter"),
}
EVENT_METRICS = (*COUNTERS, "submitted_online", *DERIVED)
CATALOG_METRICS = ("catalog_active", "catalog_complete", "essential_active", "essential_online")
QUALITY_METRICS = ("quality_total", "quality_clean")


@dataclass
class Values:
    """Metric values with the freshness of each source (None: the source has no data)."""

    metrics: dict[str, int | None]
    freshness: dict[str, dt.datetime | None]


# ---- events (the tallies) -----------------------------------------------------------------------


def tallies(
    unit: AdminUnit | None, period: Period, *, procedure: Procedure | None = None, agency: str | None = None
) -> QuerySet[DossierTally]:
    qs = DossierTally.objects.filter(day__gte=period.start, day__lte=period.end)
    if unit is not None:
        qs = qs.filter(commune_id=unit.pk) if unit.level == Level.COMMUNE else qs.filter(province_id=unit.pk)
    if procedure is not None:
        qs = qs.filter(procedure_id=procedure.pk)
    if agency:
        qs = qs.filter(procedure__agency=agency)
    return qs


def _sums() -> dict[str, Any]:
    # Named apart from the columns ("n_…"): an aggregate named like a column shadows it.
    sums: dict[str, Any] = {f"n_{c}": Sum(c) for c in COUNTERS}
    sums["n_submitted_online"] = Sum("submitted", filter=Q(channel="online"))
    return sums


def _derive(row: dict[str, Any]) -> dict[str, int | None]:
    out: dict[str, int | None] = {k: int(row.get(f"n_{k}") or 0) for k in (*COUNTERS, "submitted_online")}
    for name, parts in DERIVED.items():
        out[name] = sum(out[p] or 0 for p in parts)
    return out


def event_metrics(qs: QuerySet[DossierTally], by: str | None = None) -> dict[Any, dict[str, int | None]]:
    """Summed counters (and derived metrics) — one row, or one per value of the ``by`` column."""
    if by is None:
        return {None: _derive(qs.aggregate(**_sums()))}
    return {row[by]: _derive(row) for row in qs.values(by).order_by().annotate(**_sums())}


def event_metrics_by_month(
    unit: AdminUnit | None, months: list[Period], *, procedure: Procedure | None = None
) -> dict[dt.date, dict[str, int | None]]:
    """The event metrics of each of these month periods, in one grouped read: what
    ``event_metrics`` gives month by month (keyed by the month's first day; no tally: zeros)."""
    span = Period("custom", months[0].start, months[-1].end, "")
    qs = tallies(unit, span, procedure=procedure).annotate(month=TruncMonth("day"))
    empty = event_metrics(qs.none())[None]
    grouped = event_metrics(qs, by="month")
    return {p.start: {**empty, **grouped.get(p.start, {})} for p in months}


# ---- the catalog ---------------------------------------------------------------------------------


def _complete(p: Procedure) -> bool:
    return bool(p.legal_basis.strip() and p.time_limit_days and p.form_schema.get("properties") is not None)


def catalog_metrics(
    *, procedure: Procedure | None = None, agency: str | None = None
) -> dict[str, int | None]:
    qs = Procedure.objects.filter(active=True)
    if procedure is not None:
        qs = qs.filter(pk=procedure.pk)
    if agency:
        qs = qs.filter(agency=agency)
    rows = list(qs.only("legal_basis", "time_limit_days", "form_schema", "essential", "online_level"))
    essential = [p for p in rows if p.essential]
    return {
        "catalog_active": len(rows),
        "catalog_complete": sum(1 for p in rows if _complete(p)),
        "essential_active": len(essential),
        "essential_online": sum(1 for p in essential if p.online_level == "full"),
    }


# ---- the registry snapshot ----------------------------------------------------------------------


def _registry_rows(unit: AdminUnit | None, day: dt.date) -> QuerySet[RegistryTally]:
    qs = RegistryTally.objects.all()
    if unit is not None:
        qs = qs.filter(commune_id=unit.pk) if unit.level == Level.COMMUNE else qs.filter(province_id=unit.pk)
    latest = qs.filter(day__lte=day).aggregate(d=Max("day"))["d"]
    return qs.filter(day=latest) if latest is not None else qs.none()


def registry_metrics(
    unit: AdminUnit | None, period: Period, by: str | None = None
) -> tuple[dict[Any, dict[str, int | None]], dt.datetime | None]:
    """The latest snapshot on or before the period's end: sums (per ``by`` column) and its
    freshness (the oldest ``computed_at`` summed; None: no snapshot)."""
    qs = _registry_rows(unit, period.end)
    sums = {f"n_{f}": Sum(f) for f in REGISTRY_FIELDS}
    fresh = qs.aggregate(at=Min("computed_at"))["at"]
    if fresh is None:
        return {}, None
    if by is None:
        row = qs.aggregate(**sums)
        return {None: {f: int(row[f"n_{f}"] or 0) for f in REGISTRY_FIELDS}}, fresh
    rows = qs.values(by).order_by().annotate(**sums)
    return {r[by]: {f: int(r[f"n_{f}"] or 0) for f in REGISTRY_FIELDS} for r in rows}, fresh


# ---- data quality (the quality context's tallies, through its selector) -------------------------


def _quality_values(figures: QualityFigures) -> tuple[dict[str, int | None], dt.datetime | None]:
    if figures.computed_at is None:
        return {}, None
    return {"quality_total": int(figures.total), "quality_clean": int(figures.clean)}, figures.computed_at


def quality_metrics(actor: Actor, unit: AdminUnit | None) -> tuple[dict[str, int | None], dt.datetime | None]:
    return _quality_values(quality_tallies(actor, unit))


def quality_breakdown(
    actor: Actor, unit: AdminUnit | None
) -> dict[int, tuple[dict[str, int | None], dt.datetime | None]]:
    """Per province (unit None) or per commune (unit a province): unit pk → values."""
    return {f.unit.pk: _quality_values(f) for f in tallies_breakdown(actor, unit) if f.unit is not None}


# ---- everything for one scope ---------------------------------------------------------------------


def values_for(
    actor: Actor,
    unit: AdminUnit | None,
    period: Period,
    *,
    procedure: Procedure | None = None,
    agency: str | None = None,
    sources: Iterable[str] = ("events", "catalog", "snapshot", "quality"),
) -> Values:
    now = timezone.now()
    metrics: dict[str, int | None] = {}
    freshness: dict[str, dt.datetime | None] = {}
    sources = set(sources)
    if "events" in sources:
        metrics |= event_metrics(tallies(unit, period, procedure=procedure, agency=agency))[None]
        freshness["events"] = now  # the tallies commit with the transitions: as fresh as the read
    if "catalog" in sources:
        metrics |= catalog_metrics(procedure=procedure, agency=agency)
        freshness["catalog"] = now
    scoped = procedure is None and not agency  # the registry and quality know no procedure
    if "snapshot" in sources and scoped:
        rows, fresh = registry_metrics(unit, period)
        metrics |= rows.get(None, {})
        freshness["snapshot"] = fresh
    if "quality" in sources and scoped:
        values, fresh = quality_metrics(actor, unit)
        metrics |= values
        freshness["quality"] = fresh
    return Values(metrics, freshness)
