"""``dancu worker``: run background tasks and periodic jobs (docs/tasks.md).

One process runs one task at a time (django-tasks-db's worker with dancu's heartbeat, lost-task
recovery and periodic jobs, ``dancu.core.worker``). ``--concurrency N`` starts N such processes
and supervises them: a child that dies is started again, SIGTERM/SIGINT stop them all (each
finishes its current task first). Run as many workers on as many machines as you like: tasks
are claimed under a row lock, periodic jobs under a lease.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from argparse import ArgumentTypeError
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tasks import DEFAULT_TASK_QUEUE_NAME

from dancu.core.worker import Worker


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise ArgumentTypeError("must be 1 or more")
    return n


def _interval(value: str) -> float:
    n = float(value)
    if not 0 < n <= 3600:
        raise ArgumentTypeError("must be more than 0 and at most 3600 seconds")
    return n


class Command(BaseCommand):
    help = ("Run background tasks (django-tasks database backend) and due periodic jobs; "
            "a task left by a killed worker is run again by the next one.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--until-idle", action="store_true",
                            help="run every ready task and due periodic job, then exit "
                                 "(default: keep running and wait for new work)")
        parser.add_argument("--concurrency", type=_positive, default=1,
                            help="worker processes to run side by side, each one task at a time "
                                 "(default 1)")
        parser.add_argument("--queue", action="append", dest="queues", metavar="NAME",
                            help="a queue to take tasks from; repeat for several, '*' for all "
                                 f"(default {DEFAULT_TASK_QUEUE_NAME!r})")
        parser.add_argument("--interval", type=_interval, default=1.0,
                            help="seconds to wait when there is nothing to do (default 1)")
        parser.add_argument("--no-periodic", action="store_true",
                            help="run tasks only, not periodic jobs (another worker runs them)")
        parser.add_argument("--max-tasks", type=_positive, default=None,
                            help="exit after this many tasks (a supervisor starts a fresh process)")
        parser.add_argument("--worker-id", default=None,
                            help="unique id of this worker (default: host-pid-random)")

    def handle(self, *args: Any, **opts: Any) -> None:
        self._configure_logging(opts["verbosity"])
        queues = opts["queues"] or [DEFAULT_TASK_QUEUE_NAME]
        if opts["concurrency"] > 1:
            self._supervise(opts, queues)
            return
        worker = Worker(queue_names=queues, interval=opts["interval"], until_idle=opts["until_idle"],
                        worker_id=opts["worker_id"], periodic=not opts["no_periodic"],
                        max_tasks=opts["max_tasks"])
        worker.configure_signals()
        worker.run()

    def _configure_logging(self, verbosity: int) -> None:
        level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
        for name in ("dancu.worker", "django_tasks", "django_tasks_db"):
            logger = logging.getLogger(name)
            logger.setLevel(level)
            if not logger.handlers:
                handler = logging.StreamHandler(self.stderr._out)
                handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
                logger.addHandler(handler)
                logger.propagate = False

    def _supervise(self, opts: dict[str, Any], queues: list[str]) -> None:
        argv = [sys.executable, "-m", "dancu.cli", "worker", "--concurrency", "1",
                "--interval", str(opts["interval"]), "--verbosity", str(opts["verbosity"])]
        for queue in queues:
            argv += ["--queue", queue]
        for flag in ("until_idle", "no_periodic"):
            if opts[flag]:
                argv.append("--" + flag.replace("_", "-"))
        if opts["max_tasks"]:
            argv += ["--max-tasks", str(opts["max_tasks"])]
        children = [subprocess.Popen(argv) for _ in range(opts["concurrency"])]
        stopping = False

        def stop(signum: int, _frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True
            for child in children:
                if child.poll() is None:
                    child.send_signal(signum)

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop)
        while True:
            alive = False
            for i, child in enumerate(children):
                code = child.poll()
                if code is None:
                    alive = True
                elif not stopping and not opts["until_idle"] and not opts["max_tasks"] and code != 0:
                    self.stderr.write(f"worker process {child.pid} exited with {code}; starting another")
                    children[i] = subprocess.Popen(argv)
                    alive = True
            if not alive:
                return
            time.sleep(0.2)
