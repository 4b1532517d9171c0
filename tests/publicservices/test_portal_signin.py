"""The portal signs citizens in through dancu's own OpenID Connect provider as a relying party:
its registration (idempotent), code flow with PKCE, ID token verified against the JWKS, the
assurance level a procedure needs, and the refusals."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from oauth2_provider.models import get_application_model

from dancu.accounts.actor import system_actor
from dancu.eid import services as eid
from dancu.oidc.models import Agreement
from dancu.publicservices.portal import client as portal_client
from dancu.publicservices.portal.client import setup_portal
from tests.eid_helpers import level1_account, person
from tests.oidc_helpers import query_of, sign_in
from tests.publicservices.portal_helpers import portal_rp, portal_sign_in  # noqa: F401 (fixture)


@pytest.fixture
def account(geo, commune_officer):
    return level1_account(person(commune_officer, geo.hac_thanh))


def test_setup_portal_is_idempotent(db, settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("DANCU_PORTAL_CLIENT_ID", raising=False)
    first = setup_portal(system_actor("t"), base_urls=["http://testserver"])
    creds = portal_client.credentials()
    assert first.created and creds is not None and creds.client_id == first.client_id
    assert oct((tmp_path / "portal-oidc.json").stat().st_mode & 0o777) == "0o600"
    again = setup_portal(system_actor("t"), base_urls=["http://testserver", "https://dvc.example.vn/"])
    assert not again.created and not again.secret_rotated and again.client_id == first.client_id
    assert portal_client.credentials() == creds  # the secret kept
    Application = get_application_model()
    assert Application.objects.filter(name=portal_client.PORTAL_NAME).count() == 1
    app = Application.objects.get(client_id=first.client_id)
    assert app.redirect_uris.split() == ["http://testserver/dich-vu-cong/dang-nhap/xong/",
                                         "https://dvc.example.vn/dich-vu-cong/dang-nhap/xong/"]
    agreement = Agreement.objects.get(application=app)
    assert agreement.scopes == {"openid", "identity", "profile"}
    assert "dịch vụ công" in agreement.purpose.lower()
    # The credentials file lost: the secret is rotated, the client stays the same.
    (tmp_path / "portal-oidc.json").unlink()
    third = setup_portal(system_actor("t"), base_urls=["http://testserver"])
    assert third.secret_rotated and third.client_id == first.client_id
    new = portal_client.credentials()
    assert new is not None and new.client_secret != creds.client_secret
    assert json.loads((tmp_path / "portal-oidc.json").read_text())["client_id"] == first.client_id


def test_setup_portal_command(db, settings, tmp_path, monkeypatch):
    from django.core.management import call_command

    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("DANCU_PORTAL_CLIENT_ID", raising=False)
    call_command("publicservices", "setup-portal", "--base-url", "http://testserver")
    call_command("publicservices", "setup-portal", "--base-url", "http://testserver")
    assert get_application_model().objects.filter(name=portal_client.PORTAL_NAME).count() == 1


def test_sign_in_through_the_provider(client, portal_rp, account):  # noqa: F811
    response = portal_sign_in(client, account, next_url="/dich-vu-cong/ho-so/")
    assert response.status_code == 302 and response["Location"] == "/dich-vu-cong/ho-so/"
    page = client.get("/dich-vu-cong/ho-so/")
    assert page.status_code == 200
    assert account.citizen.full_name in page.content.decode()
    # The provider was reached over its HTTP views: discovery, JWKS, token.
    from dancu.publicservices.portal import rp

    calls = rp.transport.calls  # type: ignore[attr-defined]
    assert "POST /oidc/token/" in calls and "GET /oidc/.well-known/jwks.json" in calls


def test_pages_need_sign_in(client, portal_rp):  # noqa: F811
    response = client.get("/dich-vu-cong/ho-so/")
    assert response.status_code == 302
    assert response["Location"].startswith("/dich-vu-cong/dang-nhap/?next=")


def test_authorization_request_uses_pkce_and_acr(client, portal_rp, account):  # noqa: F811
    sign_in(client, account)
    response = client.get("/dich-vu-cong/dang-nhap/?next=/dich-vu-cong/&loa=2")
    query = query_of(response["Location"])
    assert urlsplit(response["Location"]).path == "/oidc/authorize/"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["acr_values"] == "urn:vn:dancu:loa:2"
    assert query["redirect_uri"] == "http://testserver/dich-vu-cong/dang-nhap/xong/"
    assert query["scope"] == "openid identity profile"


def test_level1_account_cannot_reach_level2(client, portal_rp, account):  # noqa: F811
    response = portal_sign_in(client, account, loa=2)
    assert response.status_code == 403
    assert "mức 2" in response.content.decode()
    assert client.get("/dich-vu-cong/ho-so/").status_code == 302  # not signed in


def test_level2_sign_in(client, portal_rp, account, commune_officer):  # noqa: F811
    eid.enrol_level2(commune_officer, account.personal_id, card_checked=True, device_reference="d",
                     capture_reference="c")
    response = portal_sign_in(client, account, methods=("pwd", "sms"), loa=2)
    assert response.status_code == 302
    assert client.session["dancu_portal"]["loa"] == 2


def test_forged_state_and_replayed_code_are_refused(client, portal_rp, account):  # noqa: F811
    sign_in(client, account)
    start = client.get("/dich-vu-cong/dang-nhap/?next=/dich-vu-cong/")
    authorize = start["Location"]
    consent = client.get(authorize)
    if consent.status_code == 200:
        form = consent.context["form"]
        data = {n: form[n].value() for n in form.fields if form[n].value() is not None} | {"allow": "true"}
        consent = client.post(authorize, data)
    callback = query_of(consent["Location"])
    forged = client.get("/dich-vu-cong/dang-nhap/xong/", {"code": callback["code"], "state": "forged"})
    assert forged.status_code == 400 and b'data-code="E_STATE"' in forged.content
    ok = client.get("/dich-vu-cong/dang-nhap/xong/", callback)
    assert ok.status_code == 302
    replay = client.get("/dich-vu-cong/dang-nhap/xong/", callback)  # the state was used up
    assert replay.status_code == 400


def test_id_token_from_another_audience_is_refused(client, portal_rp, account, monkeypatch):  # noqa: F811
    from dancu.publicservices.portal import rp

    original = rp._verify

    def wrong_client(meta, id_token, creds, nonce):
        return original(meta, id_token, type(creds)("someone-else", creds.client_secret), nonce)

    monkeypatch.setattr(rp, "_verify", wrong_client)
    response = portal_sign_in(client, account)
    assert response.status_code == 400 and b"E_ID_TOKEN_INVALID" in response.content


def test_open_redirect_is_not_followed(client, portal_rp, account):  # noqa: F811
    response = portal_sign_in(client, account, next_url="https://evil.example/")
    assert response["Location"] == "/dich-vu-cong/"


def test_not_configured(client, db, settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("DANCU_PORTAL_CLIENT_ID", raising=False)
    response = client.get("/dich-vu-cong/dang-nhap/")
    assert response.status_code == 503


def test_logout_ends_the_portal_sign_in(client, portal_rp, account):  # noqa: F811
    portal_sign_in(client, account)
    response = client.post("/dich-vu-cong/dang-xuat/")
    assert response.status_code == 302 and "/oidc/logout/?id_token_hint=" in response["Location"]
    assert client.get("/dich-vu-cong/ho-so/").status_code == 302
