"""The data-quality report before and after tallies, on a large population (PostgreSQL).

Before (the baseline, measured in the same run): the report counted live — one grouped scan of
every citizen of the scope per request (``selectors.scan``, the same conditions; now the work
of the background recount). After: the report reads ``QualityTally`` rows (``quality_report``,
and the console page through Django's full HTTP stack), and the kpi context's
``selectors.tallies``. Prints p50/p95 and the CPU of this process per request, for the national
ministry, the generated province's police and its most populous commune's police; then the
recount of the province (the task) and ``dancu quality check`` time.

    python bench/bench_quality.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_quality_20k \
        --size 20000 [--reuse] [--requests 50] [--live-repeat 2]

With --reuse the database is used as it is (migrated first); otherwise it is dropped, re-created
and filled with `dancu population generate --province 38` (bench/_common.prepare_registry).
Run it nice'd on a shared machine: `nice -n 10 python bench/bench_quality.py …`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.factories: the bench officers
from _common import prepare_registry, setup_django, timed


def _row(label: str, r: dict[str, float]) -> str:
    return f"| {label} | {r['n']:.0f} | {r['p50']:,.1f} | {r['p95']:,.1f} | {r['cpu']:,.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--requests", type=int, default=50, help="requests per 'after' row")
    parser.add_argument("--live-repeat", type=int, default=2, help="runs per 'before' (live) row")
    args = parser.parse_args()
    prepare_registry(args.database_url, args.size, args.reuse)
    env = dict(os.environ, DATABASE_URL=args.database_url)
    subprocess.run([sys.executable, "-m", "dancu.cli", "migrate", "-v0"], env=env, check=True)

    setup_django(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from tests.factories import officer_actor, officer_login

    from dancu.accounts.models import OfficerProfile
    from dancu.accounts.services import actor_for_profile
    from dancu.geo.models import AdminUnit
    from dancu.population.models import Citizen
    from dancu.quality import selectors, services
    from dancu.quality.models import QualityTally

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    n = Citizen.objects.count()
    top = (Citizen.objects.exclude(current_commune=None).values("current_commune", "current_province")
           .annotate(n=Count("pk")).order_by("-n").first())
    province = AdminUnit.objects.get(pk=top["current_province"])
    commune = AdminUnit.objects.get(pk=top["current_commune"])

    def officer(name: str, role: str, unit: AdminUnit | None):  # type: ignore[no-untyped-def]
        profile = OfficerProfile.objects.filter(user__username=name).select_related("user").first()
        if profile is not None:
            return actor_for_profile(profile)
        return officer_actor(name, role, unit)

    national = officer("bench.q.national", "ministry_admin", None)
    prov = officer("bench.q.province", "province_police", province)
    comm = officer("bench.q.commune", "commune_police", commune)
    print(f"{connection.vendor} {connection.pg_version if connection.vendor == 'postgresql' else ''}: "
          f"{n:,} citizens; province {province.name} ; commune {commune.name} has {top['n']:,}")

    # Before: the live scan the report ran per request (province → its communes; the
    # commune's own row is the same scan restricted by the index on current_commune).
    before = {
        "province (row per commune)": timed(lambda: selectors.scan(province.pk), args.live_repeat),
        "people with no place (national row)": timed(lambda: selectors.scan(None), args.live_repeat),
    }
    t0 = time.perf_counter()
    services.recompute_all()
    recount_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    services.recompute(province.pk)
    recount_province = time.perf_counter() - t0
    t0 = time.perf_counter()
    diffs = list(selectors.differences([province.pk]))
    check_seconds = time.perf_counter() - t0
    assert not diffs, diffs[:5]

    clients = {}
    for who in (national, prov, comm):
        client = Client()
        officer_login(client, who)
        clients[who.label] = client

    def page(who, query: str = "") -> Callable[[], object]:  # type: ignore[no-untyped-def]
        def get() -> object:
            response = clients[who.label].get("/quality/" + query)
            assert response.status_code == 200, response.status_code
            return response
        return get

    after = {
        "report, national (selector)": timed(lambda: selectors.quality_report(national), args.requests),
        "report, province (selector)": timed(lambda: selectors.quality_report(prov), args.requests),
        "report, commune (selector)": timed(lambda: selectors.quality_report(comm), args.requests),
        "page /quality/ national (HTTP stack)": timed(page(national), args.requests),
        "page /quality/ province (HTTP stack)": timed(page(prov), args.requests),
        "page /quality/ commune (HTTP stack)": timed(page(comm), args.requests),
        "kpi: tallies(province)": timed(lambda: selectors.tallies(prov, province), args.requests),
        "kpi: tallies(nation)": timed(lambda: selectors.tallies(national, None), args.requests),
    }
    print()
    print("| reading | requests | p50 ms | p95 ms | CPU ms/request (this process) |")
    print("|---|---|---|---|---|")
    for label, r in before.items():
        print(_row(f"before: live scan, {label}", r))
    for label, r in after.items():
        print(_row(f"after: {label}", r))
    print()
    print(f"recount of every province + no place (the tasks, in a row): {recount_all:.1f} s; "
          f"of the province alone: {recount_province:.1f} s; "
          f"`quality check` of the province: {check_seconds:.1f} s; "
          f"tally rows: {QualityTally.objects.count():,}")


if __name__ == "__main__":
    main()
