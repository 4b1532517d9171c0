#!/usr/bin/env python
"""Dossier submission through the API (``POST /api/v1/publicservices/dossiers``) beside the
citizen look-up (``GET /api/v1/citizens/{id}``, bench_api's baseline) in the same run, on
PostgreSQL, over real HTTP.

    python bench/bench_submission.py \\
        [--database-url postgresql://postgres@127.0.0.1:5432/dancu_bench_submit] \\
        [--citizens 20000] [--reuse] [--accounts 50] [--duration 10] [--connections 4] \\
        [--in-process 200] [--profile]

1. Drops and re-creates the database (only the one named), migrates it and fills it with
   ``--citizens`` generated people of one province (``bench/_common.prepare_registry``:
   ``dancu population generate``, Thanh Hóa); ``--reuse`` keeps it as it is.
2. Mints ``--accounts`` citizens' access tokens of scope ``publicservices`` (level-1 e-ID
   accounts, ``_common.CITIZEN_TOKENS``, as bench_counter_queue does) and a national service
   account's API token for the look-up (bench_api's).
3. Starts granian with ``dancu serve``'s settings in production mode (bench_api's helpers) and
   drives with ``wrk -t1`` (bench_counter_queue's runner: 1 s warm-up, then ``--duration``):
   the look-up of random ID numbers; the submission of a notification of stay
   (``thong-bao-luu-tru``: no attachment, no fee, e-ID level 1) — every request with its own
   ``Idempotency-Key`` and one of the citizens' tokens in turn; the look-up again (the
   machine's drift over the run shows between the two look-up rows).
4. Prints requests/s, p50/p95/p99, the server's and PostgreSQL's CPU per request and the ratio
   submission ÷ look-up; checks that the dossiers made equal the 2xx answers (nothing lost or
   duplicated) and that no 5xx occurred.
5. ``--in-process N``: N requests of each kind through ``dancu.wsgi.application`` in one
   process (no HTTP): the process's CPU per request, the statements one request sends;
   ``--profile`` adds cProfile's top functions (CPU time) over the N submissions.

PostgreSQL's CPU is that of every ``postgres`` process on the machine: other jobs' queries
count too; the load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_api as common  # the server, wrk and environment helpers
import bench_counter_queue as cq  # the wrk runner with p95 and CPU per request
from _common import CITIZEN_TOKENS, prepare_registry

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/dancu_bench_submit"
PROCEDURE = "thong-bao-luu-tru"  # notification of stay: no component, no fee, e-ID level 1
SUBMIT_PATH = "/api/v1/publicservices/dossiers"

FIXTURES = CITIZEN_TOKENS + r'''
from dancu.geo.models import AdminUnit
year = timezone.localdate().year
citizens = (Citizen.objects.filter(life_status="living", birth_year__lte=year - 20,
                                   birth_year__gte=year - 70, current_commune__isnull=False)
            .order_by("?")[:N_ACCOUNTS * 2])
# citizens of an earlier run first (their e-ID accounts exist), then new ones
earlier = Citizen.objects.filter(pk__in=EidAccount.objects.values("citizen_id"), life_status="living")
citizens = [*earlier[:N_ACCOUNTS], *citizens]
tokens = []
for n, citizen in enumerate(citizens):
    if len(tokens) >= N_ACCOUNTS:
        break
    raw = citizen_token(citizen, n)
    if raw is not None:
        tokens.append(raw)
communes = [f"2025:{c}" for c in AdminUnit.objects.filter(code_system="2025", level="commune")
            .order_by("?").values_list("code", flat=True)[:100]]
print("SUBMITFX " + json.dumps({"tokens": tokens, "communes": communes}))
'''

# One request: the token and the commune in turn, a fresh Idempotency-Key (random per wrk run,
# a counter within it). The answers are counted by class and appended to a file at the end (the
# warm-up run's too), so the dossiers made can be compared with the 2xx answers.
SUBMIT_LUA = r"""
local tokens, communes = {}, {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
for line in io.lines("%(communes)s") do communes[#communes + 1] = line end
local f = io.open("/dev/urandom", "rb")
local run = f:read(6):gsub(".", function(c) return string.format("%%02x", c:byte()) end)
f:close()
local i = 0
request = function()
  i = i + 1
  local body = '{"procedure_code": "%(procedure)s", "relation": "self", "data": {"commune": "' ..
    communes[(i %% #communes) + 1] .. '", "address": "Nhà nghỉ Hoa Sen, số ' .. (i %% 300 + 1) ..
    '", "started_on": "%(start)s", "ends_on": "%(end)s"}}'
  return wrk.format("POST", "%(path)s", {
    ["Authorization"] = "Bearer " .. tokens[(i %% #tokens) + 1],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. run .. "-" .. i}, body)
end
s2, s4, s5 = 0, 0, 0
local codes = nil
response = function(status, headers, body)
  if status >= 500 then s5 = s5 + 1 elseif status >= 400 then s4 = s4 + 1
  elseif status >= 200 and status < 300 then
    s2 = s2 + 1
    if codes == nil then codes = io.open("%(codes)s", "a"); codes:setvbuf("line") end
    codes:write((body:match('"code":%%s*"([^"]+)"') or "?") .. "\n")
  end
  if status >= 400 and s4 + s5 <= 3 then io.stderr:write(status .. " " .. body .. "\n") end
end
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
""" + cq.LUA[cq.LUA.index("done = function"):].replace(
    "done = function(summary, latency, requests)\n",
    "done = function(summary, latency, requests)\n"
    "  local a, b, c = 0, 0, 0\n"
    "  for _, t in ipairs(threads) do a = a + t:get(\"s2\"); b = b + t:get(\"s4\"); "
    "c = c + t:get(\"s5\") end\n"
    "  local out = io.open(\"%(counts)s\", \"a\")\n"
    "  out:write(string.format(\"%%d %%d %%d\\n\", a, b, c))\n"
    "  out:close()\n")


def _fixtures(env: dict[str, str], accounts: int) -> dict:
    out = common._dancu(env, "shell", "-c", FIXTURES.replace("N_ACCOUNTS", str(accounts)),
                        capture=True, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("SUBMITFX ")), None)
    if line is None:
        sys.exit("fixtures failed:\n" + out.stderr[-3000:])
    fx = json.loads(line[len("SUBMITFX "):])
    if not fx["tokens"] or not fx["communes"]:
        sys.exit("no citizen token or no commune")
    return fx


def _body(commune: str, n: int) -> dict:
    today = dt.date.today()
    return {"procedure_code": PROCEDURE, "relation": "self",
            "data": {"commune": commune, "address": f"Nhà nghỉ Hoa Sen, số {n}",
                     "started_on": today.isoformat(),
                     "ends_on": (today + dt.timedelta(days=5)).isoformat()}}


def _check_submit(base: str, token: str, commune: str) -> str:
    """One submission over HTTP before the runs: 201, and the same key again gives 200 and the
    same dossier."""
    codes = []
    key = f"bench-check-{time.time_ns()}"
    for expect in (201, 200):
        req = urllib.request.Request(  # noqa: S310 (local URL)
            base + SUBMIT_PATH, data=json.dumps(_body(commune, 1)).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (local URL)
                status, answer = resp.status, json.load(resp)
        except urllib.error.HTTPError as exc:
            sys.exit(f"submission refused: {exc.code} {exc.read()[:500]!r}")
        if status != expect:
            sys.exit(f"submission: {status}, expected {expect}: {answer}")
        codes.append(answer["code"])
    if codes[0] != codes[1]:
        sys.exit(f"the same Idempotency-Key gave two dossiers: {codes}")
    return codes[0]


def _dossiers(url: str) -> tuple[int, int]:
    """(count, highest id) of the dossiers."""
    with common._connect(url) as conn:
        return conn.execute("SELECT count(*), coalesce(max(id), 0) FROM publicservices_dossier").fetchone()


def _counts(path: Path) -> tuple[int, int, int]:
    ok = c4 = c5 = 0
    if path.exists():
        for line in path.read_text().split("\n"):
            if line.strip():
                a, b, c = (int(x) for x in line.split())
                ok, c4, c5 = ok + a, c4 + b, c5 + c
    return ok, c4, c5


# N look-ups and N submissions through ``dancu.wsgi.application`` (the server's WSGI app, the
# look-up fast lane and the middleware included) in one process: CPU per request
# (``time.process_time``; PostgreSQL's side is not in it) and the statements one request sends.
IN_PROCESS = r'''
import cProfile, datetime as dt, io, json, os, pstats, sys, time
from django.db import connection
from dancu.wsgi import application
fx = json.loads(open(os.environ["BENCH_FX"]).read())
n, ids, tokens, communes, service = fx["n"], fx["ids"], fx["tokens"], fx["communes"], fx["service"]
today = dt.date.today()
def call(method, path, auth, body=b"", extra=None, query=""):
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
           "wsgi.url_scheme": "http", "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
           "HTTP_AUTHORIZATION": "Bearer " + auth, "REMOTE_ADDR": "127.0.0.1",
           "wsgi.errors": sys.stderr, **(extra or {})}
    status = []
    out = b"".join(application(env, lambda s, h, *x: status.append(s)))
    if not status[0][:1] == "2":
        raise SystemExit(f"{method} {path}: {status[0]}: {out[:300]!r}")
def lookup(i):
    call("GET", "/api/v1/citizens/" + ids[i % len(ids)], service, query="purpose=bench")
run = str(time.time_ns())
def submit(i):
    body = json.dumps({"procedure_code": "PROCEDURE", "relation": "self",
                       "data": {"commune": communes[i % len(communes)], "address": f"Nhà nghỉ số {i}",
                                "started_on": today.isoformat(),
                                "ends_on": (today + dt.timedelta(days=5)).isoformat()}}).encode()
    call("POST", "SUBMIT_PATH", tokens[i % len(tokens)], body, {"HTTP_IDEMPOTENCY_KEY": f"inproc-{run}-{i}"})
result = {"submitted": 0}
i = 0
for key, fn in (("lookup", lookup), ("submit", submit)):
    for _ in range(20):  # warm-up: caches, connection, first statements
        fn(i); i += 1
    statements = []
    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)
    with connection.execute_wrapper(count):
        fn(i); i += 1
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn(i); i += 1
    result[key] = {"cpu_ms": (time.process_time() - c0) * 1000 / n,
                   "wall_ms": (time.perf_counter() - t0) * 1000 / n,
                   "statements": len(statements), "sql": [s[:160] for s in statements]}
    if key == "submit":
        result["submitted"] += n + 21
if PROFILE:
    prof = cProfile.Profile(time.process_time)  # CPU, as the server CPU column
    prof.enable()
    for _ in range(n):
        submit(i); i += 1
    prof.disable()
    result["submitted"] += n
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats("dancu/", 40)
    st = pstats.Stats(prof, stream=text).strip_dirs()
    st.sort_stats("cumulative").print_stats(45)
    st.sort_stats("tottime").print_stats(25)
    result["profile"] = text.getvalue()
print("INPROC " + json.dumps(result))
'''


def in_process(env: dict[str, str], work: Path, n: int, profile: bool, ids: list[str],
               tokens: list[str], communes: list[str], service: str,
               pythonpath: str | None = None) -> dict:
    fx = work / "inproc.json"
    fx.write_text(json.dumps({"n": n, "ids": ids[:2000], "tokens": tokens, "communes": communes,
                              "service": service}))
    code = (IN_PROCESS.replace("PROCEDURE", PROCEDURE).replace("SUBMIT_PATH", SUBMIT_PATH)
            .replace("if PROFILE:", f"if {bool(profile)}:"))
    run_env = dict(env, BENCH_FX=str(fx), **({"PYTHONPATH": pythonpath} if pythonpath else {}))
    out = common._dancu(run_env, "shell", "-c", code, capture=True, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("INPROC ")), None)
    if line is None:
        sys.exit("in-process run failed:\n" + out.stdout[-2000:] + out.stderr[-3000:])
    return json.loads(line[len("INPROC "):])


def compare(env: dict[str, str], work: Path, args: argparse.Namespace, ids: list[str], fx: dict,
            service: str) -> str:
    """``--baseline``: the in-process requests of the baseline commit's src and of the working
    tree's, alternating (the machine's drift hits both), ``--pairs`` runs each; a markdown table
    of the medians and the paired differences of the submission's CPU."""
    import statistics

    from bench_auth import _baseline_source

    src, described = _baseline_source(args.baseline, work)
    builds = [(f"baseline {described}", str(src)), ("working tree", env["PYTHONPATH"])]
    runs: dict[str, list[dict]] = {name: [] for name, _ in builds}
    for pair in range(args.pairs):
        print(f"running: in process, pair {pair + 1} of {args.pairs}", flush=True)
        for name, path in builds if pair % 2 == 0 else builds[::-1]:
            runs[name].append(in_process(env, work, args.in_process, False, ids, fx["tokens"],
                                         fx["communes"], service, pythonpath=path))
    lines = [f"In one process, {args.in_process} of each a run, {args.pairs} runs a build, alternating:",
             "", "| build | look-up CPU ms (median) | submission CPU ms (median) | runs | statements |",
             "|---|---:|---:|---|---:|"]
    for name, results in runs.items():
        subs = [r["submit"]["cpu_ms"] for r in results]
        lines.append(f"| {name} | {statistics.median(r['lookup']['cpu_ms'] for r in results):.2f} | "
                     f"{statistics.median(subs):.2f} | {', '.join(f'{v:.2f}' for v in subs)} | "
                     f"{results[0]['submit']['statements']} |")
    base, tree = runs.values()
    diffs = [t["submit"]["cpu_ms"] - b["submit"]["cpu_ms"] for b, t in zip(base, tree, strict=True)]
    lines += ["", f"Submission CPU, working tree − baseline, pair by pair: median "
              f"{statistics.median(diffs):+.2f} ms ({', '.join(f'{d:+.2f}' for d in diffs)})"]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--citizens", type=int, default=20_000)
    p.add_argument("--reuse", action="store_true", help="keep the database as it is")
    p.add_argument("--accounts", type=int, default=50, help="citizens with a publicservices token")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    p.add_argument("--connections", type=int, default=4,
                   help="concurrent connections (default 4; the server has 2 workers × 4 threads)")
    p.add_argument("--port", type=int, default=18160)
    p.add_argument("--in-process", type=int, default=200,
                   help="requests of each kind in one process (0: none)")
    p.add_argument("--profile", action="store_true", help="cProfile the in-process submissions")
    p.add_argument("--baseline", metavar="COMMIT",
                   help="also run the in-process requests with this commit's src (git archive), "
                        "alternating with the working tree's, --pairs times each")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--show-sql", action="store_true", help="print the statements of one submission")
    common.add_server_arguments(p)
    args = p.parse_args()

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    prepare_registry(args.database_url, args.citizens, args.reuse)
    env = common._server_env(args.database_url)
    common._signing_key(env)
    common._dancu(env, "migrate", "--noinput", "-v0")
    fx = _fixtures(env, args.accounts)
    service = common._bench_token(env)
    ids = common._sample_ids(args.database_url, 10_000)
    print(f"ready: {time.perf_counter() - t0:.0f} s, {len(fx['tokens'])} citizen tokens", flush=True)

    work = Path(tempfile.mkdtemp(prefix="dancu-bench-submit-"))
    (work / "tokens").write_text("\n".join(fx["tokens"]) + "\n")
    (work / "communes").write_text("\n".join(fx["communes"]) + "\n")
    counts, codes = work / "counts", work / "codes"
    today = dt.date.today()
    script = work / "submit.lua"
    script.write_text(SUBMIT_LUA % {"tokens": work / "tokens", "communes": work / "communes",
                                    "procedure": PROCEDURE, "path": SUBMIT_PATH,
                                    "start": today.isoformat(),
                                    "end": (today + dt.timedelta(days=5)).isoformat(),
                                    "counts": counts, "codes": codes})
    lookup_paths = [f"/api/v1/citizens/{i}?purpose=bench" for i in ids]
    port = args.port or common._free_port()
    server = common._start_server(env, "dancu.wsgi:application", args.workers, port, work,
                                  args.server_threads, args.server)
    rows: list[tuple[str, dict]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        common._wait_ready(base + "/api/v1/health", server)
        common._check_lookup(base, ids[0], service)
        before, last_id = _dossiers(args.database_url)
        _check_submit(base, fx["tokens"][0], fx["communes"][0])
        checked = 1
        for label in ("look-up", "submission", "look-up (again)"):
            print(f"running: {label}", flush=True)
            if label.startswith("look-up"):
                r = cq._run(base, server.pid, work, "lookup", lookup_paths, "", f"Bearer {service}",
                            args.connections, args.duration)
            else:
                r = cq._run_script(base, server.pid, script, args.connections, args.duration)
            rows.append((label, r))
        after = _dossiers(args.database_url)[0]
    finally:
        common._stop(server)
    ok, c4, c5 = _counts(counts)
    inproc = None
    if args.in_process:
        print("running: in process", flush=True)
        inproc = in_process(env, work, args.in_process, args.profile, ids, fx["tokens"],
                            fx["communes"], service)
    ab = None
    if args.baseline and args.in_process:
        ab = compare(env, work, args, ids, fx, service)
    common._revoke(env, service)
    load_end = os.getloadavg()

    made = after - before - checked
    print(f"\n{common._citizen_count(args.database_url):,} citizens, {len(fx['tokens'])} citizens "
          f"submitting; {common.server_description(args)}; wrk -t1 -c{args.connections} "
          f"-d{args.duration}s per row (+1 s warm-up); load average {load_start[0]:.1f} → "
          f"{load_end[0]:.1f}; {os.cpu_count()} CPUs\n")
    print("| run | requests/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req "
          "| PostgreSQL CPU ms/req |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    labels = {"look-up": "look-up `GET /api/v1/citizens/{id}` (service token)",
              "submission": f"submission `POST {SUBMIT_PATH}` ({PROCEDURE}, citizen token)",
              "look-up (again)": "look-up again (after the submissions)"}
    for label, r in rows:
        print(f"| {labels[label]} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
              f"| {r['errors']} | {r['cpu_ms']:.2f} | {r['pg_cpu_ms']:.2f} |")
    looks = [r for label, r in rows if label.startswith("look-up")]
    sub = next(r for label, r in rows if label == "submission")

    def mean(key: str) -> float:
        return sum(r[key] for r in looks) / len(looks)

    print(f"\nSubmission ÷ look-up (the two look-ups' mean): requests/s "
          f"{sub['rps'] / mean('rps'):.2f}, p99 {sub['p99'] / mean('p99'):.1f}×, server CPU "
          f"{sub['cpu_ms'] / mean('cpu_ms'):.1f}×, PostgreSQL CPU "
          f"{sub['pg_cpu_ms'] / max(mean('pg_cpu_ms'), 1e-9):.1f}×, server + PostgreSQL CPU "
          f"{(sub['cpu_ms'] + sub['pg_cpu_ms']) / (mean('cpu_ms') + mean('pg_cpu_ms')):.1f}×")
    if inproc:
        lk, sm = inproc["lookup"], inproc["submit"]
        print(f"\nIn one process, {args.in_process} of each through dancu.wsgi.application "
              "(no HTTP; PostgreSQL's CPU not counted):\n")
        print("| request | process CPU ms | wall ms | statements |")
        print("|---|---:|---:|---:|")
        print(f"| look-up | {lk['cpu_ms']:.2f} | {lk['wall_ms']:.2f} | {lk['statements']} |")
        print(f"| submission | {sm['cpu_ms']:.2f} | {sm['wall_ms']:.2f} | {sm['statements']} |")
        if args.show_sql:
            print("\nStatements of one submission:")
            for s in sm["sql"]:
                print("  " + s)
        if inproc.get("profile"):
            print("\ncProfile of the in-process submissions:\n" + inproc["profile"])
    answered = [c for c in codes.read_text().split("\n") if c] if codes.exists() else []
    with common._connect(args.database_url) as conn:
        made_codes = {r[0] for r in conn.execute(
            "SELECT code FROM publicservices_dossier WHERE id > %s AND idempotency_key LIKE 'bench-%%' "
            "AND idempotency_key NOT LIKE 'bench-check-%%'", [last_id]).fetchall()}
    unread = made - len(answered)  # answered by the server after wrk stopped reading
    if ab:
        print("\n" + ab)
    print(f"\nCheck: dossiers made by the wrk runs {made:,}; 2xx answers {ok:,} ({len(answered):,} "
          f"codes read, {len(set(answered)):,} distinct); 4xx {c4}, 5xx {c5}; made but not read by wrk "
          f"(in flight when a run stopped, at most {args.connections} a run × 2 runs): {unread}")
    failures = []
    if len(answered) != ok or len(set(answered)) != len(answered):
        failures.append("a 2xx answer without its own dossier code (duplicate or missing)")
    if not set(answered) <= made_codes:
        failures.append(f"{len(set(answered) - made_codes)} codes answered but not in the database")
    if len(made_codes) != made or not 0 <= unread <= 2 * args.connections:
        failures.append(f"{made} dossiers for {ok} 2xx answers")
    if c5:
        failures.append(f"{c5} answers 5xx")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK: every 2xx answer its own dossier, every dossier made by a request (none lost or "
          "duplicated), no 5xx")


if __name__ == "__main__":
    main()
