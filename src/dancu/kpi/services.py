"""Every write of the kpi context: the tally of one dossier event (called by the receiver of
``publicservices.signals.dossier_event``, inside the transition's transaction), the rebuild of
the tallies from the raw events, and the registry snapshot (the periodic job's work)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from dancu.kpi import counting
from dancu.kpi.models import COUNTERS, DossierTally, RegistryTally
from dancu.kpi.selectors import registry as registry_counts
from dancu.kpi.selectors.recompute import chunks, recompute_chunk, span
from dancu.publicservices.models import DossierComponent

KEY_COLUMNS = ("day", "procedure_id", "commune_id", "province_id", "channel")


def _upsert_sql(changed: list[str]) -> str:
    """One statement, safe under concurrent writers on PostgreSQL and SQLite: insert the row,
    or add to the existing one (``ON CONFLICT … DO UPDATE``, the row locked by the database)."""
    table = DossierTally._meta.db_table
    columns = [*KEY_COLUMNS, *COUNTERS]
    placeholders = ", ".join(["%s"] * len(columns))
    sets = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in changed)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "  # noqa: S608  (names, not input)
        f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {sets}"
    )


def add_to_tally(key: tuple[dt.date, int, int, int, str], values: dict[str, int]) -> None:
    """Add ``values`` (counter → increment) to the tally row of ``key``, creating it."""
    if not values:
        return
    changed = [c for c in COUNTERS if values.get(c)]
    day, procedure_id, commune_id, province_id, channel = key
    params: list[Any] = [
        connection.ops.adapt_datefield_value(day),
        procedure_id,
        commune_id,
        province_id,
        channel,
        *(values.get(c, 0) for c in COUNTERS),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(changed), params)


def count_event(dossier: Any, event: Any) -> dict[str, int]:
    """What one ``DossierEvent`` adds to its tally row (``counting.deltas``), written in the
    caller's transaction. Returns the increments (empty for an event no figure counts)."""
    if event.action not in counting.COUNTED_ACTIONS:
        return {}
    components = reused = 0
    if event.action in counting.DECISIONS:
        agg = DossierComponent.objects.filter(dossier_id=dossier.pk).aggregate(
            n=Count("id"), reused=Count("id", filter=Q(reused=True))
        )
        components, reused = agg["n"], agg["reused"]
    values = counting.deltas(dossier, event, components=components, components_reused=reused)
    key = (
        counting.event_day(event.at),
        dossier.procedure_id,
        dossier.commune_id,
        dossier.province_id,
        dossier.channel,
    )
    add_to_tally(key, values)
    return values


def _lock_tallies() -> None:
    """Transitions wait while a chunk is rebuilt (PostgreSQL; SQLite's writers are serialised):
    a transition that counted before the lock has committed, one that counts after it waits and
    adds to the rebuilt rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {DossierTally._meta.db_table} IN EXCLUSIVE MODE")


def rebuild(
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
    *,
    progress: Callable[[dt.date, dt.date, int], None] | None = None,
) -> int:
    """Recompute the tallies of these days (default: every day with events or tallies) from
    the raw events and replace them, one month per transaction. Idempotent. Returns the rows
    written. ``progress(first day, last day, rows)`` is called after each month."""
    days = span(day_from, day_to)
    if days is None:
        return 0
    written = 0
    for start, end in chunks(*days):
        with transaction.atomic():
            _lock_tallies()
            rows = recompute_chunk(start, end)
            DossierTally.objects.filter(day__gte=start, day__lte=end).delete()
            DossierTally.objects.bulk_create(
                (
                    DossierTally(
                        day=k[0], procedure_id=k[1], commune_id=k[2], province_id=k[3], channel=k[4], **v
                    )
                    for k, v in rows.items()
                ),
                batch_size=2000,
            )
        written += len(rows)
        if progress is not None:
            progress(start, end, len(rows))
    if connection.vendor == "postgresql":
        # Rows replaced in bulk: fresh planner statistics (autovacuum may be far behind — the
        # 1M-dossier bench's tallies were never analysed and read with a wrong plan).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DossierTally._meta.db_table}")
    return written


@transaction.atomic
def snapshot_registry(day: dt.date | None = None) -> int:
    """The registry and e-ID counts per commune as of ``day`` (today), replacing that day's
    snapshot (idempotent). One grouped query per table (``selectors.registry``). Returns the
    communes written."""
    day = day or timezone.localdate()
    now = timezone.now()
    rows = registry_counts.counts_by_commune(day)
    RegistryTally.objects.filter(day=day).delete()
    RegistryTally.objects.bulk_create(
        [
            RegistryTally(day=day, commune_id=commune_id, province_id=province_id, computed_at=now, **values)
            for (commune_id, province_id), values in rows.items()
        ],
        batch_size=2000,
    )
    return len(rows)


__all__ = ["add_to_tally", "count_event", "rebuild", "snapshot_registry"]
