"""The kpi context's periodic job: the registry and e-ID snapshot (docs/tasks.md)."""

from __future__ import annotations

import datetime as dt

from dancu.core.tasks import periodic
from dancu.kpi.services import snapshot_registry

SNAPSHOT_EVERY = dt.timedelta(hours=1)


@periodic("kpi.snapshot_registry", every=SNAPSHOT_EVERY)
def snapshot_registry_hourly() -> int:
    """Today's counts per commune, rewritten each hour (idempotent): the e-ID figures are at
    most an hour old, and each day keeps its last snapshot for the trends."""
    return snapshot_registry()
