"""Real concurrent writers: threads with their own database connections.

On PostgreSQL (CI's second pass) writers really overlap and the UNIQUE constraints decide;
on SQLite they queue behind the write lock. Both must end with every number distinct."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from dancu.population import services
from dancu.population.models import Citizen
from dancu.residence import services as residence
from dancu.residence.models import Household
from tests.factories import citizen_raw, mini_geo, officer_actor
from tests.parallel import run_parallel

WRITERS = 6
PER_WRITER = 5


def _run_parallel(work) -> list[BaseException]:
    return run_parallel(work, WRITERS)


@pytest.mark.django_db(transaction=True)
def test_parallel_id_allocation_never_duplicates() -> None:
    geo = mini_geo()
    actor = officer_actor("ca.song.song", "commune_police", geo.hac_thanh)
    # A deliberately tiny serial space forces collisions between the writers.
    space = list(range(WRITERS * PER_WRITER * 2))

    def work(i: int) -> None:
        rng = random.Random(i)
        for _ in range(PER_WRITER):
            services.register_citizen(actor, citizen_raw(), commune=geo.hac_thanh, reason="x",
                                      serial_source=lambda: rng.choice(space))

    errors = _run_parallel(work)
    assert errors == []
    ids = list(Citizen.objects.values_list("personal_id", flat=True))
    assert len(ids) == WRITERS * PER_WRITER == len(set(ids))
    assert all(pid.startswith("038190") for pid in ids)


@pytest.mark.django_db(transaction=True)
def test_parallel_household_founding_gets_distinct_numbers() -> None:
    geo = mini_geo()
    actor = officer_actor("ca.ho.khau", "commune_police", geo.hac_thanh)

    def work(i: int) -> None:
        for j in range(PER_WRITER):
            residence.register_new_resident(
                actor, citizen_raw(full_name=f"Người Thứ {'abcdefgh'[i]}{'abcdefgh'[j]}"),
                commune=geo.hac_thanh, address=f"{i}/{j} Lê Lợi", started_on=dt.date(2026, 1, 1),
                reason="x")

    errors = _run_parallel(work)
    assert errors == []
    numbers = list(Household.objects.values_list("number", flat=True))
    assert len(numbers) == WRITERS * PER_WRITER == len(set(numbers))


@pytest.mark.django_db(transaction=True)
def test_parallel_household_founding_is_never_refused() -> None:
    """8 writers found households in one commune where an imported number sits ahead of the
    others: every registration succeeds (numbers come from the commune's counter row)."""
    geo = mini_geo()
    actor = officer_actor("ca.ho.khau", "commune_police", geo.hac_thanh)
    first = residence.register_new_resident(actor, citizen_raw(full_name="Người Đầu Tiên"),
                                            commune=geo.hac_thanh, address="1 Lê Lợi",
                                            started_on=dt.date(2026, 1, 1), reason="x")
    Household.objects.create(number=f"{geo.hac_thanh.code}-000004", commune=geo.hac_thanh,
                             address="2 Lê Lợi", head=first.citizen, created_at=first.created_at)
    writers, per_writer = 8, 4

    def work(i: int) -> None:
        for j in range(per_writer):
            residence.register_new_resident(
                actor, citizen_raw(full_name=f"Người Thứ {'abcdefgh'[i]}{'abcdefgh'[j]}"),
                commune=geo.hac_thanh, address=f"{i}/{j} Lê Lợi", started_on=dt.date(2026, 1, 1),
                reason="x")

    assert run_parallel(work, writers) == []
    numbers = sorted(Household.objects.values_list("number", flat=True))
    assert len(numbers) == 2 + writers * per_writer == len(set(numbers))
    assert numbers[-1] == f"{geo.hac_thanh.code}-{2 + writers * per_writer:06d}"  # no gap lost


@pytest.mark.django_db(transaction=True)
def test_parallel_expiry_runs_move_and_audit_each_person_once() -> None:
    """Several processes' first requests of the day sweep at once: each person once."""
    from dancu.audit.models import AuditEvent
    from dancu.residence.models import Registration

    geo = mini_geo()
    actor = officer_actor("ca.bo", "ministry_admin", None)
    today = timezone.localdate()
    people = []
    for i in range(5):
        reg = residence.register_new_resident(actor, citizen_raw(full_name=f"Người Tạm Trú {'abcde'[i]}"),
                                              commune=geo.hac_thanh, address="1 Lê Lợi",
                                              started_on=dt.date(2020, 1, 1), reason="x")
        residence.register_temporary(actor, reg.citizen.personal_id, commune=geo.hong_ha,
                                     address="2 Hàng Bài", started_on=today - dt.timedelta(days=30),
                                     expires_on=today + dt.timedelta(days=30), reason="x")
        people.append(reg.citizen.pk)
    later = today + dt.timedelta(days=31)
    moved: list[int] = []
    assert run_parallel(lambda i: moved.append(residence.apply_expiries(later)), 4) == []
    assert sum(moved) == 5
    assert AuditEvent.objects.filter(action="residence.expire").count() == 5
    assert set(Citizen.objects.filter(pk__in=people).values_list("current_commune", flat=True)) == {
        geo.hac_thanh.pk}
    assert Registration.objects.filter(kind="temporary", ended_on__isnull=True).count() == 5
