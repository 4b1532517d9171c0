"""The OpenAPI document states what the server enforces and every status it answers (issue #11);
tests/api/test_fuzz_api.py checks it against generated requests, these pin the cases it found."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from django.test import Client

from tests.oidc_helpers import make_client


@pytest.fixture
def client(settings) -> Client:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    return Client()


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").json()


def _param(operation: dict, name: str) -> dict:
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_parameters(doc) -> None:
    for path in ("/api/v1/citizens/{personal_id}", "/api/v1/citizens/{personal_id}/history",
                 "/api/v1/citizens/{personal_id}/residences"):
        schema = _param(doc["paths"][path]["get"], "personal_id")["schema"]
        assert (schema["pattern"], schema["minLength"], schema["maxLength"]) == (r"^[0-9]{12}$", 12, 12)
    q = _param(doc["paths"]["/api/v1/citizens"]["get"], "q")
    assert q["required"] is True and q["schema"]["minLength"] == 1
    page = _param(doc["paths"]["/api/v1/citizens"]["get"], "page")["schema"]
    assert page["maximum"] == 1000


def test_every_refusal_is_declared_with_the_error_body(doc) -> None:
    error = {"$ref": "#/components/schemas/ErrorOut"}
    expected = {
        ("/api/v1/ekyc/verify", "post"): {"400", "401", "403", "422", "429"},
        ("/api/v1/me", "get"): {"400", "401", "403", "422"},
        ("/api/v1/me/consents/{consent_id}/revoke", "post"): {"400", "401", "403", "404", "422"},
        ("/api/v1/me/devices/{device_pk}/release", "post"): {"400", "401", "403", "404", "422"},
        ("/api/v1/citizens", "get"): {"400", "401", "403", "404", "422"},
        ("/api/v1/eid/registrations", "post"): {"400", "404", "409", "422"},
    }
    for (path, method), statuses in expected.items():
        responses = doc["paths"][path][method]["responses"]
        assert statuses <= set(responses), (path, set(responses))
        for status in statuses:
            assert responses[status]["content"]["application/json"]["schema"] == error, (path, status)


def test_a_number_is_not_a_date(client, db) -> None:
    app = make_client("ekyc", grant="client-credentials")
    basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    token = client.post("/oidc/token/", {"grant_type": "client_credentials"},
                        HTTP_AUTHORIZATION=f"Basic {basic}").json()["access_token"]
    for birth_date in (0, "1700000000"):
        response = client.post("/api/v1/ekyc/verify", {"personal_id": "038190012345", "full_name": "A",
                                                       "birth_date": birth_date},
                               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 422, (birth_date, response.content)
        assert response.json()["field"] == "birth_date"


def test_missing_q_is_named(client, geo) -> None:
    from dancu.accounts import auth
    from dancu.accounts import services as accounts

    auth.token_cache.clear()
    token = accounts.issue_api_token(accounts.create_officer("svc.q", None, "service"), "q")
    response = client.get("/api/v1/citizens", headers={"Authorization": f"Bearer {token}"})
    auth.token_cache.clear()
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("E_INVALID_INPUT", "q")


def test_each_response_schema_is_its_own(doc) -> None:
    """Two schema classes of one name share one component, the later one winning: e-KYC's
    verification answered documents' verification schema (fuzzing found it)."""
    def ref(path: str, method: str) -> str:
        return doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]

    ekyc, verify = ref("/api/v1/ekyc/verify", "post"), ref("/api/v1/documents/verify/{code}", "get")
    assert ekyc != verify
    components = doc["components"]["schemas"]
    assert "result" in components[ekyc.rsplit("/", 1)[-1]]["properties"]
    assert "verdict" in components[verify.rsplit("/", 1)[-1]]["properties"]
