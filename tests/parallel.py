"""Real concurrent writers for tests: threads, each with its own database connection."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection


def run_parallel(work: Callable[[int], None], writers: int) -> list[BaseException]:
    """``work(i)`` in ``writers`` threads started together (a barrier); the exceptions raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # collected and asserted in the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@contextmanager
def frequent_thread_switches() -> Iterator[None]:
    """Python switching threads every microsecond instead of every 5 ms: a race whose window is a
    few bytecodes wide is hit on every run instead of one run in several."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def database_url() -> str:
    """The test database's URL, for a child process (``dancu`` commands, workers, servers) to
    open the same database as the test."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
