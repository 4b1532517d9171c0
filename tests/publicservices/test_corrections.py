"""Correction requests ("báo sai"), through the services and the real HTTP stack: the citizen
files one from the portal's pre-filled form; the police officer of their commune sees it on
/mot-cua/dieu-chinh/ (with the registry's value and the proposed one), opens the registry's own
correction page, and closes it; the citizen is notified and sees the outcome. Refusals: another
commune's officer (403, audited), a forged field, a second open request for the same field, a NUL
character (4xx naming the field, nothing written)."""

from __future__ import annotations

import pytest
from django.core import mail

from dancu.audit.models import AuditEvent
from dancu.core.errors import Conflict, DomainError, OutOfJurisdiction
from dancu.core.worker import run_until_idle
from dancu.eid import services as eid
from dancu.publicservices.models import CorrectionRequest, Notification, Procedure
from dancu.publicservices.services import corrections
from tests.eid_helpers import level1_account, person
from tests.factories import officer_actor, officer_login
from tests.publicservices.conftest import as_citizen
from tests.publicservices.portal_helpers import portal_rp, portal_sign_in  # noqa: F401 (fixture)

PROC = "dang-ky-tam-tru"
REPORT = f"/dich-vu-cong/thu-tuc/{PROC}/bao-sai/"


def file(world, person=None, field: str = "birth_date", value: str = "18/05/1990") -> CorrectionRequest:
    who = person or world.alice
    return corrections.request_correction(as_citizen(who), who, field, value, "giấy khai sinh",
                                          procedure=Procedure.objects.get(slug=PROC))


def test_officer_of_the_area_sees_and_handles_it_and_the_citizen_is_notified(world, client):
    request = file(world)
    assert request.status == "open" and request.current_value == world.alice.birth_display
    officer_login(client, world.police)
    page = client.get("/mot-cua/")
    assert 'data-testid="corrections-link"' in page.content.decode()
    listing = client.get("/mot-cua/dieu-chinh/")
    html = listing.content.decode()
    assert listing.status_code == 200
    assert f'data-testid="correction-row" data-id="{request.pk}"' in html
    assert world.alice.full_name in html and "18/05/1990" in html and world.alice.birth_display in html
    assert AuditEvent.objects.filter(action="correction.list", personal_id=world.alice.personal_id).exists()
    detail = client.get(f"/mot-cua/dieu-chinh/{request.pk}/")
    assert detail.status_code == 200
    # The change itself is made on the registry's own correction page of the person.
    assert f'href="/citizens/{world.alice.personal_id}/correct/"' in detail.content.decode()
    response = client.post(f"/mot-cua/dieu-chinh/{request.pk}/", {"outcome": "handled", "note": "Đã sửa"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "handled" and request.handled_at is not None
    assert request.handled_by_label == world.police.label and request.officer_note == "Đã sửa"
    event = AuditEvent.objects.get(action="correction.handle")
    assert event.personal_id == world.alice.personal_id and str(request.pk) in event.reason
    notice = Notification.objects.get(citizen=world.alice, kind="correction")
    assert "Ngày sinh" in notice.body and "18/05/1990" in notice.body
    # The registry itself was not rewritten by closing the request.
    world.alice.refresh_from_db()
    assert world.alice.birth_display == request.current_value
    # Closed: no longer listed; a second close is refused.
    assert f'data-id="{request.pk}"' not in client.get("/mot-cua/dieu-chinh/").content.decode()
    again = client.post(f"/mot-cua/dieu-chinh/{request.pk}/", {"outcome": "rejected", "note": "x"})
    assert again.status_code == 409


def test_notification_copies_are_sent_by_the_task(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = file(world)
    corrections.handle_correction(world.police, request, "rejected", "Giấy tờ không khớp")
    assert Notification.objects.filter(citizen=world.alice, kind="correction").count() == 1
    # The delivery task was enqueued with the row (no e-ID contact in this world: nothing sent).
    assert run_until_idle() >= 1
    assert len(mail.outbox) == 0


def test_rejection_needs_a_reason(world):
    request = file(world)
    with pytest.raises(DomainError) as err:
        corrections.handle_correction(world.police, request, "rejected", "")
    assert err.value.field == "note"
    with pytest.raises(DomainError) as err:
        corrections.handle_correction(world.police, request, "deleted", "x")
    assert err.value.field == "outcome"
    request.refresh_from_db()
    assert request.status == "open" and not Notification.objects.exists()


def test_officer_of_another_commune_gets_403_audited(world, client):
    request = file(world)
    officer_login(client, world.police_elsewhere)
    assert f'data-id="{request.pk}"' not in client.get("/mot-cua/dieu-chinh/").content.decode()
    assert client.get(f"/mot-cua/dieu-chinh/{request.pk}/").status_code == 403
    assert AuditEvent.objects.filter(action="correction.view.denied").exists()
    response = client.post(f"/mot-cua/dieu-chinh/{request.pk}/", {"outcome": "handled", "note": ""})
    assert response.status_code == 403
    denied = AuditEvent.objects.get(action="correction.handle.denied")
    assert denied.actor_label == world.police_elsewhere.label and denied.details["field"] == "citizen"
    request.refresh_from_db()
    assert request.status == "open" and not Notification.objects.exists()


def test_roles_that_are_not_police_may_not_handle(world, client):
    request = file(world)
    with pytest.raises(OutOfJurisdiction):
        corrections.handle_correction(world.justice, request, "handled", "")
    officer_login(client, world.counter)
    assert client.get("/mot-cua/dieu-chinh/").status_code == 403
    request.refresh_from_db()
    assert request.status == "open"


def test_forged_field_is_refused_naming_it(world):
    for field in ("address", "is_staff", "", "birth_date\x00"):
        with pytest.raises(DomainError) as err:
            file(world, field=field)
        assert err.value.status == 400 and err.value.field == "field"
    # Not a registry field of this procedure (marital_status belongs to other procedures).
    with pytest.raises(DomainError):
        file(world, field="marital_status")
    assert not CorrectionRequest.objects.exists()


def test_one_open_request_per_person_and_field(world):
    first = file(world)
    with pytest.raises(Conflict) as err:
        file(world, value="19/05/1990")
    assert err.value.status == 409 and err.value.field == "field"
    file(world, field="full_name", value="Trần Thị Lan Anh")  # another field: fine
    file(world, person=world.bob)  # another person: fine
    corrections.handle_correction(world.police, first, "handled", "")
    file(world, value="19/05/1990")  # once closed, a new one may be filed
    assert CorrectionRequest.objects.filter(citizen=world.alice, field="birth_date").count() == 2


def test_nul_and_oversize_are_refused(world):
    for value, field in (("18/05\x00/1990", "proposed_value"), ("x" * 501, "proposed_value"),
                         ("", "proposed_value")):
        with pytest.raises(DomainError) as err:
            file(world, value=value)
        assert err.value.status == 400 and err.value.field == field
    with pytest.raises(DomainError) as err:
        corrections.request_correction(as_citizen(world.alice), world.alice, "birth_date", "1990",
                                       "a\x00b", procedure=Procedure.objects.get(slug=PROC))
    assert err.value.field == "note"
    assert not CorrectionRequest.objects.exists()


def test_a_citizen_files_only_for_themself(world):
    with pytest.raises(OutOfJurisdiction):
        corrections.request_correction(as_citizen(world.bob), world.alice, "birth_date", "1990",
                                       procedure=Procedure.objects.get(slug=PROC))
    with pytest.raises(OutOfJurisdiction):
        corrections.request_correction(world.police, world.alice, "birth_date", "1990",
                                       procedure=Procedure.objects.get(slug=PROC))
    denied = AuditEvent.objects.filter(action="correction.request.denied", actor_label=world.police.label)
    assert denied.exists()
    assert not CorrectionRequest.objects.exists()


# ---- through the portal ------------------------------------------------------------------


@pytest.fixture
def citizen_client(client, geo, commune_officer, portal_rp):  # noqa: F811
    citizen = person(commune_officer, geo.hac_thanh)
    account = level1_account(citizen, phone="0912345678")
    eid.enrol_level2(commune_officer, citizen.personal_id, card_checked=True, device_reference="d",
                     capture_reference="c")
    response = portal_sign_in(client, account, methods=("pwd", "sms"), loa=2)
    assert response.status_code == 302
    client.citizen = citizen
    return client


def test_portal_refusals_are_4xx_naming_the_field(citizen_client, geo):
    ok = citizen_client.post(REPORT, {"field": "birth_date", "proposed_value": "18/05/1990"})
    assert ok.status_code == 302
    cases = [({"field": "birth_date", "proposed_value": "19/05/1990"}, 409, "field"),
             ({"field": "is_superuser", "proposed_value": "1"}, 400, "field"),
             ({"field": "full_name", "proposed_value": "x" * 501}, 400, "proposed_value"),
             ({"field": "full_name", "proposed_value": ""}, 400, "proposed_value")]
    for data, status, field in cases:
        response = citizen_client.post(REPORT, data)
        assert response.status_code == status, data
        assert f'data-field-error="{field}"' in response.content.decode()
    # NUL is refused before any view reads the request (core.middleware), naming the field.
    response = citizen_client.post(REPORT, {"field": "full_name", "proposed_value": "Lan\x00"})
    assert response.status_code == 400 and "proposed_value" in response.content.decode()
    assert CorrectionRequest.objects.count() == 1


def test_portal_citizen_sees_the_outcome(citizen_client, geo):
    citizen_client.post(REPORT, {"field": "full_name", "proposed_value": "Nguyễn Thị Hoà An"})
    request = CorrectionRequest.objects.get()
    officer = officer_actor("ca2.hacthanh", "commune_police", geo.hac_thanh)
    corrections.handle_correction(officer, request, "rejected", "Cần mang giấy khai sinh đến trụ sở")
    inbox = citizen_client.get("/dich-vu-cong/thong-bao/").content.decode()
    assert 'data-kind="correction"' in inbox
    assert 'data-field="full_name" data-status="rejected"' in inbox
    assert "Cần mang giấy khai sinh đến trụ sở" in inbox
