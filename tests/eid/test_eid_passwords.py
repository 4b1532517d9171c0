"""Citizen password hashing (dancu.eid.passwords): Argon2id on the process's hashing thread."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from dancu.eid import passwords
from tests.parallel import run_parallel

pytestmark = pytest.mark.usefixtures("fresh_hashing_pool")


@pytest.fixture
def fresh_hashing_pool():
    """Each test starts without a hashing thread (so it sees the settings it sets) and leaves none."""
    _shut_down()
    yield
    _shut_down()


def _shut_down() -> None:
    if passwords._pool is not None:
        passwords._pool.shutdown()
    passwords._forget_pool_after_fork()


class _WatchedHasher:
    """The real hasher, noting which thread runs each check and how many run at once."""

    def __init__(self) -> None:
        self.real = passwords.hasher()
        self.threads: set[str] = set()
        self.running = self.most = self.calls = 0
        self.lock = threading.Lock()

    def verify(self, stored: str, password: str) -> bool:
        with self.lock:
            self.threads.add(threading.current_thread().name)
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)  # long enough for the callers to pile up
            return self.real.verify(stored, password)
        finally:
            with self.lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return self.real.hash(password)


def test_hashes_run_one_at_a_time_on_the_hashing_thread_whoever_asks(monkeypatch) -> None:
    stored = passwords.hash_password("Hoa-sen-99x")
    watched = _WatchedHasher()
    monkeypatch.setattr(passwords, "hasher", lambda: watched)
    results: dict[int, bool] = {}
    errors = run_parallel(lambda i: results.__setitem__(
        i, passwords.verify_password(stored, "Hoa-sen-99x" if i % 2 else "wrong-password")), 6)
    assert errors == []
    assert results == {i: bool(i % 2) for i in range(6)}
    assert watched.most == 1
    assert len(watched.threads) == 1 and watched.threads.pop().startswith("dancu-argon2")


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="Linux names threads through /proc")
def test_the_hashing_thread_carries_its_name_for_the_operating_system() -> None:
    """top -H, ps -L and the benchmark find the hashing thread (and its CPU time) by this name."""
    passwords.verify_password("", "anything")
    names = {(Path("/proc/self/task") / tid / "comm").read_text().strip()
             for tid in os.listdir("/proc/self/task")}
    assert passwords.HASHING_THREAD in names


def test_more_hashing_threads_when_the_settings_ask(monkeypatch, settings) -> None:
    settings.DANCU_EID_HASH_THREADS = 2
    stored = passwords.hash_password("Hoa-sen-99x")
    watched = _WatchedHasher()
    monkeypatch.setattr(passwords, "hasher", lambda: watched)
    errors = run_parallel(lambda i: passwords.verify_password(stored, "Hoa-sen-99x"), 6)
    assert errors == [] and watched.most == 2 and len(watched.threads) == 2


def test_an_unknown_account_costs_a_real_check_on_the_same_thread(monkeypatch) -> None:
    watched = _WatchedHasher()
    monkeypatch.setattr(passwords, "hasher", lambda: watched)
    assert passwords.verify_password("", "anything") is False
    assert watched.calls == 1  # the dummy check
    assert passwords.verify_password("not-a-hash", "anything") is False
    assert watched.calls == 2
    assert len(watched.threads) == 1 and watched.threads.pop().startswith("dancu-argon2")


def test_a_hash_asked_for_on_the_hashing_thread_runs_there_at_once(monkeypatch, settings) -> None:
    """Code already on the hashing thread must not queue for it: with one thread it would wait
    for itself forever. (Two threads here, so that a broken guard shows as the nested hash
    running on the other thread instead of hanging the test.)"""
    settings.DANCU_EID_HASH_THREADS = 2
    watched = _WatchedHasher()
    monkeypatch.setattr(passwords, "hasher", lambda: watched)
    stored = watched.real.hash("Hoa-sen-99x")

    def outer() -> str:
        passwords.verify_password(stored, "Hoa-sen-99x")
        return threading.current_thread().name

    outer_thread = passwords._on_hashing_thread(outer)
    assert watched.threads == {outer_thread}


def test_after_the_executor_shuts_down_a_late_request_still_gets_its_answer() -> None:
    stored = passwords.hash_password("Hoa-sen-99x")
    passwords._pool.shutdown()  # as at interpreter exit, with a request still in flight
    assert passwords.verify_password(stored, "Hoa-sen-99x")


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")  # Python 3.12+: fork is the point
def test_a_forked_worker_gets_a_hashing_thread_of_its_own() -> None:
    """The server forks its workers: a child inherits the parent's executor but not its thread,
    and without a new one it would wait forever for its first login's hash."""
    stored = passwords.hash_password("Hoa-sen-99x")
    assert passwords.verify_password(stored, "Hoa-sen-99x")  # the parent's thread is running
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if its own check answers
        try:
            os._exit(0 if passwords.verify_password(stored, "Hoa-sen-99x") else 1)
        finally:
            os._exit(2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child's password check never answered")
