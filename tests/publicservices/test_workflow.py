"""Deadlines in working days (Tết), the supplement clock stop, the recorded events, the queue,
notifications by task, and the payment signal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone as dj_timezone

from dancu.core.errors import DomainError
from dancu.eid.models import SmsMessage
from dancu.publicservices import selectors, services, workdays
from dancu.publicservices.models import Dossier, DossierEvent, Notification, Status
from tests.publicservices.conftest import as_citizen, today

pytestmark = pytest.mark.django_db


def test_working_days_skip_weekends_and_tet():
    # Tết 2026: 16–20 February (Mon–Fri) are holidays; 14–15 and 21–22 are weekends.
    assert not workdays.is_working_day(dt.date(2026, 2, 17))
    assert workdays.add_working_days(dt.date(2026, 2, 13), 1) == dt.date(2026, 2, 23)
    assert workdays.add_working_days(dt.date(2026, 2, 12), 3) == dt.date(2026, 2, 24)
    assert workdays.working_days_between(dt.date(2026, 2, 13), dt.date(2026, 2, 23)) == 1
    # An ordinary weekend; National Day 2026: 1–2 September, and Monday 31 August off
    # (swapped for Saturday 22 August), so from Friday 28 August three working days end on 7 September.
    assert workdays.add_working_days(dt.date(2026, 3, 6), 1) == dt.date(2026, 3, 9)
    assert workdays.add_working_days(dt.date(2026, 8, 28), 3) == dt.date(2026, 9, 7)
    assert workdays.add_working_days(dt.date(2026, 2, 15), 0) == dt.date(2026, 2, 23)
    for day in (dt.date(2027, 1, 4), dt.date(2026, 2, 13)):
        for n in range(0, 12):
            assert workdays.working_days_between(day, workdays.add_working_days(day, n)) == n


def _confirmation(world):
    return services.submit(
        as_citizen(world.alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=world.alice.personal_id,
        data={"purpose": "Xin việc"},
    )


def test_due_date_and_supplement_clock_stop(world, monkeypatch):
    d = _confirmation(world)
    assert d.due_on == workdays.add_working_days(today(), 1)
    services.request_supplement(world.police, d.code, note="Bổ sung mục đích cụ thể")
    d.refresh_from_db()
    assert d.status == Status.SUPPLEMENT and d.clock_paused_at is not None
    # The applicant answers three working days later: the deadline moves by three.
    paused_at = d.clock_paused_at
    start = today()
    later = workdays.add_working_days(start, 3)
    real_localdate = dj_timezone.localdate
    monkeypatch.setattr(
        "django.utils.timezone.localdate",
        lambda value=None, timezone=None: later if value is None else real_localdate(value),
    )
    services.answer_supplement(as_citizen(world.alice), d.code, data={"purpose": "Xin việc tại Sở Y tế"})
    d.refresh_from_db()
    assert d.status == Status.ACCEPTED and d.clock_paused_at is None and d.paused_days == 3
    assert real_localdate(paused_at) == start
    assert d.due_on == workdays.add_working_days(workdays.add_working_days(start, 1), 3)
    assert d.data["purpose"] == "Xin việc tại Sở Y tế"


def test_every_transition_is_an_event(world):
    d = _confirmation(world)
    services.assign(world.police, d.code)
    services.request_supplement(world.police, d.code, note="Thiếu thông tin")
    services.answer_supplement(as_citizen(world.alice), d.code, data={"purpose": "Xin việc (bổ sung)"})
    services.approve(world.police, d.code)
    services.hand_over(world.counter, d.code)
    services.rate(as_citizen(world.alice), d.code, 5)
    events = list(DossierEvent.objects.filter(dossier=d).order_by("at", "id"))
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("submitted", "", "submitted"),
        ("assigned", "submitted", "submitted"),
        ("supplement_requested", "submitted", "supplement"),
        ("supplemented", "supplement", "accepted"),
        ("approved", "accepted", "approved"),
        ("handed_over", "approved", "approved"),
        ("rated", "approved", "approved"),
    ]
    assert events[1].actor_user_id is not None and events[1].actor_label == "ca.hacthanh"
    assert events[3].actor_label == f"citizen:{world.alice.personal_id}" and events[3].actor_user_id is None
    assert all(e.at is not None for e in events)
    d.refresh_from_db()
    assert d.rating == 5 and d.assigned_to_id == events[1].actor_user_id


def test_status_transitions_are_checked(world):
    d = _confirmation(world)
    with pytest.raises(DomainError) as err:
        services.approve(world.police, d.code)  # not accepted yet
    assert err.value.code == "E_STATUS"
    with pytest.raises(DomainError):
        services.rate(as_citizen(world.alice), d.code, 4)  # not decided
    with pytest.raises(DomainError) as err:
        services.answer_supplement(as_citizen(world.alice), d.code, data={})
    assert err.value.code == "E_STATUS"
    with pytest.raises(DomainError) as err:  # someone else's dossier: not found
        services.withdraw(as_citizen(world.bob), d.code)
    assert err.value.status == 404
    services.withdraw(as_citizen(world.alice), d.code, reason="Không cần nữa")
    d.refresh_from_db()
    assert d.status == Status.WITHDRAWN


def test_notifications_by_task_after_commit(world):
    from dancu.core.worker import run_until_idle
    from tests.eid_helpers import level1_account

    account = level1_account(world.alice, phone="0912345678")
    account.email = "lan@example.vn"
    account.save(update_fields=["email"])
    sms_before = SmsMessage.objects.filter(to=account.phone).count()
    d = _confirmation(world)
    assert Notification.objects.filter(dossier=d, kind="submitted").count() == 1
    assert not any(d.code in m.subject for m in mail.outbox)  # not sent in the request
    assert run_until_idle(periodic=False) >= 1
    assert [m.to for m in mail.outbox if d.code in m.subject] == [["lan@example.vn"]]
    assert SmsMessage.objects.filter(to=account.phone).count() == sms_before + 1
    assert d.code in SmsMessage.objects.filter(to=account.phone).latest("id").body


def test_a_failed_transition_leaves_no_notification(world):
    d = _confirmation(world)
    before = Notification.objects.count()
    with pytest.raises(DomainError), transaction.atomic():
        services.request_supplement(world.police_elsewhere, d.code, note="x")
    assert Notification.objects.count() == before


def test_payment_success_marks_the_dossier_paid(world):
    from dancu.payments.models import Payment
    from dancu.payments.signals import payment_succeeded

    d = services.submit(
        as_citizen(world.alice),
        procedure_code="cap-lai-the-can-cuoc",
        applicant_personal_id=world.alice.personal_id,
        data={"reason": "damaged"},
    )
    assert not d.paid
    wrong = Payment(reference=d.code, amount_vnd=1000, txn_ref="T1")
    with pytest.raises(DomainError) as err:
        payment_succeeded.send(sender=Payment, payment=wrong)
    assert err.value.code == "E_AMOUNT_MISMATCH"
    payment = Payment(reference=d.code, amount_vnd=d.fee_vnd, txn_ref="T2")
    payment_succeeded.send(sender=Payment, payment=payment)
    payment_succeeded.send(sender=Payment, payment=payment)  # a second delivery changes nothing
    d.refresh_from_db()
    assert d.paid
    assert DossierEvent.objects.filter(dossier=d, action="paid").count() == 1
    payment_succeeded.send(
        sender=Payment, payment=Payment(reference="NOT-A-DOSSIER", amount_vnd=5, txn_ref="T3")
    )


def test_queue_is_per_agency_and_area(world):
    alice, bob = world.alice, world.bob
    confirm = _confirmation(world)
    birth = services.submit(
        as_citizen(alice),
        procedure_code="dang-ky-khai-sinh",
        applicant_personal_id=alice.personal_id,
        relation="parent",
        data={
            "child_full_name": "Lê Minh Khôi",
            "child_birth_date": today().isoformat(),
            "child_sex": "M",
            "child_ethnicity": "01",
        },
        components={
            "birth_certificate": __import__("tests.publicservices.conftest", fromlist=["x"]).upload(
                alice, "birth_certificate"
            )
        },
    )
    police_codes = [d.code for d in selectors.queue(world.police).items]
    justice_codes = [d.code for d in selectors.queue(world.justice).items]
    counter_codes = [d.code for d in selectors.queue(world.counter).items]
    assert police_codes == [confirm.code] and justice_codes == [birth.code]
    assert set(counter_codes) == {confirm.code, birth.code}
    assert selectors.queue(world.police_elsewhere).items == []
    Dossier.objects.filter(pk=confirm.pk).update(due_on=today() - dt.timedelta(days=3))
    assert [d.code for d in selectors.queue(world.counter, {"flag": "overdue"}).items] == [confirm.code]
    page = selectors.queue(world.counter, sort="-submitted_at", page_size=1)
    assert page.has_next and page.items[0].code == birth.code
    for bad in ({"status": "nope"}, {"flag": "late"}):
        with pytest.raises(DomainError):
            selectors.queue(world.counter, bad)
    with pytest.raises(DomainError) as err:
        selectors.queue(world.counter, sort="name")
    assert err.value.field == "sort"
    _ = bob


def test_deadline_reminders_to_the_assigned_officer(world):
    from django.contrib.auth import get_user_model

    from dancu.publicservices.tasks import deadline_reminders

    get_user_model().objects.filter(username="ca.hacthanh").update(email="ca.hacthanh@example.vn")
    d = _confirmation(world)
    services.assign(world.police, d.code)
    later = _confirmation(world)
    services.assign(world.police, later.code)
    Dossier.objects.filter(pk=later.pk).update(due_on=today() + dt.timedelta(days=30))
    mail.outbox.clear()
    assert deadline_reminders(today()) == 1
    [message] = mail.outbox
    assert (
        message.to == ["ca.hacthanh@example.vn"] and d.code in message.body and later.code not in message.body
    )


def _temporary_residence(world):
    from tests.publicservices.conftest import upload

    return services.submit(
        as_citizen(world.alice),
        procedure_code="dang-ky-tam-tru",
        applicant_personal_id=world.alice.personal_id,
        relation="self",
        data={
            "commune": f"2025:{world.geo.dong_son.code}",
            "address": "12 Trần Phú",
            "started_on": today().isoformat(),
            "expires_on": (today() + dt.timedelta(days=365)).isoformat(),
            "housing": "rented",
        },
        components={"legal_place": upload(world.alice), "host_consent": upload(world.alice, "host_consent")},
    )


def test_a_supplement_keeps_the_components_already_attached(world):
    """The answer need not send the required components again: those on the dossier count;
    a component sent replaces the one with its key, the others stay as they were."""
    from tests.factories import officer_actor
    from tests.publicservices.conftest import upload

    police = officer_actor("ca.dongson", "commune_police", world.geo.dong_son)
    d = _temporary_residence(world)
    before = dict(d.component_rows.values_list("key", "document_id"))
    services.request_supplement(police, d.code, note="Giấy tờ chỗ ở mờ")
    services.answer_supplement(as_citizen(world.alice), d.code, note="Không thay đổi")
    d.refresh_from_db()
    assert d.status == Status.ACCEPTED
    assert dict(d.component_rows.values_list("key", "document_id")) == before
    services.request_supplement(police, d.code, note="Giấy tờ chỗ ở mờ")
    clearer = upload(world.alice)
    services.answer_supplement(as_citizen(world.alice), d.code, components={"legal_place": clearer})
    rows = dict(d.component_rows.values_list("key", "document_id"))
    assert rows == {"legal_place": clearer.pk, "host_consent": before["host_consent"]}
