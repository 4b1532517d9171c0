"""Fixtures of the payment tests: a payer, a citizen actor, and the sandbox gateway as a real
subprocess (``dancu gateway serve``) on a free port, for the tests whose callbacks are real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dancu.accounts.actor import Actor
from dancu.payments.signals import payment_succeeded

DANCU = [sys.executable, "-m", "dancu.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def payer(geo, commune_officer):
    from tests.eid_helpers import person

    return person(commune_officer, geo.hac_thanh)


@pytest.fixture
def citizen(payer) -> Actor:
    return Actor(label=f"citizen:{payer.personal_id}", role="citizen", source="citizen", ip="203.0.113.7")


@pytest.fixture
def successes() -> Iterator[list[tuple[int, bool]]]:
    """Every payment_succeeded received: (payment id, sent inside a transaction?)."""
    from django.db import connection

    got: list[tuple[int, bool]] = []

    def receiver(sender, payment, **kwargs) -> None:
        got.append((payment.pk, connection.in_atomic_block))

    payment_succeeded.connect(receiver, weak=False, dispatch_uid="tests.payments")
    yield got
    payment_succeeded.disconnect(dispatch_uid="tests.payments")


@pytest.fixture(scope="session")
def sandbox_gateway(tmp_path_factory) -> Iterator[str]:
    """``dancu gateway serve`` in its own process; its base URL. The process reads the same
    merchant code and secret as the tests (the development defaults)."""
    port = free_port()
    data = tmp_path_factory.mktemp("gateway")
    env = {k: v for k, v in os.environ.items() if k not in ("DANCU_ENV",)}
    env.update(
        DANCU_DATA_DIR=str(data),
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[2] / "src"), env.get("PYTHONPATH", "")])
        ),
    )
    log = (data / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [*DANCU, "gateway", "serve", "--port", str(port), "--quiet", "--db", str(data / "gw.sqlite3")],
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
                assert proc.poll() is None, (data / "gateway.log").read_text()
                time.sleep(0.1)
        else:
            raise AssertionError("the sandbox gateway did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def gateway_url(sandbox_gateway, settings) -> str:
    settings.DANCU_PAYMENT_GATEWAY_URL = sandbox_gateway
    return sandbox_gateway
