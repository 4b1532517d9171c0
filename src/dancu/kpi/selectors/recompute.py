"""The tallies recomputed from the raw events (``DossierEvent`` joined to its ``Dossier``), as
grouped SQL — the same rules as ``kpi.counting.deltas`` applies per event — and the comparison
with the stored tallies (``check``). ``services.rebuild`` writes what ``recompute`` yields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from dancu.kpi.counting import COUNTED_ACTIONS, DECISIONS, SATISFIED_FROM
from dancu.kpi.models import COUNTERS, DossierTally
from dancu.publicservices.models import DossierEvent

Key = tuple[dt.date, int, int, int, str]  # day, procedure, commune, province, channel
KEY_FIELDS = (
    "day",
    "dossier__procedure_id",
    "dossier__commune_id",
    "dossier__province_id",
    "dossier__channel",
)
CHUNK_DAYS = 31  # one month of events at a time: the grouped rows of a month stay small


def _events(day_from: dt.date, day_to: dt.date) -> QuerySet[DossierEvent]:
    tz = timezone.get_default_timezone()
    first = dt.datetime.combine(day_from, dt.time.min, tzinfo=tz)
    after = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return DossierEvent.objects.filter(at__gte=first, at__lt=after, action__in=COUNTED_ACTIONS).annotate(
        day=TruncDate("at", tzinfo=tz)
    )


def _grouped(qs: QuerySet[DossierEvent], **aggregates: object) -> Iterator[tuple[Key, dict[str, int]]]:
    names = list(aggregates)
    for row in qs.values(*KEY_FIELDS).order_by().annotate(**aggregates).values_list(*KEY_FIELDS, *names):
        key: Key = row[0], row[1], row[2], row[3], row[4]
        yield key, {n: int(v or 0) for n, v in zip(names, row[5:], strict=True)}


def _transitions(day_from: dt.date, day_to: dt.date) -> Iterator[tuple[Key, dict[str, int]]]:
    decided = Q(action__in=DECISIONS)
    return _grouped(
        _events(day_from, day_to),
        submitted=Count("id", filter=Q(action="submitted")),
        accepted=Count("id", filter=Q(action="accepted")),
        supplement_requests=Count("id", filter=Q(action="supplement_requested")),
        approved=Count("id", filter=Q(action="approved")),
        refused=Count("id", filter=Q(action="refused")),
        withdrawn=Count("id", filter=Q(action="withdrawn")),
        closed_on_time=Count("id", filter=decided & Q(day__lte=F("dossier__due_on"))),
        closed_late=Count("id", filter=decided & Q(day__gt=F("dossier__due_on"))),
        results_digital=Count("id", filter=Q(action="approved", dossier__result_document__isnull=False)),
        paid_online=Count("id", filter=Q(action="paid", actor_user__isnull=True)),
        paid_at_counter=Count("id", filter=Q(action="paid", actor_user__isnull=False)),
    )


def _components(day_from: dt.date, day_to: dt.date) -> Iterator[tuple[Key, dict[str, int]]]:
    # A dossier is decided once; its components are final by then (supplements come before).
    return _grouped(
        _events(day_from, day_to).filter(action__in=DECISIONS),
        components=Count("dossier__component_rows"),
        components_reused=Count("dossier__component_rows", filter=Q(dossier__component_rows__reused=True)),
    )


def _ratings(day_from: dt.date, day_to: dt.date) -> Iterator[tuple[Key, dict[str, int]]]:
    # Each rated event says what it changed, in its fields (``rating``, ``rating_before``).
    qs = _events(day_from, day_to).filter(action="rated", rating__isnull=False)
    sat = Case(When(rating__gte=SATISFIED_FROM, then=Value(1)), default=Value(0))
    was_sat = Case(When(rating_before__gte=SATISFIED_FROM, then=Value(1)), default=Value(0))
    return _grouped(
        qs,
        rated=Count("id", filter=Q(rating_before__isnull=True)),
        rating_sum=Sum(F("rating") - Coalesce(F("rating_before"), Value(0))),
        satisfied=Sum(sat - was_sat),
    )


def chunks(day_from: dt.date, day_to: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    start = day_from
    while start <= day_to:
        end = min(start + dt.timedelta(days=CHUNK_DAYS - 1), day_to)
        yield start, end
        start = end + dt.timedelta(days=1)


def event_days() -> tuple[dt.date, dt.date] | None:
    """The local days of the first and the last event (None: no event yet)."""
    first = DossierEvent.objects.order_by("at").values_list("at", flat=True).first()
    last = DossierEvent.objects.order_by("-at").values_list("at", flat=True).first()
    if first is None or last is None:
        return None
    return timezone.localdate(first), timezone.localdate(last)


def span(day_from: dt.date | None, day_to: dt.date | None) -> tuple[dt.date, dt.date] | None:
    """The days to recompute: as given, else from the first to the last event (and tally)."""
    known = event_days()
    tallied = DossierTally.objects.order_by("day").values_list("day", flat=True)
    first_tally, last_tally = tallied.first(), tallied.reverse().first()
    lows = [d for d in (known and known[0], first_tally) if d is not None]
    highs = [d for d in (known and known[1], last_tally) if d is not None]
    if (day_from is None and not lows) or (day_to is None and not highs):
        return None
    return day_from or min(lows), day_to or max(highs)


def recompute_chunk(day_from: dt.date, day_to: dt.date) -> dict[Key, dict[str, int]]:
    """The tally rows of these days as the raw events give them (rows of zeros left out)."""
    out: dict[Key, dict[str, int]] = {}
    for part in (_transitions(day_from, day_to), _components(day_from, day_to), _ratings(day_from, day_to)):
        for key, values in part:
            row = out.setdefault(key, dict.fromkeys(COUNTERS, 0))
            for name, value in values.items():
                row[name] += value
    return {k: v for k, v in out.items() if any(v.values())}


def recompute(
    day_from: dt.date, day_to: dt.date
) -> Iterator[tuple[dt.date, dt.date, dict[Key, dict[str, int]]]]:
    """Chunk by chunk (a month of days at a time): (first day, last day, rows)."""
    for start, end in chunks(day_from, day_to):
        yield start, end, recompute_chunk(start, end)


def stored_chunk(day_from: dt.date, day_to: dt.date) -> dict[Key, dict[str, int]]:
    out: dict[Key, dict[str, int]] = {}
    rows = DossierTally.objects.filter(day__gte=day_from, day__lte=day_to).values_list(
        "day", "procedure_id", "commune_id", "province_id", "channel", *COUNTERS
    )
    for row in rows.iterator(chunk_size=5000):
        values = dict(zip(COUNTERS, row[5:], strict=True))
        if any(values.values()):
            out[(row[0], row[1], row[2], row[3], row[4])] = values
    return out


@dataclass(frozen=True)
class Difference:
    day: dt.date
    procedure_id: int
    commune_id: int
    channel: str
    counter: str
    stored: int
    recomputed: int


def check(day_from: dt.date | None = None, day_to: dt.date | None = None) -> list[Difference]:
    """Every counter where the stored tallies and a recomputation from the raw events differ
    (empty: they agree exactly). On PostgreSQL, outside a transaction, both are read from one
    snapshot (REPEATABLE READ): a tally commits with its event, so the check is exact on a live
    system too. Elsewhere a transition committing between the two reads shows as a difference
    (run it again)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return _check(day_from, day_to)
    return _check(day_from, day_to)


def _check(day_from: dt.date | None, day_to: dt.date | None) -> list[Difference]:
    days = span(day_from, day_to)
    if days is None:
        return []
    out: list[Difference] = []
    for start, end, fresh in recompute(*days):
        stored = stored_chunk(start, end)
        for key in sorted(set(fresh) | set(stored), key=lambda k: (k[0], k[1], k[2], k[4])):
            a, b = stored.get(key, {}), fresh.get(key, {})
            for counter in COUNTERS:
                if a.get(counter, 0) != b.get(counter, 0):
                    out.append(
                        Difference(
                            key[0], key[1], key[2], key[4], counter, a.get(counter, 0), b.get(counter, 0)
                        )
                    )
    return out
