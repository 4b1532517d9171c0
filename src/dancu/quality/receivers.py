"""What the quality context learns from the registry, by signal (ARCHITECTURE.md): every write
that may move a data-quality count marks the provinces concerned, inside the write's transaction,
for the 15-minute refresh to recount (``services.mark_changed``; which provinces:
``selectors.changes``; docs/data-quality.md). The one place changes are detected."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from dancu.population.signals import citizen_changed, citizens_loaded
from dancu.quality.selectors.changes import every_province, province_of_commune, provinces_touched
from dancu.quality.services import mark_changed
from dancu.residence.signals import residence_changed


@receiver(citizen_changed, dispatch_uid="quality.citizen_changed")
def on_citizen_changed(sender: Any, before: Any, after: Any, **kwargs: Any) -> None:
    mark_changed(provinces_touched(before, after))


@receiver(residence_changed, dispatch_uid="quality.residence_changed")
def on_residence_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A registration created or ended (``Q_TEMP_EXPIRED``), a household founded or given a new
    head (``Q_DECEASED_HEAD``): counted in their commune."""
    mark_changed({province_of_commune(instance.commune_id)})


@receiver(citizens_loaded, dispatch_uid="quality.citizens_loaded")
def on_citizens_loaded(sender: Any, **kwargs: Any) -> None:
    mark_changed(set(every_province()))
