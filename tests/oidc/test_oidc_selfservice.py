"""The citizen's consents (web page) and the e-ID mobile app's own-account API (scope eid.self)."""

from __future__ import annotations

import pytest

from dancu.audit.models import AuditEvent
from dancu.eid import services as eid
from dancu.eid.models import Device
from dancu.oidc.models import Consent
from tests.eid_helpers import PASSWORD
from tests.oidc_helpers import exchange, get_code, make_client, pkce_pair, sign_in

pytestmark = pytest.mark.usefixtures("otp_without_waits")


def _app_token(client, account) -> tuple[str, object]:
    """The mobile app (a public client) gets a token on the citizen's login."""
    app = make_client("openid eid.self", public=True)
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    code = get_code(client, app.client_id, challenge, scope="openid eid.self")
    tokens = exchange(client, app, code, verifier).json()
    return tokens["access_token"], app


def test_the_app_reads_the_own_account_and_revokes_a_consent(client, account) -> None:
    eid.authenticate_password(account.personal_id, PASSWORD, device_id="phone-A", device_name="Galaxy")
    token, app = _app_token(client, account)
    hospital = make_client()
    _verifier, challenge = pkce_pair()
    get_code(client, hospital.client_id, challenge)
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    body = me.json()
    assert body["personal_id"] == account.personal_id and body["eid_level"] == 1
    assert body["full_name"] == "Nguyễn Thị Hoà" and body["current_commune"] == "Phường Hạc Thành"
    assert [d["device_id"] for d in body["devices"]] == ["phone-A"]
    assert {c["client_id"] for c in body["consents"]} == {app.client_id, hospital.client_id}
    assert AuditEvent.objects.filter(action="citizen.view.self", personal_id=account.personal_id).exists()
    consent = Consent.objects.get(application=hospital.application)
    assert (
        client.post(
            f"/api/v1/me/consents/{consent.pk}/revoke", HTTP_AUTHORIZATION=f"Bearer {token}"
        ).status_code
        == 204
    )
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    again = client.post(f"/api/v1/me/consents/{consent.pk}/revoke", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert again.status_code == 404 and again.json()["code"] == "E_CONSENT_UNKNOWN"
    device = Device.objects.get(device_id="phone-A")
    assert (
        client.post(
            f"/api/v1/me/devices/{device.pk}/release", HTTP_AUTHORIZATION=f"Bearer {token}"
        ).status_code
        == 204
    )


def test_tokens_without_eid_self_or_of_an_agency_are_refused(client, account) -> None:
    agency = make_client("ekyc", grant="client-credentials")
    import base64

    basic = base64.b64encode(f"{agency.client_id}:{agency.client_secret}".encode()).decode()
    agency_token = client.post(
        "/oidc/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    ).json()["access_token"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {agency_token}").status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_consents_page_lists_and_revokes(client, account) -> None:
    hospital = make_client()
    sign_in(client, account)
    _verifier, challenge = pkce_pair()
    get_code(client, hospital.client_id, challenge)
    page = client.get("/eid/consents/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Bệnh viện Hữu nghị" in html and "Xác minh danh tính người bệnh" in html
    consent = Consent.objects.get(application=hospital.application)
    response = client.post("/eid/consents/", {"consent": consent.pk})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert AuditEvent.objects.filter(action="oidc.consent.revoke", personal_id=account.personal_id).exists()
    assert "no-consents" in client.get("/eid/consents/").content.decode()


def test_consents_page_needs_a_citizen_login(client, db) -> None:
    response = client.get("/eid/consents/")
    assert response.status_code == 302 and response["Location"].startswith("/eid/login/")
