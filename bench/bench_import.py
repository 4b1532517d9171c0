"""Import speed against a raw COPY of the same rows, on PostgreSQL.

    python bench/bench_import.py --size 1000000 [--url postgresql://postgres@127.0.0.1:5432]
                                 [--format csv|parquet] [--strategy initial-load|chunks]
                                 [--keep-file] [--markdown docs/benchmarks.md]

Drops and recreates the dedicated database ``dancu_bench`` (never another one), migrates it,
loads the administrative units, then:

1. generates ``--size`` citizens (seed 1, Thanh Hóa) to a file;
2. (b) runs ``dancu population import FILE`` in a subprocess into the empty registry — with
   ``--initial-load`` (the default ``--strategy initial-load``: one transaction, secondary
   indexes and foreign keys dropped and built again) or without (``--strategy chunks``: a
   transaction per chunk into the indexed tables) — wall time, citizens/s and the
   subprocess's peak RSS (``getrusage(RUSAGE_CHILDREN)``);
3. (a) dumps the citizen rows the import wrote (``COPY … TO``) and times a raw ``COPY … FROM``
   of exactly those rows into a twin table created ``LIKE population_citizen INCLUDING ALL``
   plus the same foreign keys (same columns, indexes and constraints, no rows);
4. (a2) the same rows into a bare twin (no index, no constraint but NOT NULL and CHECK), then,
   in the same transaction, building the twin's indexes, primary key, unique constraints and
   foreign keys from their definitions and ANALYZE — PostgreSQL's own advice for a bulk
   load, the cheapest way to end with the same indexed table;
5. (a') and (a2') the same two for *all* the rows the import wrote (citizens, households,
   memberships, registrations);
6. prints a table and a markdown row (appended to ``--markdown`` when given).

The ratios are import citizens/s ÷ COPY rows/s (= COPY seconds ÷ import seconds); the target
is ≥ 0.5 against (a). With ``--initial-load`` the import itself loads the way (a2) does, so
(a2) is the like-for-like baseline. The import also validates every row, and (a)/(a2) write
only the citizen rows.
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

BENCH_DB = os.environ.get("DANCU_BENCH_DB", "dancu_bench")  # a dedicated database to drop and create


RESIDENCE_TABLES = ("residence_household", "residence_householdmember", "residence_registration")


def raw_copy(conn, tmp: Path, tables: list[str], *, build_after: bool = False) -> float:
    """Dump ``tables`` (COPY TO), create empty twins ``LIKE … INCLUDING ALL`` (columns, defaults,
    CHECK and NOT NULL constraints, indexes) plus the same foreign keys (pointing at the twins
    where the original points inside ``tables``), and time one transaction of ``COPY FROM`` of
    every dumped row. With ``build_after`` the twins' indexes, primary/unique keys and foreign
    keys are dropped first (untimed: the twins are empty) and built again after the COPY, in
    the timed transaction, followed by ANALYZE. Returns seconds."""
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
    rebuild = _drop_indexes_and_keys(conn, list(twins.values())) if build_after else []
    conn.autocommit = False
    started = time.perf_counter()
    for table in tables:
        with conn.cursor().copy(f"COPY {twins[table]} FROM STDIN") as copy, \
                open(tmp / f"{table}.copy", "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                copy.write(block)
    if build_after:
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # as the import's initial load
        for statement in rebuild:
            conn.execute(statement)
        conn.execute(f"ANALYZE {', '.join(twins.values())}")
    conn.commit()
    seconds = time.perf_counter() - started
    conn.autocommit = True
    for table in reversed(tables):
        conn.execute(f"DROP TABLE {twins[table]} CASCADE")
    return seconds


def _drop_indexes_and_keys(conn, tables: list[str]) -> list[str]:
    """Drop every index and primary/unique/foreign key of ``tables`` (foreign keys first);
    return the statements that build them again (keys and indexes first, foreign keys last)."""
    drop_foreign: list[str] = []
    drop_rest: list[str] = []
    keys: list[str] = []
    foreign: list[str] = []
    for table in tables:
        for name, kind, definition in conn.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f', 'x')", [table]).fetchall():
            alter = f'ALTER TABLE {table}'
            (drop_foreign if kind == "f" else drop_rest).append(f'{alter} DROP CONSTRAINT "{name}"')
            (foreign if kind == "f" else keys).append(f'{alter} ADD CONSTRAINT "{name}" {definition}')
        for index, definition in conn.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
                "WHERE indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))", [table]).fetchall():
            drop_rest.append(f"DROP INDEX {index}")
            keys.append(definition)
    for statement in [*drop_foreign, *drop_rest]:
        conn.execute(statement)
    return [*keys, *foreign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432",
                        help="server URL without database name")
    parser.add_argument("--format", choices=("csv", "parquet", "csv.gz"), default="csv")
    parser.add_argument("--strategy", choices=("initial-load", "chunks"), default="initial-load",
                        help="import with --initial-load (default) or chunk by chunk into the indexed tables")
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

    console = Console(width=130)
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
    load_before = os.getloadavg()[0]
    flags = ["--initial-load"] if args.strategy == "initial-load" else []
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dancu.cli", "population", "--skip-checks", "import",
                           str(path), "--no-progress", "--report", str(tmp / "report.csv"), *flags],
                          env=env, capture_output=True, text=True, check=False)
    import_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0 or f"{args.strategy})" not in proc.stdout.replace("\n", ""):
        console.print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f"import failed (or did not run as {args.strategy})")

    with psycopg.connect(db_url, autocommit=True) as conn:
        created = conn.execute("SELECT count(*) FROM population_citizen").fetchone()[0]
        extra = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RESIDENCE_TABLES}
        copy_s = raw_copy(conn, tmp, ["population_citizen"])
        build_s = raw_copy(conn, tmp, ["population_citizen"], build_after=True)
        copy_all_s = raw_copy(conn, tmp, ["population_citizen", *RESIDENCE_TABLES])
        build_all_s = raw_copy(conn, tmp, ["population_citizen", *RESIDENCE_TABLES], build_after=True)

    import_rate = created / import_s
    copy_rate = created / copy_s
    table = Table(title=f"dancu population import vs COPY ({created:,} citizens, {args.format}, "
                        f"{args.strategy})")
    for col in ("measure", "value", "ratio import / COPY"):
        table.add_column(col)
    table.add_row("generate to file", f"{gen_s:.1f} s", "")
    table.add_row(f"(b) import ({args.strategy}) wall time", f"{import_s:.1f} s", "")
    table.add_row("(b) import citizens/s", f"{import_rate:,.0f}", "")
    table.add_row("(b) import peak RSS", f"{peak_mb:,.0f} MB", "")
    table.add_row("(a) COPY of the citizen rows into the indexed twin",
                  f"{copy_s:.1f} s ({copy_rate:,.0f} rows/s)", f"{copy_s / import_s:.2f}")
    table.add_row("(a2) COPY of the citizen rows into a bare twin + build indexes, keys, FKs, ANALYZE",
                  f"{build_s:.1f} s", f"{build_s / import_s:.2f}")
    table.add_row("(a') COPY of all rows the import wrote, indexed twins", f"{copy_all_s:.1f} s",
                  f"{copy_all_s / import_s:.2f}")
    table.add_row("(a2') all rows, bare twins + build", f"{build_all_s:.1f} s",
                  f"{build_all_s / import_s:.2f}")
    table.add_row("rows also written", ", ".join(f"{t.split('_')[1]} {n:,}" for t, n in extra.items()), "")
    console.print(table)
    load = os.getloadavg()[0]
    md = (f"| {dt.date.today().isoformat()} | {created:,} | {args.format} | {args.strategy} | "
          f"{import_s:.1f} | "
          f"{import_rate:,.0f} | {copy_s:.1f} | **{copy_s / import_s:.2f}** | {build_s:.1f} | "
          f"{build_s / import_s:.2f} | {copy_all_s:.1f} | {copy_all_s / import_s:.2f} | {build_all_s:.1f} | "
          f"{build_all_s / import_s:.2f} | {peak_mb:,.0f} | {load_before:.1f} → {load:.1f} |")
    header = ("| date | citizens | format | strategy | import s | citizens/s | (a) COPY citizen rows s | "
              "ratio (a) | (a2) COPY + build s | ratio (a2) | (a') COPY all rows s | ratio (a') | "
              "(a2') COPY + build all s | ratio (a2') | import peak RSS MB | load |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    console.print(f"{os.cpu_count()} CPU, Python {platform.python_version()}")
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
