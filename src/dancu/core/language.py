"""The language of the newcomer's commands (``dancu demo``, ``dancu serve``).

Vietnamese, like the console, unless ``DANCU_LANGUAGE=en``. ``LANG`` is not followed: most
machines say ``en_US.UTF-8`` or ``C.UTF-8`` whatever their user reads, as a browser's
Accept-Language is not followed by the console either (core.middleware).
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import CommandError


def command_language() -> str:
    """``DANCU_LANGUAGE`` (one of settings.LANGUAGES) or the default, Vietnamese; a
    ``CommandError`` naming the variable for any other value."""
    wanted = os.environ.get("DANCU_LANGUAGE", "").strip().lower()
    if not wanted:
        return settings.LANGUAGE_CODE
    supported = [code for code, _name in settings.LANGUAGES]
    if wanted not in supported:
        raise CommandError(f"DANCU_LANGUAGE={wanted!r}: expected one of {', '.join(supported)}")
    return wanted
