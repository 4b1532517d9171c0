"""``dancu serve``: the console and the API under granian (a Rust HTTP server, WSGI).

One worker process per CPU by default, each running the WSGI application on a few threads:
Python's lock lets one thread of a process run at a time, so a process per CPU uses every CPU,
and the threads overlap one request's waits (PostgreSQL, the SMS gateway) with another's work.
The password hashes run on one thread per process (``dancu.eid.passwords``), so no more hashes
run at once than there are CPUs. Workers that die are started again; SIGHUP restarts them one
after the other (a new release without dropping the listening socket).
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def split_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8000`` for IPv6) → (host, port); a clear error otherwise."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind {bind!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host.strip("[]"), int(port)


def run_server(bind: str, workers: int, threads: int, access_log: bool = False) -> None:
    from django.db import connections
    from granian import Granian
    from granian.constants import Interfaces

    host, port = split_bind(bind)
    # The workers are forked from this process: none may inherit a database connection.
    connections.close_all()
    Granian(
        "dancu.wsgi:application", interface=Interfaces.WSGI, address=host, port=port,
        workers=workers, blocking_threads=threads, respawn_failed_workers=True,
        workers_kill_timeout=30, log_access=access_log, websockets=False,
    ).serve()


def default_workers() -> int:
    return int(os.environ.get("DANCU_WORKERS", str(os.cpu_count() or 1)))


class Command(BaseCommand):
    help = "Serve the officer console and the JSON API with granian."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("DANCU_BIND", "127.0.0.1:8000"),
                            help="HOST:PORT (default 127.0.0.1:8000, or DANCU_BIND)")
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="worker processes (default: one per CPU, or DANCU_WORKERS)")
        parser.add_argument("--threads", type=int, default=int(os.environ.get("DANCU_THREADS", "4")),
                            help="request threads per worker (default 4, or DANCU_THREADS)")
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args: Any, **opts: Any) -> None:
        for name in ("workers", "threads"):
            if opts[name] < 1:
                raise CommandError(f"--{name} {opts[name]}: must be at least 1")
        split_bind(opts["bind"])
        self.stdout.write(f"dancu: serving on http://{opts['bind']}/ "
                          f"({opts['workers']} workers × {opts['threads']} threads)")
        run_server(opts["bind"], opts["workers"], opts["threads"], opts["access_log"])
