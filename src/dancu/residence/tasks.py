"""Residence's background work (registered from ``ResidenceConfig.ready``; docs/tasks.md).

Expiry of temporary residence takes effect by itself: a person's current place
(``population_citizen.current_commune``, which decides which police see and edit them) is an
unexpired temporary residence, else the permanent one (``services.refresh_current_place``).
Every residence write computes it from the dates; what no write does is the passage of time: the
day after a temporary residence expires, the person must fall back to their permanent commune
although nobody touched the record. ``services.apply_expiries`` does that, as a periodic job of
the worker (``dancu worker``) at each local midnight. It is idempotent and safe with several
workers (each person is locked and checked again before the change, each change audited once as
``residence.expire``). The registration itself stays open until its commune's police renew or
end it (data-quality check ``Q_TEMP_EXPIRED``).
"""

from __future__ import annotations

import datetime as dt
import logging

from dancu.core.tasks import periodic

log = logging.getLogger(__name__)


@periodic("residence.apply_expiries", every=dt.timedelta(days=1))
def apply_expiries_daily() -> int:
    from dancu.residence.services import apply_expiries

    changed = apply_expiries()
    if changed:
        log.info("temporary residence expired: %d people back at their permanent place", changed)
    return changed
