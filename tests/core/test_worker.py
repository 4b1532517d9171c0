"""Background work (docs/tasks.md): tasks on django-tasks' database backend run by `dancu worker`,
the transaction guarantee, recovery of a task whose worker was killed with SIGKILL, and periodic
jobs that run once per period however many workers there are."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dancu.core import tasks as core_tasks
from dancu.core.models import PeriodicJob, WorkerHeartbeat
from dancu.core.tasks import PeriodicSpec, periodic, periodic_jobs
from dancu.core.worker import (
    MAX_ATTEMPTS,
    WorkerLost,
    next_slot,
    recover_lost_tasks,
    run_periodic_job,
    run_until_idle,
)
from tests.core import worker_tasks
from tests.parallel import database_url, run_parallel

DANCU = [str(Path(sys.executable).parent / "dancu")]
ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url(),
            "PYTHONPATH": os.pathsep.join([str(ROOT), *(p for p in sys.path if p)]), **extra}


@pytest.fixture
def job(monkeypatch):
    """A periodic job registered for one test only, counting its runs."""
    calls: list[int] = []

    def count() -> None:
        calls.append(1)

    spec = PeriodicSpec(name="tests.count", every=dt.timedelta(hours=1), func=count)
    monkeypatch.setitem(core_tasks._REGISTRY, spec.name, spec)
    return spec, calls


# --- tasks run in process (run_until_idle) ------------------------------------------------------

@pytest.mark.django_db
def test_run_until_idle_runs_every_ready_task_and_records_the_outcome() -> None:
    results = [worker_tasks.add.enqueue(i, 1) for i in range(3)]
    failing = worker_tasks.fail.enqueue()
    later = worker_tasks.add.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue(9, 9)
    assert run_until_idle(periodic=False) == 4
    for i, result in enumerate(results):
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == i + 1
    failing.refresh()
    assert failing.status == TaskResultStatus.FAILED
    assert failing.errors[0].exception_class_path == "builtins.ValueError"
    later.refresh()
    assert later.status == TaskResultStatus.READY  # not due yet
    assert run_until_idle(periodic=False) == 0


# --- the transaction guarantee ------------------------------------------------------------------

class _Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_transaction_exists_exactly_when_it_commits() -> None:
    """django-tasks-db writes the task row with the ORM on the same connection: rolled back with
    the transaction, committed with it — no enqueue_on_commit needed (real commits, not a test
    transaction; run on SQLite and PostgreSQL)."""
    with pytest.raises(_Rollback), transaction.atomic():
        rolled_back = worker_tasks.add.enqueue(1, 2)
        assert DBTaskResult.objects.filter(pk=rolled_back.id).exists()  # visible inside
        raise _Rollback
    assert not DBTaskResult.objects.filter(pk=rolled_back.id).exists()
    assert run_until_idle(periodic=False) == 0

    with transaction.atomic():
        committed = worker_tasks.add.enqueue(2, 3)
    assert DBTaskResult.objects.filter(pk=committed.id, status=TaskResultStatus.READY).exists()
    assert run_until_idle(periodic=False) == 1
    committed.refresh()
    assert committed.return_value == 5


@pytest.mark.django_db(transaction=True)
def test_a_task_is_invisible_to_a_worker_until_its_transaction_commits() -> None:
    """A worker (another connection) cannot take the task before the enqueuing transaction
    commits, so it never runs on data that is not there yet."""
    seen: list[int] = []
    with transaction.atomic():
        worker_tasks.add.enqueue(1, 1)
        assert run_parallel(lambda i: seen.append(
            DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()), 1) == []
    assert seen == [0]
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


# --- lost tasks ---------------------------------------------------------------------------------

def _running(worker_ids: list[str], started: dt.datetime) -> DBTaskResult:
    result = worker_tasks.add.enqueue(1, 1)
    DBTaskResult.objects.filter(pk=result.id).update(status=TaskResultStatus.RUNNING,
                                                     worker_ids=worker_ids, started_at=started)
    return DBTaskResult.objects.get(pk=result.id)


@pytest.mark.django_db
def test_a_task_of_a_dead_worker_is_ready_again_and_a_live_workers_is_left_alone() -> None:
    now = timezone.now()
    long_ago = now - dt.timedelta(minutes=10)
    lost = _running(["dead-1"], long_ago)
    alive = _running(["alive-1"], long_ago)
    fresh = _running(["dead-2"], now)  # started within the lease: its worker may not have beaten yet
    WorkerHeartbeat.objects.create(worker_id="alive-1", host="h", pid=1, started_at=long_ago, seen_at=now)
    assert recover_lost_tasks(now) == 1
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == TaskResultStatus.READY
    assert statuses[alive.pk] == statuses[fresh.pk] == TaskResultStatus.RUNNING
    assert recover_lost_tasks(now) == 0  # once
    assert run_until_idle(periodic=False) == 1
    assert DBTaskResult.objects.get(pk=lost.pk).status == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db
def test_a_task_that_killed_its_worker_too_often_is_failed_not_run_again() -> None:
    now = timezone.now()
    doomed = _running([f"dead-{i}" for i in range(MAX_ATTEMPTS)], now - dt.timedelta(minutes=10))
    assert recover_lost_tasks(now) == 1
    doomed.refresh_from_db()
    assert doomed.status == TaskResultStatus.FAILED
    assert doomed.exception_class_path == f"{WorkerLost.__module__}.WorkerLost"
    assert run_until_idle(periodic=False) == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_leaves_it_to_the_next_worker(tmp_path) -> None:
    """Real processes: the first worker takes the task and is killed with SIGKILL in the middle;
    the task stays RUNNING (nobody could say otherwise) until the lease runs out, then the next
    worker runs it again to success."""
    marker = tmp_path / "starts"
    result = worker_tasks.slow_once.enqueue(str(marker), 120)
    env = _env(DANCU_WORKER_LEASE_SECONDS="2")
    first = subprocess.Popen([*DANCU, "worker", "--no-periodic", "--interval", "0.1"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and "start" in marker.read_text()):
            assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
            assert time.monotonic() < deadline, "the first worker never started the task"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        if first.stderr:
            first.stderr.close()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.RUNNING and len(row.worker_ids) == 1
    second = subprocess.Popen([*DANCU, "worker", "--no-periodic", "--interval", "0.2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while DBTaskResult.objects.get(pk=result.id).status != TaskResultStatus.SUCCESSFUL:
            assert second.poll() is None, second.stderr.read().decode() if second.stderr else ""
            assert time.monotonic() < deadline, "the task was not recovered"
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0  # a graceful stop
        if second.stderr:
            second.stderr.close()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.return_value == 2 and marker.read_text().count("start") == 2  # run twice: idempotent
    assert len(row.worker_ids) == 2 and row.worker_ids[0] != row.worker_ids[1]
    assert not WorkerHeartbeat.objects.exclude(worker_id=row.worker_ids[0]).exists()  # 2nd signed off


# --- the command --------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_dancu_worker_until_idle_runs_the_queue_and_exits(job) -> None:
    _spec, calls = job
    worker_tasks.add.enqueue(20, 22)
    worker_tasks.add.using(queue_name="bulk").enqueue(1, 1)
    call_command("worker", "--until-idle", "--verbosity", "0")
    # Only this test's task (the project's own periodic jobs, due too, may enqueue theirs).
    assert list(DBTaskResult.objects.filter(queue_name="default", task_path=worker_tasks.add.module_path)
                .values_list("status", "return_value")) == [(TaskResultStatus.SUCCESSFUL, 42)]
    assert DBTaskResult.objects.get(queue_name="bulk").status == TaskResultStatus.READY
    assert calls == [1]  # the due periodic job too
    call_command("worker", "--until-idle", "--queue", "bulk", "--no-periodic", "--verbosity", "0")
    assert DBTaskResult.objects.get(queue_name="bulk").status == TaskResultStatus.SUCCESSFUL
    assert not WorkerHeartbeat.objects.exists()  # each worker signed off
    assert calls == [1]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_dancu_worker_concurrency_runs_the_queue_in_several_processes() -> None:
    for i in range(20):
        worker_tasks.add.enqueue(i, 0)
    done = subprocess.run([*DANCU, "worker", "--until-idle", "--concurrency", "2", "--no-periodic"],
                          env=_env(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    rows = DBTaskResult.objects.all()
    assert {r.status for r in rows} == {TaskResultStatus.SUCCESSFUL}
    assert sorted(r.return_value for r in rows) == list(range(20))
    assert all(len(r.worker_ids) == 1 for r in rows)  # each task ran once


def test_the_worker_command_documents_every_option() -> None:
    done = subprocess.run([*DANCU, "worker", "--help"], env=_env(), capture_output=True, timeout=60)
    out = done.stdout.decode()
    for option in ("--until-idle", "--concurrency", "--queue", "--interval", "--no-periodic",
                   "--max-tasks", "--worker-id"):
        assert option in out
    refused = subprocess.run([*DANCU, "worker", "--concurrency", "0"], env=_env(), capture_output=True,
                             timeout=60)
    assert refused.returncode != 0 and b"--concurrency" in refused.stderr
    assert b"Traceback" not in refused.stderr


# --- periodic jobs ------------------------------------------------------------------------------

def test_periods_are_aligned_on_local_midnight() -> None:
    tz = timezone.get_current_timezone()
    at = timezone.make_aware(dt.datetime(2026, 12, 6, 13, 7, 5), tz)
    assert next_slot(at, dt.timedelta(days=1)) == timezone.make_aware(dt.datetime(2026, 12, 7), tz)
    assert next_slot(at, dt.timedelta(hours=1)) == timezone.make_aware(dt.datetime(2026, 12, 6, 14), tz)
    assert next_slot(at, dt.timedelta(minutes=5)) == timezone.make_aware(dt.datetime(2026, 12, 6, 13, 10), tz)


def test_the_contexts_register_their_housekeeping_as_periodic_jobs() -> None:
    jobs = periodic_jobs()
    assert jobs["residence.apply_expiries"].every == dt.timedelta(days=1)
    assert jobs["population.close_abandoned_batches"].every == dt.timedelta(hours=1)
    assert jobs["oidc.prune"].every == dt.timedelta(days=1)


def test_periodic_refuses_a_name_taken_by_another_function_and_bad_intervals(monkeypatch) -> None:
    monkeypatch.setattr(core_tasks, "_REGISTRY", dict(core_tasks._REGISTRY))
    with pytest.raises(ValueError, match="already registered"):
        periodic("residence.apply_expiries", dt.timedelta(days=1))(lambda: None)
    with pytest.raises(ValueError, match="positive"):
        periodic("tests.zero", dt.timedelta(0))
    with pytest.raises(ValueError, match="1-100"):
        periodic("", dt.timedelta(hours=1))


@pytest.mark.django_db
def test_a_periodic_job_runs_once_per_period(job) -> None:
    spec, calls = job
    assert run_until_idle(periodic=[spec.name]) == 1  # a new job is due at once
    row = PeriodicJob.objects.get(name=spec.name)
    assert row.last_status == "ok" and row.runs == 1 and not row.locked_by and row.locked_until is None
    assert row.next_run_at == next_slot(row.last_run_at, spec.every)
    assert run_until_idle(periodic=[spec.name]) == 0  # not again within the hour
    assert calls == [1]
    assert run_until_idle(periodic=[spec.name], now=row.next_run_at) == 1  # the next period
    assert calls == [1, 1]


@pytest.mark.django_db
def test_a_failing_periodic_job_is_recorded_and_tried_next_period(monkeypatch) -> None:
    def broken() -> None:
        raise RuntimeError("gateway down")

    spec = PeriodicSpec(name="tests.broken", every=dt.timedelta(minutes=5), func=broken)
    monkeypatch.setitem(core_tasks._REGISTRY, spec.name, spec)
    assert run_until_idle(periodic=[spec.name]) == 1
    row = PeriodicJob.objects.get(name=spec.name)
    assert row.last_status == "failed" and "gateway down" in row.last_error
    assert row.next_run_at > timezone.now() and not row.locked_by


@pytest.mark.django_db(transaction=True)
def test_several_workers_run_a_due_job_once(job) -> None:
    spec, calls = job
    now = timezone.now()
    PeriodicJob.objects.create(name=spec.name, next_run_at=now - dt.timedelta(seconds=1))
    won: list[bool] = []
    assert run_parallel(lambda i: won.append(run_periodic_job(spec, f"w{i}", now)), 4) == []
    assert sorted(won) == [False, False, False, True] and calls == [1]
    assert PeriodicJob.objects.get(name=spec.name).runs == 1


@pytest.mark.django_db
def test_a_periodic_job_whose_worker_died_is_claimed_again_after_the_lease(job) -> None:
    spec, calls = job
    now = timezone.now()
    PeriodicJob.objects.create(name=spec.name, next_run_at=now - dt.timedelta(minutes=1),
                               locked_by="dead", locked_until=now + dt.timedelta(seconds=5))
    assert run_periodic_job(spec, "w1", now) is False  # the lease still holds
    assert run_periodic_job(spec, "w1", now + dt.timedelta(seconds=6)) is True
    assert calls == [1]


# --- beside the server --------------------------------------------------------------------------

def _wait_for_http(port: int, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server stopped"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server never listened")


def _children(pid: int) -> dict[int, str]:
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)],
                         capture_output=True, text=True)
    return {int(line.split(None, 1)[0]): line.split(None, 1)[1] for line in out.stdout.splitlines()}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_serve_warns_when_no_worker_has_been_seen() -> None:
    def serve_stderr(port: int) -> str:
        server = subprocess.Popen([*DANCU, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                                  env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_http(port, server)
        finally:
            server.terminate()
            _out, err = server.communicate(timeout=30)
        return err

    assert "dancu worker" in serve_stderr(18152)
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="w", host="h", pid=1, started_at=now, seen_at=now)
    assert "dancu worker" not in serve_stderr(18153)


@pytest.mark.slow
def test_demo_runs_a_worker_and_the_stand_ins_beside_the_server_and_stops_them(tmp_path) -> None:
    """The stand-ins on the ports given (``--gateway-port``, ``--agency-port``); the worker quiet
    (its tasks run, none is printed); SIGTERM to the demo alone (not Ctrl+C, which signals the
    whole process group) stops the server and every child within seconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DANCU_ENV")}
    env.update(DANCU_DATA_DIR=str(tmp_path), PYTHONPATH=_env()["PYTHONPATH"])
    demo = subprocess.Popen([*DANCU, "demo", "--size", "200", "--workers", "1", "--bind", "127.0.0.1:18554",
                             "--gateway-port", "18555", "--agency-port", "18556"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_http(18554, demo, 600)
        _wait_for_http(18555, demo, 60)  # the sandbox gateway answers on its own port
        _wait_for_http(18556, demo, 60)  # so does the social-insurance stand-in
        children = _children(demo.pid)
        workers = [pid for pid, args in children.items() if "worker" in args.split()]
        gateways = [pid for pid, args in children.items() if "gateway" in args.split()]
        agencies = [pid for pid, args in children.items() if "agency" in args.split()]
        assert len(workers) == 1 and len(gateways) == 1 and len(agencies) == 1, children
        assert "--ipn-url http://127.0.0.1:18554/payments/ipn" in children[gateways[0]]
        assert "--verbosity 0" in children[workers[0]]
        deadline = time.monotonic() + 120
        while not _tasks_done(tmp_path / "dancu.sqlite3") and time.monotonic() < deadline:
            time.sleep(0.5)  # the worker has run tasks (its first round: the data-quality recounts)
        assert _tasks_done(tmp_path / "dancu.sqlite3")
    finally:
        stopped = time.monotonic()
        demo.send_signal(signal.SIGTERM)
        out, err = demo.communicate(timeout=60)
    while any(_alive(pid) for pid in children) and time.monotonic() < stopped + 15:
        time.sleep(0.1)
    took = time.monotonic() - stopped
    assert not any(_alive(pid) for pid in children), (children, err)
    assert took < 15, f"{took:.1f} s"  # the worker's current task finishes first (10 s at most)
    assert "✓ Cổng thanh toán thử nghiệm: http://127.0.0.1:18555" in out, out
    assert "--verbose để xem từng tác vụ" in " ".join(out.split()), out
    assert "Task id=" not in err and "django_tasks INFO" not in err, err  # quiet by default


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _tasks_done(db: Path) -> int:
    import sqlite3

    with contextlib.closing(sqlite3.connect(db, timeout=10)) as con:
        return con.execute("SELECT COUNT(*) FROM django_tasks_database_dbtaskresult "
                           "WHERE status = 'SUCCESSFUL'").fetchone()[0]


@pytest.mark.django_db
def test_the_hourly_and_daily_housekeeping_jobs_do_their_work() -> None:
    """The jobs moved onto the worker still do what they did: an import killed on another host
    is closed (hourly), past eKYC rate windows are pruned (daily)."""
    from dancu.oidc.models import RateWindow
    from dancu.population.models import ImportBatch

    now = timezone.now()
    gone = ImportBatch.objects.create(file_name="a.csv", file_sha256="0" * 64, started_at=now,
                                      host="elsewhere", pid=1, heartbeat_at=now - dt.timedelta(hours=7))
    RateWindow.objects.create(client_id="rp", window=int(now.timestamp() // 60) - 10, count=3)
    jobs = ["population.close_abandoned_batches", "oidc.prune"]
    assert run_until_idle(periodic=jobs) == 2
    gone.refresh_from_db()
    assert gone.status == "failed"
    assert not RateWindow.objects.exists()
    assert set(PeriodicJob.objects.filter(name__in=jobs).values_list("last_status", flat=True)) == {"ok"}


@pytest.mark.django_db
def test_a_periodic_lease_is_timed_from_the_present_not_from_the_round(job) -> None:
    """A round of due jobs started ten minutes ago (an earlier job ran long): the next job's
    lease still runs from now, so no other worker can take it while it runs."""
    from dancu.core.worker import _claim_periodic

    spec, _calls = job
    round_start = timezone.now() - dt.timedelta(minutes=10)
    PeriodicJob.objects.create(name=spec.name, next_run_at=round_start - dt.timedelta(minutes=1))
    assert _claim_periodic(spec, "w1", round_start)
    assert PeriodicJob.objects.get(name=spec.name).locked_until > timezone.now()
    assert not _claim_periodic(spec, "w2", timezone.now())
