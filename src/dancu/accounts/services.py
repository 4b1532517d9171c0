"""Officer accounts, service accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.accounts.models import ApiToken, OfficerProfile, Role
from dancu.accounts.signals import account_changed
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit, CodeSystem, Level

_EXPECTED_LEVEL: dict[str, str] = {
    Role.COMMUNE_POLICE: Level.COMMUNE,
    Role.PROVINCE_POLICE: Level.PROVINCE,
}


@transaction.atomic
def create_officer(username: str, password: str | None, role: str, *,
                   jurisdiction: AdminUnit | None = None, display_name: str = "",
                   is_staff: bool = False, actor: Actor | None = None) -> OfficerProfile:
    """An account with a role and an area. Commune police need a 2025 commune, province police
    a 2025 province; the ministry, auditors and service accounts may be national. With an
    ``actor`` the creation is audited (``account.create``) in the same transaction."""
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
    profile = OfficerProfile.objects.create(user=user, role=role, jurisdiction=jurisdiction,
                                            display_name=display_name or username)
    if actor is not None:
        account_changed.send(OfficerProfile, actor=actor, action="account.create",
                             subject_type="officer", subject_id=profile.pk,
                             after={"username": username, "role": role,
                                    "jurisdiction": jurisdiction.qualified_code if jurisdiction else None})
    return profile


def actor_for_profile(profile: OfficerProfile, *, source: str = "officer",
                      ip: str | None = None, source_ref: str = "") -> Actor:
    unit = profile.jurisdiction
    return Actor(
        label=profile.user.get_username(), role=profile.role, source=source,
        user_id=profile.user_id, jurisdiction_id=unit.pk if unit else None,
        jurisdiction_level=unit.level if unit else None,
        jurisdiction_name=unit.name if unit else "", source_ref=source_ref, ip=ip,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_api_token(profile: OfficerProfile, name: str, *, actor: Actor | None = None) -> str:
    """Returns the token once; only its digest is kept. With an ``actor`` the issue is audited
    (``account.token.create``) in the same transaction."""
    token = "dct_" + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(profile=profile, name=name, prefix=token[:8], digest=_digest(token))
    if actor is not None:
        account_changed.send(ApiToken, actor=actor, action="account.token.create",
                             subject_type="api_token", subject_id=row.pk,
                             after={"username": profile.user.get_username(), "name": row.name,
                                    "prefix": row.prefix})
    return token


@transaction.atomic
def revoke_api_token(token_id: int, *, actor: Actor | None = None) -> bool:
    """Revokes a token not yet revoked (False when there was none). With an ``actor`` the
    revocation is audited (``account.token.revoke``) in the same transaction."""
    row = (ApiToken.objects.select_for_update().select_related("profile__user")
           .filter(pk=token_id, revoked_at__isnull=True).first())
    if row is None:
        return False
    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    if actor is not None:
        account_changed.send(ApiToken, actor=actor, action="account.token.revoke",
                             subject_type="api_token", subject_id=row.pk,
                             before={"username": row.profile.user.get_username(), "name": row.name,
                                     "prefix": row.prefix})
    return True


def actor_for_token(token: str, ip: str | None = None) -> Actor | None:
    """The actor behind a bearer token, or None if unknown or revoked."""
    row = (ApiToken.objects.select_related("profile__user", "profile__jurisdiction")
           .filter(digest=_digest(token), revoked_at__isnull=True).first())
    if row is None or not row.profile.user.is_active:
        return None
    return actor_for_profile(row.profile, source="api", ip=ip, source_ref=f"token:{row.prefix}")
