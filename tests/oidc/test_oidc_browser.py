"""A relying party the project did not write (Authlib's OAuth 2.0 client, verifying with joserfc)
logs a citizen in against a live server: discovery, e-ID login and consent in headless Chromium,
code exchange with PKCE, ID token checked through the JWKS, userinfo — and a step-up to
assurance level 2 with an SMS code. See tests/browser.py for the Chromium conventions."""

from __future__ import annotations

import re
import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.browser import BROWSER

pytestmark = BROWSER

RP_CALLBACK = "https://benhvien.example.vn/oidc/callback"
PASSWORD = "Hoa-sen-2024!"


@pytest.fixture
def world(transactional_db, live_server, otp_without_waits):
    """A person with a level-1 e-ID account and a registered relying party, committed."""
    from tests.eid_helpers import level1_account, person
    from tests.factories import mini_geo, officer_actor
    from tests.oidc_helpers import make_client

    geo = mini_geo()
    officer = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    account = level1_account(person(officer, geo.hac_thanh), password=PASSWORD)
    rp = make_client("openid identity profile address")
    # connections left open by ORM calls made inside Playwright: tests/conftest.py ends them
    yield {"account": account, "rp": rp, "officer": officer, "url": live_server.url}


def _log_in_through_browser(chromium, authorize_url: str, personal_id: str, step_up_phone: str = "") -> str:
    """Drives the citizen's side; returns the URL the provider redirected back to."""
    context = chromium.new_context(locale="vi-VN")
    context.set_default_timeout(15_000)
    callback: list[str] = []

    def _rp(route) -> None:  # the relying party's callback: record it, answer a blank page
        callback.append(route.request.url)
        route.fulfill(status=200, body="ok", content_type="text/plain")

    context.route(re.compile(r"^https://benhvien\.example\.vn/.*"), _rp)
    page = context.new_page()
    page.goto(authorize_url)
    page.wait_for_url(re.compile(r".*/eid/login/.*"))
    assert "Bệnh viện Hữu nghị" in page.locator("[data-testid=relying-party]").inner_text()
    page.fill("input[name=personal_id]", personal_id)
    page.fill("input[name=password]", PASSWORD)
    page.locator("[data-testid=login-form] button[type=submit]").click()
    if step_up_phone:
        from tests.eid_helpers import last_code

        page.wait_for_url(re.compile(r".*/eid/step-up/.*"))
        page.locator("[data-testid=step-up-sms] button[type=submit]").click()
        page.fill("#id_sms_code", last_code(step_up_phone))
        page.locator("#id_sms_code").press("Enter")
    page.wait_for_selector("[data-testid=consent-form]")
    assert "Xác minh danh tính người bệnh" in page.locator("[data-testid=rp-purpose]").inner_text()
    page.locator("[data-testid=consent-allow]").click()
    page.wait_for_timeout(200)
    for _ in range(50):
        if callback:
            break
        page.wait_for_timeout(100)
    context.close()
    assert callback, "the provider never redirected to the relying party"
    return callback[0]


def _relying_party(world, **extra):
    meta = requests.get(world["url"] + "/oidc/.well-known/openid-configuration", timeout=10).json()
    rp = world["rp"]
    session = OAuth2Session(
        rp.client_id,
        rp.client_secret,
        scope="openid identity profile",
        redirect_uri=RP_CALLBACK,
        code_challenge_method="S256",
    )
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    return meta, session, url, state, verifier, nonce


def _check_id_token(meta: dict, id_token: str, client_id: str, nonce: str) -> dict:
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(token.claims)
    return token.claims


def test_a_relying_party_logs_a_citizen_in_with_code_and_pkce(browser, world) -> None:
    meta, session, url, state, verifier, nonce = _relying_party(world)
    assert meta["issuer"] == world["url"] + "/oidc"
    callback = _log_in_through_browser(browser, url, world["account"].personal_id)
    assert f"state={state}" in callback
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = _check_id_token(meta, token["id_token"], world["rp"].client_id, nonce)
    assert claims["personal_id"] == world["account"].personal_id and claims["acr"] == "urn:vn:dancu:loa:1"
    info = session.get(meta["userinfo_endpoint"], timeout=10).json()
    assert info["name"] == "Nguyễn Thị Hoà" and info["sub"] == claims["sub"]
    # The same code again is refused (a relying party the project did not write sees the error).
    again = requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": re.search(r"code=([^&]+)", callback).group(1),
            "redirect_uri": RP_CALLBACK,
            "code_verifier": verifier,
        },
        auth=(world["rp"].client_id, world["rp"].client_secret),
        timeout=10,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_step_up_to_level_2_with_an_sms_code(browser, world) -> None:
    from dancu.eid import services as eid

    account = world["account"]
    eid.enrol_level2(
        world["officer"],
        account.personal_id,
        card_checked=True,
        device_reference="ABIS-07",
        capture_reference="CAP-1",
    )
    meta, session, url, _state, verifier, nonce = _relying_party(world, acr_values="urn:vn:dancu:loa:2")
    callback = _log_in_through_browser(browser, url, account.personal_id, step_up_phone=account.phone)
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = _check_id_token(meta, token["id_token"], world["rp"].client_id, nonce)
    assert claims["acr"] == "urn:vn:dancu:loa:2" and claims["amr"] == ["pwd", "sms", "mfa"]
