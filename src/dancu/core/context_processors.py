from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def officer(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    profile = getattr(user, "officer", None) if user is not None and user.is_authenticated else None
    return {"officer": profile}


def language_menu(request: HttpRequest) -> dict[str, Any]:
    """The language menu's entries, each language in its own name as settings.LANGUAGES writes
    it (Django's get_available_languages would translate them: "Tiếng Anh" for English)."""
    from django.conf import settings

    return {"language_menu": settings.LANGUAGES}
