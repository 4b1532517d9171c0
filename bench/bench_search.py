"""Name search over a large population on PostgreSQL: p50/p95/p99 per query shape.

Runs the real code path (population.selectors.search_citizens, with its audit INSERT) and, as
the baseline in the same run, the look-up by personal ID through the same selector.

    python bench/bench_search.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_bench \
        --size 1000000 [--reuse] [--queries 300]

With --reuse the database is used as it is (e.g. after bench_import.py); otherwise it is
dropped, re-created and filled with `dancu population generate`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import prepare_registry, setup_django


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    prepare_registry(args.database_url, args.size, args.reuse)

    setup_django(args.database_url)
    from django.db import connection

    from dancu.accounts.actor import system_actor
    from dancu.population.models import Citizen
    from dancu.population.selectors import get_citizen, search_citizens

    actor = system_actor("bench", source="officer")
    total = Citizen.objects.count()
    rng = random.Random(7)
    with connection.cursor() as cur:
        cur.execute("SELECT personal_id, full_name, birth_year FROM population_citizen "
                    "TABLESAMPLE SYSTEM (1) LIMIT %s", [args.queries])
        sample = cur.fetchall()
    rng.shuffle(sample)

    shapes = {
        "ID number (baseline)": lambda r: get_citizen(actor, r[0], reason="bench"),
        "full name": lambda r: search_citizens(actor, query=r[1]),
        "full name + birth year": lambda r: search_citizens(actor, query=r[1], birth_year=r[2]),
        "family + given name": lambda r: search_citizens(
            actor, query=f"{r[1].split()[0]} {r[1].split()[-1]}"),
        "given name + birth year": lambda r: search_citizens(actor, query=r[1].split()[-1],
                                                             birth_year=r[2]),
    }
    results = {}
    for label, run in shapes.items():
        for row in sample[:10]:  # warm the cache the way a running server has it warm
            run(row)
        times = []
        for row in sample:
            t0 = time.perf_counter()
            run(row)
            times.append((time.perf_counter() - t0) * 1000)
        results[label] = times

    base = statistics.median(results["ID number (baseline)"])
    print(f"\nName search over {total:,} citizens on PostgreSQL ({len(sample)} queries per shape)\n")
    print("| query | p50 ms | p95 ms | p99 ms | p50 / ID look-up |")
    print("|---|---:|---:|---:|---:|")
    for label, times in results.items():
        print(f"| {label} | {_pct(times, 50):.1f} | {_pct(times, 95):.1f} | {_pct(times, 99):.1f} "
              f"| {statistics.median(times) / base:.1f}× |")


if __name__ == "__main__":
    main()
