"""core's own tables: the state of background work (docs/tasks.md).

The task rows themselves are django-tasks-db's (``django_tasks_db.DBTaskResult``); these two
tables add what it does not have: the schedule of periodic jobs, and the workers' heartbeats
(the lease that lets a task left RUNNING by a killed worker be picked up again)."""

from __future__ import annotations

from django.db import models


class PeriodicJob(models.Model):
    """One registered periodic job (``dancu.core.tasks.periodic``): when it ran and is next due.

    A worker claims a due job by taking its lease (``locked_by``/``locked_until``) under a row
    lock (PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED``) or a conditional UPDATE (SQLite), so it
    runs once per period however many workers there are. A lease whose worker died expires and
    the job is claimed again."""

    name = models.CharField(max_length=100, primary_key=True)
    every_seconds = models.PositiveIntegerField(default=0)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=10, blank=True, default="")  # "ok" | "failed"
    last_error = models.TextField(blank=True, default="")
    runs = models.PositiveIntegerField(default=0)
    locked_by = models.CharField(max_length=64, blank=True, default="")
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class WorkerHeartbeat(models.Model):
    """A running worker (``dancu worker``): refreshed every few seconds by its heartbeat thread.
    A RUNNING task whose worker has not been seen for the lease is ready again."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=255, default="default")
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id
