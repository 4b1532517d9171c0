"""The client-credentials grant through the fast lane (dancu.oidc.fastlane via dancu.api_fastlane)
against django-oauth-toolkit's own path, through WSGI as gunicorn would call it."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from dancu import api_fastlane
from dancu.oidc import fastlane
from dancu.oidc.models import Agreement
from tests.oidc_helpers import make_client
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

    def request(body: dict | str, basic: tuple[str, str] | None, *, lane_on: bool = True, **headers):
        data = body if isinstance(body, str) else urlencode(body)
        extra = {f"HTTP_{k.upper()}": v for k, v in headers.items()}
        if basic is not None:
            extra["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
        environ = (
            RequestFactory()
            .post("/oidc/token/", data=data, content_type="application/x-www-form-urlencoded", **extra)
            .environ
        )
        before = spy.calls
        status, hdrs, out = _call(lane if lane_on else spy, environ)
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
    assert len(fast["access_token"]) == len(slow["access_token"])
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
    basic = "Basic " + base64.b64encode(":".join(creds).encode()).decode()
    assert (
        client.post("/oidc/introspect/", {"token": fast["access_token"]}, HTTP_AUTHORIZATION=basic).json()[
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
