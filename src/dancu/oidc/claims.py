"""Registry claims by scope, and the audit of their release to relying parties.

| scope | claims |
|---|---|
| identity | ``personal_id``, ``eid_level`` |
| profile | ``name``, ``birthdate`` (``YYYY-MM-DD``; ``YYYY`` for a partial date), ``gender`` |
| address | ``address`` (``formatted``, ``locality`` = commune, ``region`` = province, ``country`` = VN) |
| family | ``family``: father / mother / spouse, each ``{personal_id, name}`` where the registry links them |
| phone | ``phone_number``, ``phone_number_verified`` (confirmed by OTP) |
| email | ``email``, ``email_verified`` (false: never confirmed) |
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from django.conf import settings

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.geo.selectors import unit_by_pk

CLAIMS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "identity": ("personal_id", "eid_level"),
    "profile": ("name", "birthdate", "gender"),
    "address": ("address",),
    "family": ("family",),
    "phone": ("phone_number", "phone_number_verified"),
    "email": ("email", "email_verified"),
}
_GENDER = {"M": "male", "F": "female"}
# The fields claims_for_user reads, of the e-ID account and of its citizen.
ACCOUNT_FIELDS = ("level", "phone", "email", "personal_id")
CITIZEN_FIELDS = ("personal_id", "full_name", "birth_year", "birth_month", "birth_day", "sex",
                  "current_commune_id", "current_province_id", "father_id", "mother_id", "spouse_id")


def _account_of(user: Any) -> Any:
    """The e-ID account (with its citizen) behind ``user``, read once per request: the claims and
    their audit event both need it."""
    from dancu.eid.models import EidAccount

    cached = getattr(user, "_dancu_eid_account", None)
    if cached is None and user is not None:
        # Only the columns the claims and the audit read (the two rows are wide: building the
        # whole citizen cost ~1 ms of CPU a refresh grant).
        cached = (EidAccount.objects.select_related("citizen")
                  .only("user_id", "citizen", *ACCOUNT_FIELDS, *(f"citizen__{f}" for f in CITIZEN_FIELDS))
                  .filter(user_id=user.pk).first())
        user._dancu_eid_account = cached
    return cached


def sector_of(client: Any) -> str | None:
    """The sector whose relying parties see the same pairwise ``sub`` (OIDC Core 8.1): the
    agreement's sector identifier, else the client itself. None for a ``public`` subject."""
    agreement = getattr(client, "agreement", None) if client is not None else None
    if agreement is not None and agreement.subject_type == "public":
        return None
    if agreement is not None and agreement.sector_identifier:
        return f"sector:{agreement.sector_identifier}"
    return f"client:{getattr(client, 'client_id', '')}"


def subject_for(client: Any, user_id: Any) -> str:
    """THE ``sub`` of the person behind ``user_id`` as ``client`` sees it — in ID tokens, userinfo,
    introspection, everything that names the person to a relying party.

    Pairwise by default (OpenID Connect Core 8.1): HMAC-SHA-256 keyed with the secret
    ``DANCU_OIDC_SUBJECT_SALT`` over the sector and the local account id, so it is stable for one
    sector, differs between sectors, and cannot be reversed or recomputed without the salt. A
    ``public`` agreement gets the same value at every relying party (still not the database key)."""
    sector = sector_of(client)
    message = f"{sector if sector is not None else 'public'}\x00{user_id}".encode()
    digest = hmac.new(settings.DANCU_OIDC_SUBJECT_SALT.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def claims_for_user(user: Any, scopes: set[str]) -> dict[str, Any]:
    """The claims of the granted scopes for the person behind ``user`` (an e-ID account's user)."""
    account = _account_of(user)
    if account is None:
        return {}
    c = account.citizen
    out: dict[str, Any] = {}
    if "identity" in scopes:
        out |= {"personal_id": c.personal_id, "eid_level": account.level}
    if "profile" in scopes:
        birth = (f"{c.birth_year:04d}-{c.birth_month:02d}-{c.birth_day:02d}" if c.birth_day
                 else f"{c.birth_year:04d}")
        out |= {"name": c.full_name, "birthdate": birth, "gender": _GENDER.get(c.sex, "")}
    if "address" in scopes and c.current_commune_id:
        commune = unit_by_pk(c.current_commune_id)
        province = unit_by_pk(c.current_province_id) if c.current_province_id else None
        out["address"] = {"formatted": ", ".join(u.name for u in (commune, province) if u),
                          "locality": commune.name, "region": province.name if province else "",
                          "country": "VN"}
    if "family" in scopes:
        from dancu.population.models import Citizen

        ids = {k: getattr(c, f"{k}_id") for k in ("father", "mother", "spouse")}
        people = {p.pk: p for p in Citizen.objects.filter(pk__in=[v for v in ids.values() if v])}
        out["family"] = {k: {"personal_id": people[v].personal_id, "name": people[v].full_name}
                         for k, v in ids.items() if v in people}
    if "phone" in scopes:
        out |= {"phone_number": account.phone, "phone_number_verified": True}
    if "email" in scopes and account.email:
        out |= {"email": account.email, "email_verified": False}
    return out


def rp_actor(client: Any, ip: str | None = None) -> Actor:
    """A relying party (an OAuth client) as the actor of an audit event."""
    label = f"rp:{getattr(client, 'name', '') or getattr(client, 'client_id', '?')}"
    return Actor(label=label[:150], role="relying_party", source="rp",
                 source_ref=f"client:{getattr(client, 'client_id', '')}"[:120], ip=ip)


def purpose_of(client: Any) -> str:
    agreement = getattr(client, "agreement", None)
    return agreement.purpose if agreement is not None else ""


def audit_release(client: Any, user: Any, released: dict[str, Any], *, channel: str) -> None:
    """One audit event per release of a person's claims to a relying party."""
    personal = sorted(k for k in released if k not in ("sub",))
    if not personal:
        return
    account = _account_of(user)
    personal_id = account.personal_id if account else ""
    audit.record(rp_actor(client), f"oidc.claims.{channel}", subject_type="citizen",
                 subject_id=personal_id, personal_id=personal_id, reason=purpose_of(client),
                 details={"claims": personal})
