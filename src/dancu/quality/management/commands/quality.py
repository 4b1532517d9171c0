"""``dancu quality check [--province 38]`` — compare the data-quality tallies with a live count
(``selectors.differences``); prints a table of the differences and exits 1 if there is any.

``dancu quality recompute [--province 38]`` — recount the tallies now, in this process
(``services.recompute``; the worker does it by itself every 15 minutes for what changed).

Thin: parses arguments, calls the selector or service, prints."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.quality import selectors, services

MAX_ROWS_SHOWN = 200


def _targets(code: str | None) -> list[int | None] | None:
    if not code:
        return None
    unit = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE,
                                    code=code.removeprefix("2025:")).first()
    if unit is None:
        raise CommandError(f"--province: no 2025 province with code {code!r}")
    return [unit.pk]


class Command(BaseCommand):
    help = "Data-quality tallies: compare them with a live count (check) or recount them (recompute)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("check", "Compare the tallies with a live count; exit 1 on a difference."),
                           ("recompute", "Recount the tallies now.")):
            p = sub.add_parser(name, help=text)
            p.add_argument("--province", default=None,
                           help="2025 province code (default: every province and the people with no place)")

    def handle(self, *args: Any, **opts: Any) -> None:
        targets = _targets(opts["province"])
        console = Console(file=cast(TextIO, self.stdout), width=140)  # OutputWrapper: a text stream
        start = time.perf_counter()
        if opts["action"] == "recompute":
            ids = targets if targets is not None else [*selectors.provinces(), selectors.UNPLACED]
            rows = sum(services.recompute(p) for p in ids)
            elapsed = time.perf_counter() - start
            console.print(f"{rows} tallies recounted for {len(ids)} unit(s) in {elapsed:.1f} s.")
            return
        diffs = list(selectors.differences(targets))
        if not diffs:
            console.print(f"Tallies agree with the live count ({time.perf_counter() - start:.1f} s).")
            return
        table = Table(title=f"{len(diffs)} tallies differ from the live count")
        for column in ("unit", "code", "tally", "live"):
            table.add_column(column)
        for d in diffs[:MAX_ROWS_SHOWN]:
            where = f"{d.unit.qualified_code} {d.unit.name}" if d.unit else "(no place)"
            table.add_row(where, d.code, "—" if d.tally is None else str(d.tally), str(d.live))
        console.print(table)
        if len(diffs) > MAX_ROWS_SHOWN:
            console.print(f"… and {len(diffs) - MAX_ROWS_SHOWN} more.")
        console.print("Run `dancu quality recompute` (or wait for the worker) to bring them up to date.")
        sys.exit(1)
