#!/usr/bin/env python
"""Two builds side by side under the same password-login load: what a change to the login path
is worth, apart from the VM's drift.

A shared VM's CPU speed drifts by ±10–20 % over seconds to minutes, more than most changes to a
login's request work are worth, so two runs minutes apart cannot tell them. Here the working
tree (B) and a baseline commit (A, ``--baseline``, checked out in a temporary git worktree) run
as two servers at once on the same database — each granian with ``dancu serve``'s settings, in
production mode — and ``wrk`` logs in against one, then the other, alternating the order, for
``--pairs`` pairs of ``--seconds`` each. Per run it reads the CPU the server and PostgreSQL spent
per login and the CPU of the server's hashing threads (``dancu-argon2``): the login's **own
work** = server + PostgreSQL CPU − the hash on its thread, in ms and as a share of that hash.
The table ends with each build's medians and the median of the paired differences (B − A).

Usage::

    python bench/bench_login_ab.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_bench_ab \\
        [--baseline HEAD] [--pairs 6] [--seconds 5]

The database is dropped and re-created with the working tree's migrations; a baseline must run
on that schema (a commit before an additive migration does).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_auth  # the fixtures, the login script and the per-run CPU readings

common = bench_auth.common
ROOT = Path(__file__).resolve().parent.parent


def _worktree(ref: str, folder: Path) -> str:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(folder), ref],
                   check=True, capture_output=True)
    return subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%h %s"], check=True,
                          capture_output=True, text=True).stdout.strip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    p.add_argument("--baseline", default="HEAD", help="git commit for build A (default HEAD)")
    p.add_argument("--pairs", type=int, default=6)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--citizens", type=int, default=2000)
    p.add_argument("--accounts", type=int, default=200)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--threads", type=int, default=2, help="wrk's threads")
    common.add_server_arguments(p)
    args = p.parse_args()

    args.refresh_tokens = 0
    env, work, _fx = bench_auth.set_up(args, "dancu-bench-ab-")
    script = bench_auth._lua(work, "login", bench_auth.login_lua(work / "accounts.txt", args.threads))

    tree = work / "baseline"
    described = _worktree(args.baseline, tree)
    builds = {"A": dict(env, PYTHONPATH=f"{tree / 'src'}:{tree}"), "B": env}
    servers, urls = {}, {}
    try:
        for name, build_env in builds.items():
            (work / name).mkdir()
            port = common._free_port()
            servers[name] = common._start_server(build_env, "dancu.wsgi:application", args.workers, port,
                                                 work / name, args.server_threads, args.server)
            urls[name] = f"http://127.0.0.1:{port}/"
        for name, server in servers.items():
            common._wait_ready(urls[name] + "api/v1/health", server)
            common._wrk(urls[name], script, args.threads, args.connections, 3)  # warm-up
        runs: dict[str, list[dict]] = {"A": [], "B": []}
        print(f"\nA = {args.baseline} ({described}); B = the working tree; "
              f"{common.server_description(args)}, wrk -t{args.threads} -c{args.connections}, "
              f"{args.seconds} s a run\n")
        print("| pair | build | logins/s | server CPU ms | PostgreSQL CPU ms | hash on its thread ms "
              "| own work ms | own work / hash |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for i in range(args.pairs):
            for name in ("A", "B") if i % 2 == 0 else ("B", "A"):
                r = bench_auth._measured(servers[name].pid, urls[name], script, args.threads,
                                         args.connections, args.seconds)
                r["own_ms"] = r["cpu_ms"] + r["pg_cpu_ms"] - r["hash_cpu_ms"]
                runs[name].append(r)
                print(f"| {i + 1} | {name} | {r['rps']:.1f} | {r['cpu_ms']:.2f} | {r['pg_cpu_ms']:.2f} "
                      f"| {r['hash_cpu_ms']:.2f} | {r['own_ms']:.2f} | "
                      f"{r['own_ms'] / r['hash_cpu_ms'] * 100:.1f} % |", flush=True)
    finally:
        for server in servers.values():
            common._stop(server)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    print()
    for name in ("A", "B"):
        share = statistics.median(r["own_ms"] / r["hash_cpu_ms"] for r in runs[name]) * 100
        print(f"{name}: median {med(name, 'rps'):.1f} logins/s, own work {med(name, 'own_ms'):.2f} ms "
              f"= {share:.1f} % of the hash on its thread ({med(name, 'hash_cpu_ms'):.2f} ms)")
    diffs = [b["own_ms"] - a["own_ms"] for a, b in zip(runs["A"], runs["B"], strict=True)]
    rates = [b["rps"] / a["rps"] for a, b in zip(runs["A"], runs["B"], strict=True)]
    print(f"B − A own work, paired: median {statistics.median(diffs):+.2f} ms "
          f"(range {min(diffs):+.2f} to {max(diffs):+.2f}); logins/s B ÷ A: median "
          f"{statistics.median(rates):.3f}")


if __name__ == "__main__":
    main()
