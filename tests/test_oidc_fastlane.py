"""The client-credentials grant through the fast lane (dancu.oidc.fastlane via dancu.api_fastlane)
against django-oauth-toolkit's own path, through WSGI as the server (granian) would call it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from dancu import api_fastlane
from dancu.oidc import fastlane
from dancu.oidc.models import Agreement
from tests.oidc_helpers import basic, make_client
from tests.test_api_fastlane import (  # noqa: F401  (the autouse fixture: keep the test's connection)
    _call,
    _Spy,
    _test_transaction_keeps_its_connection,
)


@pytest.fixture
def post(settings):
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    fastlane.clear_cache()
    spy = _Spy()
    lane = api_fastlane.LookupFastLane(spy)

    def request(body: dict | str, creds: tuple[str, str] | None, *, lane_on: bool = True,
                environ: dict | None = None, **headers):
        data = body if isinstance(body, str) else urlencode(body)
        extra = {f"HTTP_{k.upper()}": v for k, v in headers.items()} | (environ or {})
        if creds is not None:
            extra["HTTP_AUTHORIZATION"] = basic(*creds)
        wsgi_environ = (
            RequestFactory()
            .post("/oidc/token/", data=data, content_type="application/x-www-form-urlencoded", **extra)
            .environ
        )
        # Django's test client (used to make tokens) connects these again after each request
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        before = spy.calls
        status, hdrs, out = _call(lane if lane_on else spy, wsgi_environ)
        return status, hdrs, out, spy.calls == before

    yield request
    fastlane.clear_cache()


@pytest.fixture
def agency(db):
    return make_client("ekyc", grant="client-credentials")


def test_the_lane_issues_the_same_token_as_the_library(post, agency) -> None:
    creds = (agency.client_id, agency.client_secret)
    s1, h1, b1, by_lane = post({"grant_type": "client_credentials"}, creds)
    s2, h2, b2, by_lane_2 = post({"grant_type": "client_credentials"}, creds, lane_on=False)
    assert (s1, s2) == (200, 200) and by_lane and not by_lane_2
    fast, slow = json.loads(b1), json.loads(b2)
    assert list(fast) == list(slow) and fast["scope"] == slow["scope"] == "ekyc"
    assert fast["expires_in"] == slow["expires_in"] and fast["token_type"] == "Bearer"
    # both from dancu.oidc.tokens: 256 bits, URL-safe base64 (the library is configured with it)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in (fast["access_token"], slow["access_token"]))
    assert {k: v for k, v in h1.items() if k != "Content-Length"} == {
        k: v for k, v in h2.items() if k != "Content-Length"
    }
    AccessToken = get_access_token_model()
    row = AccessToken.objects.get(token=fast["access_token"])
    assert row.application == agency.application and row.user is None and row.scope == "ekyc"
    # The lane's token works wherever the library's does.
    client = Client()
    verify = client.post(
        "/api/v1/ekyc/verify",
        {"personal_id": "038190000001", "full_name": "A", "birth_date": "1990-01-01"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {fast['access_token']}",
    )
    assert verify.status_code == 200
    auth = basic(*creds)
    assert (
        client.post("/oidc/introspect/", {"token": fast["access_token"]}, HTTP_AUTHORIZATION=auth).json()[
            "active"
        ]
        is True
    )


@pytest.mark.parametrize(
    ("body", "secret", "expected"),
    [
        ({"grant_type": "client_credentials"}, "wrong-secret", (401, "invalid_client")),
        ({"grant_type": "client_credentials", "scope": "ekyc profile"}, None, (400, "invalid_scope")),
        ({"grant_type": "password", "username": "x", "password": "y"}, None, (400, None)),
        ({"grant_type": "client_credentials", "client_id": "x"}, None, (None, None)),
        ("grant_type=client_credentials&grant_type=client_credentials", None, (None, None)),
    ],
)
def test_everything_else_goes_to_the_library(post, agency, body, secret, expected) -> None:
    creds = (agency.client_id, secret or agency.client_secret)
    status, _headers, out, by_lane = post(body, creds)
    assert not by_lane
    reference = post(body, creds, lane_on=False)
    assert status == reference[0] and json.loads(out).get("error") == json.loads(reference[2]).get("error")
    if expected[0] is not None:
        assert status == expected[0]
    if expected[1] is not None:
        assert json.loads(out)["error"] == expected[1]


def test_expired_agreement_and_public_clients_are_not_served(post, agency, db) -> None:
    creds = (agency.client_id, agency.client_secret)
    assert post({"grant_type": "client_credentials"}, creds)[3]  # cached now
    Agreement.objects.filter(application=agency.application).update(
        valid_until=timezone.now() - dt.timedelta(seconds=1)
    )
    fastlane.clear_cache()
    status, _h, out, by_lane = post({"grant_type": "client_credentials"}, creds)
    assert not by_lane and status == 401 and json.loads(out)["error"] == "invalid_client"
    # the cached end date is checked on every request too
    Agreement.objects.filter(application=agency.application).update(
        valid_until=timezone.now() + dt.timedelta(days=1)
    )
    fastlane.clear_cache()
    assert post({"grant_type": "client_credentials"}, creds)[3]
    cached = fastlane._clients.get(agency.client_id)
    fastlane._clients.put(agency.client_id, dataclasses.replace(cached, valid_until=timezone.now()))
    assert not post({"grant_type": "client_credentials"}, creds)[3]


def test_off_switch(post, agency, monkeypatch) -> None:
    monkeypatch.setenv("DANCU_API_FASTLANE", "0")
    app = api_fastlane.wrap(_Spy())
    assert not isinstance(app, api_fastlane.LookupFastLane)


# ---- refresh-token rotation ------------------------------------------------------------------

@pytest.fixture
def rp(db):
    return make_client("openid identity profile address")


@pytest.fixture
def citizen_account(geo, commune_officer):
    from tests.eid_helpers import level1_account, person

    return level1_account(person(commune_officer, geo.hac_thanh))


def _tokens(rp, account, auth_time: int | None = None) -> dict:
    """A code flow through the library (Django's test client): tokens with an ID token and its
    authentication context."""
    from tests.oidc_helpers import exchange, get_code, pkce_pair, sign_in

    browser = Client()
    sign_in(browser, account, methods=("pwd", "sms"), auth_time=auth_time)
    verifier, challenge = pkce_pair()
    code = get_code(browser, rp.client_id, challenge, scope="openid identity profile address")
    response = exchange(browser, rp, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def _id_claims(id_token: str, audience: str) -> dict:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(Client().get("/oidc/.well-known/jwks.json").json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    assert token.claims["aud"] == audience
    return dict(token.claims)


def _header(jws: str) -> dict:
    import base64

    head = jws.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def _refresh_body(tokens: dict) -> dict:
    return {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}


def _pg_only() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the refresh lane is PostgreSQL's (elsewhere the library rotates)")


def test_the_refresh_lane_rotates_as_the_library_does(post, rp, citizen_account) -> None:
    from oauth2_provider.models import get_id_token_model, get_refresh_token_model
    from oauthlib.openid.connect.core.grant_types.base import GrantTypeBase

    from dancu.audit.models import AuditEvent
    from dancu.oidc.models import AuthContext

    _pg_only()
    RefreshToken, AccessToken = get_refresh_token_model(), get_access_token_model()
    creds = (rp.client_id, rp.client_secret)
    signed_in_at = int(timezone.now().timestamp()) - 5  # one sign-in time for both flows
    first, second = _tokens(rp, citizen_account, signed_in_at), _tokens(rp, citizen_account, signed_in_at)
    old = RefreshToken.objects.get(token=first["refresh_token"])
    old_at_id = old.access_token_id
    events = AuditEvent.objects.filter(action="oidc.claims.id_token")
    n_events = events.count()

    s1, h1, b1, by_lane = post(_refresh_body(first), creds)
    s2, h2, b2, by_lib = post(_refresh_body(second), creds, lane_on=False)
    assert (s1, s2) == (200, 200) and by_lane and not by_lib
    fast, slow = json.loads(b1), json.loads(b2)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", r[k]) for r in (fast, slow)
               for k in ("access_token", "refresh_token"))
    assert list(fast) == list(slow) == ["access_token", "expires_in", "token_type", "scope", "refresh_token",
                                        "id_token"]
    assert fast["scope"] == slow["scope"] and fast["expires_in"] == slow["expires_in"]
    assert {k: v for k, v in h1.items() if k != "Content-Length"} == {
        k: v for k, v in h2.items() if k != "Content-Length"}
    # The ID tokens: the same claims (both from the same sign-in), the lane's at_hash its own.
    fc, sc = _id_claims(fast["id_token"], rp.client_id), _id_claims(slow["id_token"], rp.client_id)
    assert list(fc) == list(sc)
    assert _header(fast["id_token"]) == _header(slow["id_token"])  # typ, alg, the library's kid
    volatile = {"iat", "exp", "jti", "at_hash"}
    assert {k: v for k, v in fc.items() if k not in volatile} == {
        k: v for k, v in sc.items() if k not in volatile}
    assert fc["acr"] == _id_claims(first["id_token"], rp.client_id)["acr"] and "sms" in fc["amr"]
    assert fc["personal_id"] == citizen_account.personal_id and "address" in fc
    assert fc["at_hash"] == GrantTypeBase.id_token_hash(None, fast["access_token"])
    # The rows: as the library leaves them.
    old.refresh_from_db()
    assert old.revoked is not None and old.access_token_id is None
    assert not AccessToken.objects.filter(pk=old_at_id).exists()
    new_rt = RefreshToken.objects.get(token=fast["refresh_token"])
    new_at = AccessToken.objects.get(token=fast["access_token"])
    assert new_rt.access_token_id == new_at.pk and new_rt.token_family == old.token_family
    assert new_rt.revoked is None and new_at.source_refresh_token_id == old.pk
    assert new_at.scope == first["scope"] and new_at.user_id == citizen_account.user_id
    assert str(new_at.id_token.jti) == fc["jti"]
    assert get_id_token_model().objects.get(jti=fc["jti"]).scope == new_at.scope
    assert AuthContext.objects.get(id_token_jti=fc["jti"]).acr == fc["acr"]
    # One audit row per release, the same as the library's.
    assert events.count() == n_events + 2
    lane_event, lib_event = events.order_by("-id")[1], events.order_by("-id")[0]
    for field in ("actor_label", "source", "source_ref", "reason", "subject_type", "subject_id",
                  "personal_id", "details"):
        assert getattr(lane_event, field) == getattr(lib_event, field), field
    # The lane's tokens work: userinfo, and the next rotation (again in the lane) keeps acr.
    info = Client().get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {fast['access_token']}")
    assert info.status_code == 200 and info.json()["personal_id"] == citizen_account.personal_id
    s3, _h, b3, again = post(_refresh_body(fast), creds)
    assert s3 == 200 and again
    assert _id_claims(json.loads(b3)["id_token"], rp.client_id)["acr"] == fc["acr"]


def test_a_reused_refresh_token_goes_to_the_library_which_revokes_the_family(post, rp,
                                                                             citizen_account) -> None:
    from oauth2_provider.models import get_refresh_token_model

    _pg_only()
    creds = (rp.client_id, rp.client_secret)
    tokens = _tokens(rp, citizen_account)
    status, _h, out, by_lane = post(_refresh_body(tokens), creds)
    assert status == 200 and by_lane
    newest = json.loads(out)["refresh_token"]
    status, _h, out, by_lane = post(_refresh_body(tokens), creds)
    assert not by_lane and status == 400 and json.loads(out)["error"] == "invalid_grant"
    assert get_refresh_token_model().objects.get(token=newest).revoked is not None  # the whole family
    status, _h, out, by_lane = post({"grant_type": "refresh_token", "refresh_token": newest}, creds)
    assert not by_lane and status == 400


@pytest.mark.parametrize("case", ["scope", "client_id", "wrong_secret", "expired", "locked", "unknown",
                                  "other_client", "agreement_narrowed"])
def test_the_refresh_lane_declines_everything_else(post, rp, citizen_account, case, settings) -> None:
    from dancu.eid.models import EidAccount

    tokens = _tokens(rp, citizen_account)
    creds = (rp.client_id, rp.client_secret)
    body = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    if case == "scope":
        body["scope"] = "openid identity"
    elif case == "client_id":
        body["client_id"] = rp.client_id
    elif case == "wrong_secret":
        creds = (rp.client_id, "not-the-secret")
    elif case == "expired":
        get_access_token_model().objects.filter(token=tokens["access_token"]).update(
            expires=timezone.now()
            - dt.timedelta(seconds=settings.OAUTH2_PROVIDER["REFRESH_TOKEN_EXPIRE_SECONDS"] + 5))
    elif case == "locked":
        EidAccount.objects.filter(pk=citizen_account.pk).update(status="suspended")
    elif case == "unknown":
        body["refresh_token"] = "no-such-token"
    elif case == "other_client":
        other = make_client("openid identity profile address")
        creds = (other.client_id, other.client_secret)
    elif case == "agreement_narrowed":  # Decree 69: only what the agreement allows, now
        Agreement.objects.filter(application=rp.application).update(allowed_scopes="openid identity profile")
        fastlane.clear_cache()
    status, _h, out, by_lane = post(body, creds)
    assert not by_lane
    reference = {"scope": 200, "client_id": 200, "wrong_secret": 401, "expired": 400, "locked": 200,
                 "unknown": 400, "other_client": 400, "agreement_narrowed": 400}[case]
    assert status == reference, (case, out)
    if status == 400:
        assert json.loads(out)["error"] == "invalid_grant"


@pytest.mark.parametrize("change", ["narrowed", "ended", "secret"])
def test_the_refresh_lane_sees_agreement_and_secret_changes_at_once(post, rp, citizen_account,
                                                                    change) -> None:
    """The client is cached (per process, 30 s), but the refresh lane reads the secret and the
    agreement as they are now."""
    _pg_only()
    creds = (rp.client_id, rp.client_secret)
    warm, tokens = _tokens(rp, citizen_account), _tokens(rp, citizen_account)
    assert post(_refresh_body(warm), creds)[3]  # served by the lane: the client is cached now
    agreement = Agreement.objects.filter(application=rp.application)
    if change == "narrowed":
        agreement.update(allowed_scopes="openid identity profile")
    elif change == "ended":
        agreement.update(valid_until=timezone.now() - dt.timedelta(seconds=1))
    else:
        app = rp.application
        app.client_secret = "a-new-secret-for-this-client-0123456789"
        app.save()  # hashed by the library on save
    status, _h, out, by_lane = post(_refresh_body(tokens), creds)
    assert not by_lane
    expected = {"narrowed": (400, "invalid_grant"), "ended": (401, "invalid_client"),
                "secret": (401, "invalid_client")}[change]
    assert (status, json.loads(out)["error"]) == expected


def test_concurrent_rotations_of_one_token_write_one_successor(rp, citizen_account, transactional_db) -> None:
    """Real concurrent requests (threads, own connections) with the same refresh token: the
    conditional UPDATE lets one rotation write; the others write nothing and go to the library."""
    from oauth2_provider.models import get_refresh_token_model

    from tests.parallel import run_parallel

    _pg_only()
    fastlane.clear_cache()
    tokens = _tokens(rp, citizen_account)
    old = get_refresh_token_model().objects.get(token=tokens["refresh_token"])
    auth = basic(rp.client_id, rp.client_secret)
    results: list[tuple[int, bool]] = []

    def work(_i: int) -> None:
        spy = _Spy()
        body = urlencode({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        environ = RequestFactory().post("/oidc/token/", data=body, HTTP_AUTHORIZATION=auth,
                                        content_type="application/x-www-form-urlencoded").environ
        status, _h, _b = _call(api_fastlane.LookupFastLane(spy), environ)
        results.append((status, spy.calls == 0))

    assert run_parallel(work, 4) == []
    assert sorted(results) == [(200, True), (400, False), (400, False), (400, False)], results
    # One successor was written; the others wrote nothing and the library took them as a reuse
    # of a rotated token, revoking the family (the successor included).
    family = get_refresh_token_model().objects.filter(token_family=old.token_family)
    assert family.count() == 2 and not family.filter(revoked__isnull=True).exists()
    assert get_access_token_model().objects.filter(user=citizen_account.user).count() == 0


def test_tokens_hashed_at_rest_are_left_to_the_library(post, agency, rp, citizen_account, settings) -> None:
    """The lanes write the token column as it is; with RFC 9700's hashed-at-rest storage on,
    both grants go to the library (which leaves that column blank)."""
    import hashlib

    from django.db import connection

    tokens = _tokens(rp, citizen_account)
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True}
    cc = (agency.client_id, agency.client_secret)
    status, _h, out, by_lane = post({"grant_type": "client_credentials"}, cc)
    assert status == 200 and not by_lane
    digest = hashlib.sha256(json.loads(out)["access_token"].encode()).hexdigest()
    assert get_access_token_model().objects.get(token_checksum=digest).token == ""
    if connection.vendor == "postgresql":
        status, _h, _out, by_lane = post(_refresh_body(tokens), (rp.client_id, rp.client_secret))
        assert status == 200 and not by_lane


def test_the_lane_issuer_follows_the_script_prefix(post, rp, citizen_account) -> None:
    """Served under a path prefix (SCRIPT_NAME), the lane's ID token names the same issuer as
    the library's."""
    from django.urls import set_script_prefix

    _pg_only()
    creds = (rp.client_id, rp.client_secret)
    first, second = _tokens(rp, citizen_account), _tokens(rp, citizen_account)
    try:
        s1, _h, b1, by_lane = post(_refresh_body(first), creds, environ={"SCRIPT_NAME": "/dancu"})
        s2, _h, b2, by_lib = post(_refresh_body(second), creds, lane_on=False,
                                  environ={"SCRIPT_NAME": "/dancu"})
    finally:
        set_script_prefix("/")
    assert (s1, s2) == (200, 200) and by_lane and not by_lib
    issuers = {_id_claims(json.loads(b)["id_token"], rp.client_id)["iss"] for b in (b1, b2)}
    assert issuers == {"http://testserver/dancu/oidc"}


def test_token_tables_keep_their_lookups_without_pattern_indexes(db) -> None:
    """The lanes write an access token and an authentication context per grant: their checksum and
    code digest are looked up by equality, so PostgreSQL keeps no varchar_pattern_ops twins —
    and the code digest is still unique."""
    from django.db import IntegrityError, connection, transaction

    from dancu.oidc.models import AuthContext

    AuthContext.objects.create(code_digest="a" * 64, acr="urn:vn:dancu:loa:1", amr="pwd", auth_time=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthContext.objects.create(code_digest="a" * 64, acr="urn:vn:dancu:loa:1", amr="pwd", auth_time=2)
    AuthContext.objects.create(code_digest=None, acr="urn:vn:dancu:loa:1", amr="pwd", auth_time=3)
    AuthContext.objects.create(code_digest=None, acr="urn:vn:dancu:loa:1", amr="pwd", auth_time=4)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN "
                           "('oauth2_provider_accesstoken', 'oidc_authcontext', 'audit_auditevent') "
                           "AND indexdef LIKE '%%pattern_ops%%'")
            assert cursor.fetchall() == []
