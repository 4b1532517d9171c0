"""Helpers for tests of the authentication service."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client
from django.utils import timezone

from dancu.accounts.actor import system_actor
from dancu.eid.models import EidAccount
from dancu.eid.sessions import SESSION_KEY
from dancu.oidc import services as oidc

REDIRECT = "https://benhvien.example.vn/oidc/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def make_client(
    scopes: str = "openid identity profile address",
    *,
    grant: str = "authorization-code",
    public: bool = False,
    min_acr: int = 0,
    days: int = 365,
    **extra: object,
) -> oidc.NewClient:
    return oidc.create_client(
        system_actor("test"),
        name="Bệnh viện Hữu nghị",
        organisation="Bệnh viện Hữu nghị",
        purpose="Xác minh danh tính người bệnh khi đăng ký khám",
        scopes=scopes.split(),
        redirect_uris=[REDIRECT] if grant == "authorization-code" else [],
        grant_type=grant,
        public=public,
        valid_until=timezone.now() + dt.timedelta(days=days),
        contact_name="Phòng CNTT",
        contact_email="cntt@benhvien.example.vn",
        min_acr_level=min_acr,
        **extra,
    )


def sign_in(
    client: Client, account: EidAccount, methods: tuple[str, ...] = ("pwd",), auth_time: int | None = None
) -> None:
    """A signed-in e-ID session, as eid.sessions.establish makes it."""
    client.force_login(account.user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[SESSION_KEY] = {
        "account": account.pk,
        "methods": sorted(methods),
        "auth_time": auth_time or int(time.time()),
    }
    session.save()


def authorize_params(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid identity profile",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return params


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(client: Client, client_id: str, challenge: str, **extra: str) -> str:
    """Authorize (consenting on the screen if it is shown) and return the code."""
    response = client.get("/oidc/authorize/", authorize_params(client_id, challenge, **extra))
    if response.status_code == 200:  # the consent screen
        form = response.context["form"]
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data["allow"] = "true"
        response = client.post(
            "/oidc/authorize/?"
            + "&".join(f"{k}={v}" for k, v in authorize_params(client_id, challenge, **extra).items()),
            data,
        )
    assert response.status_code == 302, response.content[:500]
    query = query_of(response["Location"])
    assert "code" in query, response["Location"]
    assert query["state"] == "st-123"
    return query["code"]


def basic(client_id: str, secret: str) -> str:
    """An ``Authorization: Basic`` header value for a confidential client."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def exchange(client: Client, rp: oidc.NewClient, code: str, verifier: str, *, secret: str | None = None,
             **extra: str) -> Any:
    """The code at the token endpoint: HTTP Basic for a confidential client (``secret`` overrides
    its own), ``client_id`` in the body for a public one."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier} | extra
    secret = rp.client_secret if secret is None else secret
    if not secret:
        return client.post("/oidc/token/", {**data, "client_id": rp.client_id})
    return client.post("/oidc/token/", data, HTTP_AUTHORIZATION=basic(rp.client_id, secret))
