"""Population's background work (registered from ``PopulationConfig.ready``; docs/tasks.md)."""

from __future__ import annotations

import datetime as dt

from dancu.core.tasks import periodic


@periodic("population.close_abandoned_batches", every=dt.timedelta(hours=1))
def close_abandoned_batches_hourly() -> list[int]:
    """Imports killed outright (kill -9, power loss) are marked failed and audited; every import
    also does this when it starts (``population.bulk.close_abandoned_batches``)."""
    from dancu.population.bulk import close_abandoned_batches

    return close_abandoned_batches()
