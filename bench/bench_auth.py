#!/usr/bin/env python
"""The authentication service under load, beside Keycloak's published sizing.

Keycloak's sizing guide (per vCPU): 15 password logins/s, 120 client-credentials grants/s,
120 refresh-token grants/s. This script measures on this machine, through granian with ``dancu
serve``'s settings in production mode (PostgreSQL, DEBUG off), with ``wrk``:

- ``POST /oidc/token/`` client-credentials grants (HTTP Basic client authentication);
- ``POST /oidc/token/`` refresh-token grants, each with a fresh refresh token (rotation on) of a
  code flow's kind (scope ``openid identity profile``, an ID token with its authentication
  context): each grant issues a new ID token, releases and audits the claims;
- ``POST /eid/login/`` password logins (Argon2id, OWASP m=19 MiB t=2 p=1) over a pool of accounts,
  beside the hash alone (``argon2`` verify in one process per CPU), alternating short runs of
  each: the request overhead = hashes/s ÷ logins/s − 1, and in CPU (server + PostgreSQL per
  login ÷ the hash's CPU) − 1 (target ≤ 25 %), the median over the pairs;
- ``POST /api/v1/ekyc/verify`` and ``POST /oidc/introspect/`` with p50/p99.

"per vCPU" = requests/s ÷ CPUs of the machine (the load generator and PostgreSQL run on the same
CPUs); "per server vCPU" = 1000 ÷ the server's CPU ms per request, the basis of Keycloak's sizing
(Keycloak's own vCPUs; the database is sized apart).

Usage::

    python bench/bench_auth.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_bench_auth \\
        [--citizens 2000] [--accounts 200] [--workers 4] [--connections 32] [--duration 15]
    python bench/bench_auth.py --database-url ... --in-process 300 --baseline COMMIT --pairs 4
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_api as common  # the server, wrk and environment helpers

KEYCLOAK_PER_VCPU = {"client_credentials": 120, "refresh": 120, "login": 15}
PASSWORD = "Bench-mat-khau-2026"
CSRF = "benchcsrftoken0123456789abcdefgh"  # 32 characters: an unmasked Django CSRF secret

DONE = common.HEALTH_LUA  # the `done` hook printing wrk's summary as JSON

# Each wrk thread walks its own stride of a file of lines, never reusing one (refresh tokens).
THREADED = r"""
local counter = 1
local threads = {}
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
function init(args)
  items = {}
  for line in io.lines("%(file)s") do items[#items + 1] = line end
  step = %(threads)d
  pos = id
end
request = function()
  local item = items[pos]
  pos = pos + step
  if pos > #items then pos = id end
  %(body)s
end
"""


def login_lua(accounts: Path, threads: int) -> str:
    """wrk's script for web-form password logins over the accounts' file (ID number first)."""
    return THREADED % {"file": accounts, "threads": threads, "body": (
        'local pid = string.match(item, "^(%d+)|")\n'
        '  return wrk.format("POST", "/eid/login/", {["Content-Type"] = '
        '"application/x-www-form-urlencoded", ["Cookie"] = "csrftoken=' + CSRF + '"}, '
        '"csrfmiddlewaretoken=' + CSRF + '&personal_id=" .. pid .. "&password=' + PASSWORD + '")')}


def _lua(work: Path, name: str, text: str) -> Path:
    path = work / f"{name}.lua"
    path.write_text(text + DONE)
    return path


def _prepare(env: dict[str, str], args: argparse.Namespace, work: Path) -> dict:
    """Clients, accounts and refresh tokens, made through the services (in a subprocess with
    the server's settings)."""
    out = work / "fixtures.json"
    code = f"""
import json, datetime as dt, secrets, uuid, django
django.setup()
from django.utils import timezone
from oauth2_provider.models import AccessToken, IDToken, RefreshToken
from dancu.accounts.actor import system_actor
from dancu.eid import services as eid
from dancu.eid.models import EidAccount
from dancu.eid.sms import latest_code
from dancu.oidc import services as oidc
from dancu.oidc.models import Agreement, AuthContext
from dancu.population.models import Citizen
actor = system_actor("bench")
until = timezone.now() + dt.timedelta(days=30)
cc = oidc.create_client(actor, name="bench-agency", organisation="Bench", purpose="bench", scopes=["ekyc"],
    redirect_uris=[], grant_type="client-credentials", valid_until=until, contact_name="b",
    contact_email="b@b.vn", ekyc_per_minute=10**9)
rp = oidc.create_client(actor, name="bench-rp", organisation="Bench", purpose="bench",
    scopes=["openid", "identity", "profile"], redirect_uris=["https://rp.example/cb"], valid_until=until,
    contact_name="b", contact_email="b@b.vn")
people = list(Citizen.objects.filter(life_status="living", birth_year__lte=2000, birth_day__isnull=False)
              .order_by("id")[:{args.accounts}])
accounts = []
for i, c in enumerate(people):
    r = eid.submit_level1_application(personal_id=c.personal_id, full_name=c.full_name,
        birth_date=dt.date(c.birth_year, c.birth_month, c.birth_day), phone="09%08d" % i,
        portrait=b"\\x89PNG\\r\\n\\x1a\\n" + bytes(64))
    if r.refused:
        continue
    code = latest_code(r.challenge.phone)
    eid.confirm_level1_application(r.application.pk, r.challenge.pk, code, {PASSWORD!r})
    birth = "%04d-%02d-%02d" % (c.birth_year, c.birth_month, c.birth_day)
    accounts.append((c.personal_id, c.full_name, birth))
users = list(EidAccount.objects.values_list("user_id", flat=True))
now = timezone.now()
tokens = []
batch_a, batch_r, batch_i = [], [], []
# as a code flow leaves them: an access token with its ID token, whose authentication context
# (acr, amr, auth_time) the next ID token carries over
for i in range({args.refresh_tokens}):
    batch_i.append(IDToken(user_id=users[i % len(users)], application=rp.application, jti=uuid.uuid4(),
                           expires=now + dt.timedelta(minutes=15), scope="openid identity profile"))
IDToken.objects.bulk_create(batch_i, batch_size=2000)
AuthContext.objects.bulk_create([AuthContext(id_token_jti=t.jti, acr="urn:vn:dancu:loa:1", amr="pwd",
                                             auth_time=int(now.timestamp())) for t in batch_i],
                                batch_size=2000)
for i, idt in enumerate(batch_i):
    at = AccessToken(user_id=idt.user_id, application=rp.application, id_token=idt,
                     token=secrets.token_urlsafe(30), expires=now + dt.timedelta(minutes=15),
                     scope="openid identity profile")
    batch_a.append(at)
AccessToken.objects.bulk_create(batch_a, batch_size=2000)
for at in batch_a:
    rt = secrets.token_urlsafe(30)
    batch_r.append(RefreshToken(user_id=at.user_id, application=rp.application, token=rt, access_token=at,
                                token_family=uuid.uuid4()))
    tokens.append(rt)
RefreshToken.objects.bulk_create(batch_r, batch_size=2000)
json.dump({{"cc": [cc.client_id, cc.client_secret], "rp": [rp.client_id, rp.client_secret],
           "accounts": accounts, "refresh": tokens}}, open({str(out)!r}, "w"))
"""
    pre_env = dict(env, DANCU_OTP_RESEND_SECONDS="0", DANCU_OTP_MAX_PER_HOUR="1000000")
    import subprocess

    subprocess.run([sys.executable, "-c", code], env=pre_env, check=True)
    return json.loads(out.read_text())


def set_up(args: argparse.Namespace, prefix: str) -> tuple[dict[str, str], Path, dict]:
    """The registry (``--database-url``, ``--citizens``, ``--reuse``), the server's environment
    with a signing key, the fixtures (``--accounts``, ``--refresh-tokens``) in a new work folder
    and the accounts' file (``accounts.txt``) there: (env, work, fixtures)."""
    from _common import prepare_registry

    prepare_registry(args.database_url, args.citizens, getattr(args, "reuse", False))
    env = common._server_env(args.database_url)
    common._signing_key(env)
    common._dancu(env, "migrate", "--noinput", "-v0")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    fx = _prepare(env, args, work)
    (work / "accounts.txt").write_text("\n".join("|".join(a) for a in fx["accounts"]) + "\n")
    return env, work, fx


def _measured(pgid: int, url: str, script: Path, threads: int, connections: int, seconds: int) -> dict:
    """wrk's summary plus the CPU the server (its process group) and PostgreSQL spent,
    per request."""
    cpu0, pg0 = common._group_cpu_seconds(pgid), common._command_cpu_seconds("postgres")
    hash0 = _hashing_thread_cpu_seconds(pgid)
    result = common._wrk(url, script, threads, connections, seconds)
    n = max(result["requests"], 1)
    result["cpu_ms"] = (common._group_cpu_seconds(pgid) - cpu0) * 1000 / n
    result["pg_cpu_ms"] = (common._command_cpu_seconds("postgres") - pg0) * 1000 / n
    result["hash_cpu_ms"] = (_hashing_thread_cpu_seconds(pgid) - hash0) * 1000 / n
    return result


def _hashing_thread_cpu_seconds(pgid: int) -> float:
    """CPU time of the server's hashing threads (``dancu.eid.passwords``, named for the operating
    system), from each thread's schedstat (nanoseconds on a CPU), over the process group."""
    from dancu.eid.passwords import HASHING_THREAD

    total = 0
    for task in Path("/proc").glob("[0-9]*/task/[0-9]*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if (task / "comm").read_text().strip() != HASHING_THREAD:
                continue
            if int((task / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def _hash_worker(seconds: float, queue: multiprocessing.Queue) -> None:
    from argon2 import PasswordHasher, Type

    ph = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16,
                        type=Type.ID)
    stored = ph.hash(PASSWORD)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        ph.verify(stored, PASSWORD)
        n += 1
    queue.put((n / (time.perf_counter() - t0), (time.process_time() - c0) * 1000 / n))


def _hash_rate(seconds: float, processes: int = 0) -> tuple[float, float]:
    """(hashes/s with one process per CPU — or ``processes`` —, CPU ms per hash): the argon2-cffi
    verify alone."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_hash_worker, args=(seconds, queue))
             for _ in range(processes or os.cpu_count() or 1)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(r for r, _ in results), sum(ms for _, ms in results) / len(results)


# One build's grants in one process, through ``dancu.wsgi.application`` (the WSGI app the server
# runs, its middleware included): CPU time of the process per grant (``time.process_time``) and the
# statements each grant sends. PostgreSQL's side is not counted here (see the wrk runs).
IN_PROCESS = r"""
import io, json, sys, time
from django.db import connection
from dancu.wsgi import application
fx = json.loads(sys.stdin.read())
cc_basic, rp_basic, tokens, n = fx["cc_basic"], fx["rp_basic"], fx["tokens"], fx["n"]
def call(body, basic):
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/oidc/token/", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
           "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
           "wsgi.input": io.BytesIO(body), "HTTP_AUTHORIZATION": "Basic " + basic,
           "REMOTE_ADDR": "127.0.0.1", "wsgi.errors": sys.stderr}
    status = []
    out = b"".join(application(env, lambda s, h, *x: status.append(s)))
    if not status[0].startswith("200"):
        raise SystemExit(f"{status[0]}: {out[:300]!r}")
grants = {
    "client_credentials": lambda i: call(b"grant_type=client_credentials", cc_basic),
    "refresh": lambda i: call(("grant_type=refresh_token&refresh_token=" + tokens[i]).encode(), rp_basic),
}
result = {}
for key, grant in grants.items():
    used = 0  # the refresh tokens' index (each is used once)
    for _ in range(20):  # warm-up: caches, connection, first statements
        grant(used); used += 1
    statements = []
    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)
    with connection.execute_wrapper(count):
        grant(used); used += 1
    c0 = time.process_time()
    for _ in range(n):
        grant(used); used += 1
    result[key] = {"cpu_ms": (time.process_time() - c0) * 1000 / n, "statements": len(statements)}
print(json.dumps(result))
"""


def _baseline_source(ref: str, work: Path) -> tuple[Path, str]:
    """The baseline commit's ``src`` exported to a folder (no worktree): (path, described)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    folder = work / "baseline"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(root), "archive", ref, "src"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    described = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s", ref], check=True,
                               capture_output=True, text=True).stdout.strip()
    return folder / "src", described[:40]


def in_process(env: dict[str, str], fx: dict, args: argparse.Namespace, work: Path,
               cc_basic: str, rp_basic: str) -> None:
    """``--in-process N``: the working tree's grants (and ``--baseline``'s, alternating, ``--pairs``
    times) in one process each, N grants of each kind per run; medians and each run."""
    import subprocess

    builds = [("working tree", env["PYTHONPATH"])]
    if args.baseline:
        src, described = _baseline_source(args.baseline, work)
        builds.insert(0, (f"baseline {described}", str(src)))
    per_run = args.in_process + 21
    needed = per_run * len(builds) * args.pairs
    if needed > len(fx["refresh"]):
        sys.exit(f"--refresh-tokens {len(fx['refresh'])} < {needed} needed")
    runs: dict[str, list[dict]] = {name: [] for name, _ in builds}
    offset = 0
    for pair in range(args.pairs):
        order = builds if pair % 2 == 0 else builds[::-1]  # the machine's drift hits both builds
        for name, path in order:
            payload = json.dumps({"cc_basic": cc_basic, "rp_basic": rp_basic, "n": args.in_process,
                                  "tokens": fx["refresh"][offset:offset + per_run]})
            offset += per_run
            out = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + IN_PROCESS],
                                 input=payload, env=dict(env, PYTHONPATH=path), check=True,
                                 stdout=subprocess.PIPE, text=True).stdout
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
    print()
    print(f"In one process each (dancu.wsgi.application, production settings, PostgreSQL): "
          f"{args.in_process} grants of each kind a run, {args.pairs} runs a build, alternating; "
          f"load average {os.getloadavg()[0]:.2f}")
    print()
    print("| build | grant | statements | CPU ms a grant, median | runs | per vCPU of CPU | Keycloak ratio |")
    print("|---|---|---:|---:|---|---:|---:|")
    for name, results in runs.items():
        for key in ("client_credentials", "refresh"):
            values = [r[key]["cpu_ms"] for r in results]
            median = statistics.median(values)
            print(f"| {name} | {key} | {results[0][key]['statements']} | {median:.2f} | "
                  f"{', '.join(f'{v:.2f}' for v in values)} | {1000 / median:,.0f} | "
                  f"{1000 / median / KEYCLOAK_PER_VCPU[key]:.1f}× |")
    if len(runs) == 2:
        base, tree = runs.values()
        print()
        for key in ("client_credentials", "refresh"):
            diffs = sorted(t[key]["cpu_ms"] - b[key]["cpu_ms"] for b, t in zip(base, tree, strict=True))
            print(f"{key}: working tree − baseline, pair by pair: median {statistics.median(diffs):+.2f} ms "
                  f"({', '.join(f'{d:+.2f}' for d in diffs)})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    p.add_argument("--citizens", type=int, default=2000)
    p.add_argument("--accounts", type=int, default=200)
    p.add_argument("--refresh-tokens", type=int, default=60000)
    common.add_server_arguments(p)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--login-connections", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--port", type=int, default=0, help="the server's port (0 = a free one)")
    p.add_argument("--duration", type=int, default=15)
    p.add_argument("--reuse", action="store_true", help="keep the database as it is")
    p.add_argument("--pairs", type=int, default=8,
                   help="login vs hash-alone: alternating pairs of short runs (the overhead is their median)")
    p.add_argument("--only", default="", help="comma-separated runs: client_credentials,refresh,login,"
                                              "ekyc,introspect (default: all)")
    p.add_argument("--in-process", type=int, default=0, metavar="N",
                   help="instead of the server runs: N client-credentials and N refresh grants in one "
                        "process through the WSGI application, CPU per grant and statements")
    p.add_argument("--baseline", default="",
                   help="with --in-process: a git commit to compare with, alternating (its src exported)")
    args = p.parse_args()
    if not args.in_process and not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk)")

    env, work, fx = set_up(args, "dancu-bench-auth-")
    import base64

    cc_basic = base64.b64encode(":".join(fx["cc"]).encode()).decode()
    rp_basic = base64.b64encode(":".join(fx["rp"]).encode()).decode()
    (work / "refresh.txt").write_text("\n".join(fx["refresh"]) + "\n")
    if args.in_process:
        in_process(env, fx, args, work, cc_basic, rp_basic)
        shutil.rmtree(work, ignore_errors=True)
        return

    port = args.port or common._free_port()
    server = common._start_server(env, "dancu.wsgi:application", args.workers, port, work,
                                  args.server_threads, args.server)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        common._wait_ready(base + "/api/v1/health", server)
        # a token for eKYC and one to introspect
        import urllib.request

        def _post(path: str, body: bytes, basic: str) -> dict:
            req = urllib.request.Request(base + path, data=body, method="POST", headers={  # noqa: S310
                "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
            with urllib.request.urlopen(req) as resp:  # noqa: S310 (local server)
                return json.loads(resp.read())

        ekyc_token = _post("/oidc/token/", b"grant_type=client_credentials", cc_basic)["access_token"]
        runs = [
            ("client_credentials", "client-credentials grant POST /oidc/token/", args.connections,
             "/oidc/token/",
             f"""wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic {cc_basic}"
"""),
            ("refresh", "refresh-token grant POST /oidc/token/ (rotation)", args.connections, "/",
             THREADED % {"file": work / "refresh.txt", "threads": args.threads, "body": (
                 'return wrk.format("POST", "/oidc/token/", {["Content-Type"] = '
                 '"application/x-www-form-urlencoded", ["Authorization"] = "Basic ' + rp_basic + '"}, '
                 '"grant_type=refresh_token&refresh_token=" .. item)')}),
            ("login", "password login POST /eid/login/ (Argon2id)", args.login_connections, "/",
             login_lua(work / "accounts.txt", args.threads)),
            ("ekyc", "eKYC POST /api/v1/ekyc/verify", args.connections, "/",
             THREADED % {"file": work / "accounts.txt", "threads": args.threads, "body": (
                 'local pid, name, birth = string.match(item, "^(%d+)|(.-)|(.+)$")\n'
                 '  return wrk.format("POST", "/api/v1/ekyc/verify", {["Content-Type"] = "application/json", '
                 '["Authorization"] = "Bearer ' + ekyc_token + '"}, '
                 '"{\\"personal_id\\": \\"" .. pid .. "\\", \\"full_name\\": \\"" .. name .. '
                 '"\\", \\"birth_date\\": \\"" .. birth .. "\\", \\"purpose\\": \\"bench\\"}")')}),
            ("introspect", "introspection POST /oidc/introspect/", args.connections, "/oidc/introspect/",
             f"""wrk.method = "POST"
wrk.body = "token={ekyc_token}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic {cc_basic}"
"""),
        ]
        only = set(filter(None, args.only.split(",")))
        pairs: list[tuple[float, float]] = []
        # per pair: CPU ms a login of the hash on the server's thread, of the hash alone, of it all
        in_server: list[tuple[float, float, float]] = []
        sequential: tuple[dict, float] | None = None
        for key, label, conns, path, lua in runs:
            if only and key not in only:
                continue
            script = _lua(work, key, lua)
            if key != "refresh":
                common._wrk(base + path, script, args.threads, conns, 3)  # warm-up
            result = _measured(server.pid, base + path, script, args.threads, conns, args.duration)
            rows.append((key, label, conns, result))
            if key == "login":
                # The hash alone "in the same run": on a shared VM the speed of the CPU drifts by
                # ±10 % over minutes, so logins and the hash alone alternate in short runs and
                # each pair gives one overhead figure.
                for _ in range(args.pairs):
                    short = max(args.duration // 3, 4)
                    logins = _measured(server.pid, base + path, script, args.threads, conns, short)
                    hashes_per_s, hash_ms = _hash_rate(short)
                    pairs.append((hashes_per_s / max(logins["rps"], 0.001) - 1,
                                  (logins["cpu_ms"] + logins["pg_cpu_ms"]) / hash_ms - 1))
                    in_server.append((logins["hash_cpu_ms"], hash_ms,
                                      logins["cpu_ms"] + logins["pg_cpu_ms"]))
                # One login at a time against one hash at a time: the request's own cost,
                # without the interference of a loaded machine.
                short = max(args.duration // 2, 5)
                one = _measured(server.pid, base + path, script, 1, 1, short)
                _rate, one_hash_ms = _hash_rate(short, processes=1)
                sequential = (one, one_hash_ms)
    finally:
        common._stop(server)

    cpus = os.cpu_count() or 1
    print()
    print(f"{common.server_description(args)}, PostgreSQL, "
          f"{cpus} CPUs, wrk -t{args.threads}, "
          f"{args.duration}s per run; load average {os.getloadavg()[0]:.2f}")
    print()
    print("| run | connections | requests/s | per vCPU | Keycloak per vCPU | ratio | p50 ms | p99 ms "
          "| errors | server CPU ms/request | PostgreSQL CPU ms/request | per server vCPU | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, label, conns, r in rows:
        per = r["rps"] / cpus
        # Keycloak's sizing counts the vCPUs of Keycloak itself (database and load generator
        # apart): 1000 ÷ the server's CPU ms per request is the same basis.
        per_server = 1000 / max(r["cpu_ms"], 0.001)
        kc = KEYCLOAK_PER_VCPU.get(key)
        ratio = f"{per / kc:.1f}×" if kc else "–"
        ratio_server = f"{per_server / kc:.1f}×" if kc else "–"
        print(f"| {label} | {conns} | {r['rps']:,.0f} | {per:,.0f} | {kc or '–'} | {ratio} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {r['cpu_ms']:.2f} | "
              f"{r['pg_cpu_ms']:.2f} | {per_server:,.0f} | {ratio_server} |")
    print()
    if pairs:
        def pct(values: list[float]) -> str:
            return (f"median {statistics.median(values) * 100:.0f} % (range {min(values) * 100:.0f}–"
                    f"{max(values) * 100:.0f} %)")

        print()
        print(f"Password login vs the Argon2id verify alone (m=19 MiB, t=2, p=1; one process per CPU), "
              f"{len(pairs)} alternating pairs of runs. Request overhead over the hash: "
              f"in throughput (logins/s vs hashes/s, the machine shared with PostgreSQL and wrk) "
              f"{pct([t for t, _ in pairs])}; in CPU (server + PostgreSQL per login vs the hash's CPU) "
              f"{pct([c for _, c in pairs])}")
        if in_server and all(h > 0 for h, _a, _t in in_server):
            print()
            print(f"The hash on the server's hashing threads, in the same runs: "
                  f"{statistics.median([h for h, _a, _t in in_server]):.2f} ms of CPU a login against "
                  f"{statistics.median([a for _h, a, _t in in_server]):.2f} ms alone (slowed by what "
                  f"runs beside it: {pct([h / a - 1 for h, a, _t in in_server])}); the request's own "
                  f"work around it (server + PostgreSQL CPU − that hash): "
                  f"{pct([(t - h) / h for h, _a, t in in_server])} of it")
    if sequential:
        one, one_hash_ms = sequential
        print()
        print(f"One login at a time (wrk -c1) against the hash alone in one process: server + PostgreSQL "
              f"CPU {one['cpu_ms'] + one['pg_cpu_ms']:.2f} ms a login ({one['cpu_ms']:.2f} + "
              f"{one['pg_cpu_ms']:.2f}) vs {one_hash_ms:.2f} ms a hash: overhead in CPU "
              f"{((one['cpu_ms'] + one['pg_cpu_ms']) / one_hash_ms - 1) * 100:.0f} %; "
              f"latency p50 {one['p50_ms']:.1f} ms ({(one['p50_ms'] / one_hash_ms - 1) * 100:.0f} % over "
              f"the hash's time, commits' fsync included)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
