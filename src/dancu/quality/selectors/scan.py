"""The live computation of the data-quality counts: one grouped scan of a province.

This is what the report did on every request before it read tallies (docs/data-quality.md):
now ``quality.services.recompute`` runs it in the background and stores the result, and
``dancu quality check`` runs it again to compare. The conditions are ``quality.checks``' (one
rule, one place); nothing here loops over rows in Python.

The citizen checks are evaluated once per row in an inner query (one boolean column per
check), which the outer query sums per commune — so the "clean" counts (no check failed, or none
of a group) cost nothing more than the checks themselves. On PostgreSQL the inner query is kept
from being flattened into the outer one (``OFFSET 0``), otherwise a condition used by several
sums would be evaluated several times; JIT is off for the scan (it costs seconds to compile
this query and saves nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population.models import Citizen
from dancu.quality.checks import CHECKS, CITIZEN, CITIZEN_CHECKS, HOUSEHOLD, Group, is_minor, not_deceased
from dancu.residence.models import Household, Registration

# Denominators and "clean" counts stored beside the check codes (``QualityTally.code``).
TOTAL, MINORS, NOT_DECEASED, CLEAN = "TOTAL", "MINORS", "NOT_DECEASED", "CLEAN"


def clean_code(group: str) -> str:
    """The code of "citizens failing no check of ``group``" (``CLEAN_du`` …)."""
    return f"{CLEAN}_{group}"


GROUP_CLEAN_CODES = tuple(clean_code(g) for g in Group.LABELS)
TALLY_CODES: tuple[str, ...] = (TOTAL, MINORS, NOT_DECEASED, CLEAN, *GROUP_CLEAN_CODES,
                                *(c.code for c in CHECKS))
# The place of the people with no current place: one set of tallies with commune NULL.
UNPLACED = None

Counts = dict[str, int]


@contextmanager
def _scan_session() -> Iterator[None]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def _citizen_counts(qs: QuerySet[Citizen], key: str, today: dt.date) -> dict[int | None, Counts]:
    flags: dict[str, Q] = {MINORS: is_minor(today), NOT_DECEASED: not_deceased(today)}
    flags.update({c.code: c.condition(today) for c in CITIZEN_CHECKS})
    alias = {code: f"f{i}" for i, code in enumerate(flags)}
    inner = (qs.annotate(**{alias[code]: ExpressionWrapper(cond, output_field=BooleanField())
                            for code, cond in flags.items()})
             .values(key, *alias.values()).order_by())
    sql, params = inner.query.sql_with_params()
    if connection.vendor == "postgresql":
        sql += " OFFSET 0"

    def fails(codes: list[str]) -> str:
        return " OR ".join(alias[c] for c in codes) or "FALSE"

    sums = [f"SUM(CASE WHEN {alias[code]} THEN 1 ELSE 0 END)" for code in flags]
    sums.append(f"SUM(CASE WHEN {fails([c.code for c in CITIZEN_CHECKS])} THEN 0 ELSE 1 END)")
    for group in Group.LABELS:
        codes = [c.code for c in CITIZEN_CHECKS if c.group == group]
        sums.append(f"SUM(CASE WHEN {fails(codes)} THEN 0 ELSE 1 END)")
    names = [*flags, CLEAN, *GROUP_CLEAN_CODES]
    # only our aliases and column names are interpolated; values are in params
    outer = f"SELECT {key}, COUNT(*), {', '.join(sums)} FROM ({sql}) q GROUP BY {key}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(outer, params)
        rows = cursor.fetchall()
    return {row[0]: {TOTAL: row[1], **{n: int(v or 0) for n, v in zip(names, row[2:], strict=True)}}
            for row in rows}


def _other_counts(province_id: int, today: dt.date) -> dict[int, Counts]:
    """Checks on households and registrations, counted in their own commune."""
    out: dict[int, Counts] = {}
    for check in CHECKS:
        if check.source == CITIZEN:
            continue
        model = Household if check.source == HOUSEHOLD else Registration
        rows = (model.objects.filter(commune__province_id=province_id).filter(check.condition(today))
                .values("commune_id").annotate(n=Count("pk")).order_by())
        for r in rows:
            out.setdefault(r["commune_id"], {})[check.code] = r["n"]
    return out


def _full(counts: Counts | None) -> Counts:
    return {code: (counts or {}).get(code, 0) for code in TALLY_CODES}


def scan(province_id: int | None, today: dt.date | None = None) -> dict[int | None, Counts]:
    """Every tally code (``TALLY_CODES``) per commune of the 2025 province ``province_id`` —
    every commune of it, zeros included — counted now, live. ``province_id`` None
    (``UNPLACED``): the people with no current commune, under the key None."""
    today = today or timezone.localdate()
    with _scan_session():
        if province_id is UNPLACED:
            people = _citizen_counts(Citizen.objects.filter(current_commune__isnull=True),
                                     "current_province_id", today)
            merged: Counts = {}
            for counts in people.values():  # a province without a commune: still no place
                for code, n in counts.items():
                    merged[code] = merged.get(code, 0) + n
            return {None: _full(merged)}
        people = _citizen_counts(
            Citizen.objects.filter(current_province_id=province_id, current_commune__isnull=False),
            "current_commune_id", today)
        other = _other_counts(province_id, today)
    communes = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.COMMUNE,
                                        province_id=province_id).values_list("pk", flat=True)
    return {pk: _full({**people.get(pk, {}), **other.get(pk, {})}) for pk in communes}


def provinces() -> list[int]:
    """The 2025 provinces, by code: the units a full recompute or check goes through (then
    ``UNPLACED``)."""
    return list(AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE)
                .order_by("code").values_list("pk", flat=True))
