"""``dancu serve`` (and so ``dancu demo``, which serves through it) never shows a traceback to the
network, even with ``DANCU_DEBUG=1``: a 500 is a plain page, its traceback goes to the log.

The server runs on a database that was never migrated, so the token endpoint's query fails:
an unauthenticated caller's request that ends in a 500, as in issue #11.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

DANCU = [sys.executable, "-m", "dancu.cli"]


def _port() -> int:
    """A free port chosen by the system (a fixed one collides with another run of the suite)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1)
        url, data=b"grant_type=client_credentials", method="POST",
        headers={"Authorization": "Basic " + base64.b64encode(b"rp:secret").decode(),
                 "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_a_500_shows_no_traceback_and_logs_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DANCU_ENV")}
    env.update(DANCU_DATA_DIR=str(tmp_path), DANCU_DEBUG="1", DANCU_API_FASTLANE="0")
    port = _port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([*DANCU, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            status, body = 0, ""
            for _ in range(150):
                try:
                    status, body = _post(f"http://127.0.0.1:{port}/oidc/token/")
                    break
                except OSError:
                    time.sleep(0.2)
            assert status == 500, (status, body[:300], log_path.read_text())
            assert "Traceback" not in body and "no such table" not in body
            assert "DANCU_SECRET_KEY" not in body and "SECRET_KEY" not in body
            for _ in range(50):
                if "no such table" in log_path.read_text():
                    break
                time.sleep(0.1)
            logged = log_path.read_text()
            assert "Traceback" in logged and "no such table" in logged, logged
        finally:
            server.terminate()
            server.wait(timeout=30)
