"""The KPI targets of issue #14 on PostgreSQL, 1,000,000 citizens and 1,000,000 dossiers.

1. ``kpi.services.rebuild`` — every DossierTally recomputed from the raw DossierEvents (time, and
   peak memory of the process that runs it: ``dancu kpi rebuild`` as a child, its ru_maxrss);
   the RegistryTally snapshot and the data-quality recount (time).
2. A province dashboard (``/chi-so/?unit=2025:XX&period=…``, the full HTTP stack in process, as
   the province's police) — p50/p95 and this process's CPU per request; target p95 < 300 ms.
   Also the nation's dashboard for the year, and the data-quality report (tallies).
3. The Decision 766 index of the nation for a year (``kpi.selectors.index``) — target < 1 s.
4. The cost the tally receiver adds to a dossier transition: the same transitions (a citizen's
   online submission, then the commune police's acceptance) with the receiver connected and
   disconnected, alternating blocks in the same run; the ratio of medians.

    nice -n 10 python bench/bench_kpi.py \
        --database-url postgresql://postgres@127.0.0.1:5432/dancu_quality_1m --reuse

The database: with --reuse it must hold the citizens already (bench_quality.py / `dancu
population generate`); it is migrated, and the dossiers are COPY-seeded as in
bench_counter_queue.py (``seed``: over every 2025 commune, Zipf-like, 2.75 events a dossier)
when the dossier table is empty, their events named as the services name them, plus the payments
and ratings of the seeded dossiers as events (``realistic_events``). Without --reuse the
database is re-created with ``--citizens``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.*: officers, citizen actors
from _common import prepare_registry, setup_django


def _child(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Run ``dancu <args>`` as a child; its wall seconds and peak RSS (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dancu.cli", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over children so far
    return seconds, (peak if peak > before else float("nan")) / 1024


# bench_counter_queue's seed names its events by verb (it only needed them to exist); the
# services record them by outcome (``publicservices.services``), which is what the tallies count.
ACTIONS = {"submit": "submitted", "accept": "accepted", "approve": "approved", "refuse": "refused",
           "withdraw": "withdrawn", "supplement": "supplement_requested"}


def realistic_events(url: str) -> None:
    """Rename the seeded events as the services write them, and add the ``paid`` events (online:
    no officer) and ``rated`` events (note "→N") of the seeded paid and rated dossiers. Idempotent."""
    import psycopg

    with psycopg.connect(url) as conn:
        seeded = "SELECT 1 FROM publicservices_dossierevent WHERE action = 'submit' LIMIT 1"
        if conn.execute(seeded).fetchone() is None:
            return
        t0 = time.perf_counter()
        conn.execute("UPDATE publicservices_dossierevent SET action = CASE action "
                     + " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in ACTIONS.items()) + " ELSE action END "
                     "WHERE action IN (" + ", ".join(f"'{a}'" for a in ACTIONS) + ")")
        insert = ("INSERT INTO publicservices_dossierevent (dossier_id, at, actor_label, actor_user_id, "
                  "action, from_status, to_status, note) ")
        conn.execute(insert + "SELECT id, submitted_at + interval '1 hour', 'citizen', NULL, 'paid', status, "
                     "status, '' FROM publicservices_dossier WHERE paid")
        conn.execute(insert + "SELECT id, decided_at + interval '1 day', 'citizen', NULL, 'rated', status, "
                     "status, '→' || rating FROM publicservices_dossier "
                     "WHERE rating IS NOT NULL AND decided_at IS NOT NULL")
        conn.commit()
        conn.execute("ANALYZE publicservices_dossierevent")
        print(f"events renamed, paid and rated events added: {time.perf_counter() - t0:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--transitions", type=int, default=60, help="submissions per arm (×2 transitions)")
    parser.add_argument("--skip-rebuild", action="store_true", help="tallies already rebuilt (--reuse)")
    args = parser.parse_args()
    prepare_registry(args.database_url, args.citizens, args.reuse)
    env = dict(os.environ, DATABASE_URL=args.database_url)
    subprocess.run([sys.executable, "-m", "dancu.cli", "migrate", "-v0"], env=env, check=True)
    from bench_counter_queue import seed

    t0 = time.perf_counter()
    seed(args.database_url, args.dossiers)
    realistic_events(args.database_url)
    seeded = time.perf_counter() - t0

    rows: list[str] = ["| job | time | memory |", "|---|---|---|"]
    if not args.skip_rebuild:
        seconds, peak = _child(env, "kpi", "rebuild")
        rows.append(f"| `dancu kpi rebuild` (every DossierTally from the raw events) | {seconds:.1f} s | "
                    f"peak RSS {peak:.0f} MB |")
        seconds, peak = _child(env, "kpi", "snapshot")
        rows.append(f"| `dancu kpi snapshot` (RegistryTally, every commune) | {seconds:.1f} s | "
                    f"peak RSS {peak:.0f} MB |")
        seconds, peak = _child(env, "quality", "recompute")
        rows.append(f"| `dancu quality recompute` (every province + no place) | {seconds:.1f} s | "
                    f"peak RSS {peak:.0f} MB |")

    for line in rows:
        print(line, flush=True)

    setup_django(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.db.models import Exists, OuterRef
    from django.test import Client
    from django.utils import timezone
    from tests.factories import officer_actor, officer_login
    from tests.publicservices.conftest import as_citizen

    from dancu.accounts.models import OfficerProfile
    from dancu.accounts.services import actor_for_profile
    from dancu.geo.models import AdminUnit
    from dancu.kpi import selectors as kpi
    from dancu.kpi.models import DossierTally
    from dancu.population.models import Citizen
    from dancu.publicservices import services as ps
    from dancu.publicservices.models import Dossier, DossierEvent
    from dancu.publicservices.signals import dossier_event

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def officer(name: str, role: str, unit: AdminUnit | None):  # type: ignore[no-untyped-def]
        profile = OfficerProfile.objects.filter(user__username=name).select_related("user").first()
        return actor_for_profile(profile) if profile is not None else officer_actor(name, role, unit)

    with connection.cursor() as cur:
        cur.execute("SELECT province_id, count(*) FROM publicservices_dossier "
                    "GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        province_id, province_dossiers = cur.fetchone()
    province = AdminUnit.objects.get(pk=province_id)
    national = officer("bench.kpi.national", "ministry_admin", None)
    prov = officer("bench.kpi.province", "province_police", province)
    year = str(timezone.localdate().year)
    month = timezone.localdate().strftime("%Y-%m")
    print(f"{Citizen.objects.count():,} citizens, {Dossier.objects.count():,} dossiers, "
          f"{DossierEvent.objects.count():,} events, {DossierTally.objects.count():,} tally rows; "
          f"busiest province {province.name} ({province_dossiers:,} dossiers); seeding {seeded:.0f} s",
          flush=True)

    clients = {}
    for who in (national, prov):
        client = Client()
        officer_login(client, who)
        clients[who.label] = client

    def page(who, path: str) -> Callable[[], object]:  # type: ignore[no-untyped-def]
        def get() -> object:
            response = clients[who.label].get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response
        return get

    unit = f"2025:{province.code}"
    timed: dict[str, dict[str, float]] = {}

    def measure(label: str, fn: Callable[[], object], n: int) -> None:
        timed[label] = r = timed(fn, n)
        print(f"| {label} | {r['n']:.0f} | {r['p50']:,.1f} | {r['p95']:,.1f} | {r['cpu']:,.1f} |", flush=True)

    print("| reading | requests | p50 ms | p95 ms | CPU ms/request (this process) |")
    print("|---|---|---|---|---|")
    for label, fn, n in [
        (f"province dashboard, month ({unit}, {month})", page(prov, f"/chi-so/?unit={unit}&period={month}"),
         args.requests),
        (f"province dashboard, year ({unit}, {year})", page(prov, f"/chi-so/?unit={unit}&period={year}"),
         args.requests),
        (f"nation dashboard, year ({year})", page(national, f"/chi-so/?period={year}"),
         max(5, args.requests // 3)),
        (f"nation index, year (kpi.selectors.index, {year})",
         lambda: kpi.index(national, unit=None, period=kpi.parse_period(year)), args.requests),
        ("data-quality report, province (/quality/)", page(prov, "/quality/"), args.requests),
        ("data-quality report, nation (/quality/)", page(national, "/quality/"), args.requests),
    ]:
        measure(label, fn, n)

    # Transitions with the receiver connected and disconnected, alternating blocks.
    from dancu.kpi.receivers import count_dossier_event

    with connection.cursor() as cur:
        cur.execute("SELECT current_commune_id FROM population_citizen WHERE current_commune_id IS NOT NULL "
                    "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        commune = AdminUnit.objects.get(pk=cur.fetchone()[0])
    police = officer("bench.kpi.police", "commune_police", commune)
    people = iter(Citizen.objects.filter(current_commune=commune, life_status="living",
                                         birth_year__lt=timezone.localdate().year - 18)
                  .exclude(Exists(Dossier.objects.filter(applicant_id=OuterRef("pk"))))  # an anti-join
                  [: args.transitions * 2 + 10])
    arms: dict[str, list[float]] = {"connected": [], "disconnected": []}
    block = 10
    for i in range(0, args.transitions * 2, block):
        arm = "connected" if (i // block) % 2 == 0 else "disconnected"
        if arm == "disconnected":
            dossier_event.disconnect(dispatch_uid="kpi.count_dossier_event")
        try:
            for _ in range(block):
                person = next(people)
                t0 = time.perf_counter()
                d = ps.submit(as_citizen(person), procedure_code="xac-nhan-thong-tin-cu-tru",
                              applicant_personal_id=person.personal_id, data={"purpose": "Xin việc"})
                t1 = time.perf_counter()
                ps.accept(police, d.code)
                t2 = time.perf_counter()
                arms[arm] += [(t1 - t0) * 1000, (t2 - t1) * 1000]
        finally:
            dossier_event.connect(count_dossier_event, dispatch_uid="kpi.count_dossier_event")

    print()
    on, off = statistics.median(arms["connected"]), statistics.median(arms["disconnected"])
    print("| transition (submit online, accept) | n | median ms | mean ms |")
    print("|---|---|---|---|")
    for arm, values in arms.items():
        median, mean = statistics.median(values), statistics.mean(values)
        print(f"| receiver {arm} | {len(values)} | {median:.2f} | {mean:.2f} |")
    print(f"\nratio connected / disconnected (medians): {on / off:.3f}")


if __name__ == "__main__":
    main()
