"""Signed gateway answers, as the gateway would send them (for the tests that call dancu
directly), and the sandbox gateway run as a real subprocess (for the tests whose callbacks are
real HTTP: the payment tests and the portal's journey)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from dancu.payments import protocol
from dancu.payments.models import Payment


def answer(
    payment: Payment, *, ok: bool = True, secret: str | None = None, **overrides: str
) -> dict[str, str]:
    params = {
        "vnp_Amount": protocol.minor_units(payment.amount_vnd),
        "vnp_BankCode": "NCB",
        "vnp_OrderInfo": f"Thanh toan le phi ho so {payment.reference}",
        "vnp_PayDate": "20260101120000",
        "vnp_ResponseCode": "00" if ok else "24",
        "vnp_TmnCode": settings.DANCU_PAYMENT_TMN_CODE,
        "vnp_TransactionNo": "14000001",
        "vnp_TransactionStatus": "00" if ok else "02",
        "vnp_TxnRef": payment.txn_ref,
    }
    params.update(overrides)
    return protocol.sign(params, secret or settings.DANCU_PAYMENT_SECRET)


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if it is free, else any free port."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred or 0))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_gateway(data: Path, port: int | None = None) -> Iterator[str]:
    """``dancu gateway serve`` in its own process (its own SQLite file under ``data``), with the
    same merchant code and secret as the tests (the development defaults); its base URL."""
    port = free_port(port)
    data.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DANCU_ENV"}
    src = str(Path(__file__).resolve().parents[2] / "src")
    path = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    env.update(DANCU_DATA_DIR=str(data), PYTHONPATH=path)
    log_path = data / "gateway.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dancu.cli", "gateway", "serve", "--port", str(port), "--quiet",
             "--db", str(data / "gw.sqlite3")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert proc.poll() is None, log_path.read_text()
                    time.sleep(0.1)
            else:
                raise AssertionError("the sandbox gateway did not start")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
