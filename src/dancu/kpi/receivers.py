"""What the kpi context learns from the contexts below it, by signal (ARCHITECTURE.md): every
dossier event is counted into its tally row inside the transition's transaction, so the
tallies commit or roll back with it (exact by construction)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from dancu.kpi.services import count_event
from dancu.publicservices.signals import dossier_event


@receiver(dossier_event, dispatch_uid="kpi.count_dossier_event")
def count_dossier_event(sender: Any, dossier: Any, event: Any, **kwargs: Any) -> None:
    count_event(dossier, event)
