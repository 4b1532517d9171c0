"""Background work: tasks and periodic jobs (issue #12; docs/tasks.md).

- ``task`` is django-tasks' decorator, re-exported so every context imports it from one place:
  ``@task()`` on a module-level function, then ``my_task.enqueue(...)``. With the database
  backend the task row is written through the ORM, so a task enqueued inside
  ``transaction.atomic`` exists exactly when that transaction commits (rolled back → no task).
  Tasks must be idempotent: a worker killed mid-task leaves the task to be run again.
- ``periodic(name, every)`` registers a function without arguments that the worker runs once per
  period (state in a ``core.PeriodicJob`` row, claimed under a lock, so several workers still run
  it once). Each context registers its own jobs from its own module (imported by its
  ``AppConfig.ready``): core never imports another context.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django_tasks import task

__all__ = ["PeriodicSpec", "periodic", "periodic_jobs", "task"]


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    every: datetime.timedelta
    func: Callable[[], object]


_REGISTRY: dict[str, PeriodicSpec] = {}


def periodic(name: str, every: datetime.timedelta) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register ``func`` (no arguments) to run every ``every`` under the unique ``name``.

    Returns the function unchanged, so it stays callable directly (tests, management commands).
    Registering the same name twice with a different function is a programming error.
    """
    if not name or len(name) > 100:
        raise ValueError("periodic job name must be 1-100 characters")
    if every <= datetime.timedelta(0):
        raise ValueError("periodic job interval must be positive")

    def register(func: Callable[[], object]) -> Callable[[], object]:
        existing = _REGISTRY.get(name)
        qualname = f"{func.__module__}.{func.__qualname__}"
        if existing is not None:
            old = f"{existing.func.__module__}.{existing.func.__qualname__}"
            if old != qualname:
                raise ValueError(f"periodic job {name!r} already registered by {old}")
        _REGISTRY[name] = PeriodicSpec(name=name, every=every, func=func)
        return func

    return register


def periodic_jobs() -> dict[str, PeriodicSpec]:
    """Every registered periodic job by name (a copy)."""
    return dict(_REGISTRY)
