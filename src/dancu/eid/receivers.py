"""What the e-ID context does when the population registry changes a person."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from dancu.population.signals import life_status_changed


@receiver(life_status_changed, dispatch_uid="eid.lock_on_death")
def _lock_on_death(sender: Any, citizen: Any, previous: str, actor: Any, **kwargs: Any) -> None:
    if citizen.life_status == "deceased":
        from dancu.eid.services import lock_for_death

        lock_for_death(citizen.pk, actor)
