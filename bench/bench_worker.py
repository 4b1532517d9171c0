"""Tasks per second through `dancu worker` on PostgreSQL, with 1 and 2 worker processes.

    python bench/bench_worker.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_wbench \
        [--tasks 2000]

The database is dropped, re-created and migrated. For each row, N tasks are enqueued (one
transaction), then `dancu worker --until-idle --no-periodic --concurrency C` runs them; the rate
is N over the time from the first task's start to the last task's end (the tasks' own
timestamps: process start-up is not counted). Baseline in the same run: the same claim → mark
running → mark done cycle as raw SQL over psycopg, one process (`UPDATE … WHERE id = (SELECT …
FOR UPDATE SKIP LOCKED LIMIT 1)`), i.e. what the database alone costs per task.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def fresh_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(ROOT / "src"))
    subprocess.run([sys.executable, "-m", "dancu.cli", "migrate", "-v0"], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True,
                        help="a PostgreSQL database (dropped and re-created)")
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per measurement (default 2000)")
    args = parser.parse_args()
    fresh_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
    sys.path[:0] = [str(ROOT / "src"), str(BENCH)]
    import django

    django.setup()
    import worker_tasks
    from django.db import connection, transaction
    from django.db.models import Max, Min
    from django_tasks_db.models import DBTaskResult

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(BENCH)]))
    n = args.tasks
    rows: list[tuple[str, int, float, float]] = []

    def enqueue(t) -> float:
        DBTaskResult.objects.all().delete()
        start = time.perf_counter()
        with transaction.atomic():
            for _ in range(n):
                t.enqueue()
        return n / (time.perf_counter() - start)

    def measure(label: str, t, concurrency: int) -> None:
        enq = enqueue(t)
        connection.close()
        subprocess.run([sys.executable, "-m", "dancu.cli", "worker", "--until-idle", "--no-periodic",
                        "--concurrency", str(concurrency), "--verbosity", "0"], env=env, check=True)
        done = DBTaskResult.objects.filter(status="SUCCESSFUL")
        assert done.count() == n, f"{done.count()} of {n} tasks done"
        span = done.aggregate(a=Min("started_at"), b=Max("finished_at"))
        seconds = (span["b"] - span["a"]).total_seconds()
        rows.append((label, concurrency, n / seconds, enq))

    def raw_baseline() -> None:
        import psycopg

        enq = enqueue(worker_tasks.empty)
        table = DBTaskResult._meta.db_table
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            start = time.perf_counter()
            while True:
                with conn.transaction():
                    row = conn.execute(
                        f"UPDATE {table} SET status='RUNNING', started_at=now(), "
                        "worker_ids = worker_ids || '[\"raw\"]'::jsonb WHERE id = (SELECT id FROM "
                        f"{table} WHERE status='READY' ORDER BY priority DESC, "
                        "run_after, enqueued_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id").fetchone()
                if row is None:
                    break
                conn.execute(f"UPDATE {table} SET status='SUCCESSFUL', finished_at=now(), "
                             "return_value='null' WHERE id=%s", row)
            rate = n / (time.perf_counter() - start)
            rows.append(("raw SQL claim + finish, no task (baseline)", 1, rate, enq))

    raw_baseline()
    measure("empty task", worker_tasks.empty, 1)
    measure("empty task", worker_tasks.empty, 2)
    measure("10 ms wait task (I/O)", worker_tasks.wait_10ms, 1)
    measure("10 ms wait task (I/O)", worker_tasks.wait_10ms, 2)

    print(f"\n{n} tasks each; load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| what | worker processes | tasks/s | enqueued/s (one transaction) |")
    print("|---|---:|---:|---:|")
    for label, c, rate, enq in rows:
        print(f"| {label} | {c} | {rate:,.0f} | {enq:,.0f} |")


if __name__ == "__main__":
    main()
