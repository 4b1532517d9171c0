"""dancu's rules plugged into django-oauth-toolkit's request validator (the persistence and policy
hooks of oauthlib). The protocol itself — codes, PKCE, token issuance, rotation, revocation,
introspection, ID token signing — is the library's.

What is added here:

- a client works only while its agreement (``oidc.Agreement``) is in force, and may be granted
  only the scopes of that agreement — also on refresh: a refresh token whose scopes the agreement
  no longer allows is refused (``invalid_grant``);
- claims come from the population registry by scope (``dancu.oidc.claims``), and every release
  of personal data to a relying party is audited with the client and its stated purpose;
- ``acr``, ``amr`` and ``auth_time`` in ID tokens come from the e-ID session that approved the
  authorization (``AuthContext``), and carry over to ID tokens issued on refresh;
- ``sub`` is pairwise (``claims.subject_for``), unless the agreement says ``public``;
- ``redirect_uri`` is required at the authorization and token endpoints, matches a registered URI
  exactly (a ``native`` client: any port on its loopback URI, RFC 8252 §7.3), and a different one
  at the token endpoint is ``invalid_grant``;
- a second redemption of a code revokes the tokens of the first (RFC 6749 §4.1.2).

``Server`` is oauthlib's OpenID Connect server with only the authorization code flow at the
authorization endpoint, and the request parameters dancu does not support refused there
(``unsupported_response_type``, ``request_not_supported``, ``request_uri_not_supported``,
``invalid_request`` for a ``response_mode`` other than ``query``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Subquery
from oauth2_provider.models import get_id_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server as OpenIDServer
from oauthlib.openid.connect.core import exceptions as oidc_errors

from dancu.oidc import claims as registry_claims
from dancu.oidc.hooks import LibraryHooks
from dancu.oidc.models import Agreement, AuthContext

IDToken = get_id_token_model()


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def client_default_scopes(allowed: set[str] | frozenset[str]) -> list[str]:
    """A token request without ``scope``: everything the agreement allows that is not a person's
    (client credentials act for an organisation, never for a citizen)."""
    return sorted(set(allowed) - set(registry_claims.CLAIMS_BY_SCOPE)
                  - {"openid", "eid.self", "publicservices"})


def agreement_of(client: Any) -> Agreement | None:
    try:
        return client.agreement
    except Agreement.DoesNotExist:
        return None


RESPONSE_MODES = ("query",)


def check_authorization_request(request: Any) -> dict[str, Any]:
    """What dancu refuses at the authorization endpoint (oauthlib's ``pre_auth`` hook: after the
    client and the redirect URI are validated, so the refusal goes back to the relying party)."""
    if getattr(request, "using_default_redirect_uri", False):
        # OpenID Connect Core 3.1.2.1: REQUIRED (oauthlib would fall back to the registered one).
        raise errors.MissingRedirectURIError(request=request)
    if request.response_type is not None and request.response_type != "code":
        raise errors.UnsupportedResponseTypeError(request=request)
    if getattr(request, "request", None) is not None:
        raise oidc_errors.RequestNotSupported(request=request)
    if getattr(request, "request_uri", None) is not None:
        raise oidc_errors.RequestURINotSupported(request=request)
    if request.response_mode is not None and request.response_mode not in RESPONSE_MODES:
        raise errors.InvalidRequestError(
            request=request, description=f"response_mode {request.response_mode!r} is not supported.")
    return {}


class Server(OpenIDServer):
    """oauthlib's server with the authorization code flow only at the authorization endpoint:
    every other ``response_type`` (implicit, hybrid, ``none``) is ``unsupported_response_type``
    (RFC 6749 §4.1.2.1), not the library's ``unauthorized_client``."""

    def __init__(self, request_validator: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request_validator, *args, **kwargs)
        self._response_types = {"code": self.auth_grant_choice}
        for grant in (self.auth_grant, self.openid_connect_auth):
            grant.custom_validators.pre_auth.append(check_authorization_request)


class Validator(LibraryHooks, OAuth2Validator):
    oidc_claim_scope = {claim: scope for scope, names in registry_claims.CLAIMS_BY_SCOPE.items()
                        for claim in names} | {"sub": "openid"}

    # ---- clients and their agreements --------------------------------------------------------

    def _load_application(self, client_id: str, request: Any) -> Any:
        client = super()._load_application(client_id, request)
        if client is None:
            return None
        agreement = agreement_of(client)
        if agreement is None or not agreement.in_force():
            request.client = None
            return None
        return client

    # ---- redirect URIs ----------------------------------------------------------------------

    def validate_redirect_uri(self, client_id: str, redirect_uri: str, request: Any,
                              *args: Any, **kwargs: Any) -> bool:
        """Exact string match with a registered URI; only a ``native`` client (RFC 8252) gets the
        library's loopback rule (any port on http://127.0.0.1 or http://[::1])."""
        agreement = agreement_of(request.client)
        if agreement is not None and agreement.application_type == "native":
            return super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)
        return redirect_uri in request.client.redirect_uris.split()

    def get_default_redirect_uri(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> None:
        return None  # redirect_uri is required (authorization and token endpoints)

    def confirm_redirect_uri(self, client_id: str, code: str, redirect_uri: str, client: Any,
                             *args: Any, **kwargs: Any) -> bool:
        """RFC 6749 §5.2: a redirect URI that is not the authorization request's makes the grant
        invalid (``invalid_grant``), not the request (oauthlib's ``invalid_request``)."""
        if not super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs):
            raise errors.InvalidGrantError(
                description="redirect_uri differs from the authorization request's.")
        return True

    def validate_scopes(self, client_id: str, scopes: list[str], client: Any, request: Any,
                        *args: Any, **kwargs: Any) -> bool:
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        agreement = agreement_of(client)
        return agreement is not None and set(scopes) <= agreement.scopes

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        client = request.client or self._load_application(client_id, request)
        agreement = agreement_of(client) if client else None
        if agreement is None:
            return []
        return client_default_scopes(agreement.scopes)

    # ---- prompt=none: decided by the authorization view (login_required, consent_required,
    # interaction_required), which knows the e-ID session; oauthlib only asks permission to go on.

    def validate_silent_authorization(self, request: Any) -> bool:
        return True

    def validate_silent_login(self, request: Any) -> bool:
        return True

    # ---- claims --------------------------------------------------------------------------------

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        return super().get_claim_dict(request) | {
            "sub": registry_claims.subject_for(request.client, request.user.pk)}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return registry_claims.claims_for_user(request.user, set(request.scopes or []))

    def get_discovery_claims(self, request: Any) -> list[str]:
        return sorted({"sub", "acr", "amr", "auth_time", *self.oidc_claim_scope})

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        released = super().get_oidc_claims(token, token_handler, request)
        registry_claims.audit_release(request.client, request.user, released,
                                      channel=getattr(request, "dancu_channel", "id_token"))
        return released

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        request.dancu_channel = "userinfo"
        return super().get_userinfo_claims(request)

    # ---- the authentication context (acr, amr, auth_time) ------------------------------------

    def _create_authorization_code(self, request: Any, code: dict, expires: Any = None) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        context = getattr(request, "dancu_auth", None)
        if context:
            AuthContext.objects.create(code_digest=code_digest(code["code"]), acr=context["acr"],
                                       amr=context["amr"], auth_time=context["auth_time"])
        return grant

    def validate_code(self, client_id: str, code: str, client: Any, request: Any,
                      *args: Any, **kwargs: Any) -> bool:
        ok = super().validate_code(client_id, code, client, request, *args, **kwargs)
        ctx = AuthContext.objects.filter(code_digest=code_digest(code)).first()
        if ok:
            request.dancu_auth = _as_dict(ctx)
        elif ctx is not None and ctx.token_family is not None:
            # The code was redeemed already: RFC 6749 §4.1.2 — revoke what the first use got.
            get_refresh_token_model().revoke_family(ctx.token_family)
        return ok

    def _create_refresh_token(self, request: Any, refresh_token_code: str, access_token: Any,
                              previous_refresh_token: Any) -> Any:
        token = super()._create_refresh_token(request, refresh_token_code, access_token,
                                              previous_refresh_token)
        if request.grant_type == "authorization_code" and request.code:
            AuthContext.objects.filter(code_digest=code_digest(request.code)).update(
                token_family=token.token_family)
        return token

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any,
                               *args: Any, **kwargs: Any) -> bool:
        ok = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if ok:
            rt = getattr(request, "refresh_token_instance", None)
            access = getattr(rt, "access_token", None) if rt else None
            agreement = agreement_of(client)
            granted = set(access.scope.split()) if access is not None else set()
            if agreement is None or not granted <= agreement.scopes:
                return False  # the agreement no longer allows what the token was granted
            if access is not None and access.id_token_id is not None:  # one query, not two
                jti = Subquery(IDToken.objects.filter(pk=access.id_token_id).values("jti")[:1])
                # = a scalar, no ORDER BY: the unique index on id_token_jti, whatever the statistics
                found = list(AuthContext.objects.filter(id_token_jti=jti)
                             .values("acr", "amr", "auth_time")[:1])  # no model to build
                request.dancu_auth = found[0] if found else None
        return ok

    def _save_id_token(self, jti: Any, request: Any, expires: Any, *args: Any, **kwargs: Any) -> Any:
        id_token = super()._save_id_token(jti, request, expires, *args, **kwargs)
        context = getattr(request, "dancu_auth", None)
        if context:
            AuthContext.objects.create(id_token_jti=jti, acr=context["acr"], amr=context["amr"],
                                       auth_time=context["auth_time"])
        return id_token

    def get_id_token_dictionary(self, token: Any, token_handler: Any, request: Any) -> tuple[dict, Any]:
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        context = getattr(request, "dancu_auth", None)
        if context:
            claims["acr"] = context["acr"]
            claims["amr"] = context["amr"].split()
            claims["auth_time"] = int(context["auth_time"])
        return claims, expiration


def _as_dict(ctx: AuthContext | None) -> dict[str, Any] | None:
    if ctx is None:
        return None
    return {"acr": ctx.acr, "amr": ctx.amr, "auth_time": ctx.auth_time}
