"""The e-ID JSON API for mobile clients (/api/v1/eid/…), on the real database."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dancu.eid import services as eid
from dancu.eid.models import EidAccount, EidApplication, SmsMessage
from tests.eid.test_eid_views import _eid_settings  # noqa: F401  (autouse fixture: no resend wait, media in tmp)
from tests.eid_helpers import JPEG, PASSWORD, PNG, last_code, level1_account, person

BASE = "/api/v1/eid"
PHONE = "+84912345678"


@pytest.fixture
def hoa(geo, commune_officer):
    return person(commune_officer, geo.hac_thanh)  # Nguyễn Thị Hoà, 17/05/1990


def _form(hoa, **overrides):
    data = {"personal_id": hoa.personal_id, "full_name": "Nguyễn Thị Hoà", "birth_date": "1990-05-17",
            "phone": "0912345678", "portrait": SimpleUploadedFile("me.png", PNG, content_type="image/png")}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _json(client, path, body):
    return client.post(BASE + path, body, content_type="application/json")


def test_register_and_confirm_without_a_token(client, hoa) -> None:
    response = client.post(BASE + "/registrations", _form(hoa, email="hoa@example.vn"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["reason_code"] == "" and body["challenge_id"]
    assert body["otp_expires_at"]
    app = EidApplication.objects.get(pk=body["application_id"])
    assert (app.channel, app.email, app.phone) == ("app", "hoa@example.vn", PHONE)
    confirm = _json(client, f"/registrations/{app.pk}/confirm",
                    {"challenge_id": body["challenge_id"], "otp": last_code(PHONE), "password": PASSWORD})
    assert confirm.status_code == 201, confirm.content
    assert confirm.json() == {"personal_id": hoa.personal_id, "level": 1, "status": "active"}
    replay = _json(client, f"/registrations/{app.pk}/confirm",
                   {"challenge_id": body["challenge_id"], "otp": last_code(PHONE), "password": PASSWORD})
    assert replay.status_code == 409 and replay.json()["code"] == "E_APPLICATION_DECIDED"


def test_refusal_is_recorded_and_returned_with_its_code(client, hoa) -> None:
    response = client.post(BASE + "/registrations", _form(hoa, birth_date="1990-05-18"))
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["reason_code"]) == ("refused", "E_REGISTRY_MISMATCH")
    assert body["challenge_id"] is None
    assert "không khớp" in body["reason"] and not SmsMessage.objects.exists()


@pytest.mark.parametrize(("overrides", "status", "code", "field"), [
    ({"birth_date": None}, 422, "E_INVALID_INPUT", "birth_date"),
    ({"birth_date": "17/05/1990"}, 422, "E_INVALID_INPUT", "birth_date"),
    ({"full_name": None}, 422, "E_INVALID_INPUT", "full_name"),
    ({"full_name": "  "}, 400, "E_REQUIRED", "full_name"),
    ({"phone": "12345"}, 400, "E_PHONE_FORMAT", "phone"),
    ({"personal_id": "03819012345"}, 400, "E_ID_NUMBER_FORMAT", "personal_id"),
    ({"portrait": None}, 400, "E_REQUIRED", "portrait"),
    ({"portrait": SimpleUploadedFile("a.gif", b"GIF89a" + b"\x00" * 40)}, 400, "E_PORTRAIT_FORMAT",
     "portrait"),
    ({"portrait": SimpleUploadedFile("b.jpg", JPEG + b"\x00" * (2 * 1024 * 1024))}, 400,
     "E_PORTRAIT_TOO_LARGE", "portrait"),
])
def test_bad_registration_names_the_field_and_writes_nothing(client, hoa, overrides, status, code,
                                                             field) -> None:
    response = client.post(BASE + "/registrations", _form(hoa, **overrides))
    assert response.status_code == status, response.content
    body = response.json()
    assert (body["code"], body["field"]) == (code, field) and body["message"]
    assert not EidApplication.objects.exists()


def test_bad_confirmations(client, hoa) -> None:
    body = client.post(BASE + "/registrations", _form(hoa)).json()
    app, challenge = body["application_id"], body["challenge_id"]
    code = last_code(PHONE)
    wrong = _json(client, f"/registrations/{app}/confirm",
                  {"challenge_id": challenge, "otp": "000000" if code != "000000" else "111111",
                   "password": PASSWORD})
    assert wrong.status_code == 400
    assert (wrong.json()["code"], wrong.json()["field"]) == ("E_OTP_WRONG", "otp")
    weak = _json(client, f"/registrations/{app}/confirm",
                 {"challenge_id": challenge, "otp": code, "password": "x"})
    assert weak.status_code == 400 and weak.json()["field"] == "password"
    missing = _json(client, f"/registrations/{app}/confirm", {"challenge_id": challenge, "otp": code})
    assert missing.status_code == 422 and missing.json()["field"] == "password"
    not_a_number = _json(client, f"/registrations/{app}/confirm",
                         {"challenge_id": "abc", "otp": code, "password": PASSWORD})
    assert not_a_number.status_code == 422 and not_a_number.json()["field"] == "challenge_id"
    unknown = _json(client, "/registrations/999999/confirm",
                    {"challenge_id": challenge, "otp": code, "password": PASSWORD})
    assert unknown.status_code == 404 and unknown.json()["code"] == "E_APPLICATION_UNKNOWN"
    other_challenge = _json(client, f"/registrations/{app}/confirm",
                            {"challenge_id": challenge + 1000, "otp": code, "password": PASSWORD})
    assert other_challenge.status_code == 404 and other_challenge.json()["code"] == "E_OTP_UNKNOWN"
    assert not EidAccount.objects.exists()


def test_recovery_does_not_tell_whether_the_pair_matched(client, hoa, settings) -> None:
    account = level1_account(hoa)
    SmsMessage.objects.all().delete()
    miss = _json(client, "/recovery", {"personal_id": hoa.personal_id, "phone": "0999999999"})
    hit = _json(client, "/recovery", {"personal_id": hoa.personal_id, "phone": "0912345678"})
    assert miss.status_code == hit.status_code == 202
    assert miss.json()["message"] == hit.json()["message"]
    assert len(miss.json()["challenge_id"]) == len(hit.json()["challenge_id"])
    assert SmsMessage.objects.filter(to=PHONE).count() == 1 and SmsMessage.objects.count() == 1
    dead = _json(client, "/recovery/confirm", {"challenge_id": miss.json()["challenge_id"], "otp": "123456",
                                               "password": "Mat-khau-moi-2026"})
    assert dead.status_code == 400 and (dead.json()["code"], dead.json()["field"]) == ("E_OTP_WRONG", "otp")
    settings.DANCU_OTP_RESEND_SECONDS = 60  # a repeated request: no "wait" error either
    again = _json(client, "/recovery", {"personal_id": hoa.personal_id, "phone": "0912345678"})
    assert again.status_code == 202
    done = _json(client, "/recovery/confirm", {"challenge_id": hit.json()["challenge_id"],
                                               "otp": last_code(PHONE), "password": "Mat-khau-moi-2026"})
    assert done.status_code == 200 and done.json()["personal_id"] == account.personal_id
    assert eid.authenticate_password(hoa.personal_id, "Mat-khau-moi-2026").ok


def test_recovery_codes_fail_alike_for_a_match_and_a_miss(client, hoa) -> None:
    """Six wrong codes against a real challenge (the sixth is past the attempt limit) answer
    exactly as six against a request that matched nothing."""
    level1_account(hoa)
    miss = _json(client, "/recovery", {"personal_id": hoa.personal_id, "phone": "0999999999"}).json()
    hit = _json(client, "/recovery", {"personal_id": hoa.personal_id, "phone": "0912345678"}).json()
    wrong = "000000" if last_code(PHONE) != "000000" else "111111"

    def answers(handle: str) -> list[tuple[int, str, str, str]]:
        out = []
        for _ in range(6):
            r = _json(client, "/recovery/confirm", {"challenge_id": handle, "otp": wrong,
                                                    "password": "Mat-khau-moi-2026"})
            out.append((r.status_code, r.json()["code"], r.json()["field"], r.json()["message"]))
        return out

    from_hit, from_miss = answers(hit["challenge_id"]), answers(miss["challenge_id"])
    assert from_hit == from_miss and len(set(from_hit)) == 1
    # the real challenge did count the attempts: even the right code is refused now, alike
    late = _json(client, "/recovery/confirm", {"challenge_id": hit["challenge_id"], "otp": last_code(PHONE),
                                               "password": "Mat-khau-moi-2026"})
    assert (late.status_code, late.json()["message"]) == from_miss[0][::3]


def test_bad_recovery_input(client, hoa) -> None:
    level1_account(hoa)
    bad_phone = _json(client, "/recovery", {"personal_id": hoa.personal_id, "phone": "12"})
    assert bad_phone.status_code == 400 and bad_phone.json()["field"] == "phone"
    missing = _json(client, "/recovery", {"phone": "0912345678"})
    assert missing.status_code == 422 and missing.json()["field"] == "personal_id"
    forged = _json(client, "/recovery/confirm", {"challenge_id": "not-a-handle", "otp": "123456",
                                                 "password": "Mat-khau-moi-2026"})
    assert forged.status_code == 422 and forged.json()["field"] == "challenge_id"
    handle = _json(client, "/recovery", {"personal_id": hoa.personal_id, "phone": "0912345678"}).json()
    weak = _json(client, "/recovery/confirm",
                 {"challenge_id": handle["challenge_id"], "otp": last_code(PHONE), "password": "abc"})
    assert weak.status_code == 400 and weak.json()["field"] == "password"


def test_endpoints_are_in_the_openapi_schema(client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert {f"{BASE}/registrations", f"{BASE}/registrations/{{application_id}}/confirm", f"{BASE}/recovery",
            f"{BASE}/recovery/confirm"} <= set(paths)
    assert "multipart/form-data" in paths[f"{BASE}/registrations"]["post"]["requestBody"]["content"]
    assert not paths[f"{BASE}/recovery"]["post"].get("security")
