"""Bearer access tokens of the authentication service on the JSON API (django-ninja).

``OAuthBearer(["ekyc"])`` accepts an unexpired access token issued by this provider that carries
the scopes, whose client's agreement is in force. ``request.auth`` becomes a ``TokenPrincipal``:
the client (relying party), the person (for tokens issued on a citizen's login) and the scopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from oauth2_provider.models import get_access_token_model

from dancu.accounts.actor import Actor
from dancu.core.net import client_ip
from dancu.oidc import tokens
from dancu.oidc.claims import purpose_of, rp_actor
from dancu.oidc.validators import agreement_of


@dataclass(frozen=True)
class TokenPrincipal:
    client: Any
    user: Any | None
    scopes: frozenset[str]
    actor: Actor  # the relying party, for the audit

    @property
    def purpose(self) -> str:
        return purpose_of(self.client)


class OAuthBearer(HttpBearer):
    def __init__(self, scopes: list[str]) -> None:
        super().__init__()
        self.scopes = scopes

    def authenticate(self, request: HttpRequest, token: str) -> TokenPrincipal | None:
        if not token or len(token) > 255:
            return None
        row = (get_access_token_model().objects.select_related("application__agreement", "user")
               .filter(token_checksum=tokens.checksum(token)).first())
        if row is None or row.application is None or not row.is_valid(self.scopes):
            return None
        agreement = agreement_of(row.application)
        if agreement is None or not agreement.in_force():
            return None
        if row.user is not None and not row.user.is_active:
            return None
        ip = client_ip(request)
        return TokenPrincipal(client=row.application, user=row.user,
                              scopes=frozenset(row.scope.split()), actor=rp_actor(row.application, ip))
