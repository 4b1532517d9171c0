"""The client-credentials grant's happy path without oauthlib's request machinery.

Agency systems (eKYC callers, public-service back ends) ask ``POST /oidc/token/`` for a token
over and over; through django-oauth-toolkit each grant costs the middleware chain, oauthlib's
request validation and five queries (client, agreement, BEGIN, INSERT, COMMIT, and a re-read of
the token for a signal). ``dancu.api_fastlane`` routes exactly this request here:

    POST /oidc/token/   Authorization: Basic <client_id:secret>
    Content-Type: application/x-www-form-urlencoded
    grant_type=client_credentials[&scope=…]

and this module answers it only when everything is in order — a confidential client of grant
type client-credentials whose secret matches and whose agreement is in force, a scope within
the agreement — with the same token django-oauth-toolkit would issue: oauthlib's token
generator, the library's ``AccessToken`` model (its checksum field), the library's lifetime
setting, and the body oauthlib writes. Anything else returns None and goes to the library, which
produces the error (``invalid_client``, ``invalid_scope``, …) exactly as before.

The client and its agreement are cached per process for ``DANCU_API_TOKEN_CACHE_SECONDS``
(default 30): a changed secret or shortened agreement reaches running servers within that time;
the agreement's end date itself is compared with the clock on every request. The library's
``app_authorized`` signal is not sent on this path (nothing in dancu listens to it).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from django.contrib.auth.hashers import check_password
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import generate_token

from dancu.accounts.auth import TokenCache, cache_seconds
from dancu.oidc.validators import agreement_of, client_default_scopes

_FORM = "application/x-www-form-urlencoded"
MAX_BODY = 2048


@dataclass(frozen=True)
class _Client:
    pk: int
    secret_hash: str
    scopes: frozenset[str]
    valid_from: dt.datetime
    valid_until: dt.datetime
    expires: float


# The same per-process, time-limited cache as API bearer tokens (accounts.auth), with its lifetime.
_clients: TokenCache[_Client] = TokenCache()


def clear_cache() -> None:
    _clients.clear()


def _client(client_id: str) -> _Client | None:
    cached = _clients.get(client_id)
    if cached is not None:
        return cached
    Application = get_application_model()
    app = (Application.objects.select_related("agreement")
           .filter(client_id=client_id, client_type=Application.CLIENT_CONFIDENTIAL,
                   authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                   hash_client_secret=True).first())
    agreement = agreement_of(app) if app is not None else None
    if app is None or agreement is None:
        return None
    entry = _Client(app.pk, app.client_secret, frozenset(agreement.scopes), agreement.valid_from,
                    agreement.valid_until, _clients.clock() + cache_seconds())
    if cache_seconds() > 0:
        _clients.put(client_id, entry)
    return entry


def _basic(header: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: client_id and secret, form-urlencoded, then Basic-encoded."""
    kind, _, value = header.partition(" ")
    if kind.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def answer(environ: dict[str, Any]) -> tuple[list[tuple[str, str]], bytes] | None:
    """The token response (oauthlib's headers and body), or None to let the library answer."""
    if environ.get("CONTENT_TYPE", "").split(";")[0].strip() != _FORM:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    params = parse_qsl(environ["wsgi.input"].read(length).decode("utf-8", "replace"),
                       keep_blank_values=True, strict_parsing=False)
    names = [k for k, _v in params]
    if len(names) != len(set(names)) or set(names) - {"grant_type", "scope"}:
        return None  # repeated or other parameters (client_id in the body…): the library decides
    form = dict(params)
    if form.get("grant_type") != "client_credentials":
        return None
    credentials = _basic(environ.get("HTTP_AUTHORIZATION", ""))
    if credentials is None:
        return None
    client = _client(credentials[0])
    if client is None or not check_password(credentials[1], client.secret_hash):
        return None
    now = timezone.now()
    if not client.valid_from <= now < client.valid_until:
        return None
    if "scope" in form:
        scopes = form["scope"].split()
        if not scopes or not set(scopes) <= client.scopes:
            return None
    else:
        scopes = client_default_scopes(client.scopes)
    expires_in = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    token = generate_token()
    get_access_token_model()(
        user=None, application_id=client.pk, token=token, scope=" ".join(scopes),
        expires=now + dt.timedelta(seconds=expires_in)).save(force_insert=True)
    body = json.dumps({"access_token": token, "expires_in": expires_in, "token_type": "Bearer",
                       "scope": " ".join(scopes)}).encode()
    return [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
            ("Pragma", "no-cache")], body
