"""Tasks for tests/core/test_worker.py (module level: a worker process imports them by path)."""

from __future__ import annotations

import time
from pathlib import Path

from dancu.core.tasks import task


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def fail() -> None:
    raise ValueError("this task fails")


@task()
def empty() -> None:
    """The benchmark's baseline: a task that does nothing."""


@task()
def slow_once(marker: str, seconds: float) -> int:
    """Notes each start in ``marker``; the first run sleeps (to be killed), later runs return at once."""
    path = Path(marker)
    with path.open("a") as f:
        f.write("start\n")
    starts = path.read_text().count("start")
    if starts == 1:
        time.sleep(seconds)
    return starts
