"""The worker: runs ready tasks of django-tasks-db's table and due periodic jobs (docs/tasks.md).

Built on django-tasks-db's own ``Worker`` (its claim under ``SELECT … FOR UPDATE SKIP LOCKED`` /
an exclusive SQLite transaction, its ``run_task`` that records success or failure and sends
the signals). What it adds:

- **Recovery of lost tasks.** django-tasks-db marks a claimed task RUNNING and nothing ever looks
  at it again if the worker dies (kill -9, power loss, OOM). Each worker here keeps a heartbeat
  row (``core.WorkerHeartbeat``) fresh from a thread; any worker that finds a task RUNNING for
  longer than the lease under a worker that has not been seen for the lease puts it back to
  READY (conditional UPDATE: only once), so the next worker runs it again. After
  ``MAX_ATTEMPTS`` lost runs it is marked FAILED (``WorkerLost``) instead of killing workers
  forever. Tasks therefore run *at least once*: they must be idempotent.
- **Periodic jobs** (``dancu.core.tasks.periodic``), each claimed under a lease on its
  ``core.PeriodicJob`` row so that it runs once per period with any number of workers.
- ``run_until_idle()`` for tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Collection, Iterable, Iterator

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.db.utils import DatabaseError, OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DbWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from dancu.core.models import PeriodicJob, WorkerHeartbeat
from dancu.core.tasks import PeriodicSpec, periodic_jobs

log = logging.getLogger("dancu.worker")

HEARTBEAT_KEPT = dt.timedelta(days=1)  # a killed worker's heartbeat row is deleted after this
MAX_ATTEMPTS = 3  # a task lost with its worker this many times is failed, not run again
# Periods are aligned on local midnight of this day: a daily job is due at each local midnight,
# an hourly one at each full hour, a 5-minute one at :00, :05, …
_ANCHOR = dt.datetime(2000, 1, 3)


class WorkerLost(Exception):
    """The exception recorded on a task whose worker died under it ``MAX_ATTEMPTS`` times."""


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "DANCU_WORKER_LEASE_SECONDS", 30)))


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(8)}"


def next_slot(after: dt.datetime, every: dt.timedelta) -> dt.datetime:
    """The start of the period after the one holding ``after`` (periods aligned on local midnight)."""
    anchor = timezone.make_aware(_ANCHOR, timezone.get_current_timezone())
    elapsed = after - anchor
    return anchor + (elapsed // every + 1) * every


# --- lost tasks --------------------------------------------------------------------------------

def recover_lost_tasks(now: dt.datetime | None = None, backend_name: str = DEFAULT_TASK_BACKEND_ALIAS) -> int:
    """Tasks left RUNNING by a worker not seen for the lease go back to READY (or FAILED after
    ``MAX_ATTEMPTS``). Safe with several workers: each change is a conditional UPDATE on the
    task's status and start time. Returns how many tasks were recovered or failed."""
    now = now or timezone.now()
    stale_before = now - lease()
    WorkerHeartbeat.objects.filter(seen_at__lt=now - HEARTBEAT_KEPT).delete()  # long-dead workers
    candidates = list(DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, backend_name=backend_name,
                                                  started_at__lt=stale_before)
                      .values_list("pk", "worker_ids", "started_at")[:500])
    if not candidates:
        return 0
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=stale_before).values_list("worker_id", flat=True))
    changed = 0
    for pk, worker_ids, started_at in candidates:
        last = worker_ids[-1] if worker_ids else ""
        if last in alive:
            continue  # a long task of a live worker
        same = DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at)
        if len(worker_ids) >= MAX_ATTEMPTS:
            n = same.update(status=TaskResultStatus.FAILED, finished_at=now, return_value=None,
                            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                            traceback=f"WorkerLost: the worker died under this task {len(worker_ids)} "
                                      f"times (last {last}); not run again\n")
            if n:
                log.error("task %s failed: its worker died under it %d times", pk, len(worker_ids))
        else:
            n = same.update(status=TaskResultStatus.READY, started_at=None)
            if n:
                log.warning("task %s recovered from lost worker %s: ready again", pk, last)
        changed += n
    return changed


# --- periodic jobs -----------------------------------------------------------------------------

def ensure_periodic_rows(now: dt.datetime | None = None) -> None:
    """A row for every registered job; a new one is due at once (its first run catches up)."""
    now = now or timezone.now()
    specs = periodic_jobs()
    existing = set(PeriodicJob.objects.filter(name__in=specs).values_list("name", flat=True))
    missing = [PeriodicJob(name=s.name, every_seconds=int(s.every.total_seconds()), next_run_at=now)
               for s in specs.values() if s.name not in existing]
    if missing:
        PeriodicJob.objects.bulk_create(missing, ignore_conflicts=True)


def _claim_periodic(spec: PeriodicSpec, worker_id: str, now: dt.datetime) -> bool:
    """Take the job's lease if it is due as of ``now`` and nobody holds a live lease: True if this
    worker may run it. The lease is timed from the present (``now`` may be a while ago when an
    earlier job of the same round ran long; tests may pass a later ``now``)."""
    clock = max(now, timezone.now())
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=clock)
    due = PeriodicJob.objects.filter(free, name=spec.name, next_run_at__lte=now)
    until = clock + lease()
    if connection.features.has_select_for_update_skip_locked:  # PostgreSQL
        with transaction.atomic():
            job = due.select_for_update(skip_locked=True).first()
            if job is None:
                return False
            job.locked_by, job.locked_until = worker_id, until
            job.save(update_fields=["locked_by", "locked_until"])
            return True
    # SQLite: writes are serialised; the conditional UPDATE is the claim
    try:
        return due.update(locked_by=worker_id, locked_until=until) == 1
    except OperationalError as e:
        if is_locked_database_exception(e):
            return False
        raise


def run_periodic_job(spec: PeriodicSpec, worker_id: str, now: dt.datetime | None = None) -> bool:
    """Run ``spec`` if it is due and this worker wins its claim; True if it ran (even if it failed)."""
    now = now or timezone.now()
    if not _claim_periodic(spec, worker_id, now):
        return False
    started = timezone.now()
    status, error = "ok", ""
    try:
        spec.func()
    except Exception as exc:  # a job's failure is recorded and retried next period
        status, error = "failed", "".join(traceback.format_exception(exc))[-4000:]
        log.exception("periodic job %s failed", spec.name)
    finished = timezone.now()
    PeriodicJob.objects.filter(name=spec.name, locked_by=worker_id).update(
        locked_by="", locked_until=None, last_run_at=started, last_finished_at=finished,
        last_status=status, last_error=error, runs=F("runs") + 1,
        every_seconds=int(spec.every.total_seconds()), next_run_at=next_slot(max(now, started), spec.every))
    return True


def run_due_periodic_jobs(worker_id: str, now: dt.datetime | None = None,
                          only: Collection[str] | None = None) -> int:
    now = now or timezone.now()
    ensure_periodic_rows(now)
    specs = periodic_jobs()
    names = [n for n in PeriodicJob.objects.filter(name__in=specs, next_run_at__lte=now)
             .order_by("next_run_at").values_list("name", flat=True) if only is None or n in only]
    return sum(run_periodic_job(specs[n], worker_id, now) for n in names)


# --- the worker --------------------------------------------------------------------------------

class Worker(DbWorker):
    """django-tasks-db's worker with a heartbeat, lost-task recovery and periodic jobs."""

    def __init__(self, *, queue_names: list[str], interval: float = 1.0, until_idle: bool = False,
                 worker_id: str | None = None, backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
                 periodic: bool = True, max_tasks: int | None = None) -> None:
        super().__init__(queue_names=queue_names, interval=interval, batch=until_idle,
                         backend_name=backend_name, startup_delay=False, max_tasks=max_tasks,
                         worker_id=worker_id or new_worker_id(), excluded_queue_names=[])
        self.periodic = periodic
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._housekeeping_at = 0.0
        self._contended = False

    # heartbeat
    def beat(self) -> None:
        now = timezone.now()
        updated = WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(seen_at=now)
        if not updated:
            WorkerHeartbeat.objects.update_or_create(
                worker_id=self.worker_id,
                defaults={"host": socket.gethostname()[:255], "pid": os.getpid(), "started_at": now,
                          "seen_at": now, "queues": ",".join(self.queue_names)[:255]})
        # a long periodic job keeps its lease while its worker lives
        PeriodicJob.objects.filter(locked_by=self.worker_id).update(locked_until=now + lease())

    def _heartbeat_loop(self) -> None:
        period = max(lease().total_seconds() / 3, 0.2)
        try:
            while not self._stop.wait(period):
                try:
                    self.beat()
                except DatabaseError:
                    log.exception("worker heartbeat failed")
        finally:
            connection.close()

    def start_heartbeat(self) -> None:
        self.beat()
        self._heartbeat = threading.Thread(target=self._heartbeat_loop, name="dancu-heartbeat", daemon=True)
        self._heartbeat.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        with contextlib.suppress(DatabaseError):
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()

    def housekeeping(self, force: bool = False) -> int:
        """Lost tasks and due periodic jobs, at most once per ``interval`` unless ``force``:
        how many tasks were recovered plus how many jobs ran."""
        if not force and time.monotonic() < self._housekeeping_at:
            return 0
        self._housekeeping_at = time.monotonic() + max(self.interval, 1.0)
        done = recover_lost_tasks(backend_name=self.backend_name)
        if self.periodic:
            self.running_task = True  # a first SIGTERM lets the job finish, as it does a task
            try:
                done += run_due_periodic_jobs(self.worker_id)
            finally:
                self.running_task = False
        return done

    def claim_one(self) -> DBTaskResult | None:
        """django-tasks-db's claim: the first ready task, locked and marked RUNNING by this worker."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as e:
            if is_locked_database_exception(e):
                self._contended = True  # SQLite busy: another worker is claiming; try again
                return None
            raise

    def run(self) -> None:
        log.info("worker %s started, queues %s", self.worker_id, ",".join(self.queue_names))
        self.start_heartbeat()
        try:
            while self.running:
                close_old_connections()
                self._contended = False
                ran = self.housekeeping()
                task_result = self.claim_one()
                if task_result is not None:
                    self.run_task(task_result)
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    return
                if task_result is None and not ran and not self._contended:
                    if self.batch:
                        if self.housekeeping(force=True):
                            continue
                        return  # --until-idle: nothing ready, nothing due, nothing to recover
                    if self.running:
                        time.sleep(self.interval)
        finally:
            self.stop_heartbeat()


def run_until_idle(*, queues: Iterable[str] = ("*",), periodic: bool | Collection[str] = True,
                   now: dt.datetime | None = None, limit: int = 10_000) -> int:
    """Tests: run every ready task and every due periodic job in this process until none is
    left; returns how many ran. ``periodic=False`` skips the periodic jobs, a collection of names
    runs only those; ``now`` decides which jobs are due (default: the present)."""
    worker = Worker(queue_names=list(queues), until_idle=True, periodic=False,
                    worker_id=f"inprocess-{get_random_string(8)}")
    only = None if periodic is True else (set() if periodic is False else set(periodic))
    count = 0
    while count < limit:
        ran = 0
        if only is None or only:
            ran += run_due_periodic_jobs(worker.worker_id, now, only)
        task_result = worker.claim_one()
        if task_result is not None:
            worker.run_task(task_result)
            ran += 1
        if not ran:
            return count
        count += ran
    return count


__all__ = [
    "MAX_ATTEMPTS",
    "Worker",
    "WorkerLost",
    "next_slot",
    "recover_lost_tasks",
    "run_due_periodic_jobs",
    "run_until_idle",
    "worker_beside",
    "workers_seen",
]


# --- a worker beside a server (dancu demo) and the server's check -------------------------------

def workers_seen(within: dt.timedelta | None = None) -> int:
    """How many workers have beaten within ``within`` (default: twice the lease)."""
    since = timezone.now() - (within or 2 * lease())
    return WorkerHeartbeat.objects.filter(seen_at__gte=since).count()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the worker gets SIGTERM when the process that started it dies (even by SIGKILL)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def worker_beside(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``dancu worker *args`` in a child process for the duration of the block (``dancu
    demo``): stopped with SIGTERM (its current task finishes first) when the block ends."""
    with command_beside("worker", *args) as child:
        yield child


@contextlib.contextmanager
def command_beside(*argv: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``dancu *argv`` in a child process for the duration of the block (the demo's worker
    and sandbox payment gateway): SIGTERM when the block ends (SIGKILL after 30 s), and on Linux
    SIGTERM too if this process dies."""
    child = subprocess.Popen([sys.executable, "-m", "dancu.cli", *argv],
                             preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
