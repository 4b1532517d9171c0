"""Quality's background work (registered from ``QualityConfig.ready``; docs/tasks.md and
docs/data-quality.md).

- ``recompute_province(province_id, requested_at)``: one province's tallies recounted (None: the
  people with no current place). Idempotent; skipped if the tallies were recomputed after the
  request (repeated "recompute now" clicks cost one scan).
- ``quality.refresh`` every 15 minutes: enqueues the provinces that are due
  (``services.due_provinces``: never computed, computed for an earlier local date, or marked
  changed by a registry write — ``quality.receivers``). The first run after local midnight
  therefore recounts every province.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils.dateparse import parse_datetime

from dancu.core.tasks import periodic, task

log = logging.getLogger(__name__)


@task(priority=-10)  # after notifications: a recount can take a minute at 1M people
def recompute_province(province_id: int | None, requested_at: str | None = None) -> int:
    from dancu.quality.services import recompute

    return recompute(province_id, requested_at=parse_datetime(requested_at) if requested_at else None)


@periodic("quality.refresh", every=dt.timedelta(minutes=15))
def refresh() -> int:
    from dancu.quality.services import refresh_due

    due = refresh_due()
    if due:
        log.info("data quality: %d province(s) to recount", len(due))
    return len(due)
