"""OIDC's background work (registered from ``OidcConfig.ready``; docs/tasks.md)."""

from __future__ import annotations

import datetime as dt

from dancu.core.tasks import periodic


@periodic("oidc.prune", every=dt.timedelta(days=1))
def prune_daily() -> None:
    """Expired tokens, past eKYC rate windows and spent contexts (``dancu oidc prune`` by hand)."""
    from dancu.oidc.services import prune

    prune()
