"""What a signed, logged exchange with the social-insurance agency costs (issue #13).

    python bench/bench_exchange.py --database-url postgresql://postgres@127.0.0.1:5432/dancu_xbench [--n 300]

A fresh, migrated database; the stand-in (``dancu agency serve social-insurance``) in its own
process on a free port with a fresh SQLite file. One client thread, sequential. Rows:

- baseline: a raw POST of a request signed beforehand (the agency's own work — verify, one SQLite
  transaction, sign — plus HTTP), no dancu log;
- the agency's replay of a known message (the stored answer, byte for byte);
- ``exchange.services.call`` of a new message (sign, the message row and its audit, HTTP, verify,
  the try and the answer with its audit);
- ``call`` of a message already answered (from dancu's log, no HTTP).

For each: calls/s, latency p50/p95, and CPU per call on each side (the client's process time;
the agency process's utime+stime from /proc).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import setup_django


def fresh_database(url: str) -> None:
    import subprocess

    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "-m", "dancu.cli", "migrate", "-v0"],
        env=dict(os.environ, DATABASE_URL=url),
        check=True,
    )


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(name: str, n: int, agency_pid: int, one: Callable[[int], None]) -> dict[str, object]:
    latencies = []
    agency_cpu, cpu, wall = cpu_of(agency_pid), time.process_time(), time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        one(i)
        latencies.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    agency_cpu = cpu_of(agency_pid) - agency_cpu
    latencies.sort()
    return {
        "what": name,
        "calls/s": f"{n / wall:.0f}",
        "p50 ms": f"{statistics.median(latencies):.1f}",
        "p95 ms": f"{latencies[int(len(latencies) * 0.95) - 1]:.1f}",
        "client CPU ms/call": f"{cpu * 1000 / n:.2f}",
        "agency CPU ms/call": f"{agency_cpu * 1000 / n:.2f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("DANCU_DATA_DIR", tempfile.mkdtemp(prefix="dancu-xbench-"))
    fresh_database(args.database_url)
    setup_django(args.database_url)

    import datetime as dt

    import requests
    from django.conf import settings
    from tests.exchange.helpers import RunningAgency
    from tests.payments.helpers import free_port

    from dancu.accounts.actor import Actor
    from dancu.exchange import protocol
    from dancu.exchange.services import call, own_key

    data = Path(tempfile.mkdtemp(prefix="dancu-xbench-agency-"))
    port = free_port()
    agency = RunningAgency(url=f"http://127.0.0.1:{port}", data=data, port=port)
    agency.start()
    assert agency.proc is not None
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL = agency.url
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_KEY = agency.public_key
    actor = Actor(label="bench", role="system", source="system")
    born = (dt.date.today() - dt.timedelta(days=40)).isoformat()

    def body(i: int, series: int) -> dict[str, str]:
        return {
            "personal_id": f"0{series}1226{i:06d}",
            "full_name": "Nguyễn Văn An",
            "birth_date": born,
            "sex": "M",
            "province_code": "38",
            "address": "Thanh Hóa",
            "guardian_personal_id": "038190000456",
        }

    session = requests.Session()
    signed = []
    for i in range(args.n):
        message_id = str(uuid.uuid4())
        token = protocol.sign(
            protocol.request_payload(message_id=message_id, service="health_card.issue", body=body(i, 1)),
            own_key(),
        )
        signed.append((message_id, token))

    def raw(i: int) -> None:
        message_id, token = signed[i]
        response = session.post(
            f"{agency.url}/x/health_card.issue",
            data=token,
            timeout=30,
            headers={"Content-Type": protocol.CONTENT_TYPE, "X-Message-Id": message_id},
        )
        assert response.status_code == 200, response.text

    ids = [str(uuid.uuid4()) for _ in range(args.n)]

    def new(i: int) -> None:
        assert call(
            actor,
            agency="social_insurance",
            service="health_card.issue",
            message_id=ids[i],
            body=body(i, 2),
            personal_id=body(i, 2)["personal_id"],
            purpose="bench",
        ).ok

    try:
        rows = [
            measure(
                "baseline: raw POST of a pre-signed request (agency work + HTTP)",
                args.n,
                agency.proc.pid,
                raw,
            ),
            measure("agency replay of a known message (stored bytes)", args.n, agency.proc.pid, raw),
            measure(
                "exchange.call, new message (sign, log, audit, HTTP, verify)", args.n, agency.proc.pid, new
            ),
            measure("exchange.call, answered message (from the log, no HTTP)", args.n, agency.proc.pid, new),
        ]
        state = agency.state()
        assert state["cards"] == 2 * args.n and state["duplicate_cards"] == 0, state
    finally:
        agency.stop()
    load = os.getloadavg()[0]
    columns = list(rows[0])
    print(f"\n{args.n} calls each, one client thread, PostgreSQL; load average {load:.1f}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" if c == "what" else "---:" for c in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
