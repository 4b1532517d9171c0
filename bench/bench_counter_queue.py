#!/usr/bin/env python
"""The officer queue (/mot-cua/) and the citizen's dossier status over 1,000,000 dossiers
(PostgreSQL), over real HTTP, with a light console page as the baseline in the same run.

    python bench/bench_counter_queue.py \\
        [--database-url postgresql://postgres@127.0.0.1:5432/dancu_bench_queue] \\
        [--dossiers 1000000] [--citizens 20000] [--reuse] [--duration 10] [--connections 4]
        [--only baseline,status-api,portal-status]

1. Drops and re-creates the database (only the one named), migrates it and fills it with
   ``--citizens`` generated people (``bench/_common.prepare_registry``: `dancu population
   generate`, which loads the administrative units); with ``--reuse`` keeps it as it is.
2. Seeds ``--dossiers`` dossiers with COPY (psycopg), bench only — it bypasses the services:
   spread over every 2025 commune (a Zipf-like weight, so some communes are busy) and the
   procedures of the catalog; 85 % closed (approved / refused / withdrawn) over two years,
   15 % open (submitted / accepted / supplement) in the last month, due dates from the
   procedure's time limit (calendar days × 1.4 ≈ working days), so some are overdue and some
   due soon; three events per closed dossier, one per open one; then ANALYZE.
3. Creates three officers (commune police of the busiest commune, province police of its
   province, the ministry) and a signed-in session for each (the second-factor backend, as the
   console's sign-in leaves it), and a citizen API token for the status look-up when the
   publicservices API offers one; and ``--status-accounts`` citizens signed in to the citizen
   portal: a session each, written by ``portal.auth.store`` as the portal's sign-in callback
   does once the OIDC exchange is verified, for the portal's HTML status page
   (``/dich-vu-cong/ho-so/{code}/``, every check of the page kept).
4. Starts granian with ``dancu serve``'s settings in production mode (bench_api's helpers) and
   drives each page with ``wrk`` (a Lua script cycling over a set of paths: pages 1–5, the
   filters, the three sorts), reporting p50/p95/p99, requests/s and the CPU the server's
   processes and PostgreSQL spent per request. Baseline: the console's search page without a
   query (officer guard, session, template — no registry read).

``--only baseline,status-api,portal-status`` runs only those rows (names in ``ROWS``).

Targets (issue #12): queue p95 < 200 ms, status p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_api as common  # the server, wrk and environment helpers
from _common import CITIZEN_TOKENS, prepare_registry

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/dancu_bench_queue"

LUA = r"""
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local cookie = "%(cookie)s"
local auth = "%(auth)s"
local i = 0
request = function()
  i = i + 1
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  if auth ~= "" then headers["Authorization"] = auth end
  return wrk.format("GET", paths[(i %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  io.write(string.format(
    "JSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p95_us\": %%d, \"p99_us\": %%d, " ..
    "\"non2xx\": %%d, \"socket_errors\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""

OPEN = ("submitted", "accepted", "supplement")


def _weights(n: int, rng: random.Random) -> list[float]:
    """Zipf-like weights over n communes (a few busy wards, many quiet communes), shuffled."""
    w = [1.0 / (i + 1) ** 0.6 for i in range(n)]
    rng.shuffle(w)
    return w


def seed(url: str, n: int, seed_value: int = 12) -> None:
    """COPY ``n`` dossiers (and their events) into an empty dossier table."""
    import psycopg

    rng = random.Random(seed_value)
    with psycopg.connect(url) as conn:
        cur = conn.cursor()
        have = cur.execute("SELECT count(*) FROM publicservices_dossier").fetchone()[0]
        if have >= n:
            print(f"{have:,} dossiers already there", flush=True)
            return
        if have:
            sys.exit("the dossier table is partly filled: run without --reuse")
        communes = cur.execute(
            "SELECT id, province_id FROM geo_adminunit WHERE code_system = '2025' AND level = 'commune' "
            "ORDER BY id").fetchall()
        procedures = cur.execute(
            "SELECT id, time_limit_days, fee_vnd FROM publicservices_procedure ORDER BY id").fetchall()
        citizens = [r[0] for r in cur.execute("SELECT id FROM population_citizen").fetchall()]
        if not communes or not procedures or not citizens:
            sys.exit("units, procedures and citizens are needed first")
        weights = _weights(len(communes), rng)
        # a commune's draws, precomputed (random.choices is fast in bulk)
        picks = rng.choices(range(len(communes)), weights=weights, k=n)
        now = dt.datetime.now(dt.UTC)
        # codes: DC-YYYYMMDD-NNNNNN, numbered per day in submission order
        rows = []
        for i in range(n):
            commune_id, province_id = communes[picks[i]]
            proc_id, limit, fee = procedures[rng.randrange(len(procedures))]
            r = rng.random()
            if r < 0.15:
                status = OPEN[0] if r < 0.05 else OPEN[1] if r < 0.13 else OPEN[2]
                age = rng.random() * 30  # days
            else:
                status = "approved" if r < 0.90 else "refused" if r < 0.95 else "withdrawn"
                age = 30 + rng.random() * 700
            submitted = now - dt.timedelta(days=age, seconds=rng.randrange(86400))
            due = (submitted + dt.timedelta(days=round(limit * 1.4))).date()
            rows.append((submitted, commune_id, province_id, proc_id, status, due, fee))
        rows.sort(key=lambda row: row[0])
        per_day: dict[dt.date, int] = {}
        t0 = time.perf_counter()
        with cur.copy("COPY publicservices_dossier (id, code, procedure_id, applicant_id, subject_id, "
                      "relation, channel, status, commune_id, province_id, data, registry_data, "
                      "submitted_at, due_on, clock_paused_at, paused_days, assigned_to_id, fee_vnd, "
                      "paid, result_document_id, rating, idempotency_key, decided_at, decision_note) "
                      "FROM STDIN") as copy:
            for pk, (submitted, commune_id, province_id, proc_id, status, due, fee) in enumerate(rows, 1):
                day = submitted.date()
                per_day[day] = per_day.get(day, 0) + 1
                code = f"DC-{day:%Y%m%d}-{per_day[day]:06d}"
                applicant = citizens[rng.randrange(len(citizens))]
                closed = status not in OPEN
                decided = submitted + dt.timedelta(days=min(3, (due - day).days)) if closed else None
                data = json.dumps({"address": f"Số {pk % 300 + 1}, tổ {pk % 40 + 1}",
                                   "started_on": day.isoformat()}, ensure_ascii=False)
                copy.write_row((pk, code, proc_id, applicant, applicant, "self",
                                "online" if rng.random() < 0.6 else "counter", status, commune_id,
                                province_id, data, "{}", submitted, due,
                                submitted if status == "supplement" else None, 0, None, fee,
                                bool(fee) and status != "submitted", None,
                                rng.randint(3, 5) if status == "approved" and rng.random() < 0.3 else None,
                                None, decided, "" if status != "refused" else "Thiếu giấy tờ"))
        print(f"COPY {n:,} dossiers: {time.perf_counter() - t0:.1f} s", flush=True)
        cur.execute("SELECT setval(pg_get_serial_sequence('publicservices_dossier', 'id'), %s)", [n])
        for day, last in per_day.items():
            cur.execute("INSERT INTO publicservices_dossiercounter (day, last_number) VALUES (%s, %s) "
                        "ON CONFLICT (day) DO UPDATE SET last_number = EXCLUDED.last_number", [day, last])
        t0 = time.perf_counter()
        n_events = 0
        with cur.copy("COPY publicservices_dossierevent (dossier_id, at, actor_label, actor_user_id, "
                      "action, from_status, to_status, note) FROM STDIN") as copy:
            for pk, (submitted, _c, _p, _proc, status, _due, _fee) in enumerate(rows, 1):
                copy.write_row((pk, submitted, "citizen", None, "submit", "", "submitted", ""))
                n_events += 1
                if status in ("accepted", "approved", "refused"):
                    copy.write_row((pk, submitted + dt.timedelta(hours=5), "bench.officer", None,
                                    "accept", "submitted", "accepted", ""))
                    n_events += 1
                if status in ("approved", "refused", "withdrawn", "supplement"):
                    copy.write_row((pk, submitted + dt.timedelta(days=2), "bench.officer", None,
                                    {"approved": "approve", "refused": "refuse", "withdrawn": "withdraw",
                                     "supplement": "supplement"}[status],
                                    "accepted" if status in ("approved", "refused") else "submitted",
                                    status, ""))
                    n_events += 1
        print(f"COPY {n_events:,} events: {time.perf_counter() - t0:.1f} s", flush=True)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        conn.execute("ANALYZE publicservices_dossier")
        conn.execute("ANALYZE publicservices_dossierevent")
        print(f"ANALYZE: {time.perf_counter() - t0:.1f} s", flush=True)


FIXTURES = r'''
import json, time
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from importlib import import_module
from django.conf import settings
from dancu.accounts import services as accounts
from dancu.accounts.backends import SECOND_FACTOR_BACKEND
from dancu.accounts.models import OfficerProfile
from dancu.geo.models import AdminUnit
from django.db import connection

with connection.cursor() as cur:
    cur.execute("SELECT commune_id, count(*) FROM publicservices_dossier WHERE status IN "
                "('submitted','accepted','supplement') GROUP BY commune_id ORDER BY 2 DESC LIMIT 1")
    commune_id, commune_open = cur.fetchone()
commune = AdminUnit.objects.get(pk=commune_id)
province = commune.province
store = import_module(settings.SESSION_ENGINE).SessionStore
out = {"commune": commune.name, "province": province.name, "commune_open": commune_open,
       "sessions": {}}
for username, role, unit in (("bench.commune", "commune_police", commune),
                             ("bench.province", "province_police", province),
                             ("bench.national", "ministry_admin", None)):
    profile = OfficerProfile.objects.filter(user__username=username).first()
    if profile is None:
        profile = accounts.create_officer(username, "bench-password-123456", role, jurisdiction=unit)
    user = profile.user
    s = store()
    s["_auth_user_id"] = str(user.pk)
    s["_auth_user_backend"] = SECOND_FACTOR_BACKEND
    s["_auth_user_hash"] = user.get_session_auth_hash()
    now = time.time()
    s["dancu_officer"] = {"auth_time": now, "seen": now}
    s.create()
    out["sessions"][role] = s.session_key
with connection.cursor() as cur:
    cur.execute("SELECT code FROM publicservices_dossier TABLESAMPLE SYSTEM (1) LIMIT 2000")
    out["codes"] = [r[0] for r in cur.fetchall()]
print("FIXTURES " + json.dumps(out))
'''


# The citizens whose dossiers a status row reads, each with a credential made by CREDENTIAL
# (citizen, n) — a token, a portal session, or None when refused — printed as lines
# "credential dossier-code" (up to 20 dossiers a citizen, ACCOUNTS citizens).
CREDENTIAL_PAIRS = r'''
with connection.cursor() as cur:
    cur.execute("SELECT applicant_id FROM publicservices_dossier TABLESAMPLE SYSTEM (1) GROUP BY 1 LIMIT 300")
    ids = [r[0] for r in cur.fetchall()]
lines = []
citizens = 0
for n, citizen in enumerate(Citizen.objects.filter(pk__in=ids, life_status="living")):
    if citizens >= ACCOUNTS:
        break
    credential = CREDENTIAL(citizen, n)
    if credential is None:
        continue  # refused (a minor, …): another one
    citizens += 1
    with connection.cursor() as cur:
        cur.execute("SELECT code FROM publicservices_dossier WHERE applicant_id = %s LIMIT 20", [citizen.pk])
        lines += [f"{credential} {r[0]}" for r in cur.fetchall()]
print("PAIRS " + json.dumps(lines))
'''

STATUS_FIXTURES = CITIZEN_TOKENS + CREDENTIAL_PAIRS.replace("CREDENTIAL(", "citizen_token(")


def _pairs_lua(request: str) -> str:
    """A wrk script cycling over "credential code" lines (``p[1]``, ``p[2]``), one request each."""
    return (r"""
local pairs_ = {}
for line in io.lines("%(pairs)s") do
  local credential, code = line:match("(%%S+) (%%S+)")
  pairs_[#pairs_ + 1] = {credential, code}
end
local i = 0
request = function()
  i = i + 1
  local p = pairs_[(i %% #pairs_) + 1]
  return """ + request + """
end
""" + LUA[LUA.index("done = function"):])


STATUS_LUA = _pairs_lua('wrk.format("GET", "/api/v1/publicservices/dossiers/" .. p[2], '
                        '{["Authorization"] = "Bearer " .. p[1]})')


PORTAL_FIXTURES = CITIZEN_TOKENS + r"""
import time
from importlib import import_module
from django.test import RequestFactory
from django.urls import reverse
from dancu.publicservices.portal import auth as portal_auth
from dancu.publicservices.portal.rp import SignedIn

store = import_module(settings.SESSION_ENGINE).SessionStore


def portal_session(citizen, n):
    # What the portal's sign-in callback does once the OIDC exchange verified the ID token:
    # ``portal.auth.store`` (a new session key, the signed-in citizen under ``dancu_portal``),
    # then the session middleware's save. The citizen has an e-ID account, as a real one must.
    account = EidAccount.objects.filter(citizen=citizen).first()
    if account is None:
        try:
            account = level1_account(citizen, phone=f"09{citizen.pk % 10**8:08d}")
        except (AssertionError, DomainError):
            return None
    request = RequestFactory().get(reverse("portal:callback"))
    request.session = store()
    now = int(time.time())
    portal_auth.store(request, SignedIn(
        personal_id=citizen.personal_id, name=citizen.full_name, sub=f"bench-{account.pk}",
        loa=account.level, auth_time=now, id_token="", next_url=reverse("portal:dossiers")))
    request.session.save()
    return request.session.session_key


""" + CREDENTIAL_PAIRS.replace("CREDENTIAL(", "portal_session(")

PORTAL_LUA = _pairs_lua('wrk.format("GET", "/dich-vu-cong/ho-so/" .. p[2] .. "/", '
                        '{["Cookie"] = "%(cookie)s=" .. p[1]})')


def _credential_pairs(env: dict[str, str], snippet: str, accounts: int) -> list[str]:
    """Run a CREDENTIAL_PAIRS snippet for ``accounts`` citizens: lines "credential dossier-code"
    (an access token for the status API, a portal session key for the status page)."""
    out = common._dancu(env, "shell", "-c", snippet.replace("ACCOUNTS", str(accounts)),
                        capture=True, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("PAIRS ")), None)
    if line is None:
        print("status fixtures failed:\n" + out.stderr[-3000:], flush=True)
        return []
    return json.loads(line[len("PAIRS "):])


def _fixtures(env: dict[str, str]) -> dict:
    out = common._dancu(env, "shell", "-c", FIXTURES, capture=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("FIXTURES "))
    return json.loads(line[len("FIXTURES "):])


# Indexes the queue's rarer variants need at this size (suggested to pscore, not in its
# models yet); --suggested-indexes creates them in the bench database only, to measure them.
SUGGESTED_INDEXES = [
    "CREATE INDEX IF NOT EXISTS bench_dossier_submitted ON publicservices_dossier "
    "(submitted_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS bench_dossier_open_code ON publicservices_dossier (code) "
    "WHERE status IN ('submitted', 'accepted', 'supplement')",
    "CREATE INDEX IF NOT EXISTS bench_dossier_open_assignee ON publicservices_dossier "
    "(assigned_to_id, due_on, id) WHERE status IN ('submitted', 'accepted', 'supplement')",
]

ROWS = ("baseline", "queue-commune", "queue-province", "queue-national", "dossier-page", "status-api",
        "portal-status", "per-path", "in-process")

QUEUE_PATHS = [
    "/mot-cua/", "/mot-cua/?page=2", "/mot-cua/?page=5", "/mot-cua/?sort=submitted",
    "/mot-cua/?sort=code", "/mot-cua/?flag=overdue", "/mot-cua/?flag=due_soon",
    "/mot-cua/?status=accepted", "/mot-cua/?channel=counter", "/mot-cua/?status=all&sort=submitted",
    "/mot-cua/?mine=on",
]


def _run(base: str, pgid: int, work: Path, name: str, paths: list[str], cookie: str, auth: str,
         connections: int, duration: int) -> dict:
    paths_file = work / f"{name}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    script = work / f"{name}.lua"
    script.write_text(LUA % {"paths": paths_file, "cookie": cookie, "auth": auth})
    common._wrk(base + "/", script, 1, connections, 1)  # warm-up
    cpu0, pg0 = common._group_cpu_seconds(pgid), common._command_cpu_seconds("postgres")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(script), base + "/"],
        check=True, text=True, capture_output=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    r = json.loads(line[5:])
    n = max(r["requests"], 1)
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50": r["p50_us"] / 1000,
            "p95": r["p95_us"] / 1000, "p99": r["p99_us"] / 1000,
            "errors": r["non2xx"] + r["socket_errors"], "requests": r["requests"],
            "cpu_ms": (common._group_cpu_seconds(pgid) - cpu0) * 1000 / n,
            "pg_cpu_ms": (common._command_cpu_seconds("postgres") - pg0) * 1000 / n}


def _run_script(base: str, pgid: int, script: Path, connections: int, duration: int) -> dict:
    common._wrk(base + "/", script, 1, connections, 1)  # warm-up
    cpu0, pg0 = common._group_cpu_seconds(pgid), common._command_cpu_seconds("postgres")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(script),
                          base + "/"], check=True, text=True, capture_output=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    r = json.loads(line[5:])
    n = max(r["requests"], 1)
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50": r["p50_us"] / 1000,
            "p95": r["p95_us"] / 1000, "p99": r["p99_us"] / 1000,
            "errors": r["non2xx"] + r["socket_errors"], "requests": r["requests"],
            "cpu_ms": (common._group_cpu_seconds(pgid) - cpu0) * 1000 / n,
            "pg_cpu_ms": (common._command_cpu_seconds("postgres") - pg0) * 1000 / n}


def _check(base: str, path: str, cookie: str, expect: str) -> None:
    import urllib.request

    req = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (local URL)
        body = resp.read().decode()
        if not resp.url.endswith(path):  # redirected (to a sign-in): not the page itself
            sys.exit(f"{path}: redirected to {resp.url}")
    if expect not in body:
        sys.exit(f"{path}: the page does not show {expect!r}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--dossiers", type=int, default=1_000_000)
    p.add_argument("--citizens", type=int, default=20_000)
    p.add_argument("--reuse", action="store_true")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=2,
                   help="concurrent connections (default 2: one per server worker on 2 CPUs)")
    p.add_argument("--port", type=int, default=18131)
    p.add_argument("--status-accounts", type=int, default=30,
                   help="citizens with an e-ID account and a token for the status API run (0: none)")
    p.add_argument("--per-path", type=int, default=3,
                   help="seconds of a separate run for each queue variant (0: none)")
    p.add_argument("--suggested-indexes", action="store_true",
                   help="create the indexes suggested to pscore (bench database only) first")
    p.add_argument("--only", default="",
                   help="comma-separated rows to run (default: all): " + ", ".join(ROWS))
    common.add_server_arguments(p)
    args = p.parse_args()
    only = {x.strip() for x in args.only.split(",") if x.strip()} or set(ROWS)
    if only - set(ROWS):
        p.error(f"--only: unknown rows {sorted(only - set(ROWS))}; known: {', '.join(ROWS)}")

    t0 = time.perf_counter()
    prepare_registry(args.database_url, args.citizens, args.reuse)
    env = common._server_env(args.database_url)
    common._signing_key(env)
    common._dancu(env, "migrate", "--noinput", "-v0")
    print(f"registry ready: {time.perf_counter() - t0:.0f} s", flush=True)
    seed(args.database_url, args.dossiers)
    if args.suggested_indexes:
        with common._connect(args.database_url) as conn:
            for sql in SUGGESTED_INDEXES:
                conn.execute(sql)
            conn.execute("ANALYZE publicservices_dossier")
    fx = _fixtures(env)
    print(f"busiest commune: {fx['commune']} ({fx['commune_open']} open dossiers); "
          f"province {fx['province']}", flush=True)

    work = Path(tempfile.mkdtemp(prefix="dancu-bench-queue-"))
    port = args.port or common._free_port()
    server = common._start_server(env, "dancu.wsgi:application", args.workers, port, work,
                                  args.server_threads, args.server)
    results: list[tuple[str, dict]] = []
    per_path: list[tuple[str, str, dict]] = []
    cookie_name = "sessionid"
    try:
        base = f"http://127.0.0.1:{port}"
        common._wait_ready(base + "/api/v1/health", server)
        sessions = fx["sessions"]
        c_commune = f"{cookie_name}={sessions['commune_police']}"
        _check(base, "/mot-cua/", c_commune, 'data-testid="queue"')
        runs = [
            ("baseline", "baseline: console search page (commune officer, no query)", ["/citizens/"],
             c_commune),
            ("queue-commune", "queue, commune police (busiest commune)", QUEUE_PATHS, c_commune),
            ("queue-province", "queue, province police", QUEUE_PATHS,
             f"{cookie_name}={sessions['province_police']}"),
            ("queue-national", "queue, ministry (national)", QUEUE_PATHS,
             f"{cookie_name}={sessions['ministry_admin']}"),
            ("dossier-page", "dossier page (ministry, random dossiers)",
             [f"/mot-cua/ho-so/{c}/" for c in fx["codes"][:500]],
             f"{cookie_name}={sessions['ministry_admin']}"),
        ]
        for key, label, paths, cookie in runs:
            if key not in only:
                continue
            print(f"running: {label}", flush=True)
            results.append((label, _run(base, server.pid, work, f"r{len(results)}", paths, cookie, "",
                                        args.connections, args.duration)))
        status_pairs = (_credential_pairs(env, STATUS_FIXTURES, args.status_accounts)
                        if args.status_accounts and "status-api" in only else [])
        if status_pairs:
            pairs_file = work / "status.pairs"
            pairs_file.write_text("\n".join(status_pairs) + "\n")
            script = work / "status.lua"
            script.write_text(STATUS_LUA % {"pairs": pairs_file})
            with urllib.request.urlopen(urllib.request.Request(  # noqa: S310 (local URL)
                    f"{base}/api/v1/publicservices/dossiers/{status_pairs[0].split()[1]}",
                    headers={"Authorization": f"Bearer {status_pairs[0].split()[0]}"}), timeout=30) as resp:
                assert resp.status == 200, resp.status
            print("running: citizen status API", flush=True)
            results.append((f"citizen status `GET /api/v1/publicservices/dossiers/{{code}}` "
                            f"({len(status_pairs)} dossiers of {len({p.split()[0] for p in status_pairs})} "
                            f"citizens)", _run_script(base, server.pid, script, args.connections,
                                                       args.duration)))
        portal_pairs = (_credential_pairs(env, PORTAL_FIXTURES, args.status_accounts)
                        if args.status_accounts and "portal-status" in only else [])
        if portal_pairs:
            pairs_file = work / "portal.pairs"
            pairs_file.write_text("\n".join(portal_pairs) + "\n")
            script = work / "portal.lua"
            script.write_text(PORTAL_LUA % {"pairs": pairs_file, "cookie": cookie_name})
            for key in dict.fromkeys(line.split()[0] for line in portal_pairs):  # each citizen's first
                code = next(line.split()[1] for line in portal_pairs if line.startswith(key + " "))
                _check(base, f"/dich-vu-cong/ho-so/{code}/", f"{cookie_name}={key}", code)
            print("running: citizen portal status page", flush=True)
            results.append((f"citizen portal status page `/dich-vu-cong/ho-so/{{code}}/` "
                            f"({len(portal_pairs)} dossiers of {len({p.split()[0] for p in portal_pairs})} "
                            f"signed-in citizens)", _run_script(base, server.pid, script, args.connections,
                                                                 args.duration)))
        if args.per_path and "per-path" in only:
            for role in ("commune_police", "province_police", "ministry_admin"):
                cookie = f"{cookie_name}={sessions[role]}"
                for path in QUEUE_PATHS:
                    r = _run(base, server.pid, work, "one", [path], cookie, "", args.connections,
                             args.per_path)
                    per_path.append((role, path, r))
    finally:
        common._stop(server)

    with common._connect(args.database_url) as conn:
        total = conn.execute("SELECT count(*) FROM publicservices_dossier").fetchone()[0]
        open_ = conn.execute("SELECT count(*) FROM publicservices_dossier WHERE status IN "
                             "('submitted','accepted','supplement')").fetchone()[0]
    print(f"\n{total:,} dossiers ({open_:,} open); {common.server_description(args)}, "
          f"wrk -t1 -c{args.connections} -d{args.duration}s per row\n")
    print("| page | requests/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req "
          "| PostgreSQL CPU ms/req |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in results:
        print(f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
              f"| {r['errors']} | {r['cpu_ms']:.1f} | {r['pg_cpu_ms']:.1f} |")
    if per_path:
        print(f"\nEach queue variant alone ({args.per_path} s each):\n")
        print("| officer | path | p50 ms | p95 ms | errors | server CPU ms/req | PostgreSQL CPU ms/req |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for role, path, r in per_path:
            print(f"| {role} | `{path}` | {r['p50']:.1f} | {r['p95']:.1f} | {r['errors']} "
                  f"| {r['cpu_ms']:.1f} | {r['pg_cpu_ms']:.1f} |")
    if "in-process" not in only:
        return
    status = status_in_process(env)
    print("\nCitizen status look-up, in one process (no HTTP), random dossiers:\n")
    print("| read | n | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for label, r in status.items():
        print(f"| {label} | {r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} |")


STATUS_IN_PROCESS = r'''
import json, random, statistics, time
from django.db import connection
from dancu.population.models import Citizen
from dancu.publicservices import selectors as ps
with connection.cursor() as cur:
    cur.execute("SELECT applicant_id, code FROM publicservices_dossier TABLESAMPLE SYSTEM (1) LIMIT %s", [N])
    pairs = cur.fetchall()
citizens = {c.pk: c for c in Citizen.objects.filter(pk__in={a for a, _ in pairs})}
def one(pk, code):
    d = ps.dossier_for_citizen(citizens[pk], code)
    return d, list(ps.events_of(d))
def by_id(pk, code):
    return Citizen.objects.filter(pk=pk).first()
out = {}
for label, fn in (("baseline: one citizen by primary key", by_id), ("status", one)):
    for pk, code in pairs[:20]:
        fn(pk, code)
    times = []
    for pk, code in pairs:
        t0 = time.perf_counter(); fn(pk, code); times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    out[label] = {"n": len(times), "p50": times[len(times) // 2], "p95": times[int(len(times) * 0.95)],
                  "p99": times[int(len(times) * 0.99)]}
print("STATUS " + json.dumps(out))
'''


def status_in_process(env: dict[str, str], n: int = 1000) -> dict:
    """The citizen's status look-up (``selectors.dossier_for_citizen`` + ``events_of``: what the
    portal's status page and the API's status endpoint read) timed in one process, with a
    primary-key read of a citizen as the floor in the same run."""
    out = common._dancu(env, "shell", "-c", STATUS_IN_PROCESS.replace("[N]", f"[{n}]"), capture=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("STATUS "))
    return json.loads(line[len("STATUS "):])


if __name__ == "__main__":
    main()
