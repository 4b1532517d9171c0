"""``dancu publicservices``: online public services.

    dancu publicservices setup-portal [--base-url https://dichvucong.example.vn …]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dancu.publicservices.portal import cli as portal_cli


class Command(BaseCommand):
    help = "Online public services: the citizen portal's registration."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        portal_cli.add_parser(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "setup-portal":
            portal_cli.handle(options, self.stdout.write)
