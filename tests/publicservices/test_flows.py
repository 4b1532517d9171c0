"""Interconnected procedures (Decree 63/2024), the officers' steps: one submission, a row per
agency step; each officer decides their own step in their own queue; a refusal stops what
depends on it; a replay never applies twice; the whole-dossier approval is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from dancu.core.errors import Conflict, OutOfJurisdiction
from dancu.eid.models import EidAccount
from dancu.population.models import Citizen
from dancu.publicservices import selectors, services
from dancu.publicservices.models import DossierEvent, DossierStep, Notification, Status
from dancu.residence.models import Registration
from tests.eid_helpers import level1_account
from tests.publicservices.conftest import as_citizen, today, upload

pytestmark = pytest.mark.django_db
BIRTH, DEATH = "lien-thong-khai-sinh-thuong-tru-bhyt", "lien-thong-khai-tu-xoa-thuong-tru-mai-tang"


def submit_birth(world, name="Lê Minh An", born_days_ago=3):
    alice = world.alice
    return services.submit(
        as_citizen(alice),
        procedure_code=BIRTH,
        applicant_personal_id=alice.personal_id,
        relation="parent",
        data={
            "child_full_name": name,
            "child_birth_date": (today() - dt.timedelta(days=born_days_ago)).isoformat(),
            "child_sex": "M",
            "child_ethnicity": "01",
            "other_parent_personal_id": world.bob.personal_id,
        },
        components={"birth_certificate": upload(alice, "birth_certificate")},
    )


def submit_death(world):
    alice, bob = world.alice, world.bob
    return services.submit(
        as_citizen(alice),
        procedure_code=DEATH,
        applicant_personal_id=alice.personal_id,
        subject_personal_id=bob.personal_id,
        relation="household_head",
        data={
            "death_date": (today() - dt.timedelta(days=1)).isoformat(),
            "death_place": "Bệnh viện Đa khoa tỉnh",
            "payee_relationship": "spouse",
            "payee_bank_account": "0123456789",
        },
        components={"death_notice": upload(alice, "death_notice")},
    )


def statuses(dossier):
    return dict(DossierStep.objects.filter(dossier=dossier).values_list("key", "status"))


def test_a_birth_bundle_is_three_steps_the_first_ready_for_the_justice_officer(world):
    d = submit_birth(world)
    steps = list(DossierStep.objects.filter(dossier=d).order_by("position"))
    assert [(s.key, s.status, s.role) for s in steps] == [
        ("birth_registration", "ready", "commune_justice"),
        ("permanent_residence", "waiting", "commune_police"),
        ("health_card", "waiting", ""),
    ]
    assert steps[0].due_on == today() or steps[0].due_on > today()  # the same working day
    assert len({s.message_id for s in steps}) == 3
    # The justice officer's queue has it; the police's has nothing yet.
    assert [s.key for s in selectors.step_queue(world.justice)[0]] == ["birth_registration"]
    assert selectors.step_queue(world.police)[0] == []
    assert selectors.step_queue(world.police_elsewhere)[0] == []


def test_the_birth_step_registers_the_child_then_the_police_register_the_residence(world):
    d = submit_birth(world)
    with pytest.raises(OutOfJurisdiction) as refused:  # not the police's step
        services.decide_step(world.police, d.code, "birth_registration", approve=True)
    assert refused.value.code == "E_ROLE_NOT_ALLOWED"
    with pytest.raises(Conflict) as early:
        services.decide_step(world.police, d.code, "permanent_residence", approve=True)
    assert early.value.code == "E_STEP_NOT_READY"

    step = services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    child = Citizen.objects.get(personal_id=step.result["child_personal_id"])
    assert child.mother_id == world.alice.pk and child.father_id == world.bob.pk
    assert not Registration.objects.filter(citizen=child).exists()  # the police's step, not yet
    assert step.result_document is not None and step.result_document.signed
    d.refresh_from_db()
    assert d.status == Status.ACCEPTED
    assert statuses(d) == {
        "birth_registration": "done",
        "permanent_residence": "ready",
        "health_card": "sending",
    }
    # A replay of the same decision changes nothing.
    with pytest.raises(Conflict) as replay:
        services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    assert replay.value.code == "E_STEP_DECIDED"
    assert Citizen.objects.filter(full_name="Lê Minh An").count() == 1
    # The police of another commune may not decide it; the commune's police do.
    with pytest.raises(OutOfJurisdiction):
        services.decide_step(world.police_elsewhere, d.code, "permanent_residence", approve=True)
    assert [s.key for s in selectors.step_queue(world.police)[0]] == ["permanent_residence"]
    services.decide_step(world.police, d.code, "permanent_residence", approve=True)
    reg = Registration.objects.get(citizen=child, kind="permanent", ended_on__isnull=True)
    assert reg.household.head == world.alice
    actions = list(DossierEvent.objects.filter(dossier=d).values_list("action", flat=True))
    assert actions.count("step_done") == 2
    kinds = list(Notification.objects.filter(dossier=d).values_list("kind", flat=True))
    assert kinds.count("step_done") == 2
    d.refresh_from_db()
    assert d.status == Status.ACCEPTED  # the health card is still with the agency


def test_a_refused_birth_step_cancels_the_rest_and_refuses_the_dossier(world):
    d = submit_birth(world)
    with pytest.raises(Exception) as no_reason:
        services.decide_step(world.justice, d.code, "birth_registration", approve=False)
    assert no_reason.value.code == "E_REASON_REQUIRED"
    services.decide_step(
        world.justice, d.code, "birth_registration", approve=False, reason="Giấy chứng sinh không hợp lệ"
    )
    assert statuses(d) == {
        "birth_registration": "refused",
        "permanent_residence": "cancelled",
        "health_card": "cancelled",
    }
    d.refresh_from_db()
    assert d.status == Status.REFUSED and "Giấy chứng sinh không hợp lệ" in d.decision_note
    assert not Citizen.objects.filter(full_name="Lê Minh An").exists()


def test_a_refused_residence_step_keeps_the_birth_and_the_card_goes_on(world):
    d = submit_birth(world)
    services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    services.decide_step(
        world.police, d.code, "permanent_residence", approve=False, reason="Chỗ ở không hợp pháp"
    )
    assert statuses(d)["permanent_residence"] == "refused"
    assert statuses(d)["health_card"] == "sending"  # depends on the birth only
    assert Citizen.objects.filter(full_name="Lê Minh An").exists()
    d.refresh_from_db()
    assert d.status == Status.ACCEPTED


def test_a_bundle_is_not_approved_whole(world):
    d = submit_birth(world)
    services.accept(world.justice, d.code)
    with pytest.raises(Conflict) as whole:
        services.approve(world.justice, d.code)
    assert whole.value.code == "E_BUNDLE_USE_STEPS"
    with pytest.raises(Conflict):
        services.refuse(world.justice, d.code, reason="x")


def test_the_death_steps_record_the_death_lock_the_account_and_delete_the_residence(world):
    bob = world.bob
    level1_account(bob)
    d = submit_death(world)
    assert statuses(d)["death_registration"] == "ready"
    step = services.decide_step(world.justice, d.code, "death_registration", approve=True)
    bob.refresh_from_db()
    assert bob.life_status == "deceased"
    assert EidAccount.objects.get(citizen=bob).status == "locked"
    assert step.result["eid_account"] == "locked"
    assert Registration.objects.filter(citizen=bob, kind="permanent", ended_on__isnull=True).exists()
    assert statuses(d) == {
        "death_registration": "done",
        "residence_deletion": "ready",
        "funeral_allowance": "sending",
    }
    services.decide_step(world.police, d.code, "residence_deletion", approve=True)
    assert not Registration.objects.filter(citizen=bob, kind="permanent", ended_on__isnull=True).exists()


def test_a_withdrawn_bundle_cancels_its_steps_but_not_once_a_step_is_done(world):
    d = submit_birth(world)
    services.withdraw(as_citizen(world.alice), d.code)
    assert set(statuses(d).values()) == {"cancelled"}
    d2 = submit_birth(world, name="Lê Minh Bảo")
    services.decide_step(world.justice, d2.code, "birth_registration", approve=True)
    with pytest.raises(Conflict):
        services.withdraw(as_citizen(world.alice), d2.code)
