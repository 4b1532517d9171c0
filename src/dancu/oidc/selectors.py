"""Reads of the authentication service for the citizen: their consents and the relying parties
they have logged in to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max

from dancu.eid.models import LoginEvent
from dancu.oidc.models import Consent


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
