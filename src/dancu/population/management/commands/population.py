"""``dancu population generate | import | export`` — the population files and the synthetic
population, from the command line. Thin: parses arguments, calls the generator, the bulk
loader or the exporter, prints a summary."""

from __future__ import annotations

import datetime as dt
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dancu.accounts.actor import system_actor
from dancu.geo.models import AdminUnit, CodeSystem, Level


class Command(BaseCommand):
    help = "Synthetic population, and import/export of population files (CSV, CSV.gz, Parquet)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="Generate a synthetic population.")
        gen.add_argument("--size", type=int, default=20_000, help="how many people (default 20000)")
        gen.add_argument("--seed", type=int, default=1,
                         help="random seed (default 1): the same seed gives the same people")
        gen.add_argument("--province", default="38", help="2025 province code (default 38, Thanh Hóa)")
        gen.add_argument("--as-of", default=None, help="Reference date YYYY-MM-DD (default today)")
        gen.add_argument("--out", default=None, help="Write a .csv/.csv.gz/.parquet file instead")
        gen.add_argument("--no-progress", action="store_true", help="no progress bar")

        imp = sub.add_parser("import", help="Import a population file.")
        imp.add_argument("file", help="a .csv, .csv.gz or .parquet file (columns: docs/import-export.md)")
        imp.add_argument("--all-or-nothing", action="store_true",
                         help="import nothing if any row is refused (default: the valid rows are imported)")
        imp.add_argument("--initial-load", action="store_true",
                         help="Into an empty registry: one transaction; on PostgreSQL the registry tables "
                              "are locked and their indexes and foreign keys built after the load. "
                              "Ignored when the registry already holds people.")
        imp.add_argument("--report", default=None, help="Write the row report (CSV) here")
        imp.add_argument("--no-progress", action="store_true", help="no progress bar")

        exp = sub.add_parser("export", help="Export the population to a file.")
        exp.add_argument("file", help="where to write: .csv, .csv.gz or .parquet")
        exp.add_argument("--province", default=None, help="2025 province code: only people living there")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.out = cast(TextIO, self.stdout)  # Django's OutputWrapper: a text stream
        self.console = Console(file=self.out, width=110)
        action = opts["action"]
        if action == "generate":
            self.generate(opts)
        elif action == "import":
            self.import_(opts)
        else:
            self.export(opts)

    def _province(self, code: str, *, load: bool) -> AdminUnit:
        code = code.split(":")[-1]
        unit = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE, code=code).first()
        if unit is None and load:
            from dancu.geo.services import load_admin_units

            load_admin_units()
            unit = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE,
                                            code=code).first()
        if unit is None:
            raise CommandError(f"No 2025 province with code {code!r}.")
        return unit

    def generate(self, opts: dict[str, Any]) -> None:
        from dancu.population.generator import generate_population, write_population

        if opts["size"] < 1:
            raise CommandError("--size must be at least 1")
        province = self._province(opts["province"], load=True)
        as_of = dt.date.fromisoformat(opts["as_of"]) if opts["as_of"] else None
        progress = not opts["no_progress"]
        if opts["out"]:
            result = write_population(opts["out"], size=opts["size"], seed=opts["seed"], province=province,
                                      as_of=as_of, progress=progress, stdout=self.out)
        else:
            result = generate_population(size=opts["size"], seed=opts["seed"], province=province,
                                         as_of=as_of, progress=progress, stdout=self.out)
        table = Table(title=f"Generated population ({province.name}, seed {result.seed})")
        table.add_column("")
        table.add_column("", justify="right")
        table.add_row("people", f"{result.size:,}")
        table.add_row("households", f"{result.households:,}")
        table.add_row("temporary residences", f"{result.temporary:,}")
        table.add_row("deceased", f"{result.deceased:,}")
        for name, n in result.anomalies.items():
            table.add_row(f"anomaly: {name}", f"{n:,}")
        if result.import_result is not None:
            ir = result.import_result
            table.add_row("created in database", f"{ir.created:,}")
            table.add_row("rejected", f"{ir.rejected:,}")
        if result.path:
            table.add_row("file", result.path)
        table.add_row("seconds", f"{result.seconds:.1f}")
        self.console.print(table)

    def import_(self, opts: dict[str, Any]) -> None:
        from dancu.geo.services import load_admin_units
        from dancu.population.bulk import import_file

        if not AdminUnit.objects.exists():
            load_admin_units()  # unit codes in files must resolve
        try:
            result = import_file(opts["file"], all_or_nothing=opts["all_or_nothing"], actor_label="cli",
                                 progress=not opts["no_progress"], report=opts["report"], stdout=self.out,
                                 initial_load=opts["initial_load"])
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        table = Table(title=f"Import {result.file_name} (batch {result.batch_id}, {result.strategy}): "
                            f"{result.status}")
        table.add_column("")
        table.add_column("", justify="right")
        for label, value in (("rows read", result.rows_read), ("created", result.created),
                             ("skipped (already present)", result.skipped), ("rejected", result.rejected),
                             ("warnings", len(result.warnings)),
                             ("households created", result.households_created),
                             ("family links set afterwards", result.links_set)):
            table.add_row(label, f"{value:,}")
        self.console.print(table)
        if result.issues and not opts["report"]:
            issues = Table(title="First issues (use --report for all)")
            for col in ("line", "personal_id", "field", "code", "message"):
                issues.add_column(col)
            for i in result.issues[:20]:
                issues.add_row(str(i.line), i.personal_id, i.field, i.code, i.message)
            self.console.print(issues)
        if result.status in ("failed", "rejected"):
            raise CommandError(f"import {result.status}")

    def export(self, opts: dict[str, Any]) -> None:
        from dancu.population.io import export_file

        province = self._province(opts["province"], load=False) if opts["province"] else None
        try:
            count = export_file(opts["file"], actor=system_actor("cli", source="system"), province=province)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.console.print(f"Exported {count:,} citizens to {opts['file']}")
