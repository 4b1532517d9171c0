"""The ten procedures with an effect, end to end through the services: submitted by the citizen
(or for them), accepted and approved by the competent officer; the registry changes in the same
transaction, its history cites the dossier code, and a signed result is issued."""

from __future__ import annotations

import datetime as dt

import pytest

from dancu.audit.models import AuditEvent
from dancu.documents.selectors import verify
from dancu.population.models import Citizen
from dancu.publicservices import services
from dancu.publicservices.models import DossierEvent, Status
from dancu.residence.models import Registration
from tests.publicservices.conftest import as_citizen, resident, today, upload

pytestmark = pytest.mark.django_db


def _run(officer, dossier):
    services.accept(officer, dossier.code)
    if not dossier.paid:
        services.paid_at_counter(officer, dossier.code)
    approved = services.approve(officer, dossier.code)
    assert approved.status == Status.APPROVED
    assert approved.result_document is not None and approved.result_document.signed
    assert verify(approved.result_document.code, bytes(approved.result_document.content)).genuine
    actions = list(DossierEvent.objects.filter(dossier=approved).values_list("action", flat=True))
    assert actions[0] == "submitted" and actions[-1] == "approved"
    return approved


def _cites(dossier, action):
    event = AuditEvent.objects.filter(action=action, source="dossier", source_ref=dossier.code).first()
    assert event is not None, f"no {action} citing {dossier.code}"
    assert dossier.code in event.reason
    return event


def test_temporary_residence(world):
    alice, geo = world.alice, world.geo
    d = services.submit(
        as_citizen(alice),
        procedure_code="dang-ky-tam-tru",
        applicant_personal_id=alice.personal_id,
        relation="self",
        data={
            "commune": f"2025:{geo.dong_son.code}",
            "address": "12 Trần Phú",
            "started_on": today().isoformat(),
            "expires_on": (today() + dt.timedelta(days=365)).isoformat(),
            "housing": "rented",
        },
        components={"legal_place": upload(alice), "host_consent": upload(alice, "host_consent")},
    )
    assert d.commune == geo.dong_son and not d.paid and d.fee_vnd == 7000
    police = __import__("tests.factories", fromlist=["x"]).officer_actor(
        "ca.dongson", "commune_police", geo.dong_son
    )
    _run(police, d)
    reg = Registration.objects.get(citizen=alice, kind="temporary", ended_on__isnull=True)
    assert reg.commune == geo.dong_son
    _cites(d, "residence.temporary")
    alice.refresh_from_db()
    assert alice.current_commune_id == geo.dong_son.pk


def test_permanent_residence_move(world):
    bob, geo = world.bob, world.geo
    from tests.factories import officer_actor

    police = officer_actor("ca.dongson", "commune_police", geo.dong_son)
    d = services.submit(
        as_citizen(bob),
        procedure_code="1.004222",
        applicant_personal_id=bob.personal_id,
        data={
            "commune": f"2025:{geo.dong_son.code}",
            "address": "5 Bà Triệu",
            "started_on": today().isoformat(),
            "housing": "own",
        },
        components={"legal_place": upload(bob)},
    )
    _run(police, d)
    reg = Registration.objects.get(citizen=bob, kind="permanent", ended_on__isnull=True)
    assert reg.commune == geo.dong_son and reg.household.head == bob
    _cites(d, "residence.permanent")


def test_temporary_residence_renewal(world):
    alice, geo = world.alice, world.geo
    from dancu.residence import services as residence
    from tests.publicservices.conftest import SEED

    residence.register_temporary(
        SEED,
        alice.personal_id,
        commune=geo.hong_ha,
        address="1 Hàng Bài",
        started_on=today() - dt.timedelta(days=300),
        expires_on=today() + dt.timedelta(days=30),
        reason="seed",
    )
    new_end = today() + dt.timedelta(days=700)
    d = services.submit(
        as_citizen(alice),
        procedure_code="gia-han-tam-tru",
        applicant_personal_id=alice.personal_id,
        data={"expires_on": new_end.isoformat()},
    )
    assert d.commune == geo.hong_ha
    assert d.registry_data["temporary_residence"]["address"].startswith("1 Hàng Bài")
    _run(world.police_elsewhere, d)
    reg = Registration.objects.get(citizen=alice, kind="temporary", ended_on__isnull=True)
    assert reg.expires_on == new_end and reg.renewed_from is not None
    _cites(d, "residence.renew")


def test_temporary_absence(world):
    bob = world.bob
    d = services.submit(
        as_citizen(bob),
        procedure_code="khai-bao-tam-vang",
        applicant_personal_id=bob.personal_id,
        data={
            "case": "long_absence",
            "started_on": today().isoformat(),
            "expires_on": (today() + dt.timedelta(days=400)).isoformat(),
            "destination": "Thành phố Hồ Chí Minh",
        },
    )
    assert d.paid  # no fee
    _run(world.police, d)
    assert Registration.objects.filter(citizen=bob, kind="absence", absence_case="long_absence").exists()
    _cites(d, "residence.absence")


def test_stay_notice(world):
    alice, geo = world.alice, world.geo
    d = services.submit(
        as_citizen(alice),
        procedure_code="thong-bao-luu-tru",
        applicant_personal_id=alice.personal_id,
        data={
            "commune": f"2025:{geo.hong_ha.code}",
            "address": "Khách sạn Hồ Gươm",
            "started_on": today().isoformat(),
            "ends_on": (today() + dt.timedelta(days=3)).isoformat(),
        },
    )
    _run(world.police_elsewhere, d)
    assert Registration.objects.filter(citizen=alice, kind="stay", commune=geo.hong_ha).exists()
    _cites(d, "residence.stay")


def test_residence_confirmation(world):
    alice = world.alice
    d = services.submit(
        as_citizen(alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=alice.personal_id,
        data={"purpose": "Nộp hồ sơ xin việc"},
    )
    assert d.registry_data["permanent_address"].endswith("Phường Hạc Thành")
    d = _run(world.police, d)
    _cites(d, "residence.confirm")
    assert "Hạc Thành" in d.result_document.title or d.result_document.title.startswith("Xác nhận")


def test_birth_registration_with_permanent_residence(world):
    alice, bob = world.alice, world.bob
    d = services.submit(
        as_citizen(alice),
        procedure_code="dang-ky-khai-sinh",
        applicant_personal_id=alice.personal_id,
        relation="parent",
        data={
            "child_full_name": "Lê Minh An",
            "child_birth_date": (today() - dt.timedelta(days=3)).isoformat(),
            "child_sex": "M",
            "child_ethnicity": "01",
            "other_parent_personal_id": bob.personal_id,
        },
        components={"birth_certificate": upload(alice, "birth_certificate")},
    )
    assert d.subject is None
    with pytest.raises(Exception) as refused:  # the police do not decide births
        services.accept(world.police, d.code)
    assert refused.value.code == "E_ROLE_NOT_ALLOWED"
    _run(world.justice, d)
    child = Citizen.objects.get(full_name="Lê Minh An")
    assert child.mother_id == alice.pk and child.father_id == bob.pk
    reg = Registration.objects.get(citizen=child, kind="permanent")
    assert reg.household.head == alice
    _cites(d, "citizen.create")


def test_death_registration_deletes_residence(world):
    alice, bob = world.alice, world.bob
    d = services.submit(
        as_citizen(alice),
        procedure_code="dang-ky-khai-tu",
        applicant_personal_id=alice.personal_id,
        subject_personal_id=bob.personal_id,
        relation="household_head",
        data={
            "death_date": (today() - dt.timedelta(days=1)).isoformat(),
            "death_place": "Bệnh viện Đa khoa tỉnh",
        },
        components={"death_notice": upload(alice, "death_notice")},
    )
    _run(world.justice, d)
    bob.refresh_from_db()
    assert bob.life_status == "deceased"
    assert not Registration.objects.filter(citizen=bob, kind="permanent", ended_on__isnull=True).exists()
    _cites(d, "citizen.update")
    _cites(d, "residence.end")


def test_marriage_registration(world):
    geo = world.geo
    groom = resident(geo.hac_thanh, name="Phạm Văn Nam", birth="1995-03-03", sex="M")
    bride = resident(geo.hac_thanh, name="Đỗ Thị Mai", birth="1997-04-04", sex="F")
    d = services.submit(
        as_citizen(groom),
        procedure_code="dang-ky-ket-hon",
        applicant_personal_id=groom.personal_id,
        data={"spouse_personal_id": bride.personal_id},
    )
    _run(world.justice, d)
    groom.refresh_from_db()
    bride.refresh_from_db()
    assert groom.spouse_id == bride.pk and bride.spouse_id == groom.pk
    assert groom.marital_status == bride.marital_status == "married"
    _cites(d, "citizen.update")


def test_id_card_reissue(world):
    alice = world.alice
    d = services.submit(
        as_citizen(alice),
        procedure_code="cap-lai-the-can-cuoc",
        applicant_personal_id=alice.personal_id,
        data={"reason": "lost"},
    )
    assert d.fee_vnd == 70000 and not d.paid
    with pytest.raises(Exception) as unpaid:
        services.accept(world.police, d.code)
        services.approve(world.police, d.code)
    assert unpaid.value.code == "E_NOT_PAID"
    d.refresh_from_db()
    assert d.status == Status.ACCEPTED
    services.paid_at_counter(world.counter, d.code)
    services.approve(world.police, d.code)
    d.refresh_from_db()
    assert d.status == Status.APPROVED
    _cites(d, "idcard.reissue")
