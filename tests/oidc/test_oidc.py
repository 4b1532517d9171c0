"""The OpenID Connect provider through the real HTTP stack (Django test client): discovery, JWKS,
authorization code + PKCE, tokens, userinfo, refresh rotation, client credentials, revocation,
introspection — and the refusals. ID tokens are verified with Authlib (not the provider's code)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from dancu.audit.models import AuditEvent
from dancu.eid import services as eid
from dancu.oidc.hooks import clear_cache as clear_client_cache
from dancu.oidc.models import Agreement, Consent
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


def _verify(client: Client, id_token: str, client_id: str) -> dict:
    keys = KeySet.import_key_set(client.get("/oidc/.well-known/jwks.json").json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(aud={"essential": True, "value": client_id}, exp={"essential": True}).validate(
        token.claims
    )
    return dict(token.claims)


def test_discovery_document(client) -> None:
    doc = client.get("/oidc/.well-known/openid-configuration").json()
    assert doc["issuer"] == "http://testserver/oidc"
    assert doc["authorization_endpoint"].endswith("/oidc/authorize/")
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "urn:vn:dancu:loa:2" in doc["acr_values_supported"]
    assert {"personal_id", "birthdate", "acr", "amr"} <= set(doc["claims_supported"])
    assert doc["end_session_endpoint"].endswith("/oidc/logout/")
    assert {"openid", "identity", "profile", "ekyc"} <= set(doc["scopes_supported"])


def test_code_flow_with_pkce_gives_a_verifiable_id_token_and_userinfo(client, account, rp) -> None:
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    response = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Xác minh danh tính người bệnh" in page and "personal_id" in page  # purpose and claims shown
    code = get_code(client, rp.client_id, challenge)
    tokens = exchange(client, rp, code, verifier).json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    claims = _verify(client, tokens["id_token"], rp.client_id)
    assert claims["nonce"] == "n-456" and claims["acr"] == "urn:vn:dancu:loa:1" and claims["amr"] == ["pwd"]
    assert claims["personal_id"] == account.personal_id and claims["name"] == "Nguyễn Thị Hoà"
    assert claims["birthdate"] == "1990-05-17" and claims["gender"] == "female"
    assert abs(claims["auth_time"] - time.time()) < 60
    info = client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
    assert info["personal_id"] == account.personal_id and "address" not in info  # scope not granted
    released = AuditEvent.objects.filter(personal_id=account.personal_id, action__startswith="oidc.claims.")
    assert {e.action for e in released} == {"oidc.claims.id_token", "oidc.claims.userinfo"}
    assert all(e.source == "rp" and e.reason.startswith("Xác minh danh tính") for e in released)
    # The consent is stored: a second authorization skips the screen.
    assert Consent.objects.get(user=account.user).scope_set == {"openid", "identity", "profile"}
    _verifier2, challenge2 = pkce_pair()
    second = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge2))
    assert second.status_code == 302 and "code=" in second["Location"]


def test_pkce_is_required_and_checked(client, account, rp) -> None:
    sign_in(client, account)
    params = authorize_params(rp.client_id, "x")
    del params["code_challenge"], params["code_challenge_method"]
    response = client.get("/oidc/authorize/", params)
    assert response.status_code == 302 and query_of(response["Location"])["error"] == "invalid_request"
    plain = client.get(
        "/oidc/authorize/", authorize_params(rp.client_id, "a" * 43, code_challenge_method="plain")
    )
    assert plain.status_code == 302 and query_of(plain["Location"])["error"] == "invalid_request"
    _verifier, challenge = pkce_pair()
    code = get_code(client, rp.client_id, challenge)
    wrong = exchange(client, rp, code, pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = exchange(client, rp, get_code(client, rp.client_id, challenge), "")
    assert missing.status_code == 400


def test_redirect_uri_must_match_exactly(client, account, rp) -> None:
    sign_in(client, account)
    _, challenge = pkce_pair()
    for uri in (
        REDIRECT + "/extra",
        REDIRECT.removesuffix("/callback"),
        REDIRECT + "?x=1",
        "https://attacker.example/cb",
    ):
        response = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge, redirect_uri=uri))
        assert response.status_code == 400, uri  # an error page: never a redirect to an unknown URI
        assert "attacker" not in response.get("Location", "")


def test_a_code_is_used_once_and_expires(client, account, rp) -> None:
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    code = get_code(client, rp.client_id, challenge)
    assert exchange(client, rp, code, verifier).status_code == 200
    again = exchange(client, rp, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    from oauth2_provider.models import get_grant_model

    code2 = get_code(client, rp.client_id, challenge)
    get_grant_model().objects.filter(code=code2).update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert exchange(client, rp, code2, verifier).json()["error"] == "invalid_grant"


def test_wrong_client_secret_and_expired_agreement(client, account, rp) -> None:
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    code = get_code(client, rp.client_id, challenge)
    bad = exchange(client, rp, code, verifier, secret="nope")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    Agreement.objects.filter(application=rp.application).update(
        valid_until=timezone.now() - dt.timedelta(seconds=1)
    )
    clear_client_cache()  # update() sends no signal: as after the cache's lifetime (oidc.hooks)
    expired = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge))
    assert expired.status_code == 400  # the client is unknown while its agreement is not in force
    token = exchange(client, rp, code, verifier)
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"


def test_scope_outside_the_agreement_is_refused(client, account, rp) -> None:
    sign_in(client, account)
    _, challenge = pkce_pair()
    response = client.get(
        "/oidc/authorize/", authorize_params(rp.client_id, challenge, scope="openid family")
    )
    assert response.status_code == 302 and query_of(response["Location"])["error"] == "invalid_scope"


def test_acr_values_step_up_or_unmet(client, account, rp, commune_officer) -> None:
    sign_in(client, account)
    _, challenge = pkce_pair()
    # A level-1 account can never reach assurance 2: the relying party is told so.
    response = client.get(
        "/oidc/authorize/", authorize_params(rp.client_id, challenge, acr_values="urn:vn:dancu:loa:2")
    )
    assert query_of(response["Location"])["error"] == "unmet_authentication_requirements"
    assert query_of(response["Location"])["state"] == "st-123"
    unknown = client.get(
        "/oidc/authorize/", authorize_params(rp.client_id, challenge, acr_values="urn:x:gold")
    )
    assert query_of(unknown["Location"])["error"] == "unmet_authentication_requirements"
    # At level 2 the account can: it is sent to the second factor, then gets acr 2.
    eid.enrol_level2(
        commune_officer, account.personal_id, card_checked=True, device_reference="d", capture_reference="c"
    )
    step = client.get(
        "/oidc/authorize/", authorize_params(rp.client_id, challenge, acr_values="urn:vn:dancu:loa:2")
    )
    assert step.status_code == 302 and step["Location"].startswith("/eid/step-up/")
    assert query_of(step["Location"])["level"] == "2"
    silent = client.get(
        "/oidc/authorize/",
        authorize_params(rp.client_id, challenge, prompt="none", acr_values="urn:vn:dancu:loa:2"),
    )
    assert query_of(silent["Location"])["error"] == "interaction_required"
    sign_in(client, account, methods=("pwd", "sms"))
    verifier, challenge = pkce_pair()
    code = get_code(client, rp.client_id, challenge, acr_values="urn:vn:dancu:loa:2")
    claims = _verify(client, exchange(client, rp, code, verifier).json()["id_token"], rp.client_id)
    assert claims["acr"] == "urn:vn:dancu:loa:2" and claims["amr"] == ["pwd", "sms", "mfa"]


def test_prompt_none_and_max_age(client, account, rp) -> None:
    _, challenge = pkce_pair()
    anonymous = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge, prompt="none"))
    assert query_of(anonymous["Location"])["error"] == "login_required"
    login = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge))
    assert login.status_code == 302 and login["Location"].startswith("/eid/login/")
    sign_in(client, account, auth_time=int(time.time()) - 600)
    stale = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge, max_age="300"))
    assert stale.status_code == 302 and stale["Location"].startswith("/eid/login/")
    assert "max_age" not in stale["Location"]
    sign_in(client, account, auth_time=int(time.time()) - 600)
    consent_needed = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge, prompt="none"))
    assert query_of(consent_needed["Location"])["error"] == "consent_required"


def test_an_officer_session_is_not_a_citizen_login(client, account, rp, geo) -> None:
    from dancu.accounts.models import OfficerProfile

    officer = OfficerProfile.objects.create(
        user=account.user.__class__.objects.create(username="ca.x"), role="ministry_admin"
    )
    client.force_login(officer.user)
    _, challenge = pkce_pair()
    response = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge))
    assert response.status_code == 302 and response["Location"].startswith("/eid/login/")


def test_refresh_rotation_and_reuse_detection(client, account, rp) -> None:
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    tokens = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    auth = basic(rp.client_id, rp.client_secret)
    refreshed = client.post(
        "/oidc/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    ).json()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    claims = _verify(client, refreshed["id_token"], rp.client_id)
    assert claims["acr"] == "urn:vn:dancu:loa:1"  # the original authentication context carries over
    reuse = client.post(
        "/oidc/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # Reuse of a rotated token revokes the whole family, including the newest refresh token.
    newest = client.post(
        "/oidc/token/",
        {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        HTTP_AUTHORIZATION=auth,
    )
    assert newest.status_code == 400


def test_introspection_of_another_partys_token_needs_the_introspection_scope(client, account, rp) -> None:
    """RFC 7662 §2.2: a token the caller may not learn about is simply not active."""
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    issued = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    token = issued["access_token"]
    bank = make_client("ekyc", grant="client-credentials")
    gateway = make_client("introspection", grant="client-credentials")
    as_bank = client.post("/oidc/introspect/", {"token": token},
                          HTTP_AUTHORIZATION=basic(bank.client_id, bank.client_secret))
    assert as_bank.status_code == 200 and as_bank.json() == {"active": False}
    as_gateway = client.post("/oidc/introspect/", {"token": token},
                             HTTP_AUTHORIZATION=basic(gateway.client_id, gateway.client_secret)).json()
    assert as_gateway["active"] is True and as_gateway["client_id"] == rp.client_id
    # The person as the token's relying party knows them (its ID token's pairwise sub).
    assert as_gateway["sub"] == _verify(client, issued["id_token"], rp.client_id)["sub"]
    assert as_gateway["sub"] != str(account.user_id) and account.personal_id not in json.dumps(as_gateway)
    # A token carrying the scope works as the gateway's credential too (the library's bearer path).
    gateway_token = client.post("/oidc/token/", {"grant_type": "client_credentials"},
                                HTTP_AUTHORIZATION=basic(gateway.client_id, gateway.client_secret)).json()
    assert gateway_token["scope"] == "introspection"
    by_bearer = client.post("/oidc/introspect/", {"token": token},
                            HTTP_AUTHORIZATION=f"Bearer {gateway_token['access_token']}")
    assert by_bearer.json()["active"] is True
    # Unauthenticated callers are refused by the library; a token in a query string is not read.
    assert client.post("/oidc/introspect/", {"token": token}).status_code in (401, 403)
    assert client.get("/oidc/introspect/", {"token": token},
                      HTTP_AUTHORIZATION=basic(gateway.client_id, gateway.client_secret)).status_code == 405


def test_revocation_introspection_and_expiry(client, account, rp) -> None:
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    tokens = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    auth = basic(rp.client_id, rp.client_secret)
    active = client.post(
        "/oidc/introspect/", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=auth
    ).json()
    assert active["active"] is True and active["client_id"] == rp.client_id
    assert active["sub"] == _verify(client, tokens["id_token"], rp.client_id)["sub"]
    assert "username" not in active  # no ID number
    assert (
        client.post(
            "/oidc/revoke_token/", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=auth
        ).status_code
        == 200
    )
    assert client.post(
        "/oidc/introspect/", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=auth
    ).json() == {"active": False}
    assert (
        client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code
        == 401
    )
    # An expired access token is refused too.
    verifier, challenge = pkce_pair()
    fresh = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    get_access_token_model().objects.filter(token=fresh["access_token"]).update(
        expires=timezone.now() - dt.timedelta(seconds=1)
    )
    assert (
        client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {fresh['access_token']}").status_code == 401
    )


def test_locked_suspended_and_deceased_accounts_lose_their_tokens(
    client, account, rp, commune_officer
) -> None:
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    tokens = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    eid.suspend_account(commune_officer, account.personal_id, reason="Nghi bị chiếm đoạt")
    assert (
        client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code
        == 401
    )
    assert not get_refresh_token_model().objects.filter(user=account.user, revoked__isnull=True).exists()
    # A suspended account's session no longer counts as a login.
    response = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge))
    assert response.status_code == 302 and response["Location"].startswith("/eid/login/")


def test_client_credentials_for_agency_systems(client, db) -> None:
    agency = make_client("ekyc", grant="client-credentials")
    ok = client.post(
        "/oidc/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(agency.client_id, agency.client_secret),
    )
    assert ok.status_code == 200 and ok.json()["scope"] == "ekyc"
    outside = client.post(
        "/oidc/token/",
        {"grant_type": "client_credentials", "scope": "ekyc profile"},
        HTTP_AUTHORIZATION=basic(agency.client_id, agency.client_secret),
    )
    assert outside.status_code == 400 and outside.json()["error"] == "invalid_scope"
    wrong = client.post(
        "/oidc/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(agency.client_id, "x" * 20),
    )
    assert wrong.status_code == 401


def test_public_client_needs_no_secret_but_pkce(client, account) -> None:
    app = make_client(public=True)
    assert app.client_secret == ""
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    code = get_code(client, app.client_id, challenge)
    tokens = exchange(client, app, code, verifier)
    assert tokens.status_code == 200 and "id_token" in tokens.json()


def test_revoking_consent_revokes_tokens_and_shows_the_screen_again(client, account, rp) -> None:
    from dancu.eid.services import citizen_actor
    from dancu.oidc import services as oidc

    sign_in(client, account)
    verifier, challenge = pkce_pair()
    tokens = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    consent = Consent.objects.get(user=account.user)
    oidc.revoke_consent(account.user, consent.pk, actor=citizen_actor(account.personal_id))
    assert (
        client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code
        == 401
    )
    assert client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge)).status_code == 200


def test_jwks_keeps_old_keys_until_retired(client, settings, tmp_path) -> None:
    from dancu.oidc import keys

    first, _ = keys.load(tmp_path, create=True)
    keys.rotate(tmp_path)
    active, inactive = keys.load(tmp_path, create=False)
    assert inactive == [first] and active != first
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": active,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": inactive,
    }
    jwks = client.get("/oidc/.well-known/jwks.json").json()
    assert len(jwks["keys"]) == 2
    # A token signed with the previous key still verifies through the published JWKS.
    from joserfc.jwk import RSAKey

    old_key = RSAKey.import_key(first)
    signed = jwt.encode({"alg": "RS256", "kid": old_key.thumbprint()}, {"sub": "x"}, old_key)
    assert jwt.decode(signed, KeySet.import_key_set(jwks)).claims["sub"] == "x"
    keys.retire(tmp_path, keys.listing(tmp_path)["inactive"][0])
    assert keys.load(tmp_path, create=False)[1] == []
    with pytest.raises(ValueError):
        keys.retire(tmp_path, keys.listing(tmp_path)["active"])


def test_rp_initiated_logout_ends_the_session_and_returns_to_the_relying_party(client, account) -> None:
    rp = make_client(post_logout_redirect_uris=["https://benhvien.example.vn/bye"])
    sign_in(client, account)
    verifier, challenge = pkce_pair()
    tokens = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    response = client.get(
        "/oidc/logout/",
        {
            "id_token_hint": tokens["id_token"],
            "client_id": rp.client_id,
            "post_logout_redirect_uri": "https://benhvien.example.vn/bye",
            "state": "bye-1",
        },
    )
    assert response.status_code == 302
    assert (
        response["Location"].startswith("https://benhvien.example.vn/bye")
        and "state=bye-1" in response["Location"]
    )
    # The e-ID session is over: the next authorization asks for a login again.
    _, challenge = pkce_pair()
    again = client.get("/oidc/authorize/", authorize_params(rp.client_id, challenge))
    assert again.status_code == 302 and again["Location"].startswith("/eid/login/")
    # An unregistered post-logout URI is refused.
    sign_in(client, account)
    bad = client.get(
        "/oidc/logout/",
        {
            "id_token_hint": tokens["id_token"],
            "client_id": rp.client_id,
            "post_logout_redirect_uri": "https://attacker.example/",
        },
    )
    assert "attacker" not in bad.get("Location", "")


def test_prune_deletes_only_what_no_request_will_read_again(client, account, rp) -> None:
    from io import StringIO

    from django.core.management import call_command
    from oauth2_provider.models import get_id_token_model

    from dancu.oidc.models import AuthContext, RateWindow

    sign_in(client, account)
    verifier, challenge = pkce_pair()
    live = exchange(client, rp, get_code(client, rp.client_id, challenge), verifier).json()
    now = timezone.now()
    minute = int(now.timestamp() // 60)
    RateWindow.objects.create(client_id="bank", window=minute, count=3)
    RateWindow.objects.create(client_id="bank", window=minute - 5, count=9)
    AuthContext.objects.create(code_digest="f" * 64, acr="urn:vn:dancu:loa:1", amr="pwd", auth_time=1,
                               created_at=now - dt.timedelta(hours=2))
    # an expired access token with its ID token and context, nothing refers to them any more
    IDToken = get_id_token_model()
    old_id = IDToken.objects.create(user=account.user, application=rp.application, scope="openid",
                                    expires=now - dt.timedelta(days=1))
    AuthContext.objects.create(id_token_jti=old_id.jti, acr="urn:vn:dancu:loa:1", amr="pwd", auth_time=1)
    get_access_token_model().objects.create(user=account.user, application=rp.application, token="old-at",
                                            scope="openid", id_token=old_id,
                                            expires=now - dt.timedelta(days=1))
    out = StringIO()
    call_command("oidc", "prune", stdout=out)
    assert "eKYC rate windows: 1, code contexts: 1, ID-token contexts: 1" in out.getvalue()
    assert list(RateWindow.objects.values_list("window", flat=True)) == [minute]
    assert not get_access_token_model().objects.filter(token="old-at").exists()
    assert not IDToken.objects.filter(pk=old_id.pk).exists()
    # The live session's tokens and their authentication context are untouched.
    info = client.get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {live['access_token']}")
    assert info.status_code == 200
    body = {"grant_type": "refresh_token", "refresh_token": live["refresh_token"]}
    refreshed = client.post("/oidc/token/", body,
                            HTTP_AUTHORIZATION=basic(rp.client_id, rp.client_secret)).json()
    assert _verify(client, refreshed["id_token"], rp.client_id)["acr"] == "urn:vn:dancu:loa:1"
