"""The data-quality report on a large population: seconds per report level and per drill-down.

Runs the real code path (quality.selectors, with its audit INSERTs) as the national ministry,
a province officer (the generated province) and a commune officer (its most populous commune).

    python bench/bench_quality.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_qbench \
        --size 100000 [--reuse] [--repeat 3]

With --reuse the database is used as it is; otherwise it is dropped, re-created and filled with
`dancu population generate --province 38`. Also prints EXPLAIN ANALYZE of the national query
with --explain.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import prepare_registry, setup_django


def _time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--drilldowns", action="store_true", help="also time page 1 of each drill-down")
    parser.add_argument("--no-jit", action="store_true", help="PostgreSQL: SET jit = off for the session")
    args = parser.parse_args()
    prepare_registry(args.database_url, args.size, args.reuse)

    setup_django(args.database_url)
    from django.db import connection
    from django.db.models import Count

    from dancu.accounts.actor import Actor
    from dancu.population.models import Citizen
    from dancu.quality import selectors
    from dancu.quality.checks import CHECKS

    if args.no_jit and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
    n = Citizen.objects.count()
    top = (Citizen.objects.exclude(current_commune=None).values("current_commune", "current_province")
           .annotate(n=Count("pk")).order_by("-n").first())
    national = Actor(label="bench.national", role="ministry_admin", source="system")
    province = Actor(label="bench.province", role="province_police", source="system",
                     jurisdiction_id=top["current_province"], jurisdiction_level="province")
    commune = Actor(label="bench.commune", role="commune_police", source="system",
                    jurisdiction_id=top["current_commune"], jurisdiction_level="commune")
    print(f"{connection.vendor}: {n:,} citizens; commune {top['current_commune']} has {top['n']:,}")

    report = selectors.quality_report(national)
    print("national issues:", {k: v for k, v in report.total.counts.items() if v})
    levels = [
        ("national (row per province)", lambda: selectors.quality_report(national)),
        ("province (row per commune)", lambda: selectors.quality_report(province)),
        ("commune (one row)", lambda: selectors.quality_report(commune)),
    ]
    for label, fn in levels:
        print(f"report {label:32s} {_time(fn, args.repeat):7.2f} s")
    for check in CHECKS if args.drilldowns else ():
        seconds = _time(lambda c=check: selectors.drilldown(province, c.code), 1)
        print(f"drill-down page 1 (province) {check.code:24s} {seconds:7.2f} s")

    if args.explain and connection.vendor == "postgresql":
        qs = selectors._citizens_in(national, None)
        from dancu.quality.checks import CITIZEN_CHECKS, is_minor
        from dancu.quality.selectors import timezone

        today = timezone.localdate()
        aggs = {"total": Count("pk"), "minors": Count("pk", filter=is_minor(today))}
        aggs.update({c.code: Count("pk", filter=c.condition(today)) for c in CITIZEN_CHECKS})
        print(qs.values("current_province_id").annotate(**aggs).order_by().explain(analyze=True))


if __name__ == "__main__":
    main()
