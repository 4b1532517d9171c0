"""The token endpoint's grants are django-oauth-toolkit's, made cheaper through its validator hooks
(dancu.oidc.hooks): a per-process cache of clients with their agreements, and the ID token just
signed handed back instead of parsed, verified and read again. Every outcome, refusals included,
is the library's; on both databases."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_id_token_model, get_refresh_token_model

from dancu.accounts import auth
from dancu.oidc import hooks
from dancu.oidc.models import Agreement
from tests.oidc_helpers import basic, make_client


@pytest.fixture(autouse=True)
def _empty_client_cache():
    hooks.clear_cache()
    yield
    hooks.clear_cache()


def _post(body: dict, creds: tuple[str, str] | None) -> tuple[int, dict]:
    extra = {"HTTP_AUTHORIZATION": basic(*creds)} if creds else {}
    response = Client().post("/oidc/token/", body, **extra)
    return response.status_code, response.json()


@pytest.fixture
def agency(db):
    return make_client("ekyc", grant="client-credentials")


@pytest.fixture
def rp(db):
    return make_client("openid identity profile address")


@pytest.fixture
def citizen_account(geo, commune_officer):
    from tests.eid_helpers import level1_account, person

    return level1_account(person(commune_officer, geo.hac_thanh))


def _tokens(rp, account, auth_time: int | None = None) -> dict:
    """A code flow through the library: tokens with an ID token and its authentication context."""
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
    head = jws.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def _refresh_body(tokens: dict) -> dict:
    return {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}


def _tables(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


# ---- client credentials -------------------------------------------------------------------------

def test_client_credentials_read_the_client_and_its_agreement_once_per_process(agency) -> None:
    creds = (agency.client_id, agency.client_secret)
    assert _post({"grant_type": "client_credentials"}, creds)[0] == 200  # loads the cache
    with CaptureQueriesContext(connection) as queries:
        status, body = _post({"grant_type": "client_credentials"}, creds)
    assert status == 200 and body["scope"] == "ekyc" and body["token_type"] == "Bearer"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body["access_token"])  # dancu.oidc.tokens
    sql = _tables(queries)
    assert not [s for s in sql if "oauth2_provider_application" in s or "oidc_agreement" in s], sql
    assert len([s for s in sql if s.startswith("INSERT")]) == 1
    row = get_access_token_model().objects.get(token=body["access_token"])
    assert row.application_id == agency.application.pk and row.user is None and row.scope == "ekyc"
    verify = Client().post("/api/v1/ekyc/verify",
                           {"personal_id": "038190000001", "full_name": "A", "birth_date": "1990-01-01"},
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert verify.status_code == 200


@pytest.mark.parametrize(
    ("body", "secret", "expected"),
    [
        ({"grant_type": "client_credentials"}, "wrong-secret", (401, "invalid_client")),
        ({"grant_type": "client_credentials", "scope": "ekyc profile"}, None, (400, "invalid_scope")),
        ({"grant_type": "password", "username": "x", "password": "y"}, None, (400, None)),
    ],
)
def test_refusals_are_the_librarys_with_a_cached_client(agency, body, secret, expected) -> None:
    assert _post({"grant_type": "client_credentials"}, (agency.client_id, agency.client_secret))[0] == 200
    status, out = _post(body, (agency.client_id, secret or agency.client_secret))
    assert status == expected[0]
    if expected[1] is not None:
        assert out["error"] == expected[1]


def test_changes_saved_in_this_process_apply_at_once_others_within_the_cache_lifetime(
        agency, settings, monkeypatch) -> None:
    settings.DANCU_API_TOKEN_CACHE_SECONDS = 30
    now = [1000.0]
    monkeypatch.setattr(hooks._clients, "clock", lambda: now[0])
    creds = (agency.client_id, agency.client_secret)
    assert _post({"grant_type": "client_credentials"}, creds)[0] == 200  # cached now
    # Saved through the model (this process): the entry goes at once.
    agreement = Agreement.objects.get(application=agency.application)
    agreement.valid_until = timezone.now() - dt.timedelta(seconds=1)
    agreement.save()
    assert _post({"grant_type": "client_credentials"}, creds) == (401, {"error": "invalid_client"})
    Agreement.objects.filter(pk=agreement.pk).update(valid_until=timezone.now() + dt.timedelta(days=1))
    hooks.clear_cache()
    assert _post({"grant_type": "client_credentials"}, creds)[0] == 200
    # The cached agreement's end date is compared with the clock on every request.
    cached = hooks._clients.get(agency.client_id).application
    cached.agreement.valid_until = timezone.now()
    assert _post({"grant_type": "client_credentials"}, creds)[0] == 401
    hooks.clear_cache()
    # Changed by another process (no signal here): seen when the entry expires.
    assert _post({"grant_type": "client_credentials"}, creds)[0] == 200
    app, new = agency.application, (agency.client_id, "a-new-secret-for-this-client-0123456789")
    app.client_secret = new[1]
    app.save()  # hashed by the library; this process forgets the client
    assert _post({"grant_type": "client_credentials"}, creds)[0] == 401
    assert _post({"grant_type": "client_credentials"}, new)[0] == 200
    Agreement.objects.filter(application=app).update(allowed_scopes="openid")  # no signal
    assert _post({"grant_type": "client_credentials", "scope": "ekyc"}, new)[0] == 200
    now[0] += 31
    status, out = _post({"grant_type": "client_credentials", "scope": "ekyc"}, new)
    assert (status, out["error"]) == (400, "invalid_scope")


def test_tokens_hashed_at_rest_still_work(agency, settings) -> None:
    import hashlib

    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True}
    status, out = _post({"grant_type": "client_credentials"}, (agency.client_id, agency.client_secret))
    assert status == 200
    digest = hashlib.sha256(out["access_token"].encode()).hexdigest()
    assert get_access_token_model().objects.get(token_checksum=digest).token == ""


# ---- refresh-token rotation ---------------------------------------------------------------------

def test_refresh_rotates_with_the_librarys_id_token_and_fewer_statements(rp, citizen_account) -> None:
    from oauthlib.openid.connect.core.grant_types.base import GrantTypeBase

    from dancu.audit.models import AuditEvent
    from dancu.oidc.models import AuthContext

    RefreshToken, AccessToken = get_refresh_token_model(), get_access_token_model()
    creds = (rp.client_id, rp.client_secret)
    first, second = _tokens(rp, citizen_account), _tokens(rp, citizen_account)
    assert _post(_refresh_body(first), creds)[0] == 200  # the client is cached now
    old = RefreshToken.objects.get(token=second["refresh_token"])
    old_at_id = old.access_token_id
    events = AuditEvent.objects.filter(action="oidc.claims.id_token")
    n_events = events.count()

    with CaptureQueriesContext(connection) as queries:
        status, new = _post(_refresh_body(second), creds)
    assert status == 200
    sql = _tables(queries)
    # Through the library alone: 29 statements (two client loads and the agreement, the ID token
    # parsed back, its client and row read again, the context in two reads).
    assert not [s for s in sql if "FROM \"oidc_agreement\"" in s], sql
    assert len([s for s in sql if "FROM \"oauth2_provider_application\"" in s]) == 1, sql  # rt.application
    assert not [s for s in sql if s.startswith("SELECT") and "FROM \"oauth2_provider_idtoken\"" in s
                and "oidc_authcontext" not in s], sql
    assert len(sql) <= 24, "\n".join(sql)
    # The view reads no token back after the grant (app_authorized has no receiver: oidc.views),
    # and the person's claims come from the columns they need only (oidc.claims).
    assert not [s for s in sql if s.startswith("SELECT") and "FROM \"oauth2_provider_accesstoken\"" in s
                and "\"token_checksum\" =" in s], "\n".join(sql)
    account_reads = [s for s in sql if "FROM \"eid_eidaccount\"" in s]
    assert len(account_reads) == 1 and "\"status_reason\"" not in account_reads[0], account_reads
    assert "\"population_citizen\".\"old_id_number\"" not in account_reads[0], account_reads

    assert list(new) == ["access_token", "expires_in", "token_type", "scope", "refresh_token", "id_token"]
    claims = _id_claims(new["id_token"], rp.client_id)
    assert _header(new["id_token"])["kid"] and claims["personal_id"] == citizen_account.personal_id
    assert claims["acr"] == _id_claims(second["id_token"], rp.client_id)["acr"] and "sms" in claims["amr"]
    assert claims["at_hash"] == GrantTypeBase.id_token_hash(None, new["access_token"])
    old.refresh_from_db()
    assert old.revoked is not None and old.access_token_id is None
    assert not AccessToken.objects.filter(pk=old_at_id).exists()
    new_rt = RefreshToken.objects.get(token=new["refresh_token"])
    new_at = AccessToken.objects.get(token=new["access_token"])
    assert new_rt.access_token_id == new_at.pk and new_rt.token_family == old.token_family
    assert new_at.source_refresh_token_id == old.pk
    assert str(new_at.id_token.jti) == claims["jti"]  # the row saved with the token just signed
    assert get_id_token_model().objects.get(jti=claims["jti"]).scope == new_at.scope
    assert AuthContext.objects.get(id_token_jti=claims["jti"]).acr == claims["acr"]
    assert events.count() == n_events + 1
    event = events.latest("id")
    assert (event.personal_id, event.details) == (citizen_account.personal_id,
                                                  {"claims": ["address", "birthdate", "eid_level", "gender",
                                                              "name", "personal_id"]})
    info = Client().get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {new['access_token']}")
    assert info.status_code == 200 and info.json()["personal_id"] == citizen_account.personal_id
    again, third = _post(_refresh_body(new), creds)
    assert again == 200 and _id_claims(third["id_token"], rp.client_id)["acr"] == claims["acr"]


def test_app_authorized_is_still_sent_to_a_receiver(rp, citizen_account, agency) -> None:
    """With a receiver connected, the library's own response path runs: the signal carries the
    access token the grant issued."""
    from oauth2_provider.signals import app_authorized

    seen = []

    def receiver(sender, request, token, **kwargs):
        seen.append(token)

    app_authorized.connect(receiver, dispatch_uid="test-app-authorized")
    try:
        status, out = _post({"grant_type": "client_credentials"}, (agency.client_id, agency.client_secret))
        assert status == 200
        status2, refreshed = _post(_refresh_body(_tokens(rp, citizen_account)),
                                   (rp.client_id, rp.client_secret))
        assert status2 == 200
    finally:
        app_authorized.disconnect(dispatch_uid="test-app-authorized")
    assert [t.token_checksum for t in seen[:1] + seen[-1:]] == [
        hashlib.sha256(out["access_token"].encode()).hexdigest(),
        hashlib.sha256(refreshed["access_token"].encode()).hexdigest()]


def test_the_claims_read_no_deferred_column(rp, citizen_account) -> None:
    """The account and its citizen are read with the claims' columns only: every scope's claims,
    and the audit of their release, come from that one read (no deferred column loaded later)."""
    from django.contrib.auth import get_user_model

    from dancu.oidc import claims

    user = get_user_model().objects.get(pk=citizen_account.user_id)
    with CaptureQueriesContext(connection) as queries:
        out = claims.claims_for_user(user, {"identity", "profile", "address", "phone", "email"})
        claims.audit_release(rp.application, user, out, channel="id_token")
    reads = [s for s in _tables(queries) if s.startswith("SELECT") and "FROM \"geo_adminunit\"" not in s]
    assert len(reads) == 1, reads  # (units come from geo's per-process cache, filled once)
    assert out["personal_id"] == citizen_account.personal_id and out["name"] and out["address"]["locality"]


def test_the_request_agnostic_question_is_answered_once_per_class(rp, citizen_account, monkeypatch) -> None:
    """The library inspected ``get_additional_claims``' signature twice on every grant with an ID
    token; dancu.oidc.hooks asks once per class."""
    import oauth2_provider.oauth2_validators as library

    creds = (rp.client_id, rp.client_secret)
    first, second = _tokens(rp, citizen_account), _tokens(rp, citizen_account)
    assert _post(_refresh_body(first), creds)[0] == 200

    def no_more(*args, **kwargs):
        raise AssertionError("inspect.signature called again")

    monkeypatch.setattr(library.inspect, "signature", no_more)
    status, out = _post(_refresh_body(second), creds)
    assert status == 200
    assert _id_claims(out["id_token"], rp.client_id)["personal_id"] == citizen_account.personal_id


def test_a_reused_refresh_token_revokes_the_family(rp, citizen_account) -> None:
    creds = (rp.client_id, rp.client_secret)
    tokens = _tokens(rp, citizen_account)
    status, out = _post(_refresh_body(tokens), creds)
    assert status == 200
    newest = out["refresh_token"]
    assert _post(_refresh_body(tokens), creds) == (400, {"error": "invalid_grant"})
    assert get_refresh_token_model().objects.get(token=newest).revoked is not None  # the whole family
    assert _post({"grant_type": "refresh_token", "refresh_token": newest}, creds)[0] == 400


@pytest.mark.parametrize("case", ["wrong_secret", "expired", "locked", "unknown", "other_client",
                                  "agreement_narrowed", "agreement_ended"])
def test_refresh_refusals_with_a_cached_client(rp, citizen_account, case, settings) -> None:
    from dancu.eid.models import EidAccount

    warm, tokens = _tokens(rp, citizen_account), _tokens(rp, citizen_account)
    creds = (rp.client_id, rp.client_secret)
    assert _post(_refresh_body(warm), creds)[0] == 200  # the client is cached
    body = _refresh_body(tokens)
    agreement = Agreement.objects.get(application=rp.application)
    if case == "wrong_secret":
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
        agreement.allowed_scopes = "openid identity profile"
        agreement.save()
    elif case == "agreement_ended":
        agreement.valid_until = timezone.now() - dt.timedelta(seconds=1)
        agreement.save()
    status, out = _post(body, creds)
    expected = {"wrong_secret": (401, "invalid_client"), "expired": (400, "invalid_grant"),
                "locked": (200, None), "unknown": (400, "invalid_grant"),
                "other_client": (400, "invalid_grant"), "agreement_narrowed": (400, "invalid_grant"),
                "agreement_ended": (401, "invalid_client")}[case]
    assert (status, out.get("error")) == expected, (case, out)


def test_the_client_cache_shares_the_api_token_cache_lifetime(settings, agency) -> None:
    settings.DANCU_API_TOKEN_CACHE_SECONDS = 0
    creds = (agency.client_id, agency.client_secret)
    assert _post({"grant_type": "client_credentials"}, creds)[0] == 200
    assert hooks._clients.get(agency.client_id) is None  # 0: nothing cached
    assert isinstance(hooks._clients, auth.TokenCache)


def test_token_tables_keep_their_lookups_without_pattern_indexes(db) -> None:
    """An access token and an authentication context are written per grant: their checksum and
    code digest are looked up by equality, so PostgreSQL keeps no varchar_pattern_ops twins —
    and the code digest is still unique."""
    from django.db import IntegrityError, transaction

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
