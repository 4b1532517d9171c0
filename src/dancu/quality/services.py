"""Keeping the data-quality tallies (``QualityTally``): the only writes of the quality context.

- ``recompute(province_id)``: one grouped scan of the province (``selectors.scan``) and an
  upsert of its communes' tallies and of their sum in one transaction. Idempotent; several at
  once are safe (the rows are upserted on their unique keys). ``province_id`` None: the people
  with no current place.
- ``request_recompute(actor, province)``: "recompute now" from the console — enqueues
  ``tasks.recompute_province`` for the officer's province (audited). A request whose tallies were
  already recomputed after it was made does nothing when it runs, so repeated clicks cost one scan.
- ``mark_changed(provinces)``: a registry write may have moved these provinces' counts (called by
  ``quality.receivers`` inside the write's transaction; which provinces: ``selectors.changes``).
- ``due_provinces(now)``: what the periodic job recomputes (docs/data-quality.md): provinces never
  computed, computed for an earlier local date (the date-dependent checks — minors, over 120,
  expired temporary residence — change at midnight), or marked changed since their recount.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.geo.models import AdminUnit
from dancu.quality.models import Change, QualityTally
from dancu.quality.selectors.scan import TALLY_CODES, UNPLACED, provinces, scan
from dancu.quality.selectors.scope import report_scope

_UPDATED = ["province", "count", "as_of", "computed_at"]
_DELETE_BATCH = 500  # ids per DELETE of consumed marks (SQLite's bound-parameter limit)


def oldest_tally(province_id: int | None) -> dt.datetime | None:
    """When the oldest tally of the province (None: of the people with no place) was computed."""
    qs = (QualityTally.objects.filter(QualityTally.UNPLACED) if province_id is UNPLACED
          else QualityTally.objects.filter(province_id=province_id))
    return qs.aggregate(at=Min("computed_at"))["at"]


def recompute(province_id: int | None, *, today: dt.date | None = None,
              requested_at: dt.datetime | None = None) -> int:
    """Recount the tallies of one province (None: the people with no place) now and store them.
    With ``requested_at``, does nothing if they were all recomputed after it (a duplicate
    request). Returns the number of tally rows written."""
    if requested_at is not None:
        oldest = oldest_tally(province_id)
        if oldest is not None and oldest >= requested_at:
            return 0
    # The marks this recount consumes: read before the scan, so every change they mark had
    # committed and is counted; a change committed later keeps its mark for the next run.
    seen = list(Change.objects.filter(province_id=province_id).values_list("pk", flat=True))
    started = timezone.now()
    today = today or timezone.localdate()
    counts = scan(province_id, today)
    with transaction.atomic():
        for i in range(0, len(seen), _DELETE_BATCH):
            Change.objects.filter(pk__in=seen[i:i + _DELETE_BATCH]).delete()
        if province_id is UNPLACED:
            _upsert_sums(None, counts[None], today, started)
            return len(counts[None])
        rows = [QualityTally(commune_id=commune_id, province_id=province_id, code=code, count=n,
                             as_of=today, computed_at=started)
                for commune_id, by_code in counts.items() for code, n in by_code.items()]
        QualityTally.objects.bulk_create(rows, batch_size=2000, update_conflicts=True,
                                         unique_fields=["commune", "code"], update_fields=_UPDATED)
        sums = {code: sum(by_code[code] for by_code in counts.values()) for code in TALLY_CODES}
        _upsert_sums(province_id, sums, today, started)
    return len(rows) + len(sums)


def _upsert_sums(province_id: int | None, sums: dict[str, int], today: dt.date,
                 started: dt.datetime) -> None:
    """The rows with no commune: a province's sum (``province_id``), or the people with no
    current commune (None). Their unique indexes are partial, which ``ON CONFLICT`` cannot name
    through the ORM: one ``update_or_create`` per code (some thirty)."""
    for code, n in sums.items():
        QualityTally.objects.update_or_create(
            commune=None, province_id=province_id, code=code,
            defaults={"count": n, "as_of": today, "computed_at": started})


def recompute_all(today: dt.date | None = None) -> int:
    """Every province, then the people with no place (``dancu quality recompute``)."""
    return sum(recompute(p, today=today) for p in [*provinces(), UNPLACED])


def request_recompute(actor: Actor, province: str | None = None) -> list[int | None]:
    """Enqueue a recount of the report's scope for the officer: their province (a commune
    officer's too — the scan is per province), the province asked by a national officer, or
    every province and the people with no place for the national report. Audited."""
    from dancu.quality.tasks import recompute_province

    scope = report_scope(actor, province, "quality.recompute.request")
    if scope.unit is None:
        targets: list[int | None] = [*provinces(), UNPLACED]
    else:
        targets = [province_of(scope.unit)]
    now = timezone.now()
    with transaction.atomic():
        for province_id in targets:
            recompute_province.enqueue(province_id, now.isoformat())
        audit.record(actor, "quality.recompute.request", subject_type="quality_report",
                     subject_id=scope.code, details={"scope": scope.code, "provinces": len(targets)})
    return targets


def mark_changed(provinces: set[int | None]) -> None:
    """A registry write may have moved these provinces' counts (``UNPLACED``: the people with no
    place): mark them for the next refresh. Inside the write's transaction; one INSERT."""
    now = timezone.now()
    Change.objects.bulk_create([Change(province_id=p, at=now) for p in provinces])


def due_provinces(now: dt.datetime | None = None) -> list[int | None]:
    """Provinces (and ``UNPLACED``) whose tallies are missing, computed for an earlier local date,
    or marked changed since (``mark_changed``: every registry write marks the provinces whose
    counts it may move — the person's place before and after, the records sharing a duplicate
    key, a parent's children, a head's households, a registration's or household's commune)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    state: dict[int | None, dict[str, Any]] = {
        r["province_id"]: dict(r) for r in QualityTally.objects.filter(QualityTally.COMMUNES)
        .values("province_id").annotate(as_of=Min("as_of")).order_by()}
    unplaced = QualityTally.objects.filter(QualityTally.UNPLACED).aggregate(as_of=Min("as_of"))
    if unplaced["as_of"] is not None:
        state[UNPLACED] = unplaced
    marked = set(Change.objects.values_list("province_id", flat=True).distinct())
    due: list[int | None] = []
    for province_id in [*provinces(), UNPLACED]:
        s = state.get(province_id)
        if s is None or s["as_of"] < today or province_id in marked:
            due.append(province_id)
    return due


def refresh_due(now: dt.datetime | None = None) -> list[int | None]:
    """The periodic job: enqueue a recount of every due province (``due_provinces``)."""
    from dancu.quality.tasks import recompute_province

    now = now or timezone.now()
    due = due_provinces(now)
    with transaction.atomic():
        for province_id in due:
            recompute_province.enqueue(province_id, now.isoformat())
    return due


def province_of(unit: AdminUnit) -> int:
    """The province a unit's tallies are recounted with."""
    return unit.pk if unit.province_id is None else unit.province_id
