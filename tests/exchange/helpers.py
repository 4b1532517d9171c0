"""The social-insurance stand-in run as a real subprocess (``dancu agency serve social-insurance``)
on a free port, with its own data directory, trusting the test process's dancu key; and the
settings that point dancu at it. Used by the exchange tests and by the flows that call it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from dancu.exchange import protocol
from tests.payments.helpers import free_port


@dataclass
class RunningAgency:
    """A stand-in process: its URL, data directory, SQLite file and public key file; ``restart``
    and ``kill`` (SIGKILL) for the fault tests."""

    url: str
    data: Path
    port: int
    args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    @property
    def db(self) -> Path:
        return self.data / "social-insurance.sqlite3"

    @property
    def public_key(self) -> Path:
        return self.data / "keys" / "public.jwk"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "dancu.cli",
            "agency",
            "serve",
            "social-insurance",
            "--port",
            str(self.port),
            "--quiet",
            "--db",
            str(self.db),
            "--key-dir",
            str(self.data / "keys"),
            "--client-key",
            str(protocol.public_path_for(Path(settings.DANCU_EXCHANGE_KEY_FILE))),
            *self.args,
        ]

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DANCU_ENV"}
        src = str(Path(__file__).resolve().parents[2] / "src")
        env.update(
            DANCU_DATA_DIR=str(self.data),
            PYTHONPATH=os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")])),
            DANCU_EXCHANGE_KEY_FILE=str(settings.DANCU_EXCHANGE_KEY_FILE),
        )
        log_path = self.data / "agency.log"
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.proc.poll() is None, log_path.read_text()
                time.sleep(0.1)
        raise AssertionError("the social-insurance stand-in did not start")

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def restart(self, *args: str) -> None:
        self.stop()
        self.args = list(args)
        self.start()

    def state(self, ids: bool = False) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/state{'?ids=1' if ids else ''}", timeout=10) as resp:  # noqa: S310
            return dict(json.loads(resp.read()))


@contextlib.contextmanager
def running_agency(data: Path, *args: str, port: int | None = None) -> Iterator[RunningAgency]:
    """The stand-in in its own process (extra ``args``: --delay-ms, --fail-rate, …)."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port(port)
    agency = RunningAgency(url=f"http://127.0.0.1:{port}", data=data, port=port, args=list(args))
    agency.start()
    try:
        yield agency
    finally:
        agency.stop()


def point_dancu_at(agency: RunningAgency, django_settings: Any) -> None:
    """dancu's settings (pytest-django's ``settings`` fixture) for this stand-in."""
    django_settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL = agency.url
    django_settings.DANCU_AGENCY_SOCIAL_INSURANCE_KEY = agency.public_key
