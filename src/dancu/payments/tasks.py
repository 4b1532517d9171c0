"""The payments context's periodic jobs (registered by ``PaymentsConfig.ready``)."""

from __future__ import annotations

import datetime as dt

from dancu.core.tasks import periodic
from dancu.payments import services


@periodic("payments.reconcile", every=dt.timedelta(minutes=5))
def reconcile_payments() -> dict[str, int]:
    """Every 5 minutes: ask the gateway about the payments pending too long (docs/payments.md)."""
    return services.reconcile()
