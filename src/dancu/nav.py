"""The officer console's navigation (``templates/base.html``): each entry is shown exactly when
its page would admit the officer — the rule is asked of the page's own view
(``accounts.views.admits``: the ``officer_required`` rule the view enforces), never restated
here as a list of roles. Part of the project layer: it names pages of every context, by URL
name only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from dancu.accounts.services import actor_for_profile
from dancu.accounts.views import admits

# key in the template's ``nav`` → the page's URL name
PAGES = {
    "search": "population:search",
    "create": "population:create",
    "eid": "eid:officer",
    "officers": "accounts:officers",
    "counter": "counter:queue",
    "workgroups": "workgroups:list",
    "exchange": "exchange:log",
    "kpi": "kpi:dashboard",
    "quality": "quality:report",
}


def nav(request: HttpRequest) -> dict[str, Any]:
    """``nav``: key → the page's URL where the signed-in officer may open it (absent otherwise)."""
    user = getattr(request, "user", None)
    profile = getattr(user, "officer", None) if user is not None and user.is_authenticated else None
    if profile is None:
        return {"nav": {}}
    actor = getattr(request, "actor", None) or actor_for_profile(profile)
    return {"nav": {key: reverse(name) for key, name in PAGES.items() if admits(actor, name)}}
