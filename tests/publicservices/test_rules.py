"""Bad input of issue #12 that is the public services' own: each refused with the field named,
nothing half-written, refusals of rights audited."""

from __future__ import annotations

import datetime as dt

import pytest

from dancu.audit.models import AuditEvent
from dancu.core.errors import DomainError
from dancu.documents.models import DocumentUse
from dancu.publicservices import services
from dancu.publicservices.models import Dossier, DossierComponent, DossierEvent, Notification, Status
from dancu.residence.models import Registration
from tests.publicservices.conftest import as_citizen, resident, today, upload

pytestmark = pytest.mark.django_db


def _temp(world, person, **data):
    base = {
        "commune": f"2025:{world.geo.dong_son.code}",
        "address": "12 Trần Phú",
        "started_on": today().isoformat(),
        "expires_on": (today() + dt.timedelta(days=365)).isoformat(),
        "housing": "own",
    }
    base.update(data)
    return base


def _nothing_written():
    assert Dossier.objects.count() == 0
    assert DossierEvent.objects.count() == 0 and Notification.objects.count() == 0
    assert DossierComponent.objects.count() == 0 and DocumentUse.objects.count() == 0


def test_forged_registry_field_is_refused_naming_it(world):
    alice = world.alice
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=_temp(world, alice, full_name="Tên Khác"),
            components={"legal_place": upload(alice)},
        )
    assert err.value.code == "E_REGISTRY_FIELD" and err.value.field == "data.full_name"
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=_temp(world, alice, permanent_address="x"),
            components={"legal_place": upload(alice)},
        )
    assert err.value.code == "E_REGISTRY_FIELD" and err.value.field == "data.permanent_address"
    _nothing_written()


def test_schema_errors_name_the_field(world):
    alice = world.alice
    cases = [
        ({"expires_on": "2026-13-40"}, "data.expires_on"),
        ({"housing": "castle"}, "data.housing"),
        ({"commune": "hanoi"}, "data.commune"),
        ({"colour": "blue"}, "data.colour"),
        ({"started_on": "9999-12-31"}, "data.started_on"),
    ]
    for change, field in cases:
        with pytest.raises(DomainError) as err:
            services.submit(
                as_citizen(alice),
                procedure_code="dang-ky-tam-tru",
                applicant_personal_id=alice.personal_id,
                data=_temp(world, alice, **change),
                components={"legal_place": upload(alice)},
            )
        assert err.value.code == "E_FORM_INVALID" and err.value.field == field, (change, err.value.field)
    data = _temp(world, alice)
    del data["address"]
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=data,
            components={"legal_place": upload(alice)},
        )
    assert err.value.field == "data.address"
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=_temp(world, alice),
            components={},
        )
    assert err.value.code == "E_COMPONENT_REQUIRED" and err.value.field == "components.legal_place"
    _nothing_written()


def test_temporary_residence_longer_than_two_years(world):
    alice = world.alice
    start = today()
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=_temp(
                world,
                alice,
                expires_on=(start.replace(year=start.year + 2) + dt.timedelta(days=1)).isoformat(),
            ),
            components={"legal_place": upload(alice)},
        )
    assert err.value.code == "E_TEMPORARY_TOO_LONG" and err.value.field == "expires_on"
    with pytest.raises(DomainError) as err:  # in one's own commune of permanent residence
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=_temp(world, alice, commune=f"2025:{world.geo.hac_thanh.code}"),
            components={"legal_place": upload(alice)},
        )
    assert err.value.code == "E_SAME_COMMUNE"
    _nothing_written()


def test_host_consent_for_someone_elses_home(world):
    alice = world.alice
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=_temp(world, alice, housing="host", host_personal_id=world.bob.personal_id),
            components={"legal_place": upload(alice)},
        )
    assert err.value.code == "E_HOST_CONSENT_REQUIRED" and err.value.field == "components.host_consent"
    _nothing_written()


def test_the_four_cases_of_temporary_absence(world):
    bob = world.bob
    start = today()

    def absence(case, days, **components):
        return services.submit(
            as_citizen(bob),
            procedure_code="khai-bao-tam-vang",
            applicant_personal_id=bob.personal_id,
            components=components,
            data={
                "case": case,
                "started_on": start.isoformat(),
                "expires_on": (start + dt.timedelta(days=days)).isoformat(),
                "destination": "Hà Nội",
            },
        )

    for case in ("supervised", "admin_measure"):
        with pytest.raises(DomainError) as err:
            absence(case, 5)
        assert err.value.code == "E_PERMISSION_REQUIRED" and err.value.field == "components.permission"
    with pytest.raises(DomainError) as err:  # Bob (born 1988) is past military age
        absence("military_age", 120)
    assert err.value.field == "case"
    with pytest.raises(DomainError) as err:
        absence("long_absence", 100)
    assert err.value.code == "E_ABSENCE_TOO_SHORT"
    with pytest.raises(DomainError) as err:
        absence("holiday", 100)
    assert err.value.field == "data.case"
    _nothing_written()
    young = resident(world.geo.hac_thanh, birth=f"{start.year - 20}-01-01", sex="M")
    d = services.submit(
        as_citizen(young),
        procedure_code="khai-bao-tam-vang",
        applicant_personal_id=young.personal_id,
        data={
            "case": "military_age",
            "started_on": start.isoformat(),
            "expires_on": (start + dt.timedelta(days=100)).isoformat(),
            "destination": "Huế",
        },
    )
    assert d.status == Status.SUBMITTED
    assert absence("supervised", 5, permission=upload(bob, "permission")).status == Status.SUBMITTED


def test_acting_for_someone_without_the_right(world):
    alice, bob = world.alice, world.bob
    stranger = resident(world.geo.hac_thanh, name="Người Lạ")
    data = {"purpose": "Xin việc"}
    for applicant, subject, relation in (
        (stranger, alice, "self"),
        (stranger, alice, "parent"),
        (stranger, alice, "household_head"),
        (bob, alice, "household_head"),
        (stranger, alice, "representative"),
    ):
        with pytest.raises(DomainError) as err:
            services.submit(
                as_citizen(applicant),
                procedure_code="xac-nhan-thong-tin-cu-tru",
                applicant_personal_id=applicant.personal_id,
                subject_personal_id=subject.personal_id,
                relation=relation,
                data=data,
            )
        assert err.value.code == "E_NOT_ENTITLED" and err.value.status == 403, relation
        assert err.value.field in ("subject_personal_id", "components.authorisation")
    _nothing_written()
    assert (
        AuditEvent.objects.filter(action="dossier.submit.denied", details__code="E_NOT_ENTITLED").count() == 5
    )
    # …but the household head may, and a representative with an authorisation document may.
    d = services.submit(
        as_citizen(alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=alice.personal_id,
        subject_personal_id=bob.personal_id,
        relation="household_head",
        data=data,
    )
    assert d.subject == bob and d.relation == "household_head"
    d = services.submit(
        as_citizen(stranger),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=stranger.personal_id,
        subject_personal_id=alice.personal_id,
        relation="representative",
        data=data,
        components={"authorisation": upload(stranger, "authorisation")},
    )
    assert d.relation == "representative"
    # Online, the applicant is the person signed in.
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(stranger),
            procedure_code="xac-nhan-thong-tin-cu-tru",
            applicant_personal_id=alice.personal_id,
            data=data,
        )
    assert err.value.code == "E_NOT_ENTITLED" and err.value.field == "applicant_personal_id"


def test_parent_for_a_minor_child_only(world):
    alice = world.alice
    child = resident(world.geo.hac_thanh, birth=f"{today().year - 10}-01-01", mother_id=alice.personal_id)
    adult = resident(world.geo.hac_thanh, birth="2000-01-01", mother_id=alice.personal_id)
    d = services.submit(
        as_citizen(alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=alice.personal_id,
        subject_personal_id=child.personal_id,
        relation="parent",
        data={"purpose": "Nhập học"},
    )
    assert d.subject == child
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="xac-nhan-thong-tin-cu-tru",
            applicant_personal_id=alice.personal_id,
            subject_personal_id=adult.personal_id,
            relation="parent",
            data={"purpose": "Nhập học"},
        )
    assert err.value.code == "E_NOT_ENTITLED"


def test_approval_outside_the_jurisdiction(world):
    alice = world.alice
    d = services.submit(
        as_citizen(alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=alice.personal_id,
        data={"purpose": "Xin việc"},
    )
    services.accept(world.police, d.code)
    for officer in (world.police_elsewhere, world.justice, world.counter):
        with pytest.raises(DomainError) as err:
            services.approve(officer, d.code)
        assert err.value.status == 403 and err.value.code in ("E_JURISDICTION", "E_ROLE_NOT_ALLOWED")
    d.refresh_from_db()
    assert d.status == Status.ACCEPTED and d.result_document is None
    assert not DossierEvent.objects.filter(dossier=d, action="approved").exists()
    denied = AuditEvent.objects.filter(action="dossier.approve.denied", subject_id=d.code)
    assert denied.count() == 3
    assert set(denied.values_list("actor_label", flat=True)) == {"ca.hongha", "tp.hacthanh", "mc.hacthanh"}


def test_refusal_needs_a_reason_and_is_audited(world):
    alice = world.alice
    d = services.submit(
        as_citizen(alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=alice.personal_id,
        data={"purpose": "Xin việc"},
    )
    with pytest.raises(DomainError) as err:
        services.refuse(world.police, d.code, reason="  ")
    assert err.value.field == "reason"
    services.refuse(world.police, d.code, reason="Hồ sơ không đúng thẩm quyền")
    d.refresh_from_db()
    assert d.status == Status.REFUSED and d.decision_note == "Hồ sơ không đúng thẩm quyền"
    assert AuditEvent.objects.filter(action="dossier.refused", subject_id=d.code).exists()
    assert Notification.objects.filter(dossier=d, kind="refused").exists()


def test_same_idempotency_key_same_dossier(world):
    alice = world.alice
    kwargs = dict(
        procedure_code="dang-ky-tam-tru",
        applicant_personal_id=alice.personal_id,
        data=_temp(world, alice),
        components={"legal_place": upload(alice)},
        idempotency_key="app-7f3a9c2e-0001",
    )
    first = services.submit(as_citizen(alice), **kwargs)
    again = services.submit(as_citizen(alice), **kwargs)
    assert again.pk == first.pk
    assert Dossier.objects.count() == 1 and DossierEvent.objects.filter(action="submitted").count() == 1
    with pytest.raises(DomainError) as err:  # the same key for another procedure
        services.submit(
            as_citizen(alice),
            procedure_code="xac-nhan-thong-tin-cu-tru",
            applicant_personal_id=alice.personal_id,
            data={"purpose": "x"},
            idempotency_key="app-7f3a9c2e-0001",
        )
    assert err.value.code == "E_IDEMPOTENCY_KEY_REUSED" and err.value.status == 409
    other = services.submit(as_citizen(alice), **{**kwargs, "idempotency_key": "app-7f3a9c2e-0002"})
    assert other.pk != first.pk and other.code != first.code
    assert Registration.objects.filter(citizen=alice, kind="temporary").count() == 0


def test_codes_come_from_the_day_counter(world):
    alice = world.alice
    codes = [
        services.submit(
            as_citizen(alice),
            procedure_code="xac-nhan-thong-tin-cu-tru",
            applicant_personal_id=alice.personal_id,
            data={"purpose": "x"},
        ).code
        for _ in range(3)
    ]
    day = today().strftime("%Y%m%d")
    assert codes == [f"DC-{day}-000001", f"DC-{day}-000002", f"DC-{day}-000003"]
    Dossier.objects.filter(code=codes[0]).update(idempotency_key=None)
    from dancu.publicservices.models import DossierCounter

    assert DossierCounter.objects.get(day=today()).last_number == 3


def test_someone_elses_document_cannot_be_reused(world):
    alice, bob = world.alice, world.bob
    bobs = upload(bob)
    with pytest.raises(DomainError) as err:
        services.submit(
            as_citizen(alice),
            procedure_code="dang-ky-tam-tru",
            applicant_personal_id=alice.personal_id,
            data=_temp(world, alice),
            components={"legal_place": bobs.code},
        )
    assert err.value.code == "E_DOCUMENT_NOT_FOUND" and err.value.field == "components.legal_place"
    mine = upload(alice)
    d = services.submit(
        as_citizen(alice),
        procedure_code="dang-ky-tam-tru",
        applicant_personal_id=alice.personal_id,
        data=_temp(world, alice),
        components={"legal_place": mine.code},
    )
    component = DossierComponent.objects.get(dossier=d)
    assert component.reused and component.document == mine
    assert DocumentUse.objects.filter(document=mine, reference=d.code).exists()
