"""Reads of the e-ID context for its pages, API and command: the citizen's own account, devices
and login history; an officer's look-up of a person's account (through the registry's audited
``get_citizen``); the SMS outbox (audited). Nothing here changes an account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyotp
from django.apps import apps
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.accounts.auth import TokenCache, cache_seconds
from dancu.audit import services as audit
from dancu.core import crypto
from dancu.core.errors import OutOfJurisdiction
from dancu.eid.models import (
    Device,
    EidAccount,
    EidApplication,
    Level2Enrolment,
    LoginEvent,
    SmsMessage,
)
from dancu.population.models import Citizen
from dancu.population.selectors import get_citizen, own_record

OFFICER_LOOKUP_REASON = "Quản lý tài khoản định danh điện tử"


# ---- The citizen's own account -----------------------------------------------------------------

def own_profile(actor: Actor, account: EidAccount) -> Citizen:
    """The registry record of the signed-in person, current place of residence included
    (``population.selectors.own_record``, audited as ``citizen.view.self``)."""
    return own_record(actor, account.personal_id)


def devices_of(account: EidAccount) -> QuerySet[Device]:
    """Bound device first, then released ones, newest first."""
    return Device.objects.filter(account=account).order_by("released_at", "-bound_at", "-id")


def login_history(account: EidAccount) -> QuerySet[LoginEvent]:
    return LoginEvent.objects.filter(account=account).order_by("-at", "-id")


def pending_totp_uri(account: EidAccount) -> tuple[str, str] | None:
    """While a TOTP enrolment is begun but not confirmed: (otpauth URI, secret) to show again."""
    if not account.totp_secret_enc or account.has_totp:
        return None
    secret = crypto.decrypt(account.totp_secret_enc)
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.personal_id, issuer_name="dancu")
    return uri, secret


@dataclass(frozen=True)
class _Named:
    name: str
    expires: float


# Per process, for the API token cache's lifetime (DANCU_API_TOKEN_CACHE_SECONDS), as the token
# lane's clients: the login page and every login a relying party sends name it without a query.
_relying_party_names: TokenCache[_Named] = TokenCache()


def relying_party_name(client_id: str) -> str:
    """The name of the OAuth/OIDC client (relying party) with this client_id, when the OAuth
    provider app is installed; "" otherwise or if unknown. A renamed client shows its new name
    within the cache's lifetime."""
    if not client_id or not apps.is_installed("oauth2_provider"):
        return ""
    cached = _relying_party_names.get(client_id)
    if cached is not None:
        return cached.name
    try:
        from oauth2_provider.models import get_application_model

        name = (get_application_model().objects.filter(client_id=client_id)
                .values_list("name", flat=True).first())
    except (ImportError, LookupError):  # pragma: no cover - depends on the provider's set-up
        return ""
    _relying_party_names.put(client_id, _Named(name or "", _relying_party_names.clock() + cache_seconds()))
    return name or ""


def clear_relying_party_names() -> None:
    _relying_party_names.clear()


# ---- Officers ----------------------------------------------------------------------------------

@dataclass
class OfficerView:
    citizen: Citizen
    account: EidAccount | None
    enrolments: list[Level2Enrolment] = field(default_factory=list)
    applications: list[EidApplication] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)


def account_for_officer(actor: Actor, personal_id: str, *,
                        reason: str = OFFICER_LOOKUP_REASON) -> OfficerView:
    """A person's e-ID account as an officer sees it: the person must be in the officer's area
    (``population.selectors.get_citizen``, audited with the stated reason, refusals included)."""
    citizen = get_citizen(actor, personal_id, reason=reason)
    account = EidAccount.objects.filter(personal_id=personal_id).select_related("guardian").first()
    view = OfficerView(citizen, account)
    view.applications = list(EidApplication.objects.filter(personal_id=personal_id)
                             .order_by("-submitted_at", "-id")[:20])
    if account is not None:
        view.enrolments = list(Level2Enrolment.objects.filter(account=account).select_related("place")
                               .order_by("-at", "-id"))
        view.devices = list(devices_of(account)[:10])
    return view


def outbox(actor: Actor, *, phone: str = "", last: int = 50) -> list[SmsMessage]:
    """The latest SMS sent (newest first), for the ministry's administrators and developers to
    read one-time codes in a demo. Bodies hold codes and numbers: only ``ministry_admin``, and
    every read is audited (``eid.outbox.view``)."""
    if actor.role != "ministry_admin":
        denied = OutOfJurisdiction("E_ROLE_MINISTRY_ADMIN",
                                   _("Chỉ quản trị Bộ Công an được xem hộp thư SMS."))
        audit.record_refusal(actor, "eid.outbox.view", denied, subject_type="sms_outbox")
        raise denied
    last = max(1, min(int(last), 500))
    qs = SmsMessage.objects.order_by("-created_at", "-id")
    if phone:
        qs = qs.filter(to=phone)
    rows = list(qs[:last])
    details: dict[str, Any] = {"phone": phone, "last": last, "count": len(rows)}
    audit.record(actor, "eid.outbox.view", subject_type="sms_outbox", reason=_("Đọc hộp thư SMS"),
                 details=details)
    return rows


# ---- Counts for the figures (kpi) ---------------------------------------------------------------


def accounts_by_commune() -> dict[tuple[int, int], dict[str, int]]:
    """(holder's current commune, province) → e-ID applicants (people with an application),
    active accounts, active at level 1 and at level 2: one grouped query per table (accounts
    joined to their citizen; citizens with an application by semi-join). Counts only: not
    audited."""
    from django.db.models import Count, Exists, OuterRef, Q

    out: dict[tuple[int, int], dict[str, int]] = {}
    accounts = (EidAccount.objects.filter(status="active", citizen__current_commune__isnull=False)
                .values("citizen__current_commune_id", "citizen__current_province_id").order_by()
                .annotate(n=Count("id"), one=Count("id", filter=Q(level=1)),
                          two=Count("id", filter=Q(level=2)))
                .values_list("citizen__current_commune_id", "citizen__current_province_id", "n",
                             "one", "two"))
    for c, p, n, one, two in accounts:
        out[(c, p)] = {"eid_applicants": 0, "eid_active": n, "eid_level1": one, "eid_level2": two}
    applied = Exists(EidApplication.objects.filter(personal_id=OuterRef("personal_id")))
    applicants = (Citizen.objects.filter(applied, current_commune__isnull=False)
                  .values("current_commune_id", "current_province_id").order_by()
                  .annotate(n=Count("id")).values_list("current_commune_id", "current_province_id", "n"))
    for c, p, n in applicants:
        out.setdefault((c, p), {"eid_applicants": 0, "eid_active": 0, "eid_level1": 0,
                                "eid_level2": 0})["eid_applicants"] = n
    return out
