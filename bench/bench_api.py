#!/usr/bin/env python
"""Throughput of the citizen look-up API (GET /api/v1/citizens/{id}) under granian (dancu serve).

What it does, on one machine:

1. migrates the PostgreSQL database named by ``--database-url``; if it holds fewer citizens
   than ``--size``, fills it with ``dancu population generate --size N`` when that command
   exists, else with a quick bulk insert of synthetic citizens (``--quick-seed``, bench only:
   it bypasses the services, so those rows have no creation audit);
2. creates a national service account ``bench.svc`` (once) and a fresh token;
3. starts granian with ``dancu serve``'s settings (one worker per CPU × 4 threads) in
   production mode (DEBUG off, a random secret key; the settings module itself is untouched);
4. drives concurrent look-ups of random existing ID numbers with ``wrk`` (a Lua script picks
   the path per request) — or, without wrk, a Python thread pool — and the same load on
   ``/api/v1/health`` (no token, ``SELECT 1``) as the framework's floor;
5. runs ``pgbench -S -c C -j 2 -T 20`` on the same database for the raw PostgreSQL ceiling;
6. prints a markdown table (requests/s, p50, p99, errors) and checks that every look-up
   left its audit row.

Usage::

    python bench/bench_api.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_bench \\
        --size 20000 --connections 32 --duration 20 [--fastlane off]
        [--server gunicorn]      # gunicorn (pip install gunicorn) instead of granian, to compare
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SERVICE_USER = "bench.svc"

LUA = r"""
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local token = "%(token)s"
math.randomseed(os.time())
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/api/v1/citizens/" .. id .. "?purpose=bench",
                    {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format(
    "JSON {\"requests\": %%d, \"duration_us\": %%d, \"p50_us\": %%d, \"p99_us\": %%d, " ..
    "\"non2xx\": %%d, \"socket_errors\": %%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""

HEALTH_LUA = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    "JSON {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, " ..
    "\"non2xx\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True, help="PostgreSQL URL (the database is migrated)")
    p.add_argument("--size", type=int, default=0,
                   help="make sure at least this many citizens exist (generate them if fewer)")
    p.add_argument("--quick-seed", action="store_true",
                   help="fill with the built-in bulk insert even if `dancu population generate` exists")
    add_server_arguments(p)
    p.add_argument("--port", type=int, default=0, help="0 = a free port")
    p.add_argument("--app", default="dancu.wsgi:application",
                   help="WSGI application to serve (to compare an experimental build)")
    p.add_argument("--fastlane", choices=("on", "off"), default="on",
                   help="the look-up fast lane (DANCU_API_FASTLANE for the server; default on)")
    p.add_argument("--connections", "-c", type=int, default=32, help="concurrent HTTP connections")
    p.add_argument("--threads", type=int, default=2, help="wrk threads / pgbench -j")
    p.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before measuring")
    p.add_argument("--ids", type=int, default=10000, help="random existing IDs to draw paths from")
    p.add_argument("--pgbench-clients", type=int, default=None,
                   help="pgbench -c (default: same as --connections, capped to 64)")
    p.add_argument("--pgbench-scale", type=int, default=10)
    p.add_argument("--skip-pgbench", action="store_true")
    p.add_argument("--keep-pgbench-tables", action="store_true",
                   help="leave pgbench_* tables in the database afterwards")
    p.add_argument("--python-client", action="store_true", help="use the Python client even if wrk exists")
    args = p.parse_args()

    env = _server_env(args.database_url)
    env["DANCU_API_FASTLANE"] = "1" if args.fastlane == "on" else "0"
    _signing_key(env)
    _dancu(env, "migrate", "--noinput", "-v0")
    count = _citizen_count(args.database_url)
    if count < args.size:
        _populate(env, args, args.size - count)
        count = _citizen_count(args.database_url)
    if count == 0:
        sys.exit("The database holds no citizens: give --size N.")
    token = _bench_token(env)

    work = Path(tempfile.mkdtemp(prefix="dancu-bench-"))
    ids_file = work / "ids.txt"
    ids = _sample_ids(args.database_url, args.ids)
    ids_file.write_text("\n".join(ids) + "\n")

    port = args.port or _free_port()
    server = _start_server(env, args.app, args.workers, port, work, args.server_threads,
                           args.server)
    rows: list[dict] = []
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base + "/api/v1/health", server)
        _check_lookup(base, ids[0], token)
        use_wrk = shutil.which("wrk") and not args.python_client
        audit_before = _audit_count(args.database_url)
        lookups_sent = 0
        for label, path, lua in (
                ("API look-up GET /api/v1/citizens/{id}", "/", LUA % {"ids": ids_file, "token": token}),
                ("API health GET /api/v1/health (no auth, SELECT 1)", "/api/v1/health", HEALTH_LUA)):
            if use_wrk:
                script = work / "script.lua"
                script.write_text(lua)
                _wrk(base + path, script, args.threads, args.connections, args.warmup)  # warm-up
                cpu_before, machine_before = _group_cpu_seconds(server.pid), _machine_cpu_seconds()
                result = _wrk(base + path, script, args.threads, args.connections, args.duration)
                result["cpu_ms"] = ((_group_cpu_seconds(server.pid) - cpu_before) * 1000
                                    / max(result["requests"], 1))
                result["machine_cpu_ms"] = ((_machine_cpu_seconds() - machine_before) * 1000
                                            / max(result["requests"], 1))
                tool = f"wrk -t{args.threads} -c{args.connections}"
            else:
                paths = ([f"/api/v1/citizens/{i}?purpose=bench" for i in ids] if path == "/"
                         else [path])
                headers = {"Authorization": f"Bearer {token}"} if path == "/" else {}
                _python_load(base, paths, headers, args.connections, args.warmup)
                result = _python_load(base, paths, headers, args.connections, args.duration)
                tool = f"python threads x{args.connections}"
            if path == "/":
                lookups_sent = result["requests"]
            rows.append({"label": label, "tool": tool, **result})
        audit_rows = _audit_count(args.database_url) - audit_before
    finally:
        _stop(server)
        _revoke(env, token)

    if not args.skip_pgbench:
        clients = args.pgbench_clients or min(args.connections, 64)
        rows.append(_pgbench(args.database_url, clients, args.threads, args.duration,
                             args.pgbench_scale, args.keep_pgbench_tables))

    print()
    print(f"App {args.app} (fast lane {args.fastlane}); citizens in the database: {count:,}; "
          f"{server_description(args)}; "
          f"CPUs: {os.cpu_count()}; duration {args.duration}s each")
    print()
    print("| run | load | requests/s | p50 ms | p99 ms | errors | server CPU ms/request "
          "| machine CPU ms/request |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cpu = f"{r['cpu_ms']:.2f}" if r.get("cpu_ms") is not None else "–"
        machine = f"{r['machine_cpu_ms']:.2f}" if r.get("machine_cpu_ms") is not None else "–"
        print(f"| {r['label']} | {r['tool']} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {r['errors']} | {cpu} | {machine} |")
    print()
    print(f"Load average at the end: {os.getloadavg()[0]:.2f} (other processes on the machine "
          "skew requests/s; CPU ms/request does not depend on them much)")
    print()
    print(f"Audit rows written during the look-up runs (warm-up included): {audit_rows:,} "
          f"(measured look-ups: {lookups_sent:,})")
    shutil.rmtree(work, ignore_errors=True)


# ---- environment and the dancu command --------------------------------------------------------

def _server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "DANCU_ENV": "production",
        "DANCU_SECRET_KEY": secrets.token_urlsafe(48),
        "DANCU_OIDC_SUBJECT_SALT": secrets.token_urlsafe(48),
        "DANCU_PAYMENT_SECRET": secrets.token_urlsafe(48),
        "DANCU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DANCU_DATA_DIR": env.get("DANCU_DATA_DIR") or tempfile.mkdtemp(prefix="dancu-data-"),
        "DJANGO_SETTINGS_MODULE": "dancu.settings",
    })
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), str(ROOT),
                                                      env.get("PYTHONPATH", "")]))
    return env


def _signing_key(env: dict[str, str]) -> None:
    """The first OpenID Connect signing key of a production deployment (production refuses to
    start without one)."""
    _dancu(dict(env, DANCU_OIDC_ALLOW_NO_KEY="1"), "oidc", "keys", "rotate", capture=True)


def _dancu(env: dict[str, str], *argv: str, capture: bool = False,
           check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "dancu.cli", *argv]
    return subprocess.run(cmd, env=env, check=check, text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)


def _connect(database_url: str):
    import psycopg

    return psycopg.connect(database_url, autocommit=True)


def _citizen_count(database_url: str) -> int:
    with _connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM population_citizen").fetchone()[0]


def _audit_count(database_url: str) -> int:
    with _connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM audit_auditevent WHERE action = 'citizen.view'").fetchone()[0]


def _sample_ids(database_url: str, n: int) -> list[str]:
    with _connect(database_url) as conn:
        rows = conn.execute("SELECT personal_id FROM population_citizen TABLESAMPLE SYSTEM (50) "
                            "LIMIT %s", (n,)).fetchall()
        if len(rows) < min(n, 100):
            rows = conn.execute("SELECT personal_id FROM population_citizen ORDER BY random() "
                                "LIMIT %s", (n,)).fetchall()
    ids = [r[0] for r in rows]
    random.shuffle(ids)
    return ids


def _populate(env: dict[str, str], args: argparse.Namespace, missing: int) -> None:
    if not args.quick_seed:
        probe = _dancu(env, "population", "generate", "--help", capture=True, check=False)
        if probe.returncode == 0:
            print(f"Generating {missing:,} citizens with `dancu population generate` …", flush=True)
            _dancu(env, "population", "generate", "--size", str(missing))
            return
        print("`dancu population generate` is not available; using the quick bulk seed.", flush=True)
    print(f"Quick seed: {missing:,} synthetic citizens (bulk insert, bench only) …", flush=True)
    _quick_seed_subprocess(env, missing)


def _quick_seed_subprocess(env: dict[str, str], n: int) -> None:
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_seed", str(n)], env=env,
                   check=True)


def quick_seed(n: int) -> None:
    """Bulk-insert ``n`` plausible citizens spread over the 2025 communes (runs under Django).

    For benchmarking only: rows go straight to the table, without the services' checks and
    audit. Real data comes from ``dancu population import`` or ``dancu population generate``."""
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from dancu.core.text import search_key
    from dancu.geo.models import AdminUnit, CodeSystem, Level
    from dancu.geo.testing import ensure_admin_units
    from dancu.population import domain
    from dancu.population.models import Citizen

    ensure_admin_units()
    communes = list(AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.COMMUNE)
                    .values_list("pk", "province_id"))
    legacy = list(AdminUnit.objects.filter(code_system=CodeSystem.LEGACY, level=Level.PROVINCE)
                  .exclude(id_number_code="").values_list("pk", "id_number_code"))
    surnames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
                "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
    middles = {"M": ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành"],
               "F": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mai"]}
    givens = {"M": ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong",
                    "Quân", "Sơn", "Tuấn", "Việt"],
              "F": ["Anh", "Chi", "Dung", "Hà", "Hằng", "Hoa", "Lan", "Linh", "Mai", "Nga", "Phương",
                    "Thảo", "Trang", "Yến"]}
    rng = random.Random(6)
    taken = set(Citizen.objects.values_list("personal_id", flat=True))
    now = timezone.now()
    batch: list[Citizen] = []
    made = 0
    while made < n:
        sex = rng.choice("MF")
        year = rng.randint(1930, 2024)
        unit_id, code = rng.choice(legacy)
        pid = domain.compose(code, year, sex, rng.randrange(1_000_000))
        if pid in taken:
            continue
        taken.add(pid)
        name = f"{rng.choice(surnames)} {rng.choice(middles[sex])} {rng.choice(givens[sex])}"
        commune_id, province_id = rng.choice(communes)
        month = rng.randint(1, 12)
        batch.append(Citizen(
            personal_id=pid, full_name=name, name_key=search_key(name), birth_year=year,
            birth_month=month, birth_day=rng.randint(1, 28), sex=sex, ethnicity="01",
            religion="00", nationality="VN", birth_registration_unit_id=unit_id,
            current_commune_id=commune_id, current_province_id=province_id,
            created_at=now, updated_at=now))
        made += 1
        if len(batch) >= 5000:
            with transaction.atomic():
                Citizen.objects.bulk_create(batch)
            batch.clear()
    if batch:
        with transaction.atomic():
            Citizen.objects.bulk_create(batch)


def _bench_token(env: dict[str, str]) -> str:
    exists = _dancu(env, "officer", "list", capture=True).stdout
    if not re.search(rf"^{re.escape(SERVICE_USER)}\s", exists, re.M):
        _dancu(env, "officer", "create", SERVICE_USER, "--role", "service", "--no-password",
               "--display-name", "Benchmark service account")
    out = _dancu(env, "officer", "token", "create", SERVICE_USER, "--name",
                 f"bench {time.strftime('%Y-%m-%d %H:%M:%S')}", capture=True).stdout
    return out.strip().splitlines()[-1]


def _revoke(env: dict[str, str], token: str) -> None:
    import hashlib

    digest = hashlib.sha256(token.encode()).hexdigest()
    with _connect(env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT id FROM accounts_apitoken WHERE digest = %s", (digest,)).fetchone()
    if row:
        _dancu(env, "officer", "token", "revoke", str(row[0]), capture=True, check=False)


# ---- the server ---------------------------------------------------------------------------------

def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    """The server options both benches take; the defaults are ``dancu serve``'s."""
    p.add_argument("--server", choices=["granian", "gunicorn"], default="granian",
                   help="granian: what dancu serve runs; gunicorn: to compare (pip install gunicorn)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (dancu serve's default: one per CPU)")
    p.add_argument("--server-threads", type=int, default=4,
                   help="request threads per worker (dancu serve's default 4; gunicorn: > 1 runs "
                        "gthread workers, 1 sync workers)")


def server_description(args: argparse.Namespace) -> str:
    return f"{args.server} {args.workers} workers × {args.server_threads} threads"


def _start_server(env: dict[str, str], app: str, workers: int, port: int, work: Path,
                  threads: int = 4, server: str = "granian") -> subprocess.Popen:
    """granian's WSGI server with ``dancu serve``'s settings — or, to compare, gunicorn (sync
    workers, or gthread with threads > 1; ``pip install gunicorn``, not a dependency of dancu)."""
    log = open(work / "server.log", "w")  # noqa: SIM115 (closed with the process)
    if server == "granian":
        granian = shutil.which("granian") or str(Path(sys.executable).with_name("granian"))
        cmd = [granian, "--interface", "wsgi", "--workers", str(workers), "--blocking-threads",
               str(threads), "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", app]
    else:
        gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
        if not Path(gunicorn).exists():
            sys.exit("--server gunicorn needs gunicorn (pip install gunicorn)")
        cmd = [gunicorn, app, "-w", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level",
               "warning", "-k", "gthread" if threads > 1 else "sync", "--threads", str(threads)]
    print("Starting:", " ".join(cmd), flush=True)
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_ready(url: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server exited early; see its log")
        with contextlib.suppress(OSError, urllib.error.URLError), \
                urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (local URL)
            if resp.status == 200:
                return
        time.sleep(0.2)
    sys.exit("the server did not become ready")


def _check_lookup(base: str, personal_id: str, token: str) -> None:
    req = urllib.request.Request(f"{base}/api/v1/citizens/{personal_id}?purpose=bench",  # noqa: S310
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 (local URL)
        body = json.load(resp)
    assert body["personal_id"] == personal_id, body


def _group_cpu_seconds(pgid: int) -> float:
    """User+system CPU of every process in the server's process group (main process and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 of stat: process group
                total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _command_cpu_seconds(command: str) -> float:
    """User+system CPU of every process whose command name is ``command`` (e.g. ``postgres``: the
    database server's processes on this machine), plus that of their children that have exited
    (a backend that closes is reaped by the postmaster: its CPU moves to the postmaster's
    cutime/cstime, so the total never goes backwards)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            if text[text.index("(") + 1:text.rindex(")")] == command:
                fields = text.rsplit(")", 1)[1].split()
                total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def _machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine (all processes: server, PostgreSQL, load generator)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


# ---- load generators ----------------------------------------------------------------------------

def _wrk(url: str, script: Path, threads: int, connections: int, duration: int) -> dict:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-s", str(script), url], check=True, text=True, capture_output=True).stdout
    match = re.search(r"^JSON (\{.*\})$", out, re.M)
    if not match:
        sys.exit("could not read wrk's output:\n" + out)
    r = json.loads(match.group(1))
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": r["non2xx"] + r["socket_errors"],
            "requests": r["requests"]}


def _python_load(base: str, paths: list[str], headers: dict[str, str], connections: int,
                 duration: int) -> dict:
    """Fallback load generator: keep-alive HTTP/1.1 clients in threads (the GIL limits it)."""
    import http.client

    host, port = urlparse(base).hostname, urlparse(base).port
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        rng = random.Random()
        local: list[float] = []
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                conn.request("GET", rng.choice(paths), headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                ok = False
            local.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(local)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0

    return {"rps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "errors": errors[0], "requests": len(latencies)}


# ---- pgbench ------------------------------------------------------------------------------------

def _pgbench(database_url: str, clients: int, threads: int, duration: int, scale: int,
             keep: bool) -> dict:
    u = urlparse(database_url)
    conn_args = ["-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432),
                 "-U", u.username or "postgres", u.path.lstrip("/")]
    pg_env = dict(os.environ, **({"PGPASSWORD": u.password} if u.password else {}))
    log_dir = Path(tempfile.mkdtemp(prefix="dancu-pgbench-"))
    print(f"pgbench -i -s {scale} (pgbench_* tables in the same database) …", flush=True)
    subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), *conn_args], env=pg_env, check=True,
                   capture_output=True)
    machine_before = _machine_cpu_seconds()
    try:
        out = subprocess.run(["pgbench", "-S", "-c", str(clients), "-j", str(threads), "-T",
                              str(duration), "--log", "--log-prefix", str(log_dir / "pgbench"),
                              *conn_args],
                             env=pg_env, check=True, text=True, capture_output=True).stdout
    finally:
        if not keep:
            subprocess.run(["psql", *conn_args[:-1], "-d", conn_args[-1], "-qc",
                            "DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, "
                            "pgbench_history, pgbench_tellers"], env=pg_env, check=False,
                           capture_output=True)
    machine_cpu = _machine_cpu_seconds() - machine_before
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    p50, p99 = _pgbench_latencies(log_dir)
    shutil.rmtree(log_dir, ignore_errors=True)
    return {"label": "pgbench -S (select-only, same database)",
            "tool": f"pgbench -c{clients} -j{threads}", "rps": tps, "p50_ms": p50, "p99_ms": p99,
            "errors": int(m.group(1)) if (m := re.search(r"failed transactions: (\d+)", out)) else 0,
            "requests": 0, "machine_cpu_ms": machine_cpu * 1000 / max(tps * duration, 1)}


def _pgbench_latencies(folder: Path) -> tuple[float, float]:
    """Percentiles from pgbench's per-transaction logs (latency in µs is the 3rd column)."""
    samples: list[int] = []
    for log in folder.glob("pgbench.*"):
        with log.open() as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    samples.append(int(parts[2]))
    if not samples:
        return 0.0, 0.0
    samples.sort()
    return (samples[len(samples) // 2] / 1000, samples[min(len(samples) - 1,
                                                            int(0.99 * len(samples)))] / 1000)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--_seed"]:  # internal: the quick seed, run under Django settings
        quick_seed(int(sys.argv[2]))
    else:
        main()
