"""The JSON API over HTTP: a citizen with an OIDC access token of scope ``publicservices``, an
officer with an API token. Status codes and error bodies as the OpenAPI document states."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from dancu.accounts import services as accounts
from dancu.accounts.models import OfficerProfile
from dancu.publicservices.models import Dossier, DossierEvent
from dancu.residence.models import Registration
from tests.eid_helpers import level1_account
from tests.oidc_helpers import exchange, get_code, make_client, pkce_pair, sign_in
from tests.publicservices.conftest import PDF, resident, today

pytestmark = pytest.mark.django_db
BASE = "/api/v1/publicservices"


def _citizen_token(person, scope="openid publicservices", level=2) -> dict[str, str]:
    account = level1_account(person)
    account.level = level
    account.save(update_fields=["level"])
    client = Client()
    app = make_client(scope, public=True)
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    code = get_code(client, app.client_id, challenge, scope=scope)
    token = exchange(client, app, code, verifier).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _officer_token(actor) -> dict[str, str]:
    profile = OfficerProfile.objects.get(user__username=actor.label)
    return {"Authorization": f"Bearer {accounts.issue_api_token(profile, 'test')}"}


@pytest.fixture
def http(world, otp_without_waits):
    return Client()


def test_catalog_is_public_and_states_the_form(http):
    response = http.get(f"{BASE}/catalog")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 27 and sum(1 for p in body if p["essential"]) == 25
    temp = next(p for p in body if p["slug"] == "dang-ky-tam-tru")
    assert temp["time_limit_days"] == 3 and temp["fee_vnd"] == 7000 and temp["has_effect"]
    assert "full_name" in temp["registry_fields"] and "expires_on" in temp["form_schema"]["properties"]
    assert http.get(f"{BASE}/catalog/1.004194").json()["slug"] == "dang-ky-tam-tru"
    assert http.get(f"{BASE}/catalog/nope").status_code == 404


def test_temporary_residence_through_the_api(http, world):
    alice, geo = world.alice, world.geo
    headers = _citizen_token(alice)
    pre = http.get(f"{BASE}/prefill/dang-ky-tam-tru", headers=headers)
    assert pre.status_code == 200 and pre.json()["values"]["full_name"] == alice.full_name
    up = http.post(f"{BASE}/uploads", {"file": _file(), "field": "components.legal_place"}, headers=headers)
    assert up.status_code == 201, up.content
    body = {
        "procedure_code": "dang-ky-tam-tru",
        "relation": "self",
        "data": {
            "commune": f"2025:{geo.hong_ha.code}",
            "address": "3 Tràng Tiền",
            "started_on": today().isoformat(),
            "expires_on": (today() + dt.timedelta(days=200)).isoformat(),
            "housing": "own",
        },
        "components": {"legal_place": up.json()["code"]},
    }
    key = {"Idempotency-Key": "mobile-0001-abcdef"}
    first = http.post(f"{BASE}/dossiers", body, content_type="application/json", headers={**headers, **key})
    assert first.status_code == 201, first.content
    again = http.post(f"{BASE}/dossiers", body, content_type="application/json", headers={**headers, **key})
    assert again.status_code == 200 and again.json()["code"] == first.json()["code"]
    assert Dossier.objects.count() == 1
    code = first.json()["code"]

    officer = _officer_token(world.police_elsewhere)
    queue = http.get(f"{BASE}/officer/queue", headers=officer)
    assert [d["code"] for d in queue.json()["items"]] == [code]
    assert http.get(f"{BASE}/officer/queue", headers=_officer_token(world.police)).json()["items"] == []
    r = http.post(
        f"{BASE}/officer/dossiers/{code}/request-supplement",
        {"note": "Ảnh hợp đồng rõ hơn"},
        content_type="application/json",
        headers=officer,
    )
    assert r.status_code == 200 and r.json()["status"] == "supplement"
    r = http.post(
        f"{BASE}/dossiers/{code}/supplement",
        {"data": {"address": "3 Tràng Tiền, tầng 2"}},
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = http.post(
        f"{BASE}/officer/dossiers/{code}/approve", {}, content_type="application/json", headers=officer
    )
    assert r.status_code == 409 and r.json()["code"] == "E_NOT_PAID"
    Dossier.objects.filter(code=code).update(paid=True)
    outsider = _officer_token(world.police)
    r = http.post(
        f"{BASE}/officer/dossiers/{code}/approve", {}, content_type="application/json", headers=outsider
    )
    assert r.status_code == 403 and r.json()["code"] == "E_JURISDICTION"
    r = http.post(
        f"{BASE}/officer/dossiers/{code}/approve", {}, content_type="application/json", headers=officer
    )
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["result_document_code"]
    assert Registration.objects.get(citizen=alice, kind="temporary").address == "3 Tràng Tiền, tầng 2"

    status = http.get(f"{BASE}/dossiers/{code}", headers=headers).json()
    assert [e["action"] for e in status["events"]] == [
        "submitted",
        "supplement_requested",
        "supplemented",
        "approved",
    ]
    assert status["components"][0]["key"] == "legal_place"
    r = http.post(
        f"{BASE}/dossiers/{code}/rating", {"rating": 4}, content_type="application/json", headers=headers
    )
    assert r.status_code == 200 and r.json()["rating"] == 4
    r = http.post(
        f"{BASE}/feedback",
        {"kind": "complaint", "text": "Chờ lâu", "dossier_code": code},
        content_type="application/json",
        headers=headers,
    )
    assert r.status_code == 201
    mine = http.get(f"{BASE}/dossiers", headers=headers).json()
    assert [d["code"] for d in mine["items"]] == [code]
    assert any(n["kind"] == "approved" for n in http.get(f"{BASE}/inbox", headers=headers).json())


def _file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("hop-dong.pdf", PDF, content_type="application/pdf")


def test_bad_input_is_4xx_naming_the_field(http, world):
    alice, bob = world.alice, world.bob
    headers = _citizen_token(alice)

    def post(body, extra=None):
        return http.post(
            f"{BASE}/dossiers", body, content_type="application/json", headers={**headers, **(extra or {})}
        )

    r = post({"procedure_code": "xac-nhan-thong-tin-cu-tru", "data": {"purpose": "x", "full_name": "Giả"}})
    assert r.status_code == 400 and r.json() == {
        **r.json(),
        "code": "E_REGISTRY_FIELD",
        "field": "data.full_name",
    }
    r = post({"procedure_code": "xac-nhan-thong-tin-cu-tru", "data": {}})
    assert r.status_code == 400 and r.json()["field"] == "data.purpose"
    r = post(
        {
            "procedure_code": "xac-nhan-thong-tin-cu-tru",
            "data": {"purpose": "x"},
            "subject_personal_id": bob.personal_id,
            "relation": "parent",
        }
    )
    assert r.status_code == 403 and r.json()["code"] == "E_NOT_ENTITLED"
    r = post({"procedure_code": "nope", "data": {}})
    assert r.status_code == 404 and r.json()["field"] == "procedure_code"
    r = post({"procedure_code": "xac-nhan-thong-tin-cu-tru", "data": "not an object"})
    assert r.status_code == 422 and r.json()["field"] == "data"
    r = post(
        {"procedure_code": "xac-nhan-thong-tin-cu-tru", "data": {"purpose": "x"}},
        {"Idempotency-Key": "short"},
    )
    assert r.status_code == 400 and r.json()["field"] == "idempotency_key"
    r = http.post(
        f"{BASE}/uploads", {"file": _renamed("anh.png"), "field": "components.legal_place"}, headers=headers
    )
    assert (
        r.status_code == 400
        and r.json()["code"] == "E_FILE_TYPE"
        and r.json()["field"] == "components.legal_place"
    )
    assert Dossier.objects.count() == 0 and DossierEvent.objects.count() == 0
    # Without the scope, or without a token.
    other = _citizen_token(bob, scope="openid eid.self")
    assert http.get(f"{BASE}/dossiers", headers=other).status_code == 401
    assert http.get(f"{BASE}/dossiers").status_code == 401
    # A level-1 account for a level-2 procedure.
    low = _citizen_token(resident(world.geo.hac_thanh, name="Vũ Thị Hạnh"), level=1)
    r = http.post(
        f"{BASE}/dossiers",
        {"procedure_code": "cap-lai-the-can-cuoc", "data": {"reason": "lost"}},
        content_type="application/json",
        headers=low,
    )
    assert r.status_code == 403 and r.json()["code"] == "E_LOA_TOO_LOW"
    # Someone else's dossier is unknown.
    mine = post({"procedure_code": "xac-nhan-thong-tin-cu-tru", "data": {"purpose": "x"}}).json()["code"]
    assert http.get(f"{BASE}/dossiers/{mine}", headers=low).status_code == 404


def _renamed(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="image/png")


def test_prefill_for_someone_one_may_act_for(http, world):
    alice, bob = world.alice, world.bob
    headers = _citizen_token(alice)
    r = http.get(
        f"{BASE}/prefill/xac-nhan-thong-tin-cu-tru/household_head/{bob.personal_id}", headers=headers
    )
    assert r.status_code == 200 and r.json()["values"]["full_name"] == bob.full_name
    from dancu.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="citizen.view.prefill", personal_id=bob.personal_id).count() == 1
    stranger = resident(world.geo.hac_thanh, name="Đinh Văn Tú")
    r = http.get(
        f"{BASE}/prefill/xac-nhan-thong-tin-cu-tru/household_head/{stranger.personal_id}", headers=headers
    )
    assert r.status_code == 403 and r.json()["code"] == "E_NOT_ENTITLED"
    r = http.get(
        f"{BASE}/prefill/xac-nhan-thong-tin-cu-tru/representative/{stranger.personal_id}", headers=headers
    )
    assert r.status_code == 403
    assert "full_name" not in r.content.decode()
    refused = AuditEvent.objects.filter(action="citizen.view.prefill.denied")
    # both refusals to read the stranger's data
    assert list(refused.values_list("personal_id", flat=True)) == [stranger.personal_id] * 2


def test_an_officer_reading_a_dossier_for_someone_audits_both_people(http, world):
    """A household head's dossier about a member shows both: the read of each is recorded."""
    from dancu.audit.models import AuditEvent
    from dancu.publicservices import services
    from tests.publicservices.conftest import as_citizen

    alice, bob = world.alice, world.bob
    d = services.submit(
        as_citizen(alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=alice.personal_id,
        subject_personal_id=bob.personal_id,
        relation="household_head",
        data={"purpose": "Xin việc"},
    )
    officer = _officer_token(world.police)
    assert http.get(f"{BASE}/officer/dossiers/{d.code}", headers=officer).status_code == 200
    viewed = AuditEvent.objects.filter(action="dossier.view", subject_id=d.code)
    both = sorted([alice.personal_id, bob.personal_id])
    assert sorted(viewed.values_list("personal_id", flat=True)) == both
    assert http.get(f"{BASE}/officer/queue", headers=officer).status_code == 200
    listed = AuditEvent.objects.filter(action="dossier.queue")
    assert sorted(listed.values_list("personal_id", flat=True)) == both
    page = Client()
    from tests.factories import officer_login

    officer_login(page, world.police)
    assert page.get(f"/mot-cua/ho-so/{d.code}/").status_code == 200
    assert viewed.count() == 4  # the counter page too: applicant and subject


def test_an_officer_reads_only_the_dossiers_of_the_queue_rule(http, world):
    """The API's dossier read and the counter page apply one rule (selectors.handles): in the
    area AND of a procedure the role processes. The commune's justice officer, in the same
    area, does not process residence: the API answers 404, the counter page 403."""
    from dancu.publicservices import services
    from tests.factories import officer_login
    from tests.publicservices.conftest import as_citizen

    d = services.submit(
        as_citizen(world.alice),
        procedure_code="xac-nhan-thong-tin-cu-tru",
        applicant_personal_id=world.alice.personal_id,
        relation="self",
        data={"purpose": "Xin việc"},
    )
    police, justice = _officer_token(world.police), _officer_token(world.justice)
    assert http.get(f"{BASE}/officer/dossiers/{d.code}", headers=police).status_code == 200
    assert http.get(f"{BASE}/officer/dossiers/{d.code}", headers=justice).status_code == 404
    page = Client()
    officer_login(page, world.justice)
    assert page.get(f"/mot-cua/ho-so/{d.code}/").status_code == 403
