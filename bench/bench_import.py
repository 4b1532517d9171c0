"""Import speed against a raw COPY of the same rows, on PostgreSQL.

    python bench/bench_import.py --size 1000000 [--url postgresql://postgres@127.0.0.1:5432]
                                 [--format csv|parquet] [--keep-file] [--markdown docs/benchmarks.md]

Drops and recreates the dedicated database ``dancu_bench`` (never another one), migrates it,
loads the administrative units, then:

1. generates ``--size`` citizens (seed 1, Thanh Hóa) to a file;
2. (b) runs ``dancu population import FILE`` in a subprocess into the empty registry — wall
   time, citizens/s and the subprocess's peak RSS (``getrusage(RUSAGE_CHILDREN)``);
3. (a) dumps the citizen rows the import wrote (``COPY … TO``) and times a raw ``COPY … FROM``
   of exactly those rows into ``bench_citizen_copy``, created ``LIKE population_citizen
   INCLUDING ALL`` plus the same indexes (same columns, indexes and constraints, no rows);
4. prints a table and a markdown row (appended to ``--markdown`` when given).

The ratio is import citizens/s ÷ COPY rows/s; the target is ≥ 0.5. The import also writes the
households, memberships and registrations and validates every row, which the COPY does not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DB = "dancu_bench"


RESIDENCE_TABLES = ("residence_household", "residence_householdmember", "residence_registration")


def raw_copy(conn, tmp: Path, tables: list[str]) -> float:
    """Dump ``tables`` (COPY TO), create empty twins ``LIKE … INCLUDING ALL`` (columns, defaults,
    CHECK and NOT NULL constraints, indexes) plus the same foreign keys (pointing at the twins
    where the original points inside ``tables``), and time one transaction of ``COPY FROM`` of
    every dumped row. Returns seconds."""
    twins = {t: f"bench_copy_{t}" for t in tables}
    for table in tables:
        with open(tmp / f"{table}.copy", "wb") as fh, conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
            for block in copy:
                fh.write(block)
    for table in reversed(tables):
        conn.execute(f"DROP TABLE IF EXISTS {twins[table]} CASCADE")
    for table in tables:
        conn.execute(f"CREATE TABLE {twins[table]} (LIKE {table} INCLUDING ALL)")
    for table in tables:
        fks = conn.execute(
            "SELECT pg_get_constraintdef(c.oid), c.confrelid::regclass::text FROM pg_constraint c "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'f'", [table]).fetchall()
        for definition, target in fks:
            if target in twins:
                definition = definition.replace(f"REFERENCES {target}(", f"REFERENCES {twins[target]}(")
            conn.execute(f"ALTER TABLE {twins[table]} ADD {definition}")
    conn.autocommit = False
    started = time.perf_counter()
    for table in tables:
        with conn.cursor().copy(f"COPY {twins[table]} FROM STDIN") as copy, \
                open(tmp / f"{table}.copy", "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                copy.write(block)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.autocommit = True
    for table in reversed(tables):
        conn.execute(f"DROP TABLE {twins[table]} CASCADE")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432",
                        help="server URL without database name")
    parser.add_argument("--format", choices=("csv", "parquet", "csv.gz"), default="csv")
    parser.add_argument("--keep-file", action="store_true")
    parser.add_argument("--markdown", default=None, help="append the result row to this markdown file")
    args = parser.parse_args()

    import psycopg

    server = args.url.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    db_url = f"{server}/{BENCH_DB}"
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from rich.console import Console
    from rich.table import Table

    from dancu.geo.services import load_admin_units
    from dancu.population.generator import default_province, write_population

    console = Console()
    call_command("migrate", verbosity=0)
    load_admin_units()
    tmp = Path(tempfile.mkdtemp(prefix="dancu-bench-"))
    path = tmp / f"population.{args.format}"
    t0 = time.perf_counter()
    gen = write_population(path, size=args.size, seed=1, province=default_province(), progress=True)
    gen_s = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6
    console.print(f"generated {gen.size:,} rows in {gen_s:.1f}s → {path} ({size_mb:.0f} MB)")

    from django.db import connections

    connections.close_all()
    env = {**os.environ, "DATABASE_URL": db_url}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dancu.cli", "population", "--skip-checks", "import",
                           str(path), "--no-progress", "--report", str(tmp / "report.csv")],
                          env=env, capture_output=True, text=True, check=False)
    import_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        console.print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit("import failed")

    with psycopg.connect(db_url, autocommit=True) as conn:
        created = conn.execute("SELECT count(*) FROM population_citizen").fetchone()[0]
        extra = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RESIDENCE_TABLES}
        copy_s = raw_copy(conn, tmp, ["population_citizen"])
        copy_all_s = raw_copy(conn, tmp, ["population_citizen", *RESIDENCE_TABLES])

    import_rate = created / import_s
    copy_rate = created / copy_s
    ratio = import_rate / copy_rate
    ratio_all = copy_all_s / import_s
    table = Table(title=f"dancu population import vs COPY ({created:,} citizens, {args.format})")
    for col in ("measure", "value"):
        table.add_column(col)
    table.add_row("generate to file", f"{gen_s:.1f} s")
    table.add_row("(b) import wall time", f"{import_s:.1f} s")
    table.add_row("(b) import citizens/s", f"{import_rate:,.0f}")
    table.add_row("(b) import peak RSS", f"{peak_mb:,.0f} MB")
    table.add_row("(a) raw COPY of the citizen rows", f"{copy_s:.1f} s ({copy_rate:,.0f} rows/s)")
    table.add_row("ratio import / COPY (citizen rows)", f"{ratio:.2f}")
    table.add_row("(a') raw COPY of all rows the import wrote", f"{copy_all_s:.1f} s")
    table.add_row("ratio import / COPY (all rows)", f"{ratio_all:.2f}")
    table.add_row("rows also written", ", ".join(f"{t.split('_')[1]} {n:,}" for t, n in extra.items()))
    console.print(table)
    load = os.getloadavg()[0]
    md = (f"| {dt.date.today().isoformat()} | {created:,} | {args.format} | {import_s:.1f} | "
          f"{import_rate:,.0f} | "
          f"{copy_s:.1f} | {ratio:.2f} | {copy_all_s:.1f} | {ratio_all:.2f} | {peak_mb:,.0f} | "
          f"{os.cpu_count()} CPU, load {load:.1f}, Python {platform.python_version()} |")
    header = ("| date | citizens | format | import s | citizens/s | COPY citizen s | ratio | "
              "COPY all rows s | ratio (all rows) | import peak RSS MB | machine |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|")
    print(header)
    print(md)
    if args.markdown:
        out = Path(args.markdown)
        if not out.exists():
            out.write_text("# Benchmarks\n\n## Bulk import (bench/bench_import.py)\n\n" + header + "\n",
                           encoding="utf-8")
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(md + "\n")
    if not args.keep_file:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    main()
