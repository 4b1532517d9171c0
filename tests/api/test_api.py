"""The JSON API through Django's full HTTP stack: bearer tokens, jurisdiction, audit, errors."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client

from dancu.accounts import auth
from dancu.accounts import services as accounts
from dancu.accounts.models import ApiToken
from dancu.audit.models import AuditEvent
from dancu.population import services as population
from dancu.population.models import Citizen
from dancu.residence import services as residence
from tests.factories import citizen_raw

URL = "/api/v1"


@dataclass
class Caller:
    token: str
    username: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


def _caller(username: str, role: str, unit=None) -> Caller:
    profile = accounts.create_officer(username, None, role, jurisdiction=unit)
    return Caller(accounts.issue_api_token(profile, f"{username} test"), username)


def _resident(actor, commune, **raw: str) -> Citizen:
    reg = residence.register_new_resident(
        actor, citizen_raw(**raw), commune=commune, address="12 Lê Lợi",
        started_on=dt.date(2025, 8, 1), reason="đăng ký thường trú")
    return reg.citizen


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    auth.token_cache.clear()
    yield
    auth.token_cache.clear()


@pytest.fixture
def client(settings) -> Client:
    # WhiteNoise warns (an error under our filterwarnings) when STATIC_ROOT does not exist yet,
    # as in a fresh DANCU_DATA_DIR.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    return Client()


@pytest.fixture
def national(geo) -> Caller:
    return _caller("svc.quocgia", "service")


@pytest.fixture
def hac_thanh_service(geo) -> Caller:
    return _caller("svc.hacthanh", "service", geo.hac_thanh)


@pytest.fixture
def hoa(geo, ministry_admin) -> Citizen:
    return _resident(ministry_admin, geo.hac_thanh)


def _get(client: Client, path: str, caller: Caller | None = None, **params):
    headers = params.pop("headers", {})
    if caller is not None:
        headers = caller.headers(**headers)
    return client.get(URL + path, params, headers=headers)


# ---- look-up ---------------------------------------------------------------------------------

def test_lookup_returns_identity_fields(client, geo, ministry_admin, national) -> None:
    father = _resident(ministry_admin, geo.hac_thanh, full_name="Nguyễn Văn Bình",
                       birth_date="1960", sex="M")
    mother = _resident(ministry_admin, geo.hac_thanh, full_name="Lê Thị Cúc",
                       birth_date="1962-03", sex="F")
    child = _resident(ministry_admin, geo.hac_thanh, full_name="Nguyễn Thị Hoà",
                      birth_date="1990-05-17", ethnicity="06", religion="02",
                      origin_unit="legacy:14758", old_id_number="172345678",
                      father_id=father.personal_id, mother_id=mother.personal_id)

    resp = _get(client, f"/citizens/{child.personal_id}", national)

    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body == {
        "personal_id": child.personal_id,
        "full_name": "Nguyễn Thị Hoà",
        "birth_date": "1990-05-17",
        "birth_date_precision": "day",
        "sex": "F",
        "ethnicity": {"code": "06", "name": "Mường"},
        "religion": {"code": "02", "name": "Công giáo"},
        "nationality": "VN",
        "birth_registration_unit": {"code": "legacy:38", "name": "Tỉnh Thanh Hóa"},
        "origin_unit": {"code": "legacy:14758", "name": "Phường Hàm Rồng"},
        "marital_status": "unknown",
        "life_status": "living",
        "death_date": None,
        "old_id_number": "172345678",
        "father_personal_id": father.personal_id,
        "mother_personal_id": mother.personal_id,
        "spouse_personal_id": None,
        "current_commune": {"code": "2025:14758", "name": "Phường Hạc Thành"},
        "current_province": {"code": "2025:38", "name": "Tỉnh Thanh Hóa"},
        "version": 1,
        "updated_at": body["updated_at"],
    }
    assert dt.datetime.fromisoformat(body["updated_at"]).tzinfo is not None
    # A partial birth date stays partial.
    mother_body = _get(client, f"/citizens/{mother.personal_id}", national).json()
    assert (mother_body["birth_date"], mother_body["birth_date_precision"]) == ("1962-03", "month")


def test_lookup_is_audited_with_purpose_and_api_source(client, hoa, national) -> None:
    before = AuditEvent.objects.count()
    resp = _get(client, f"/citizens/{hoa.personal_id}", national, purpose="xác minh hồ sơ BHXH")
    assert resp.status_code == 200

    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.source, event.reason) == ("citizen.view", "api", "xác minh hồ sơ BHXH")
    assert (event.actor_label, event.personal_id) == ("svc.quocgia", hoa.personal_id)
    assert event.source_ref == "token:" + national.token[:8]
    assert event.ip == "127.0.0.1"


def test_purpose_may_come_from_the_x_purpose_header(client, hoa, national) -> None:
    resp = _get(client, f"/citizens/{hoa.personal_id}", national,
                headers={"X-Purpose": quote("cấp thẻ căn cước")})
    assert resp.status_code == 200
    assert AuditEvent.objects.latest("id").reason == "cấp thẻ căn cước"


@pytest.mark.parametrize("authorization", [None, "Bearer dct_not-a-real-token", "Basic Zm9vOmJhcg==",
                                           "Bearer "])
def test_missing_or_bad_token_is_401(client, hoa, authorization) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    resp = client.get(f"{URL}/citizens/{hoa.personal_id}", headers=headers)
    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == "E_UNAUTHENTICATED" and body["field"] is None and body["message"]
    assert resp["WWW-Authenticate"].startswith("Bearer")
    assert not AuditEvent.objects.filter(action__startswith="citizen.view").exists()


def test_revoked_token_is_401(client, hoa, national) -> None:
    token_id = ApiToken.objects.get(profile__user__username="svc.quocgia").pk
    accounts.revoke_api_token(token_id)
    resp = _get(client, f"/citizens/{hoa.personal_id}", national)
    assert resp.status_code == 401 and resp.json()["code"] == "E_UNAUTHENTICATED"


def test_token_of_deactivated_user_is_401(client, hoa, national) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="svc.quocgia").update(is_active=False)
    assert _get(client, f"/citizens/{hoa.personal_id}", national).status_code == 401


def test_revocation_takes_effect_within_the_cache_ttl(client, hoa, national, settings,
                                                    monkeypatch) -> None:
    settings.DANCU_API_TOKEN_CACHE_SECONDS = 30
    now = [1000.0]
    monkeypatch.setattr(auth.token_cache, "clock", lambda: now[0])
    assert _get(client, f"/citizens/{hoa.personal_id}", national).status_code == 200
    accounts.revoke_api_token(ApiToken.objects.get(profile__user__username="svc.quocgia").pk)
    now[0] += 29  # still cached in this process: the documented delay
    assert _get(client, f"/citizens/{hoa.personal_id}", national).status_code == 200
    now[0] += 2  # past the TTL: the revocation is seen
    assert _get(client, f"/citizens/{hoa.personal_id}", national).status_code == 401


def test_without_cache_revocation_is_immediate(client, hoa, national, settings) -> None:
    settings.DANCU_API_TOKEN_CACHE_SECONDS = 0
    assert _get(client, f"/citizens/{hoa.personal_id}", national).status_code == 200
    accounts.revoke_api_token(ApiToken.objects.get(profile__user__username="svc.quocgia").pk)
    assert _get(client, f"/citizens/{hoa.personal_id}", national).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(client, hoa, national, settings,
                                                       monkeypatch) -> None:
    settings.DANCU_API_TOKEN_CACHE_SECONDS = 600
    now = [5000.0]
    monkeypatch.setattr(auth.token_cache, "clock", lambda: now[0])
    token = ApiToken.objects.get(profile__user__username="svc.quocgia")
    assert token.last_used_at is None

    _get(client, f"/citizens/{hoa.personal_id}", national)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    now[0] += 30
    _get(client, f"/citizens/{hoa.personal_id}", national)
    token.refresh_from_db()
    assert token.last_used_at == first  # not rewritten within the minute

    now[0] += 31
    _get(client, f"/citizens/{hoa.personal_id}", national)
    token.refresh_from_db()
    assert token.last_used_at > first


def test_commune_service_cannot_read_another_commune(client, geo, ministry_admin,
                                                     hac_thanh_service) -> None:
    other = _resident(ministry_admin, geo.dong_son, full_name="Trần Văn Nam", sex="M")
    resp = _get(client, f"/citizens/{other.personal_id}", hac_thanh_service, purpose="tra cứu")
    assert resp.status_code == 403
    assert resp.json() == {"code": "E_JURISDICTION", "field": "personal_id",
                           "message": resp.json()["message"]}
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.source, event.personal_id, event.reason) == (
        "citizen.view.denied", "api", other.personal_id, "tra cứu")


def test_commune_service_reads_its_own_commune(client, hoa, hac_thanh_service) -> None:
    assert _get(client, f"/citizens/{hoa.personal_id}", hac_thanh_service).status_code == 200


def test_province_police_token_covers_its_province(client, geo, ministry_admin) -> None:
    caller = _caller("ca.tinh", "province_police", geo.thanh_hoa)
    in_province = _resident(ministry_admin, geo.dong_son, full_name="Lò Văn Páo", sex="M")
    in_ha_noi = _resident(ministry_admin, geo.hong_ha, full_name="Đỗ Thị Mai")
    assert _get(client, f"/citizens/{in_province.personal_id}", caller).status_code == 200
    assert _get(client, f"/citizens/{in_ha_noi.personal_id}", caller).status_code == 403


def test_unknown_citizen_is_404(client, geo, national) -> None:
    resp = _get(client, "/citizens/038190000001", national)
    assert resp.status_code == 404
    assert resp.json()["code"] == "E_CITIZEN_NOT_FOUND"
    assert resp.json()["field"] == "personal_id"
    assert AuditEvent.objects.latest("id").action == "citizen.view.not_found"


@pytest.mark.parametrize("bad", ["12345", "03819000000A", "0381900000011"])
def test_malformed_id_names_the_field_before_any_lookup(client, geo, national, bad) -> None:
    resp = _get(client, f"/citizens/{bad}", national)
    assert resp.status_code == 422
    assert resp.json()["code"] == "E_ID_NUMBER_FORMAT"
    assert resp.json()["field"] == "personal_id"
    assert not AuditEvent.objects.filter(subject_type="citizen").exists()


# ---- search ----------------------------------------------------------------------------------

def test_search_without_diacritics_and_pagination(client, geo, ministry_admin, national) -> None:
    for i, year in enumerate((1980, 1981, 1982)):
        _resident(ministry_admin, geo.hac_thanh, full_name=f"Đặng Thị Ngọc {'ABC'[i]}",
                  birth_date=str(year))
    _resident(ministry_admin, geo.hong_ha, full_name="Phạm Văn Đức", sex="M")

    page1 = _get(client, "/citizens", national, q="dang thi ngoc", page_size=2, purpose="kiểm tra")
    assert page1.status_code == 200, page1.content
    body = page1.json()
    assert (body["page"], body["page_size"], body["has_next"]) == (1, 2, True)
    assert [c["full_name"] for c in body["items"]] == ["Đặng Thị Ngọc A", "Đặng Thị Ngọc B"]
    assert set(body["items"][0]) == {"personal_id", "full_name", "birth_date", "sex",
                                     "current_commune"}
    assert body["items"][0]["current_commune"] == {"code": "2025:14758", "name": "Phường Hạc Thành"}

    page2 = _get(client, "/citizens", national, q="dang thi ngoc", page_size=2, page=2).json()
    assert [c["full_name"] for c in page2["items"]] == ["Đặng Thị Ngọc C"]
    assert page2["has_next"] is False

    narrowed = _get(client, "/citizens", national, q="dang", birth_year=1981).json()
    assert [c["birth_date"] for c in narrowed["items"]] == ["1981"]

    search_event = AuditEvent.objects.filter(action="citizen.search").order_by("id").first()
    assert (search_event.source, search_event.reason) == ("api", "kiểm tra")


def test_search_is_limited_to_the_callers_area(client, geo, ministry_admin,
                                               hac_thanh_service) -> None:
    _resident(ministry_admin, geo.hac_thanh, full_name="Vũ Thị Lan")
    _resident(ministry_admin, geo.dong_son, full_name="Vũ Thị Lan")
    body = _get(client, "/citizens", hac_thanh_service, q="vu thi lan").json()
    assert [c["current_commune"]["code"] for c in body["items"]] == ["2025:14758"]


def test_search_by_commune_filter(client, geo, ministry_admin, national) -> None:
    _resident(ministry_admin, geo.hac_thanh, full_name="Vũ Thị Lan")
    kept = _resident(ministry_admin, geo.dong_son, full_name="Vũ Thị Lan")
    body = _get(client, "/citizens", national, q="vu", commune="2025:14797").json()
    assert [c["personal_id"] for c in body["items"]] == [kept.personal_id]


@pytest.mark.parametrize(("params", "field"), [
    ({"q": "lan", "birth_year": "abc"}, "birth_year"),
    ({"q": "lan", "page": "0"}, "page"),
    ({"q": "lan", "page_size": "1000"}, "page_size"),
    ({"q": "lan", "commune": "2025:99999"}, "commune"),
    ({"q": "lan", "commune": "legacy:14758"}, "commune"),
])
def test_bad_query_parameter_is_422_naming_the_field(client, geo, national, params, field) -> None:
    resp = _get(client, "/citizens", national, **params)
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["field"] == field and body["message"]
    assert body["code"] in {"E_INVALID_INPUT", "E_UNIT_UNKNOWN"}


def test_several_bad_parameters_are_all_listed(client, geo, national) -> None:
    body = _get(client, "/citizens", national, q="lan", birth_year="x", page="y").json()
    assert body["code"] == "E_INVALID_INPUT"
    assert {e["field"] for e in body["errors"]} == {"birth_year", "page"}


def test_empty_search_is_a_domain_error(client, geo, national) -> None:
    resp = _get(client, "/citizens", national, q="  ")
    assert resp.status_code == 400
    assert (resp.json()["code"], resp.json()["field"]) == ("E_QUERY_REQUIRED", "q")


# ---- residence and history -------------------------------------------------------------------

def test_residence_history(client, geo, ministry_admin, hoa, national) -> None:
    residence.register_temporary(ministry_admin, hoa.personal_id, commune=geo.hong_ha,
                                 address="5 Hàng Bài", started_on=dt.date(2026, 1, 10),
                                 expires_on=dt.date(2027, 1, 9), reason="đi làm")
    resp = _get(client, f"/citizens/{hoa.personal_id}/residences", national, purpose="xác minh")
    assert resp.status_code == 200, resp.content
    items = resp.json()["items"]
    assert [(r["kind"], r["commune"]["code"]) for r in items] == [
        ("temporary", "2025:00097"), ("permanent", "2025:14758")]
    assert items[1]["household"] and items[1]["address"] == "12 Lê Lợi"
    assert items[0]["expires_on"] == "2027-01-09"
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.reason, event.source) == ("citizen.residences.view", "xác minh", "api")


def test_residence_history_obeys_jurisdiction(client, geo, ministry_admin,
                                              hac_thanh_service) -> None:
    other = _resident(ministry_admin, geo.hong_ha, full_name="Đỗ Thị Mai")
    resp = _get(client, f"/citizens/{other.personal_id}/residences", hac_thanh_service)
    assert resp.status_code == 403 and resp.json()["code"] == "E_JURISDICTION"
    assert AuditEvent.objects.latest("id").action == "citizen.residences.view.denied"


def test_change_history(client, geo, ministry_admin, hoa, national) -> None:
    population.correct_citizen(ministry_admin, hoa.personal_id, {"marital_status": "married"},
                               reason="đăng ký kết hôn", expected_version=hoa.version)
    resp = _get(client, f"/citizens/{hoa.personal_id}/history", national)
    assert resp.status_code == 200, resp.content
    items = resp.json()["items"]
    assert items[0]["action"] == "citizen.update"
    assert items[0]["before"]["marital_status"] == "unknown"
    assert items[0]["after"]["marital_status"] == "married"
    assert "citizen.create" in [e["action"] for e in items]
    # Reads are not changes: the look-ups themselves are not listed.
    assert not [e for e in items if e["action"].startswith("citizen.history")]


# ---- health, OpenAPI, errors -----------------------------------------------------------------

def test_health_needs_no_token(client, db) -> None:
    resp = client.get(f"{URL}/health")
    assert resp.status_code == 200 and resp.json() == {"status": "ok", "database": "ok"}


def test_openapi_lists_paths_and_bearer_scheme(client, db) -> None:
    resp = client.get(f"{URL}/openapi.json")
    assert resp.status_code == 200
    doc = json.loads(resp.content)
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/citizens", "/api/v1/citizens/{personal_id}",
            "/api/v1/citizens/{personal_id}/residences", "/api/v1/citizens/{personal_id}/history",
            "/api/v1/health"} <= set(doc["paths"])
    schemes = doc["components"]["securitySchemes"]
    assert any(s == {"type": "http", "scheme": "bearer"} for s in schemes.values())
    lookup = doc["paths"]["/api/v1/citizens/{personal_id}"]["get"]
    assert lookup["security"] and "403" in lookup["responses"]
    assert "security" not in doc["paths"]["/api/v1/health"]["get"]
    assert client.get(f"{URL}/docs").status_code == 200


@pytest.mark.parametrize("path", ["/nothing", "/citizens/", "/citizens/038190000001/pets"])
def test_unknown_api_url_is_json_404(client, db, path) -> None:
    resp = client.get(URL + path)
    assert resp.status_code == 404
    assert resp.json()["code"] == "E_NOT_FOUND"


def test_unexpected_error_is_json_500_without_trace(client, hoa, national, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("dancu.population.api.get_citizen", broken)
    monkeypatch.setattr("dancu.population.api.lookup_citizen_document", broken)
    resp = _get(client, f"/citizens/{hoa.personal_id}", national)
    assert resp.status_code == 500
    body = resp.json()
    assert body["code"] == "E_INTERNAL" and body["field"] is None
    assert "secret internals" not in resp.content.decode() and "Traceback" not in resp.content.decode()
