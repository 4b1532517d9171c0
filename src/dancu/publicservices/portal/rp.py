"""The portal's OpenID Connect relying-party side: authorization request (code flow, PKCE
S256, state, nonce, ``acr_values``), code exchange at the token endpoint, and ID token
verification with joserfc against the provider's JWKS.

The provider is reached over HTTP like any other relying party would: the issuer is
``DANCU_PORTAL_ISSUER`` (else ``DANCU_OIDC_ISSUER``, else the request's own origin + ``/oidc``);
discovery, token and JWKS requests go through ``transport`` (``requests``; the tests swap it for
one that calls the same views through Django's test client)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.http import HttpRequest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from dancu.eid import assurance
from dancu.publicservices.portal.client import CALLBACK_PATH, PORTAL_SCOPES, Credentials

PENDING_KEY = "dancu_portal_pending"
SESSION_KEY = "dancu_portal"
MAX_PENDING = 5


class RpError(Exception):
    """The sign-in could not be completed; ``code`` is stable, ``message`` shown to the citizen."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class Transport(Protocol):
    def get_json(self, url: str) -> dict[str, Any]: ...

    def post_form(self, url: str, data: dict[str, str],
                  auth: tuple[str, str]) -> tuple[int, dict[str, Any]]: ...


class HttpTransport:
    """Real HTTP to the provider (production, and the live-server browser test)."""

    timeout = 10

    def get_json(self, url: str) -> dict[str, Any]:
        response = requests.get(url, timeout=self.timeout)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def post_form(self, url: str, data: dict[str, str], auth: tuple[str, str]) -> tuple[int, dict[str, Any]]:
        response = requests.post(url, data=data, auth=auth, timeout=self.timeout)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return response.status_code, body


transport: Transport = HttpTransport()

_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, Any]]] = {}
CACHE_SECONDS = 300


def _cached_json(url: str, *, refresh: bool = False) -> dict[str, Any]:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(url)
    if hit and not refresh and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    data = transport.get_json(url)
    with _cache_lock:
        _cache[url] = (now, data)
    return data


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def issuer_for(request: HttpRequest) -> str:
    configured = (getattr(settings, "DANCU_PORTAL_ISSUER", "")
                  or settings.OAUTH2_PROVIDER.get("OIDC_ISS_ENDPOINT", ""))
    return (configured or request.build_absolute_uri("/oidc")).rstrip("/")


def discovery(issuer: str) -> dict[str, Any]:
    try:
        meta = _cached_json(issuer + "/.well-known/openid-configuration")
    except (requests.RequestException, ValueError) as exc:
        raise RpError("E_PROVIDER_UNREACHABLE") from exc
    if meta.get("issuer", "").rstrip("/") != issuer:
        raise RpError("E_ISSUER_MISMATCH")
    return meta


def callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(CALLBACK_PATH)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def begin(request: HttpRequest, creds: Credentials, *, next_url: str, min_loa: int = 1) -> str:
    """Stores state/nonce/verifier in the session and returns the provider's authorization URL."""
    issuer = issuer_for(request)
    meta = discovery(issuer)
    verifier, challenge = _pkce()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    pending = dict(request.session.get(PENDING_KEY, {}))
    if len(pending) >= MAX_PENDING:  # keep the newest few (several tabs), drop the oldest
        for old in sorted(pending, key=lambda k: pending[k]["at"])[: len(pending) - MAX_PENDING + 1]:
            pending.pop(old)
    pending[state] = {"nonce": nonce, "verifier": verifier, "next": next_url, "loa": max(min_loa, 1),
                      "issuer": issuer, "redirect_uri": callback_url(request), "at": int(time.time())}
    request.session[PENDING_KEY] = pending
    params = {
        "response_type": "code",
        "client_id": creds.client_id,
        "redirect_uri": callback_url(request),
        "scope": " ".join(PORTAL_SCOPES),
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "acr_values": assurance.acr_for_level(max(min_loa, 1)),
    }
    return f"{meta['authorization_endpoint']}?{urlencode(params)}"


@dataclass(frozen=True)
class SignedIn:
    personal_id: str
    name: str
    sub: str
    loa: int
    auth_time: int
    id_token: str
    next_url: str


def _verify(meta: dict[str, Any], id_token: str, creds: Credentials, nonce: str) -> dict[str, Any]:
    try:
        keys = KeySet.import_key_set(_cached_json(meta["jwks_uri"]))  # type: ignore[arg-type]
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256"])
        except JoseError:  # a key rotated since the JWKS was cached: fetch it once more
            keys = KeySet.import_key_set(_cached_json(meta["jwks_uri"], refresh=True))  # type: ignore[arg-type]
            token = jwt.decode(id_token, keys, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": meta["issuer"]},
            aud={"essential": True, "value": creds.client_id},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError, KeyError, requests.RequestException) as exc:
        raise RpError("E_ID_TOKEN_INVALID") from exc
    claims: dict[str, Any] = token.claims
    return claims


def complete(request: HttpRequest, creds: Credentials, *, state: str, code: str) -> SignedIn:
    """The callback: checks the state, exchanges the code (with the PKCE verifier), verifies
    the ID token and the assurance level it carries."""
    pending = dict(request.session.get(PENDING_KEY, {}))
    entry = pending.pop(state, None) if state else None
    request.session[PENDING_KEY] = pending
    if entry is None:
        raise RpError("E_STATE")
    meta = discovery(entry["issuer"])
    status, body = transport.post_form(
        meta["token_endpoint"],
        {"grant_type": "authorization_code", "code": code, "redirect_uri": entry["redirect_uri"],
         "code_verifier": entry["verifier"]},
        (creds.client_id, creds.client_secret),
    )
    if status != 200 or "id_token" not in body:
        raise RpError("E_TOKEN_EXCHANGE", str(body.get("error", status)))
    claims = _verify(meta, body["id_token"], creds, entry["nonce"])
    loa = assurance.level_of_acr(str(claims.get("acr", ""))) or 0
    if loa < entry["loa"]:
        raise RpError("E_LOA_TOO_LOW")
    personal_id = str(claims.get("personal_id", ""))
    if not personal_id:
        raise RpError("E_NO_IDENTITY")
    return SignedIn(personal_id=personal_id, name=str(claims.get("name", "")), sub=str(claims["sub"]),
                    loa=loa,
                    auth_time=int(claims.get("auth_time", time.time())), id_token=body["id_token"],
                    next_url=entry["next"])
