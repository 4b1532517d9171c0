"""The tallies are counted in each transition's transaction, agree exactly with a
recomputation from the raw events after a mixed workload through the real services, catch a
corrupted row, are rebuilt, and stay exact under concurrent writers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Sum

from dancu.core.errors import DomainError
from dancu.kpi import selectors
from dancu.kpi import services as kpi
from dancu.kpi.models import COUNTERS, DossierTally
from dancu.payments.models import Payment
from dancu.payments.signals import payment_succeeded
from dancu.publicservices import services
from dancu.publicservices.models import Channel, Dossier
from tests.parallel import run_parallel
from tests.publicservices.conftest import as_citizen, today, upload

pytestmark = pytest.mark.django_db


def _confirmation(world, who=None):
    person = who or world.alice
    return services.submit(
        as_citizen(person),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=person.personal_id,
        data={"purpose": "Xin việc"},
    )


def _id_card(world, components, channel=Channel.ONLINE):
    actor = as_citizen(world.alice) if channel == Channel.ONLINE else world.counter
    return services.submit(
        actor,
        procedure_code="cap-lai-the-can-cuoc",
        applicant_personal_id=world.alice.personal_id,
        data={"reason": "damaged"},
        components=components,
        channel=channel,
    )


def totals() -> dict[str, int]:
    agg = DossierTally.objects.aggregate(**{c: Sum(c) for c in COUNTERS})
    return {c: agg[c] or 0 for c in COUNTERS}


def mixed_workload(world) -> dict[str, Dossier]:
    """Online and counter submissions, accept, supplement, approve on time and late, refuse,
    withdraw, pay online and at the counter, rate and change a rating."""
    alice = as_citizen(world.alice)
    d1 = _confirmation(world)
    services.accept(world.police, d1.code)
    services.approve(world.police, d1.code)
    services.rate(alice, d1.code, 5)
    services.rate(alice, d1.code, 3)  # changed: the sum moves by -2, no longer satisfied

    stored = upload(world.alice, "photo")
    d2 = _id_card(world, {"photo": stored.code})  # a reuse of a stored document
    paid = Payment(reference=d2.code, amount_vnd=d2.fee_vnd, txn_ref="T1")
    payment_succeeded.send(sender=Payment, payment=paid)  # the gateway's success
    services.accept(world.police, d2.code)
    services.approve(world.police, d2.code)
    services.rate(alice, d2.code, 4)

    from dancu.documents import services as documents
    from tests.publicservices.conftest import PDF

    scan = documents.store_upload(
        world.counter, owner=world.alice, filename="photo.pdf", content=PDF, field="components.photo"
    )
    d3 = _id_card(world, {"photo": scan}, channel=Channel.COUNTER)
    services.paid_at_counter(world.counter, d3.code)
    services.accept(world.counter, d3.code)
    services.request_supplement(world.police, d3.code, note="Ảnh mờ")
    services.answer_supplement(alice, d3.code, data={"reason": "damaged"})
    Dossier.objects.filter(pk=d3.pk).update(due_on=today() - dt.timedelta(days=1))  # overdue
    services.approve(world.police, d3.code)

    d4 = _confirmation(world)
    services.refuse(world.police, d4.code, reason="Không đủ điều kiện")
    d5 = _confirmation(world)
    services.withdraw(alice, d5.code, reason="Không cần nữa")
    return {"on_time": d1, "reused": d2, "late": d3, "refused": d4, "withdrawn": d5}


def test_a_mixed_workload_is_counted_exactly(world):
    mixed_workload(world)
    t = totals()
    assert t == {
        "submitted": 5,
        "accepted": 3,
        "supplement_requests": 1,
        "approved": 3,
        "refused": 1,
        "withdrawn": 1,
        "closed_on_time": 3,
        "closed_late": 1,
        "results_digital": 3,
        "components": 2,
        "components_reused": 1,
        "paid_online": 1,
        "paid_at_counter": 1,
        "rated": 2,
        "rating_sum": 3 + 4,
        "satisfied": 1,
    }
    assert DossierTally.objects.filter(channel="counter").aggregate(n=Sum("submitted"))["n"] == 1
    assert set(DossierTally.objects.values_list("day", flat=True)) == {today()}
    assert selectors.check() == []


def test_a_corrupted_tally_is_found_and_rebuilt(world, capsys):
    mixed_workload(world)
    row = DossierTally.objects.filter(channel="online").first()
    DossierTally.objects.filter(pk=row.pk).update(paid_online=F("paid_online") + 1)
    differences = selectors.check()
    assert [(d.counter, d.stored - d.recomputed) for d in differences] == [("paid_online", 1)]
    with pytest.raises(SystemExit) as exit_:
        call_command("kpi", "check")
    assert exit_.value.code == 1
    assert "paid_online" in capsys.readouterr().out
    before = totals()
    assert kpi.rebuild() == DossierTally.objects.count()
    assert selectors.check() == []
    assert totals() == {**before, "paid_online": before["paid_online"] - 1}
    call_command("kpi", "check")  # exit 0: agrees
    call_command("kpi", "rebuild", "--from", today().isoformat(), "--to", today().isoformat())
    assert selectors.check() == []


def test_a_rolled_back_transition_counts_nothing(world):
    d = _confirmation(world)
    before = totals()
    with pytest.raises(DomainError), transaction.atomic():
        services.accept(world.police, d.code)
        raise DomainError("E_TEST", "rolled back")
    assert totals() == before
    assert selectors.check() == []


def test_events_on_another_day_go_to_that_day(world, monkeypatch):
    d = _confirmation(world)
    services.accept(world.police, d.code)
    target = today() + dt.timedelta(days=3)
    late = dt.datetime.combine(target, dt.time(23, 30), tzinfo=dt.timezone(dt.timedelta(hours=7)))
    monkeypatch.setattr("django.utils.timezone.now", lambda: late.astimezone(dt.UTC))
    services.approve(world.police, d.code)
    rows = dict(DossierTally.objects.values_list("day", "approved"))
    assert rows[target] == 1  # the local day, not UTC's
    monkeypatch.undo()
    assert selectors.check() == []


def _catalog() -> None:
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Procedure

    sync_catalog(Procedure)  # an earlier transactional test's flush emptied the seeded catalog


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_add_up():
    from dancu.publicservices.models import Procedure
    from tests.factories import mini_geo

    _catalog()
    geo = mini_geo()
    procedure = Procedure.objects.get(slug="xac-nhan-thong-tin-cu-tru")
    key = (today(), procedure.pk, geo.hac_thanh.pk, geo.hac_thanh.province_id or geo.thanh_hoa.pk, "online")
    writers, each = 6, 10

    def work(i: int) -> None:
        for _ in range(each):
            with transaction.atomic():
                kpi.add_to_tally(key, {"submitted": 1, "rating_sum": i})

    assert run_parallel(work, writers) == []
    row = DossierTally.objects.get()
    assert row.submitted == writers * each
    assert row.rating_sum == each * sum(range(writers))


@pytest.fixture
def synced_catalog(transactional_db) -> None:
    _catalog()


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_through_the_services_agree(synced_catalog, world):
    dossiers = [_confirmation(world, who) for who in (world.alice, world.bob) for _ in range(3)]

    def work(i: int) -> None:
        services.accept(world.police, dossiers[i].code)
        services.approve(world.police, dossiers[i].code)

    assert run_parallel(work, len(dossiers)) == []
    t = totals()
    assert (t["submitted"], t["accepted"], t["approved"], t["closed_on_time"]) == (6, 6, 6, 6)
    assert selectors.check() == []


def test_the_cost_of_counting_is_one_statement_per_event(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dancu.publicservices.signals import dossier_event

    def statements(action) -> int:
        with CaptureQueriesContext(connection) as ctx:
            action()
        return len(ctx.captured_queries)

    a, b = _confirmation(world), _confirmation(world)
    with_receiver = statements(lambda: services.accept(world.police, a.code))
    assert dossier_event.disconnect(dispatch_uid="kpi.count_dossier_event")
    try:
        without = statements(lambda: services.accept(world.police, b.code))
    finally:
        from dancu.kpi.receivers import count_dossier_event

        dossier_event.connect(count_dossier_event, dispatch_uid="kpi.count_dossier_event")
    assert with_receiver - without == 1  # the upsert
    assert selectors.check() != []  # b's acceptance was not counted: the check sees it
    kpi.rebuild()
    assert selectors.check() == []


def test_a_rating_is_counted_from_the_events_fields_and_a_malformed_note_breaks_nothing(world):
    """The rating change is data on the event (``rating``, ``rating_before``), written by
    ``rate`` and read alike by the receiver and by ``check``; the note is only words. An old or
    hand-made ``rated`` event whose note is not ``<n>→<m>`` and that carries no rating counts
    nothing and does not break the check (a cast of the note failed on PostgreSQL)."""
    from dancu.publicservices.models import DossierEvent
    from dancu.publicservices.services.submission import record_event

    alice = as_citizen(world.alice)
    d = _confirmation(world)
    services.accept(world.police, d.code)
    services.approve(world.police, d.code)
    services.rate(alice, d.code, 5)
    services.rate(alice, d.code, 2)
    assert list(
        DossierEvent.objects.filter(dossier=d, action="rated").values_list("rating_before", "rating")
    ) == [
        (None, 5),
        (5, 2),
    ]
    before = totals()
    for note in ("năm sao→tốt", "→", "4→", "abc", "2→7", " 3→4", "1_0→2"):
        record_event(alice, d, "rated", d.status, note=note)
    record_event(alice, d, "rated", d.status, note="rất hài lòng", rating=4, rating_before=2)
    assert totals() == {
        **before,
        "rating_sum": before["rating_sum"] + 2,
        "satisfied": before["satisfied"] + 1,
    }
    assert before["rated"] == 1 and before["rating_sum"] == 2 and before["satisfied"] == 0
    assert selectors.check() == []
    call_command("kpi", "check")  # exit 0: agrees
    assert kpi.rebuild() == DossierTally.objects.count()
    assert totals() == {
        **before,
        "rating_sum": before["rating_sum"] + 2,
        "satisfied": before["satisfied"] + 1,
    }


def test_the_events_rated_before_the_fields_existed_get_them_from_their_note(world):
    """Migration ``publicservices.0008``: a note ``<previous or ''>→<new>`` fills the fields; any
    other note leaves them empty (so the event counts nothing, in the tallies and the check)."""
    import importlib

    from django.apps import apps

    from dancu.publicservices.models import DossierEvent
    from dancu.publicservices.services.submission import record_event

    migration = importlib.import_module("dancu.publicservices.migrations.0008_event_rating")
    d = _confirmation(world)
    notes = {"→5": (None, 5), "5→3": (5, 3), "→tốt": (None, None), "6→9": (None, None), "2→": (None, None)}
    for note in notes:
        record_event(world.police, d, "rated", d.status, note=note)
    migration.from_notes(apps, None)
    rows = DossierEvent.objects.filter(dossier=d, action="rated").values_list(
        "note", "rating_before", "rating"
    )
    assert {note: (previous, rating) for note, previous, rating in rows} == notes
