"""``dancu kpi``: check the figures' aggregates against the raw events, rebuild them, take the
registry snapshot now.

    dancu kpi check   [--from YYYY-MM-DD] [--to YYYY-MM-DD]   # exit 1 + a table when they differ
    dancu kpi rebuild [--from YYYY-MM-DD] [--to YYYY-MM-DD]   # recompute the tallies (progress)
    dancu kpi snapshot [--day YYYY-MM-DD]                       # registry/e-ID counts per commune

Without dates: every day that has events or tallies. ``check`` reads one snapshot on
PostgreSQL (exact on a live system); on SQLite a transition committing between its two reads
shows as a difference: run it again.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dancu.kpi import services
from dancu.kpi.selectors import check
from dancu.kpi.selectors.recompute import span

MAX_SHOWN = 200


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{name}: not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Check the KPI tallies against the raw events, rebuild them, or take the registry snapshot."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{check,rebuild,snapshot}")
        for name, text in (
            ("check", "compare the tallies with a recomputation"),
            ("rebuild", "recompute the tallies from the raw events"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("--from", dest="day_from", help="first local day (YYYY-MM-DD)")
            p.add_argument("--to", dest="day_to", help="last local day (YYYY-MM-DD)")
        snap = sub.add_parser("snapshot", help="registry and e-ID counts per commune, now")
        snap.add_argument("--day", help="the snapshot's day (default today)")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=cast(TextIO, self.stdout), highlight=False, width=120)
        action = options["action"]
        if action == "snapshot":
            n = services.snapshot_registry(_day(options.get("day"), "--day"))
            console.print(f"snapshot: {n} communes")
            return
        day_from, day_to = _day(options.get("day_from"), "--from"), _day(options.get("day_to"), "--to")
        if day_from and day_to and day_to < day_from:
            raise CommandError("--to is before --from")
        if action == "check":
            self._check(console, day_from, day_to)
        else:
            self._rebuild(console, day_from, day_to)

    def _check(self, console: Console, day_from: dt.date | None, day_to: dt.date | None) -> None:
        differences = check(day_from, day_to)
        if not differences:
            console.print("kpi check: the tallies agree with the raw events.")
            return
        table = Table(title=f"{len(differences)} differences (stored ≠ recomputed)")
        for column in ("day", "procedure", "commune", "channel", "counter", "stored", "recomputed"):
            table.add_column(column)
        for d in differences[:MAX_SHOWN]:
            table.add_row(
                d.day.isoformat(),
                str(d.procedure_id),
                str(d.commune_id),
                d.channel,
                d.counter,
                str(d.stored),
                str(d.recomputed),
            )
        console.print(table)
        if len(differences) > MAX_SHOWN:
            console.print(f"… and {len(differences) - MAX_SHOWN} more")
        console.print("Run `dancu kpi rebuild` (with the same dates) to recompute them.")
        self.stdout.flush()
        sys.exit(1)

    def _rebuild(self, console: Console, day_from: dt.date | None, day_to: dt.date | None) -> None:
        days = span(day_from, day_to)
        if days is None:
            console.print("kpi rebuild: no events, nothing to do.")
            return
        total_days = (days[1] - days[0]).days + 1
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} days"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rebuild", total=total_days)

            def advance(start: dt.date, end: dt.date, rows: int) -> None:
                progress.update(
                    task,
                    advance=(end - start).days + 1,
                    description=f"rebuild {start:%Y-%m-%d}..{end:%Y-%m-%d} ({rows} rows)",
                )

            written = services.rebuild(*days, progress=advance)
        console.print(f"kpi rebuild: {written} tally rows from {days[0]} to {days[1]}.")
