from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def officer(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    profile = getattr(user, "officer", None) if user is not None and user.is_authenticated else None
    return {"officer": profile}
