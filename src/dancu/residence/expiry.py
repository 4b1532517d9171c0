"""Expiry of temporary residence takes effect by itself.

A person's current place (``population_citizen.current_commune``, which decides which police
see and edit them) is an unexpired temporary residence, else the permanent one
(``services.refresh_current_place``). Every residence write computes it from the dates; what
no write does is the passage of time: the day after a temporary residence expires, the person
must fall back to their permanent commune although nobody touched the record.

``services.apply_expiries`` does that. There is no task queue (yet), so it runs by itself on
the first request each process handles after local midnight (``request_started``, before the
view: no request of the new day is answered from yesterday's places). It is idempotent and safe
with several processes: each person is locked and checked again before the change, and each
change is audited once (``residence.expire``). A process that has handled no request of the day
has nothing to answer, so nothing depends on it. The registration itself stays open until its
commune's police renew or end it (data-quality check ``Q_TEMP_EXPIRED``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.utils import timezone

log = logging.getLogger(__name__)
_lock = threading.Lock()
_next_sweep = 0.0  # epoch seconds: the next local midnight once today's sweep ran
RETRY_SECONDS = 60.0


def _next_local_midnight() -> float:
    now = timezone.localtime()
    tomorrow = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=now.tzinfo)
    return tomorrow.timestamp()


def sweep_if_due(**_kwargs: Any) -> None:
    """The ``request_started`` receiver: one float comparison on every other request."""
    global _next_sweep
    if time.time() < _next_sweep:
        return
    with _lock:
        if time.time() < _next_sweep:
            return
        _next_sweep = _next_local_midnight()
    from dancu.population.bulk import close_abandoned_batches
    from dancu.residence.services import apply_expiries

    try:
        changed = apply_expiries()
        close_abandoned_batches()  # the day's other housekeeping: imports killed outright
    except Exception:  # never fail the request; try again a minute later
        log.exception("expiry of temporary residence failed; retrying")
        _next_sweep = time.time() + RETRY_SECONDS
    else:
        if changed:
            log.info("temporary residence expired: %d people back at their permanent place", changed)


def reset(due: bool = True) -> None:
    """Tests: make the next request sweep (``due``), or no request at all (the suite's default,
    so that a test counting its queries never meets the day's sweep)."""
    global _next_sweep
    _next_sweep = 0.0 if due else float("inf")
