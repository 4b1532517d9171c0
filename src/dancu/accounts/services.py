"""Officer accounts, service accounts and their API tokens."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.accounts.models import ApiToken, OfficerProfile, Role
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit, CodeSystem, Level

_EXPECTED_LEVEL = {
    Role.COMMUNE_POLICE: Level.COMMUNE,
    Role.PROVINCE_POLICE: Level.PROVINCE,
}


@transaction.atomic
def create_officer(username: str, password: str | None, role: str, *,
                   jurisdiction: AdminUnit | None = None, display_name: str = "",
                   is_staff: bool = False) -> OfficerProfile:
    """An account with a role and an area. Commune police need a 2025 commune, province police
    a 2025 province; the ministry, auditors and service accounts may be national."""
    if role not in Role.values:
        raise DomainError("E_ROLE_UNKNOWN", _("Vai trò không hợp lệ."), "role")
    level = _EXPECTED_LEVEL.get(role)
    if level is not None and (jurisdiction is None or jurisdiction.level != level
                              or jurisdiction.code_system != CodeSystem.V2025):
        raise DomainError("E_JURISDICTION_LEVEL",
                              _("Vai trò này cần địa bàn cấp %(level)s (đơn vị hành chính từ 2025).")
                              % {"level": Level(level).label}, "jurisdiction")
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise DomainError("E_USERNAME_TAKEN", _("Tên đăng nhập đã được dùng."), "username")
    user = User(username=username, is_staff=is_staff or role == Role.MINISTRY_ADMIN,
                is_superuser=role == Role.MINISTRY_ADMIN and is_staff)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return OfficerProfile.objects.create(user=user, role=role, jurisdiction=jurisdiction,
                                         display_name=display_name or username)


def actor_for_profile(profile: OfficerProfile, *, source: str = "officer",
                      ip: str | None = None, source_ref: str = "") -> Actor:
    unit = profile.jurisdiction
    return Actor(
        label=profile.user.get_username(), role=profile.role, source=source,
        user_id=profile.user_id, jurisdiction_id=unit.pk if unit else None,
        jurisdiction_level=unit.level if unit else None,
        jurisdiction_name=unit.name if unit else "", source_ref=source_ref, ip=ip,
    )


def token_digest(token: str) -> str:
    """What an API token is stored and looked up by (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_api_token(profile: OfficerProfile, name: str) -> str:
    """Returns the token once; only its digest is kept."""
    token = "dct_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(profile=profile, name=name, prefix=token[:8], digest=token_digest(token))
    return token


def revoke_api_token(token_id: int) -> None:
    ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_actor(digest: str) -> tuple[Actor, ApiToken] | None:
    """The actor behind an API token (by its digest) and the token's row, or None if unknown,
    revoked or its user inactive: the one rule of bearer-token resolution (``accounts.auth``
    caches its answer per process)."""
    row = (ApiToken.objects.select_related("profile__user", "profile__jurisdiction")
           .filter(digest=digest, revoked_at__isnull=True).first())
    if row is None or not row.profile.user.is_active:
        return None
    return actor_for_profile(row.profile, source="api", source_ref=f"token:{row.prefix}"), row


def actor_for_token(token: str, ip: str | None = None) -> Actor | None:
    """The actor behind a bearer token, now (no cache), or None if unknown or revoked."""
    found = api_token_actor(token_digest(token))
    if found is None:
        return None
    return dataclasses.replace(found[0], ip=ip) if ip else found[0]
