"""A `dancu population import` killed with SIGKILL cannot mark its batch: the next import (or
the daily housekeeping) marks it failed, with the people it committed, and audits it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dancu.audit.models import AuditEvent
from dancu.population.bulk import close_abandoned_batches, import_file
from dancu.population.generator import write_population
from dancu.population.models import Citizen, ImportBatch
from tests.factories import mini_geo
from tests.parallel import database_url
from tests.population.test_import_export import AS_OF, family_rows, write_csv

DANCU = [str(Path(sys.executable).parent / "dancu")]


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_is_marked_failed_and_audited(tmp_path) -> None:
    geo = mini_geo()
    big = tmp_path / "big.csv"
    write_population(big, size=40_000, seed=3, province=geo.thanh_hoa, as_of=AS_OF)
    env = {**os.environ, "DATABASE_URL": database_url(),
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([*DANCU, "population", "import", str(big), "--no-progress"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not Citizen.objects.exists():  # at least one chunk committed
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    batch = ImportBatch.objects.get()
    assert batch.status == "running" and batch.pid == proc.pid  # nobody could say otherwise
    committed = Citizen.objects.filter(import_batch=batch).count()
    assert 0 < committed < 40_000
    assert close_abandoned_batches() == [batch.pk]
    batch.refresh_from_db()
    assert batch.status == "failed" and batch.finished_at is not None
    assert batch.rows_created == committed
    event = AuditEvent.objects.get(action="population.import", subject_id=str(batch.pk))
    assert event.details["interrupted"] is True and event.details["created"] == committed
    assert event.source == "import" and event.source_ref == f"import_batch:{batch.pk}"
    assert close_abandoned_batches() == []  # once


@pytest.mark.django_db(transaction=True)
def test_the_next_import_closes_an_abandoned_batch_and_leaves_live_ones(tmp_path) -> None:
    geo = mini_geo()
    assert geo
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    gone = ImportBatch.objects.create(file_name="a.csv", file_sha256="0" * 64, started_at=now,
                                      host="elsewhere", pid=1, heartbeat_at=now - dt.timedelta(hours=7))
    busy = ImportBatch.objects.create(file_name="b.csv", file_sha256="0" * 64, started_at=now,
                                      host="elsewhere", pid=1, heartbeat_at=now - dt.timedelta(minutes=5))
    ours = ImportBatch.objects.create(file_name="c.csv", file_sha256="0" * 64, started_at=now,
                                      host=os.uname().nodename, pid=os.getpid(), heartbeat_at=now)
    write_csv(tmp_path / "in.csv", family_rows())
    assert import_file(tmp_path / "in.csv", progress=False, today=AS_OF).status == "done"
    status = dict(ImportBatch.objects.values_list("pk", "status"))
    assert (status[gone.pk], status[busy.pk], status[ours.pk]) == ("failed", "running", "running")
