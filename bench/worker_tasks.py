"""Tasks of bench/bench_worker.py (a module the worker processes import: bench/ is on their path)."""

from __future__ import annotations

import time

from dancu.core.tasks import task


@task()
def empty() -> None:
    """Nothing: what the worker itself costs per task."""


@task()
def wait_10ms() -> None:
    """An I/O-bound task (an SMTP or gateway call): 10 ms of waiting."""
    time.sleep(0.01)
