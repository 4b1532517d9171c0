#!/usr/bin/env python
"""Interconnected procedures (design #13) at scale on PostgreSQL: bundles completed per minute
with 2 worker processes, the latency of the automatic parts, and the crash test's invariants
after kill -9 — against a baseline without kills in the same run.

    python bench/bench_bundles.py \\
        [--database-url postgresql://postgres@127.0.0.1:5432/dancu_chaos_bench] \\
        [--bundles 200] [--workers 2] [--citizens 2000] [--kill-every 2,6] [--port 18340]

1. Drops and re-creates the database (only the one named), migrates it and fills it with
   ``--citizens`` generated people (bench/_common.prepare_registry); makes dancu's exchange key
   and the agency's.
2. Seeds one commune of that province (tests/publicservices/bundle_chaos.seed): parents who
   declare births, households whose head declares the deaths of the others, all with level-2
   e-ID access tokens; a commune justice and a commune police officer with API tokens.
3. Starts ``dancu serve`` (1 process, 4 threads), ``--workers`` worker processes (lease 5 s)
   and the social-insurance stand-in (``dancu agency serve``, its own SQLite file) — with
   development settings and DEBUG off: production would need the issuing agency's PKCS#12
   certificate for the signed results, and the stand-in refuses production.
4. Two runs of ``--bundles`` bundles each (half births, half deaths; 5 % of the officers'
   decisions are refusals; every 7th decision is replayed and must get 409):
   - **baseline**: no kills;
   - **kill -9**: a chaos thread kills a random worker (or, 30 % of the time, the agency) every
     ``--kill-every`` seconds (uniform) and starts it again 0–1.5 s later, until the officers'
     last step is decided; then the flows finish with every process up.
   Bundles are submitted through the API by one thread as fast as it goes (upload + submission:
   2 requests a bundle); an officer thread polls the step queue (0.2 s) and decides.
5. Checks every invariant (bundle_chaos.check) and prints a table: flows, kills, duplicates
   found, steps lost, bundles/min (flows ÷ first submission → last step decided), p50/p95 of
   the officer's decision → card issued / benefit decided and of submission → step 1 in the
   officer's queue, CPU per bundle of the workers, the agency and the API server (their
   process groups, /proc), and of every ``postgres`` process on the machine (other jobs'
   queries count too: the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT), str(ROOT / "src")]

import bench_api as common  # noqa: E402  (server env, PostgreSQL CPU)
from _common import prepare_registry  # noqa: E402
from tests.publicservices import bundle_chaos as chaos  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/dancu_chaos_bench"


def _keys(data: Path) -> tuple[Path, Path]:
    from dancu.exchange import protocol

    own = data / "exchange" / "dancu.jwk"
    protocol.load_or_create_key(own, protocol.public_path_for(own))
    agency = data / "agencies" / "social-insurance"
    protocol.load_or_create_key(agency / "private.jwk", agency / "public.jwk")
    return own, agency / "public.jwk"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL,
                   help="a PostgreSQL database (dropped and re-created)")
    p.add_argument("--bundles", type=int, default=200, help="bundles per run (half births, half deaths)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--citizens", type=int, default=2000, help="generated people in the registry")
    p.add_argument("--kill-every", default="2,6", help="seconds between kills, uniform MIN,MAX (default 2,6)")
    p.add_argument("--refuse-rate", type=float, default=0.05, help="share of officers' refusals")
    p.add_argument("--port", type=int, default=18340, help="the API server's port; the agency's is the next")
    p.add_argument("--timeout", type=float, default=1800, help="seconds a run may take")
    p.add_argument("--reuse", action="store_true", help="keep the database as it is")
    p.add_argument("--skip-baseline", action="store_true")
    args = p.parse_args()
    pause = tuple(float(x) for x in args.kill_every.split(","))

    t0 = time.perf_counter()
    load_start = os.getloadavg()
    prepare_registry(args.database_url, args.citizens, args.reuse)
    work = Path(tempfile.mkdtemp(prefix="bench-bundles-", dir=os.environ.get("DANCU_DATA_DIR") or None))
    data = work / "data"
    # Development settings with DEBUG off, as the crash test: production would need the issuing
    # agency's PKCS#12 certificate for the signed results, and the stand-in refuses production.
    env = {k: v for k, v in os.environ.items() if k != "DANCU_ENV"}
    own_key, agency_key = _keys(data)
    agency_url = f"http://127.0.0.1:{args.port + 1}"
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH")]))
    env.update(DATABASE_URL=args.database_url, DANCU_DATA_DIR=str(data), DANCU_DEBUG="0", PYTHONPATH=path,
               DANCU_EXCHANGE_KEY_FILE=str(own_key), DANCU_AGENCY_SOCIAL_INSURANCE_KEY=str(agency_key),
               DANCU_AGENCY_SOCIAL_INSURANCE_URL=agency_url, DANCU_WORKER_LEASE_SECONDS="5",
               DANCU_EXCHANGE_HTTP_TIMEOUT="5", DJANGO_SETTINGS_MODULE="dancu.settings")
    os.environ.update(env)
    import django

    django.setup()
    from django.db.models import Count

    from dancu.geo.models import AdminUnit
    from dancu.population.models import Citizen

    busiest = (Citizen.objects.filter(current_commune__code_system="2025").values("current_commune")
               .order_by().annotate(n=Count("id"))
               .order_by("-n").first())
    commune = AdminUnit.objects.get(pk=busiest["current_commune"])
    half = args.bundles // 2
    runs = 1 if args.skip_baseline else 2
    tag = str(int(time.time()))
    cast = chaos.seed(commune, parents=20, families=(half * runs + 1) // 2, members=2, tag=tag)
    print(f"ready in {time.perf_counter() - t0:.0f} s: commune {commune.name}, "
          f"{len(cast.parents)} parents, {len(cast.families)} households; logs in {work}", flush=True)

    fleet = chaos.Fleet(env, work / "logs", server_port=args.port, agency_port=args.port + 1,
                        workers=args.workers)
    outcomes = []
    pg_cpu: list[float] = []
    with chaos.running(fleet):
        plan = [("baseline (no kills)", False), ("kill -9 of workers and agency", True)][2 - runs:]
        deaths_used = 0
        for n, (label, kills) in enumerate(plan):
            print(f"running: {label}", flush=True)
            sub_cast = chaos.Cast(cast.commune_code, cast.parents, _families_from(cast, deaths_used),
                                  cast.officers)
            pg0 = common._command_cpu_seconds("postgres")
            outcome = chaos.run_load(fleet, sub_cast, label=label, births=half, deaths=half, seed=100 + n,
                                     chaos=kills, refuse_rate=args.refuse_rate, timeout=args.timeout,
                                     chaos_pause=pause)  # type: ignore[arg-type]
            pg_cpu.append(common._command_cpu_seconds("postgres") - pg0)
            outcome.report = chaos.check(outcome, agency_url, chaos.agency_database(data))
            outcomes.append(outcome)
            deaths_used += half
    load_end = os.getloadavg()

    print(f"\n{args.bundles} bundles a run ({half} births + {half} deaths), {args.workers} worker "
          f"processes, lease 5 s; dancu serve 1 process × 4 threads; load average "
          f"{load_start[0]:.1f} → {load_end[0]:.1f}; {os.cpu_count()} CPUs\n")
    print(chaos.table(outcomes, args.workers))
    print("\n| run | PostgreSQL CPU ms/bundle (all postgres processes) | messages logged | cards issued "
          "| benefits decided | dossiers |")
    print("|---|---:|---:|---:|---:|---|")
    for o, pg in zip(outcomes, pg_cpu, strict=True):
        r = o.report
        print(f"| {o.label} | {pg * 1000 / max(r['flows'], 1):.0f} | {r['messages']} | {r['cards']} "
              f"| {r['decisions']} | {json.dumps(r['dossiers'])} |")
    for o in outcomes:
        print(f"\n{o.label}: steps {json.dumps(o.report['steps'])}")
        print(f"  officers: {len(o.officers.decided)} decisions, {o.officers.replays} replays "
              f"({o.officers.replays_refused} refused 409), {o.officers.transport_errors} requests "
              "without an answer (timeout, dropped connection) tried again")
    failures = [f"{o.label}: {v}" for o in outcomes for v in o.report["violations"]]
    failures += [f"{o.label}: replay answered other than 409" for o in outcomes
                 if o.officers.replays != o.officers.replays_refused]
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nOK: every flow ended; no step lost; no second child, ID number, residence, card or "
          "benefit; every answered message known to the agency; every hand-off audited")


def _families_from(cast: chaos.Cast, used: int) -> list[tuple[str, str, list[str]]]:
    """The households whose members have not died in an earlier run (2 members each)."""
    flat = [(h, t, pid) for h, t, members in cast.families for pid in members][used:]
    return [(h, t, [pid]) for h, t, pid in flat]


if __name__ == "__main__":
    main()
