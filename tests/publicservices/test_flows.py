"""Interconnected procedures (Decree 63/2024), the officers' steps: one submission, a row per
agency step; each officer decides their own step in their own queue; a refusal stops what
depends on it; a replay never applies twice; the whole-dossier approval is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from dancu.core.errors import Conflict, OutOfJurisdiction
from dancu.eid.models import EidAccount
from dancu.population.models import Citizen
from dancu.publicservices import selectors, services, workdays
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
    assert steps[0].due_on == workdays.add_working_days(today(), 0)  # the same working day
    # The dossier's deadline: its longest chain (birth 0 + residence or card 3 working days).
    assert d.due_on == workdays.add_working_days(today(), 3)
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


def _console(actor):
    from django.test import Client

    from tests.factories import officer_login

    client = Client()
    officer_login(client, actor)
    return client


def test_the_counter_pages_show_and_decide_only_the_officers_own_step(world):
    d = submit_birth(world)
    assert selectors.handles(world.police, d) and not selectors.handles(world.police_elsewhere, d)
    police, justice = _console(world.police), _console(world.justice)
    page = police.get(f"/mot-cua/ho-so/{d.code}/").content.decode()
    assert 'data-testid="steps"' in page and 'data-testid="step-approve"' not in page
    queue = justice.get("/mot-cua/").content.decode()
    assert f'data-code="{d.code}" data-key="birth_registration"' in queue
    # A forged POST by the police meets the service's rule (403); the justice officer's refusal
    # without a reason comes back with the form (400); then with one.
    url = f"/mot-cua/ho-so/{d.code}/buoc/birth_registration/"
    assert police.post(url, {"decision": "approve"}).status_code == 403
    assert justice.post(url, {"decision": "refuse", "step-note": ""}).status_code == 400
    response = justice.post(url, {"decision": "refuse", "step-note": "Giấy chứng sinh giả"})
    assert response.status_code == 302
    assert statuses(d)["birth_registration"] == "refused"
    assert justice.post(url, {"decision": "approve"}).status_code == 409


def test_the_counter_sees_agency_steps_that_wait(world):
    from dancu.publicservices import counter_selectors

    d = submit_birth(world)
    services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    assert counter_selectors.step_queue(world.counter) == []  # sent, nothing failed yet
    DossierStep.objects.filter(dossier=d, key="health_card").update(attempts=3, last_error="down")
    rows = counter_selectors.step_queue(world.counter)
    assert [(r.step.dossier_id, r.step.key) for r in rows] == [(d.pk, "health_card")]
    page = _console(world.counter).get("/mot-cua/").content.decode()
    assert 'data-key="health_card"' in page


def test_a_call_the_exchange_refuses_is_kept_visible_and_retried(world):
    from dancu.exchange.models import ExchangeMessage
    from dancu.publicservices.services import flows

    d = submit_birth(world)
    services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    card = DossierStep.objects.get(dossier=d, key="health_card")
    # The step's message id already names another request (say a bad restore of the log).
    ExchangeMessage.objects.create(
        message_id=card.message_id,
        agency="social_insurance",
        service="funeral_allowance.decide",
        purpose="x",
        request_jws="x",
        request_sha256="x",
    )
    assert flows.advance(d.pk) == {"done": 0, "refused": 0, "retried": 1}
    card.refresh_from_db()
    assert card.status == "sending" and card.attempts == 1 and card.last_error.startswith("E_")
    assert card.next_attempt_at is not None
