"""A NUL character anywhere in a request is a 400 naming the field (dancu.core.nul), never a 500.

PostgreSQL cannot take a text with NUL: each of these requests was a 500 there (issue #11). On
SQLite they were accepted (a search for "\\x00", a purpose stored with it), so these tests fail
without the refusal on both databases. The WSGI cases go through the fast lane
(dancu.api_fastlane), which must leave such a request to Django's refusal.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from dancu import api_fastlane
from dancu.accounts import auth
from dancu.accounts import services as accounts
from dancu.audit.models import AuditEvent
from dancu.eid.models import EidApplication
from tests.eid_helpers import PNG

NUL = "\x00"


@pytest.fixture
def client(settings) -> Client:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    return Client()


@pytest.fixture
def token(geo) -> str:
    auth.token_cache.clear()
    profile = accounts.create_officer("svc.nul", None, "service")
    yield accounts.issue_api_token(profile, "nul test")
    auth.token_cache.clear()


def _api_refusal(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], body["field"]) == ("E_NUL_CHARACTER", field)
    assert field in body["message"]


def _oauth_refusal(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_request" and field in body["error_description"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("query", "headers", "field"), [
    ({"q": "nguyen" + NUL}, {}, "q"),
    ({"q": "nguyen", "purpose": "tra" + NUL + "cứu"}, {}, "purpose"),
    ({"q": "nguyen", "x" + NUL: "1"}, {}, "x\\x00"),
    ({"q": "nguyen"}, {"X-Purpose": "tra%00cuu"}, "X-Purpose"),
])
def test_api_search(client, token, query, headers, field) -> None:
    response = client.get("/api/v1/citizens", query,
                          headers={"Authorization": f"Bearer {token}", **headers})
    _api_refusal(response, field)
    assert not AuditEvent.objects.filter(action__startswith="citizen.").exists()  # refused before any read


def test_api_path_and_cookie(client, token) -> None:
    _api_refusal(client.get("/api/v1/citizens/03819%00", headers={"Authorization": f"Bearer {token}"}),
                 "path")
    cookie = 'sessionid="abc\\000defghijk"'  # a quoted cookie's octal escape: NUL
    response = client.get("/api/v1/citizens", {"q": "nguyen"},
                          headers={"Authorization": f"Bearer {token}", "Cookie": cookie})
    assert response.status_code == 400 and response.json()["field"] == "sessionid"


def test_english_message(client, token) -> None:
    client.cookies["django_language"] = "en"
    response = client.get("/api/v1/citizens", {"q": NUL}, headers={"Authorization": f"Bearer {token}"})
    assert response.json()["message"] == "The NUL character (code 0) is not allowed in “q”."


def test_eid_registration_fields(client, geo) -> None:
    form = {"personal_id": "038190012345", "full_name": "Nguyễn Thị Hoà", "birth_date": "1990-05-17",
            "phone": "0912345678", "email": "hoa@example.vn"}
    for field in ("full_name", "email"):
        data = dict(form, **{field: form[field] + NUL})
        data["portrait"] = SimpleUploadedFile("me.png", PNG + b"\x00\x00", content_type="image/png")
        _api_refusal(client.post("/api/v1/eid/registrations", data), field)
    assert not EidApplication.objects.exists()
    # A JSON body, at any depth, as its dotted name.
    response = client.post("/api/v1/eid/recovery", {"personal_id": "03819001234\u0000", "phone": "0912"},
                           content_type="application/json")
    _api_refusal(response, "personal_id")
    response = client.post("/api/v1/eid/recovery", '{"a": [{"b": "x\\u0000"}]}',
                           content_type="application/json")
    _api_refusal(response, "a.0.b")
    # A NUL byte in a portrait file is content, not a field: that request is not refused for it.
    data = dict(form, portrait=SimpleUploadedFile("me.png", PNG + b"\x00", content_type="image/png"))
    response = client.post("/api/v1/eid/registrations", data)
    assert response.status_code == 201, response.content  # recorded (refused by the registry)


def test_console_pages(client, commune_officer) -> None:
    client.force_login(get_user_model().objects.get(username=commune_officer.label))
    for url, field in [("/citizens/?q=ng%00uyen&reason=tra+c%E1%BB%A9u", "q"),
                       ("/citizens/?q=nguyen&reason=tra%00", "reason"),
                       ("/citizens/038190%00012345/", "path"),
                       ("/citizens/038190012345/?reason=x%00", "reason")]:
        response = client.get(url)
        assert response.status_code == 400, (url, response.status_code)
        assert response["Content-Type"].startswith("text/html")
        page = response.content.decode()
        assert 'data-testid="bad-request"' in page and f"“{field}”" in page, url
    assert not AuditEvent.objects.filter(action__startswith="citizen.").exists()


def test_oidc_token_endpoint(client, db) -> None:
    # No authentication needed: a NUL in the client id of HTTP Basic credentials.
    creds = "Basic " + base64.b64encode(b"rp\x00:secret").decode()
    _oauth_refusal(client.post("/oidc/token/", {"grant_type": "client_credentials"},
                               HTTP_AUTHORIZATION=creds), "Authorization")
    creds = "Basic " + base64.b64encode(b"rp%00:secret").decode()  # form-encoded inside (RFC 6749)
    _oauth_refusal(client.post("/oidc/token/", {"grant_type": "client_credentials"},
                               HTTP_AUTHORIZATION=creds), "Authorization")
    _oauth_refusal(client.post("/oidc/token/", {"grant_type": "authorization_code",
                                                 "code": "abc" + NUL, "client_id": "rp"}), "code")
    # The authorization page is a browser's: an HTML 400.
    response = client.get("/oidc/authorize/", {"client_id": "rp" + NUL, "response_type": "code"})
    assert response.status_code == 400 and b'data-testid="bad-request"' in response.content


def _wsgi(environ: dict) -> tuple[int, dict, bytes]:
    """The request through dancu's WSGI application with the look-up lane on."""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(api_fastlane.application(enabled=True)(environ, start_response))
    return int(seen["status"].split()[0]), seen["headers"], body


def test_the_fast_lane_is_behind_the_nul_check(token, settings) -> None:
    """The look-up lane runs inside Django's handler, after the middleware that refuses NUL."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    for query, headers, field in [({"purpose": "a" + NUL}, {}, "purpose"),
                                  ({}, {"X-Purpose": "%00"}, "X-Purpose")]:
        environ = RequestFactory().get("/api/v1/citizens/038190012345", query,
                                       headers={"Authorization": f"Bearer {token}", **headers}).environ
        status, _headers, body = _wsgi(environ)
        assert status == 400
        assert json.loads(body)["field"] == field
    raw = urlencode({"grant_type": "client_credentials"}).encode()
    for creds in (b"rp\x00:secret", b"rp:se\x00cret"):
        environ = RequestFactory().post(
            "/oidc/token/", raw, content_type="application/x-www-form-urlencoded",
            headers={"Authorization": "Basic " + base64.b64encode(creds).decode()}).environ
        environ["wsgi.input"] = io.BytesIO(raw)
        status, _headers, body = _wsgi(environ)
        assert status == 400
        assert json.loads(body)["error"] == "invalid_request"
