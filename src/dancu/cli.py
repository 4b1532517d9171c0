"""The ``dancu`` command: Django's management commands, with the project's settings.

``dancu demo``, ``dancu serve`` and ``dancu population …`` are management commands of
the project's apps; every Django command passes through (``dancu migrate`` …).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["dancu", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
