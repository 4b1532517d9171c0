"""``dancu load_admin_units``: load or refresh the administrative units and conversions."""

from __future__ import annotations

import time
from typing import TextIO, cast

from django.core.management.base import BaseCommand

from dancu.geo.services import load_admin_units, read_data_file


class Command(BaseCommand):
    help = ("Load the 2025 and legacy administrative units and the legacy → 2025 commune conversion "
            "from the files of geo/data/. Idempotent; skips when already loaded unless --force.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true",
                            help="compare every row and update what differs, even when the counts match")

    def handle(self, *args, **options) -> None:
        source = read_data_file().provenance["source"]
        self.stdout.write(f"Source: {source['package']} {source['version']} ({source['licence']}, "
                          f"{source['copyright']})")
        started = time.perf_counter()
        # Django's OutputWrapper is a text stream, though not a typing.TextIO.
        result = load_admin_units(stdout=cast(TextIO, self.stdout), force=options["force"])
        elapsed = time.perf_counter() - started
        if result["skipped"]:
            return
        self.stdout.write(self.style.SUCCESS(
            f"{result['units']} units ({result['units_created']} created, "
            f"{result['units_updated']} updated), "
            f"{result['conversions']} conversions ({result['conversions_created']} created, "
            f"{result['conversions_updated']} updated, {result['conversions_deleted']} deleted) "
            f"in {elapsed:.2f}s"))
