"""Numbers beyond what the database takes are refused naming the field, never a 500 (issue #11:
a console search with page=99999999999999999999 was ``bigint out of range`` on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from oauth2_provider.models import get_application_model

from dancu.accounts import auth
from dancu.accounts import services as accounts
from dancu.audit.models import AuditEvent
from tests.oidc.test_oidc_console import FORM

HUGE = "99999999999999999999"


@pytest.fixture
def client(settings) -> Client:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    return Client()


def test_console_search_page(client, commune_officer) -> None:
    client.force_login(get_user_model().objects.get(username=commune_officer.label))
    for page in (HUGE, "1001"):
        response = client.get("/citizens/", {"q": "nguyen", "reason": "tra cứu", "page": page})
        assert response.status_code == 200
        assert "page" in response.context["form"].errors, page
        assert "1000" in response.content.decode()
    assert not AuditEvent.objects.filter(action="citizen.search").exists()
    assert client.get("/citizens/", {"q": "nguyen", "reason": "tra cứu", "page": "1000"}).status_code == 200


def test_api_page_and_ids(client, geo) -> None:
    auth.token_cache.clear()
    token = accounts.issue_api_token(accounts.create_officer("svc.big", None, "service"), "big")
    headers = {"Authorization": f"Bearer {token}"}
    for path, query in [("/api/v1/citizens", {"q": "nguyen", "page": HUGE}),
                        ("/api/v1/citizens", {"q": "nguyen", "page_size": HUGE}),
                        ("/api/v1/citizens", {"q": "nguyen", "birth_year": HUGE}),
                        ("/api/v1/citizens/038190012345/history", {"page": HUGE})]:
        response = client.get(path, query, headers=headers)
        assert response.status_code == 422, (path, query, response.content)
        assert response.json()["field"] == next(iter(k for k in query if query[k] == HUGE))
    auth.token_cache.clear()
    confirm = client.post(f"/api/v1/eid/registrations/{HUGE}/confirm",
                          {"challenge_id": int(HUGE), "otp": "123456", "password": "x" * 12},
                          content_type="application/json")
    assert 400 <= confirm.status_code < 500, confirm.content


@pytest.mark.parametrize(("change", "field"), [({"ekyc_per_minute": HUGE}, "ekyc_per_minute"),
                                               ({"valid_until": "9999-12-31"}, "valid_until")])
def test_relying_party_form(client, ministry_admin, change, field) -> None:
    client.force_login(get_user_model().objects.get(username=ministry_admin.label))
    response = client.post("/relying-parties/new/", FORM | change)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not get_application_model().objects.exists()
