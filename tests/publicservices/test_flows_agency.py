"""Interconnected procedures end to end through the API, with the social-insurance stand-in as
a real process: the officers decide their steps over HTTP, the task queue (``advance_flow``)
exchanges signed messages with the agency; refusals at each step, replays, the agency down then
up (the same message id, one card), the funeral allowance with its amount and payee."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from dancu.agencies.social_insurance import add_participant
from dancu.audit.models import AuditEvent
from dancu.core.worker import run_until_idle
from dancu.exchange.models import ExchangeMessage
from dancu.publicservices import services
from dancu.publicservices.models import Dossier, DossierStep, Status
from dancu.publicservices.services import flows
from tests.payments.helpers import free_port
from tests.publicservices.conftest import PDF, today
from tests.publicservices.test_api import _citizen_token, _officer_token
from tests.publicservices.test_flows import BIRTH, DEATH, statuses, submit_birth, submit_death

pytestmark = pytest.mark.django_db(transaction=False)
BASE = "/api/v1/publicservices"


@pytest.fixture
def http(world, otp_without_waits):
    return Client()


def _upload(http, headers, field):
    response = http.post(
        f"{BASE}/uploads",
        {"field": field, "file": _pdf()},
        headers=headers,
    )
    assert response.status_code == 201, response.content
    return response.json()["code"]


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("giay.pdf", PDF, content_type="application/pdf")


def _decide(http, officer, code, key, approve=True, reason=""):
    return http.post(
        f"{BASE}/dossiers/{code}/steps/{key}/decision",
        {"approve": approve, "reason": reason},
        content_type="application/json",
        headers=officer,
    )


def test_the_birth_bundle_through_the_api_with_the_agency(http, world, agency):
    alice = world.alice
    citizen = _citizen_token(alice)
    born = (today() - dt.timedelta(days=2)).isoformat()
    response = http.post(
        f"{BASE}/dossiers",
        {
            "procedure_code": BIRTH,
            "relation": "parent",
            "data": {
                "child_full_name": "Trần Gia Bảo",
                "child_birth_date": born,
                "child_sex": "M",
                "child_ethnicity": "01",
            },
            "components": {"birth_certificate": _upload(http, citizen, "components.birth_certificate")},
        },
        content_type="application/json",
        headers=citizen,
    )
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    justice, police = _officer_token(world.justice), _officer_token(world.police)

    # The justice officer's queue has the birth step, due the same working day.
    queue = http.get(f"{BASE}/steps?status=ready", headers=justice).json()["items"]
    assert [(s["dossier_code"], s["key"]) for s in queue] == [(code, "birth_registration")]
    assert http.get(f"{BASE}/steps?status=ready", headers=police).json()["items"] == []
    assert http.get(f"{BASE}/steps?status=bogus", headers=police).status_code == 400
    assert http.get(f"{BASE}/steps?nope=1", headers=police).status_code == 422
    # Not the police's step (403); not ready yet (409).
    assert _decide(http, police, code, "birth_registration").status_code == 403
    early = _decide(http, police, code, "permanent_residence")
    assert early.status_code == 409 and early.json()["code"] == "E_STEP_NOT_READY"
    assert _decide(http, justice, code, "no_such_step").status_code == 404
    assert _decide(http, justice, "DC-00000000-000000", "birth_registration").status_code == 404

    done = _decide(http, justice, code, "birth_registration")
    assert done.status_code == 200, done.content
    child_id = done.json()["result"]["child_personal_id"]
    replay = _decide(http, justice, code, "birth_registration")
    assert replay.status_code == 409 and replay.json()["code"] == "E_STEP_DECIDED"

    # The worker exchanges with the social-insurance agency: the card, from its own series.
    assert statuses(Dossier.objects.get(code=code))["health_card"] == "sending"
    run_until_idle(periodic=False)
    card = DossierStep.objects.get(dossier__code=code, key="health_card")
    assert card.status == "done", card.last_error
    assert card.result["card_number"].startswith("TE1") and card.result["personal_id"] == child_id
    assert card.result["valid_from"] == born
    message = ExchangeMessage.objects.get(message_id=card.message_id)
    assert message.status == "answered" and message.personal_id == child_id
    assert AuditEvent.objects.filter(action="exchange.send", subject_id=card.message_id).count() == 1

    assert _decide(http, police, code, "permanent_residence").status_code == 200
    run_until_idle(periodic=False)
    mine = http.get(f"{BASE}/dossiers/{code}", headers=citizen).json()
    assert mine["status"] == Status.APPROVED
    steps = {s["key"]: s for s in mine["steps"]}
    assert [s["status"] for s in mine["steps"]] == ["done", "done", "done"]
    assert steps["birth_registration"]["result"]["child_personal_id"] == child_id
    assert steps["health_card"]["result"]["card_number"] == card.result["card_number"]
    assert "thẻ BHYT số TE1" in steps["health_card"]["summary"]
    assert agency.state(ids=True)["cards"] >= 1


def test_a_refused_card_keeps_birth_and_residence_and_the_citizen_is_told(world, agency):
    d = submit_birth(world, name="Trần Gia Hân", born_days_ago=7 * 366)  # 7 years old: no card
    services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    run_until_idle(periodic=False)
    card = DossierStep.objects.get(dossier=d, key="health_card")
    assert card.status == "refused" and card.refusal_reason
    services.decide_step(world.police, d.code, "permanent_residence", approve=True)
    d.refresh_from_db()
    assert d.status == Status.APPROVED
    assert "Đã giải quyết một phần" in d.decision_note and card.name in d.decision_note
    assert d.notifications.filter(kind="step_refused").exists()


def test_the_death_bundle_decides_the_funeral_allowance_with_amount_and_payee(world, agency):
    add_participant(agency.db, world.bob.personal_id, months=200)
    d = submit_death(world)
    services.decide_step(world.justice, d.code, "death_registration", approve=True)
    services.decide_step(world.police, d.code, "residence_deletion", approve=True)
    run_until_idle(periodic=False)
    step = DossierStep.objects.get(dossier=d, key="funeral_allowance")
    assert step.status == "done", step.last_error
    assert step.result["funeral_allowance_vnd"] == 23_400_000
    assert step.result["total_vnd"] > 23_400_000  # 200 months: a survivor lump sum as well
    assert step.result["payee"]["personal_id"] == world.alice.personal_id
    assert step.result["payee"]["bank_account"] == "0123456789"
    d.refresh_from_db()
    assert d.status == Status.APPROVED and statuses(d) == {
        "death_registration": "done",
        "residence_deletion": "done",
        "funeral_allowance": "done",
    }
    assert "23.400.000" in flows.step_summary(step) or "đồng" in flows.step_summary(step)


def test_a_refused_allowance_keeps_the_death_and_the_deletion(world, agency):
    add_participant(agency.db, world.bob.personal_id, months=5)
    d = submit_death(world)
    services.decide_step(world.justice, d.code, "death_registration", approve=True)
    run_until_idle(periodic=False)
    step = DossierStep.objects.get(dossier=d, key="funeral_allowance")
    assert step.status == "refused" and "12" in step.refusal_reason
    services.decide_step(world.police, d.code, "residence_deletion", approve=True)
    d.refresh_from_db()
    world.bob.refresh_from_db()
    assert world.bob.life_status == "deceased"
    assert d.status == Status.APPROVED and "Đã giải quyết một phần" in d.decision_note


def test_a_refused_death_registration_does_nothing_else(world, agency):
    d = submit_death(world)
    services.decide_step(world.justice, d.code, "death_registration", approve=False, reason="Giấy báo tử sai")
    run_until_idle(periodic=False)
    assert statuses(d) == {
        "death_registration": "refused",
        "residence_deletion": "cancelled",
        "funeral_allowance": "cancelled",
    }
    assert not ExchangeMessage.objects.exists()
    d.refresh_from_db()
    world.bob.refresh_from_db()
    assert d.status == Status.REFUSED and world.bob.life_status != "deceased"


def test_agency_down_then_up_retries_with_the_same_message_and_issues_one_card(world, agency, settings):
    d = submit_birth(world, name="Trần Gia Khang")
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL = f"http://127.0.0.1:{free_port(18249)}"  # nobody there
    services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    run_until_idle(periodic=False)
    card = DossierStep.objects.get(dossier=d, key="health_card")
    assert card.status == "sending" and card.attempts == 1 and card.last_error
    assert card.next_attempt_at > timezone.now()
    # A second try, before the agency is back: attempts grow, the message stays the same.
    assert flows.advance(d.pk, now=card.next_attempt_at) == {"done": 0, "refused": 0, "retried": 1}
    card.refresh_from_db()
    assert card.attempts == 2
    sent = ExchangeMessage.objects.get(message_id=card.message_id).request_jws
    # The police's step ends between two tries: the retry is still the same request.
    services.decide_step(world.police, d.code, "permanent_residence", approve=True)
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL = agency.url
    before = agency.state()["cards"]
    assert flows.advance(d.pk, now=card.next_attempt_at)["done"] == 1
    assert flows.advance(d.pk, now=card.next_attempt_at + dt.timedelta(hours=1)) == {
        "done": 0,
        "refused": 0,
        "retried": 0,
    }
    card.refresh_from_db()
    assert card.status == "done"
    message = ExchangeMessage.objects.get(message_id=card.message_id)
    assert message.attempts == 3 and message.status == "answered" and message.request_jws == sent
    assert agency.state()["cards"] == before + 1
    d.refresh_from_db()
    assert d.status == "approved"


def test_the_safety_net_resumes_a_flow_whose_retry_was_lost(world, agency):
    d = submit_birth(world, name="Trần Gia Minh")
    services.decide_step(world.justice, d.code, "birth_registration", approve=True)
    # The advance task of the decision is lost (say its worker died and it failed): the
    # periodic job finds the step due and enqueues it again.
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    DossierStep.objects.filter(dossier=d, key="health_card").update(
        next_attempt_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert flows.resume_due() == 1
    run_until_idle(periodic=False)
    assert statuses(d)["health_card"] == "done"


def test_processing_the_bundle_as_one_dossier_is_refused_over_the_api(http, world):
    d = submit_birth(world)
    justice = _officer_token(world.justice)
    http.post(
        f"{BASE}/officer/dossiers/{d.code}/accept", {}, content_type="application/json", headers=justice
    )
    response = http.post(
        f"{BASE}/officer/dossiers/{d.code}/approve", {}, content_type="application/json", headers=justice
    )
    assert response.status_code == 409 and response.json()["code"] == "E_BUNDLE_USE_STEPS"
    assert DEATH  # both bundle slugs are exercised in this module
