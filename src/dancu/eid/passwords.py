"""Citizen passwords: Argon2id with the OWASP Password Storage Cheat Sheet's first setting
(m = 19 MiB, t = 2, p = 1), through argon2-cffi. Settings can raise them, never lower them
below OWASP's minimum in production.

Every hash and check runs on the process's hashing thread(s) (``DANCU_EID_HASH_THREADS``,
one by default), whichever request thread asks:

- glibc gives each thread its own heap, so a hash on the one hashing thread takes the same
  19 MiB block as the last one, still in the CPU's caches; spread over request threads, each
  hash walked a block of its own, cold (under granian, 2 workers × 4 threads, a login's
  overhead over the hash alone went from 50 %, 41 % with a one-at-a-time lock, to 29–31 %:
  docs/benchmarks.md, fourth session);
- at most one hash per process at a time (with one hashing thread): with as many worker
  processes as CPUs (``dancu serve``'s default) hashes do not time-slice against each other on
  a CPU, and a burst of logins queues for the thread instead of each request allocating its own
  19 MiB.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from django.conf import settings

OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1

T = TypeVar("T")


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=int(getattr(settings, "DANCU_EID_ARGON2_TIME_COST", OWASP_TIME_COST)),
        memory_cost=int(getattr(settings, "DANCU_EID_ARGON2_MEMORY_KIB", OWASP_MEMORY_KIB)),
        parallelism=OWASP_PARALLELISM, hash_len=32, salt_len=16, type=Type.ID,
    )


HASHING_THREAD = "dancu-argon2"  # also the operating system's name of the thread (top -H, /proc)


def _name_os_thread() -> None:
    # Linux lets a process name its threads through /proc; elsewhere the name stays Python's.
    with contextlib.suppress(OSError), \
            open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as comm:
        comm.write(HASHING_THREAD)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool_after_fork() -> None:
    # A forked worker (granian, multiprocessing) inherits the executor but not its thread:
    # submitting to it would wait forever. The child starts its own on first use.
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _on_hashing_thread(fn: Callable[..., T], *args: str) -> T:
    global _pool
    if threading.current_thread().name.startswith(HASHING_THREAD):
        return fn(*args)  # already there (waiting for itself would never end)
    pool = _pool
    if pool is None:
        with _pool_lock:
            if _pool is None:
                threads = max(1, int(getattr(settings, "DANCU_EID_HASH_THREADS", 1)))
                _pool = ThreadPoolExecutor(threads, thread_name_prefix=HASHING_THREAD,
                                           initializer=_name_os_thread)
            pool = _pool
    try:
        future = pool.submit(fn, *args)
    except RuntimeError:  # the interpreter is shutting down: a request still in flight hashes here
        return fn(*args)
    return future.result()


def hash_password(password: str) -> str:
    return _on_hashing_thread(hasher().hash, password)


# A real hash of a random password: verifying against it costs what a real check costs, so an
# unknown ID number takes as long to refuse as a wrong password (no account enumeration by time).
_DUMMY: list[str] = []


def _verify(stored: str, password: str) -> bool:
    if not stored:
        if not _DUMMY:
            _DUMMY.append(hasher().hash("dummy-password-for-timing"))
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher().verify(_DUMMY[0], password)
        return False
    try:
        return hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password(stored: str, password: str) -> bool:
    return _on_hashing_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    return hasher().check_needs_rehash(stored)
