"""Reads of the authentication service: a citizen's consents and the relying parties they have
logged in to; what token introspection tells a client."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max
from oauth2_provider.models import get_access_token_model

from dancu.eid.models import LoginEvent
from dancu.oidc import tokens
from dancu.oidc.claims import subject_for
from dancu.oidc.models import Consent
from dancu.oidc.validators import agreement_of

INTROSPECTION_SCOPE = "introspection"


@dataclass
class ConsentView:
    consent: Consent
    organisation: str
    scope_labels: list[str]
    last_login: Any


def consents_of(account: Any) -> list[ConsentView]:
    """Live consents, newest first, with the last login to each relying party."""
    rows = list(Consent.objects.select_related("application__agreement")
                .filter(user_id=account.user_id, revoked_at__isnull=True).order_by("-granted_at"))
    last = dict(LoginEvent.objects.filter(account=account, outcome="success")
                .exclude(client_id="").values_list("client_id").annotate(at=Max("at")))
    labels = settings.OAUTH2_PROVIDER["SCOPES"]
    out = []
    for c in rows:
        agreement = getattr(c.application, "agreement", None)
        out.append(ConsentView(c, agreement.organisation if agreement else c.application.name,
                               [str(labels.get(s, s)) for s in sorted(c.scope_set)],
                               last.get(c.application.client_id)))
    return out


def relying_parties_logged_in(account: Any) -> list[tuple[str, str, Any]]:
    """(client_id, name, last successful login) for every service the person logged in to."""
    rows = (LoginEvent.objects.filter(account=account, outcome="success").exclude(client_id="")
            .values("client_id", "client_name").annotate(at=Max("at")).order_by("-at"))
    return [(r["client_id"], r["client_name"], r["at"]) for r in rows]


def introspection(client: Any | None, token_value: str) -> dict[str, Any]:
    """RFC 7662's answer about ``token_value`` to ``client`` (None: a bearer token carrying the
    ``introspection`` scope, which the library has checked).

    A client learns about its own tokens; only a client whose agreement grants the
    ``introspection`` scope (a resource server, e.g. an agency's API gateway) learns about
    others'. Any other token is ``{"active": false}``, as RFC 7662 §2.2 asks, so a client cannot
    probe for other parties' tokens. The person is named by ``sub`` as the token's relying party
    knows them (``claims.subject_for``, as in its ID tokens), never by the account's user name
    (which carries the ID number)."""
    token = (get_access_token_model().objects.select_related("application")
             .filter(token_checksum=tokens.checksum(token_value)).first())
    if token is None or not token.is_valid():
        return {"active": False}
    if client is not None and token.application_id != client.pk:
        agreement = agreement_of(client)
        if agreement is None or INTROSPECTION_SCOPE not in agreement.scopes:
            return {"active": False}
    data: dict[str, Any] = {"active": True, "scope": token.scope, "token_type": "Bearer",
                            "exp": int(calendar.timegm(token.expires.timetuple()))}
    if token.application is not None:
        data["client_id"] = token.application.client_id
    if token.user_id is not None:
        data["sub"] = subject_for(token.application, token.user_id)
    if token.resource:
        data["aud"] = token.resource
    return data
