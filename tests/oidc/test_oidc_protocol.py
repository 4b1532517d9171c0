"""The OpenID Connect deviations of issue #11, each through the real HTTP stack (Django test
client; Authlib as an independent relying party against a live server where a token exchange is
what is checked): validation before anything else at the authorization endpoint, the parameters
and response types not supported, code replay, redirect URIs, introspection's client
authentication, discovery, and pairwise subject identifiers."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from dancu.eid.sessions import SESSION_KEY
from dancu.oidc.claims import subject_for
from dancu.oidc.models import Agreement
from tests.eid_helpers import PASSWORD, level1_account, person
from tests.oidc_helpers import (
    REDIRECT,
    authorize_params,
    basic,
    exchange,
    get_code,
    make_client,
    pkce_pair,
    query_of,
    sign_in,
)

pytestmark = pytest.mark.usefixtures("otp_without_waits")


def _claims(client: Client, id_token: str) -> dict:
    keys = KeySet.import_key_set(client.get("/oidc/.well-known/jwks.json").json())
    return dict(jwt.decode(id_token, keys, algorithms=["RS256"]).claims)


def _tokens(client: Client, rp, **extra: str) -> dict:
    verifier, challenge = pkce_pair()
    response = exchange(client, rp, get_code(client, rp.client_id, challenge, **extra), verifier)
    assert response.status_code == 200, response.content
    return response.json()


def _signed_in(client: Client) -> bool:
    """The citizen's e-ID session is still there (not logged out)."""
    return SESSION_KEY in client.session


# ---- 1. max_age: the request is validated first; the session survives until a new login -------

def test_max_age_validates_the_request_first_and_keeps_the_session(client, account, rp) -> None:
    sign_in(client, account, auth_time=int(time.time()) - 600)
    _, challenge = pkce_pair()
    # A cross-site link with no valid client: an error page, the citizen stays signed in.
    forged = client.get("/oidc/authorize/", authorize_params("no-such-client", challenge, max_age="0"))
    assert forged.status_code == 400 and _signed_in(client)
    no_client = client.get("/oidc/authorize/", {"max_age": "0"})
    assert no_client.status_code == 400 and _signed_in(client)
    # A valid request with a stale login: sent to sign in again, the current session kept.
    stale = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge, max_age="300"))
    assert stale.status_code == 302 and stale["Location"].startswith("/eid/login/")
    assert _signed_in(client)
    silent = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge, max_age="300",
                                                             prompt="none"))
    assert query_of(silent["Location"])["error"] == "login_required"
    assert query_of(silent["Location"])["state"] == "st-123"
    assert silent["Location"].startswith(REDIRECT) and _signed_in(client)
    # The new login replaces the session and the authorization goes on with a fresh auth_time.
    next_url = query_of(stale["Location"])["next"]
    login = client.post("/eid/login/", {"personal_id": account.personal_id, "password": PASSWORD,
                                        "next": next_url})
    assert login.status_code == 302 and login["Location"] == next_url
    assert int(time.time()) - client.session[SESSION_KEY]["auth_time"] < 60
    assert client.get(next_url).status_code == 200  # the consent screen


# ---- 2. request and request_uri: refused, and said so in discovery -----------------------------

def test_request_objects_are_refused_not_ignored(client, account, rp) -> None:
    _, challenge = pkce_pair()
    for signed_in in (False, True):
        if signed_in:
            sign_in(client, account)
        with_request = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge,
                                                                       request="eyJhbGciOiJub25lIn0.e30."))
        assert with_request["Location"].startswith(REDIRECT)
        assert query_of(with_request["Location"])["error"] == "request_not_supported"
        assert query_of(with_request["Location"])["state"] == "st-123"
        with_uri = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge,
                                                                   request_uri="https://rp.example/r/1"))
        assert query_of(with_uri["Location"])["error"] == "request_uri_not_supported"
        assert "code" not in query_of(with_uri["Location"])
    doc = client.get("/oidc/.well-known/openid-configuration").json()
    assert doc["request_parameter_supported"] is False and doc["request_uri_parameter_supported"] is False


# ---- 3. a code redeemed twice: the tokens of the first redemption are revoked -----------------

@pytest.mark.django_db(transaction=True)
def test_a_second_redemption_revokes_the_first_ones_tokens(live_server, geo, commune_officer) -> None:
    """Authlib (a relying party the project did not write) exchanges the code at a live server."""
    account = level1_account(person(commune_officer, geo.hac_thanh))
    rp = make_client()
    browser = Client()
    sign_in(browser, account)
    verifier, challenge = pkce_pair()
    code = get_code(browser, rp.client_id, challenge)
    token_endpoint = live_server.url + "/oidc/token/"
    session = OAuth2Session(rp.client_id, rp.client_secret, redirect_uri=REDIRECT)
    first = session.fetch_token(token_endpoint, code=code, code_verifier=verifier)
    assert first["access_token"] and first["refresh_token"]
    userinfo = live_server.url + "/oidc/userinfo/"
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    assert requests.get(userinfo, headers=bearer, timeout=10).status_code == 200
    again = requests.post(token_endpoint, data={"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": REDIRECT, "code_verifier": verifier},
                          auth=(rp.client_id, rp.client_secret), timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert requests.get(userinfo, headers=bearer, timeout=10).status_code == 401
    refresh = requests.post(token_endpoint, data={"grant_type": "refresh_token",
                                                  "refresh_token": first["refresh_token"]},
                            auth=(rp.client_id, rp.client_secret), timeout=10)
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_another_clients_code_redemption_does_not_touch_other_tokens(client, account, rp) -> None:
    sign_in(client, account)
    kept = _tokens(client, rp)
    verifier, challenge = pkce_pair()
    code = get_code(client, rp.client_id, challenge)
    assert exchange(client, rp, code, verifier).status_code == 200
    assert exchange(client, rp, code, verifier).json()["error"] == "invalid_grant"
    info = client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {kept['access_token']}")
    assert info.status_code == 200  # the tokens of another code live on


# ---- 4. loopback redirect URIs: exact unless the client is registered as native ---------------

@pytest.mark.parametrize("native", [False, True])
def test_loopback_redirect_uri_ports_match_exactly_unless_native(client, account, native) -> None:
    registered = "http://127.0.0.1:8765/callback"
    app = make_client(native=native)
    app.application.redirect_uris = registered
    app.application.save(update_fields=["redirect_uris"])
    sign_in(client, account)
    _, challenge = pkce_pair()
    exact = client.get("/oidc/authorize/",
                       authorize_params(app.client_id, challenge, redirect_uri=registered))
    assert exact.status_code == 200  # the consent screen
    other_port = client.get("/oidc/authorize/", authorize_params(
        app.client_id, challenge, redirect_uri="http://127.0.0.1:40123/callback"))
    assert other_port.status_code == (200 if native else 400)
    other_path = client.get("/oidc/authorize/", authorize_params(
        app.client_id, challenge, redirect_uri="http://127.0.0.1:40123/other"))
    assert other_path.status_code == 400


# ---- 5. the error codes the specifications name -----------------------------------------------

@pytest.mark.parametrize("response_type", ["token", "id_token", "id_token token", "code id_token",
                                           "code token", "none", "foo"])
def test_response_types_other_than_code_are_unsupported(client, account, rp, response_type) -> None:
    _, challenge = pkce_pair()
    for _signed_in_now in (False, True):
        response = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge,
                                                                   response_type=response_type))
        assert response.status_code == 302 and response["Location"].startswith(REDIRECT)
        assert query_of(response["Location"])["error"] == "unsupported_response_type"
        sign_in(client, account)


def test_introspection_without_or_with_wrong_client_credentials_is_401(client, account, rp) -> None:
    sign_in(client, account)
    token = _tokens(client, rp)["access_token"]
    for headers in ({}, {"HTTP_AUTHORIZATION": basic(rp.client_id, "wrong")},
                    {"HTTP_AUTHORIZATION": "Bearer not-a-token"}):
        response = client.post("/oidc/introspect/", {"token": token}, **headers)
        assert response.status_code == 401, headers
        assert response.json()["error"] == "invalid_client"
        assert response["WWW-Authenticate"].startswith("Basic")
    ok = client.post("/oidc/introspect/", {"token": token},
                     HTTP_AUTHORIZATION=basic(rp.client_id, rp.client_secret))
    assert ok.status_code == 200 and ok.json()["active"] is True


def test_a_different_redirect_uri_at_the_token_endpoint_is_invalid_grant(client, account) -> None:
    second = "https://benhvien.example.vn/oidc/other"
    rp = make_client()
    rp.application.redirect_uris = f"{REDIRECT} {second}"
    rp.application.save(update_fields=["redirect_uris"])
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    code = get_code(client, rp.client_id, challenge)
    for uri in (second, "https://attacker.example/cb"):
        response = exchange(client, rp, code, verifier, redirect_uri=uri)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", uri
    assert exchange(client, rp, code, verifier).status_code == 200


# ---- 6. redirect_uri is required at authorization and token ------------------------------------

def test_redirect_uri_is_required(client, account, rp) -> None:
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    params = authorize_params(rp.client_id, challenge)
    del params["redirect_uri"]
    response = client.get("/oidc/authorize/", params)
    assert response.status_code == 400 and "Location" not in response  # an error page, no code
    code = get_code(client, rp.client_id, challenge)
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    without = client.post("/oidc/token/", data, HTTP_AUTHORIZATION=basic(rp.client_id, rp.client_secret))
    assert without.status_code == 400 and without.json()["error"] == "invalid_request"
    assert "access_token" not in without.json()


# ---- 7. an unknown client is refused before the citizen signs in -------------------------------

def test_an_unknown_or_expired_client_is_refused_before_sign_in(client, account) -> None:
    _, challenge = pkce_pair()
    unknown = client.get("/oidc/authorize/", authorize_params("no-such-client", challenge))
    assert unknown.status_code == 400 and "Location" not in unknown
    expired = make_client()
    Agreement.objects.filter(application=expired.application).update(
        valid_until=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/oidc/authorize/", authorize_params(expired.client_id, challenge))
    assert response.status_code == 400 and "Location" not in response
    wrong_uri = make_client()
    mismatch = client.get("/oidc/authorize/", authorize_params(wrong_uri.client_id, challenge,
                                                               redirect_uri="https://attacker.example/cb"))
    assert mismatch.status_code == 400 and "Location" not in mismatch
    # A valid request still goes to the sign-in page.
    valid = client.get("/oidc/authorize/", authorize_params(wrong_uri.client_id, challenge))
    assert valid.status_code == 302 and valid["Location"].startswith("/eid/login/")


# ---- 8. response_mode: query only, anything else refused ---------------------------------------

def test_response_modes_other_than_query_are_refused(client, account, rp) -> None:
    sign_in(client, account)
    _, challenge = pkce_pair()
    for mode in ("form_post", "fragment", "bogus"):
        response = client.get("/oidc/authorize/",
                              authorize_params(rp.client_id, challenge, response_mode=mode))
        assert response.status_code == 302 and response["Location"].startswith(REDIRECT + "?")
        assert query_of(response["Location"])["error"] == "invalid_request", mode
        assert "response_mode" in query_of(response["Location"])["error_description"]
    assert get_code(client, rp.client_id, challenge, response_mode="query")
    doc = client.get("/oidc/.well-known/openid-configuration").json()
    assert doc["response_modes_supported"] == ["query"] and doc["response_types_supported"] == ["code"]


# ---- 9. discovery lists only what a relying party may get --------------------------------------

def test_discovery_lists_only_rs256(client) -> None:
    doc = client.get("/oidc/.well-known/openid-configuration").json()
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


# ---- 10. pairwise subject identifiers ---------------------------------------------------------

def test_sub_is_pairwise_by_default_and_public_only_by_agreement(client, account, geo) -> None:
    hospital, bank = make_client(), make_client()
    portal_a = make_client(sector_identifier="dichvucong.gov.vn")
    portal_b = make_client(sector_identifier="dichvucong.gov.vn")
    public_a, public_b = make_client(subject_type="public"), make_client(subject_type="public")
    sign_in(client, account)
    subs = {}
    for name, rp in [("hospital", hospital), ("bank", bank), ("portal_a", portal_a),
                     ("portal_b", portal_b), ("public_a", public_a), ("public_b", public_b)]:
        tokens = _tokens(client, rp)
        sub = _claims(client, tokens["id_token"])["sub"]
        info = client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
        introspected = client.post("/oidc/introspect/", {"token": tokens["access_token"]},
                                   HTTP_AUTHORIZATION=basic(rp.client_id, rp.client_secret)).json()
        refreshed = client.post("/oidc/token/", {"grant_type": "refresh_token",
                                                 "refresh_token": tokens["refresh_token"]},
                                HTTP_AUTHORIZATION=basic(rp.client_id, rp.client_secret)).json()
        assert info["sub"] == introspected["sub"] == sub, name  # one sub wherever it is emitted
        assert _claims(client, refreshed["id_token"])["sub"] == sub, name
        assert sub == subject_for(rp.application, account.user_id)
        # stable: a second login to the same party
        assert _claims(client, _tokens(client, rp)["id_token"])["sub"] == sub, name
        subs[name] = sub
    assert len({subs["hospital"], subs["bank"], subs["portal_a"], subs["public_a"]}) == 4
    assert subs["portal_a"] == subs["portal_b"] and subs["public_a"] == subs["public_b"]
    for sub in subs.values():  # not the database key, nor the ID number
        assert str(account.user_id) != sub and account.personal_id not in sub and len(sub) == 43
    doc = client.get("/oidc/.well-known/openid-configuration").json()
    assert doc["subject_types_supported"] == ["pairwise", "public"]


def test_sub_depends_on_the_secret_salt(client, account, rp, settings) -> None:
    before = subject_for(rp.application, account.user_id)
    settings.DANCU_OIDC_SUBJECT_SALT = "another-salt-" + "x" * 32
    assert subject_for(rp.application, account.user_id) != before
