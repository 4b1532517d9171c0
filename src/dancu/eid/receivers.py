"""What the e-ID context does when the population registry changes a person."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from dancu.population.signals import life_status_changed


@receiver(life_status_changed, dispatch_uid="eid.lock_on_death")
def _lock_on_death(sender: Any, citizen: Any, previous: str, actor: Any, **kwargs: Any) -> None:
    if citizen.life_status == "deceased":
        from dancu.eid.services.officer import lock_for_death

        lock_for_death(citizen.pk, actor)


CITIZEN_LOGIN = "_dancu_citizen_login"


def _update_last_login_of_staff(sender: Any, user: Any, **kwargs: Any) -> None:
    """Django's ``update_last_login``, except for a citizen's e-ID login (``sessions.establish``
    marks the user): their logins are ``LoginEvent`` rows already, and the extra UPDATE of
    ``auth_user`` on every login would only repeat it."""
    if not getattr(user, CITIZEN_LOGIN, False):
        update_last_login(sender, user, **kwargs)


def replace_last_login_receiver() -> None:
    if user_logged_in.disconnect(dispatch_uid="update_last_login"):
        user_logged_in.connect(_update_last_login_of_staff, dispatch_uid="update_last_login")
