"""Officer accounts, service accounts and their API tokens: every write, its rules and its audit.

The console's officer screens and ``dancu officer`` call these same functions. Each write records
an audit event with ``before``/``after`` in its transaction; each refusal records
``<action>.denied`` (``audit.services.record_refusal``) after its transaction, so the row stays.

Who may manage whom (one place: ``_management_error``):

- ministry administrators manage every account; province police manage the commune and province
  police of their province; no one else manages accounts;
- nobody grants a role above their own (commune < province < ministry; auditors and service
  accounts are national roles only the ministry grants) or an area outside their own;
- nobody changes, suspends or resets their own account here (no self-escalation).

Officers sign in with a password and a TOTP code (``check_officer_password``, then
``verify_officer_totp`` or, the first time, ``begin_officer_totp``/``confirm_officer_totp``);
wrong passwords and codes count towards the same lock-out as citizens' (five in a row,
``DANCU_EID_LOCK_MINUTES``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor, system_actor
from dancu.accounts.models import ApiToken, OfficerProfile, Role
from dancu.audit import services as audit
from dancu.core import crypto
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.geo.models import AdminUnit, CodeSystem, Level

_EXPECTED_LEVEL: dict[str, str] = {
    Role.COMMUNE_POLICE: Level.COMMUNE,
    Role.PROVINCE_POLICE: Level.PROVINCE,
    Role.COMMUNE_JUSTICE: Level.COMMUNE,  # issue #12: commune roles of the public services
    Role.COUNTER: Level.COMMUNE,
}
# What a role may grant: a role ranked at most its own. Auditors and service accounts are
# national roles that only the ministry grants.
ROLE_RANK: dict[str, int] = {Role.COMMUNE_POLICE: 1, Role.PROVINCE_POLICE: 2, Role.MINISTRY_ADMIN: 3,
             Role.AUDITOR: 3, Role.SERVICE: 3, Role.COMMUNE_JUSTICE: 1, Role.COUNTER: 1}
MANAGER_ROLES = frozenset({Role.MINISTRY_ADMIN, Role.PROVINCE_POLICE})
MAX_FAILED_LOGINS = 5


def _bootstrap_actor() -> Actor:
    return system_actor("system:accounts", source="system", source_ref="accounts.services")


def snapshot(profile: OfficerProfile) -> dict[str, Any]:
    """What the audit trail keeps of an account (never a password or a secret)."""
    unit = profile.jurisdiction
    return {"username": profile.user.get_username(), "role": profile.role,
            "jurisdiction": unit.qualified_code if unit else None,
            "display_name": profile.display_name, "active": profile.user.is_active,
            "second_factor": profile.has_totp}


def can_manage_accounts(actor: Actor) -> bool:
    return actor.role in MANAGER_ROLES


def _covers_unit(actor: Actor, unit: AdminUnit | None) -> bool:
    """Is this area (a 2025 commune or province; None = national) inside the actor's?"""
    if unit is None:
        return actor.is_national
    if unit.level == Level.COMMUNE:
        return actor.covers(unit.pk, unit.province_id)
    return actor.covers(None, unit.pk)


def _management_error(actor: Actor, *, role: str | None = None, unit: AdminUnit | None = None,
                      target: OfficerProfile | None = None) -> DomainError | None:
    """Why ``actor`` may not grant ``role`` over ``unit`` (to ``target``), or None."""
    if actor.role not in MANAGER_ROLES:
        return OutOfJurisdiction("E_ROLE_CANNOT_MANAGE",
                                 _("Chỉ quản trị Bộ Công an và Công an tỉnh quản lý tài khoản cán bộ."))
    if target is not None:
        if actor.user_id is not None and target.user_id == actor.user_id:
            return OutOfJurisdiction("E_SELF_CHANGE",
                                     _("Không được tự thay đổi vai trò, địa bàn hay trạng thái "
                                       "tài khoản của chính mình."))
        if (ROLE_RANK.get(target.role, 99) > ROLE_RANK[actor.role]
                or not _covers_unit(actor, target.jurisdiction)):
            return OutOfJurisdiction("E_JURISDICTION", _("Tài khoản này ngoài quyền quản lý của bạn."),
                                     "username")
    if role is not None:
        if role not in Role.values:
            return DomainError("E_ROLE_UNKNOWN", _("Vai trò không hợp lệ."), "role")
        if ROLE_RANK[role] > ROLE_RANK[actor.role]:
            return OutOfJurisdiction("E_ROLE_ABOVE_OWN",
                                     _("Không được cấp vai trò cao hơn vai trò của bạn."), "role")
        if not _covers_unit(actor, unit):
            return OutOfJurisdiction("E_JURISDICTION", _("Địa bàn này ngoài địa bàn của bạn."),
                                     "jurisdiction")
    return None


def _area_error(role: str, unit: AdminUnit | None) -> DomainError | None:
    """Commune police need a 2025 commune, province police a 2025 province; the ministry,
    auditors and service accounts may be national."""
    level = _EXPECTED_LEVEL.get(role)
    if level is not None and (unit is None or unit.level != level
                              or unit.code_system != CodeSystem.V2025):
        return DomainError("E_JURISDICTION_LEVEL",
                           _("Vai trò này cần địa bàn cấp %(level)s (đơn vị hành chính từ 2025).")
                           % {"level": Level(level).label}, "jurisdiction")
    return None


def _password_error(password: str, user: Any = None) -> DomainError | None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return DomainError("E_PASSWORD_WEAK", " ".join(exc.messages), "password")
    return None


def _refuse(actor: Actor, action: str, error: DomainError, subject_id: Any = "") -> DomainError:
    audit.record_refusal(actor, action, error, subject_type="officer", subject_id=subject_id)
    return error


def create_officer(username: str, password: str | None, role: str, *,
                   jurisdiction: AdminUnit | None = None, display_name: str = "",
                   is_staff: bool = False, actor: Actor | None = None) -> OfficerProfile:
    """An account with a role and an area, created by ``actor`` (the console's administrator,
    the CLI's; None = the system itself: the demo and tests). Nobody becomes a Django superuser;
    ``is_staff`` only lets a ministry administrator read the (read-only) admin."""
    actor = actor or _bootstrap_actor()
    username = (username or "").strip()
    error = (_management_error(actor, role=role, unit=jurisdiction)
             or _area_error(role, jurisdiction)
             or (None if username else DomainError("E_USERNAME_REQUIRED",
                                                   _("Cần tên đăng nhập."), "username"))
             or (_password_error(password) if password else None))
    if error is None:
        try:
            return _create_officer(actor, username, password, role, jurisdiction, display_name,
                                   is_staff)
        except DomainError as exc:
            error = exc
    raise _refuse(actor, "account.create", error, username)


@transaction.atomic
def _create_officer(actor: Actor, username: str, password: str | None, role: str,
                    jurisdiction: AdminUnit | None, display_name: str, is_staff: bool) -> OfficerProfile:
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise DomainError("E_USERNAME_TAKEN", _("Tên đăng nhập đã được dùng."), "username")
    user = User(username=username, is_staff=is_staff and role == Role.MINISTRY_ADMIN,
                is_superuser=False)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    profile = OfficerProfile.objects.create(user=user, role=role, jurisdiction=jurisdiction,
                                            display_name=display_name or username)
    audit.record(actor, "account.create", subject_type="officer", subject_id=profile.pk,
                 after=snapshot(profile))
    return profile


def _for_update() -> Any:
    """Accounts row-locked with their user and area (PostgreSQL locks the profile row only: the
    area is the nullable side of an outer join)."""
    return OfficerProfile.objects.select_for_update(of=("self",)).select_related("user", "jurisdiction")


def _locked_profile(profile_id: int) -> OfficerProfile:
    profile = _for_update().filter(pk=profile_id).first()
    if profile is None:
        raise NotFound("E_OFFICER_NOT_FOUND", _("Không tìm thấy tài khoản cán bộ."), "username")
    return profile


def _change(actor: Actor, action: str, profile_id: int, apply: Any, *, reason: str = "",
            role: str | None = None, unit: AdminUnit | None = None) -> OfficerProfile:
    """Lock the account, check the rules, apply the change, audit before/after — or, when a rule
    refuses, roll back and record the refusal."""
    try:
        with transaction.atomic():
            profile = _locked_profile(profile_id)
            error = _management_error(actor, role=role, unit=unit, target=profile)
            if error is None and role is not None:
                error = _area_error(role, unit)
            if error is not None:
                raise error
            before = snapshot(profile)
            apply(profile)
            after = snapshot(profile)
            audit.record(actor, action, subject_type="officer", subject_id=profile.pk,
                         before=before, after=after, reason=reason)
            return profile
    except DomainError as exc:
        raise _refuse(actor, action, exc, profile_id) from None


def update_officer(actor: Actor, profile_id: int, *, role: str, jurisdiction: AdminUnit | None,
                   display_name: str = "", reason: str = "") -> OfficerProfile:
    """Re-scope an account: its role, its area, its display name."""

    def apply(profile: OfficerProfile) -> None:
        profile.role, profile.jurisdiction = role, jurisdiction
        profile.display_name = display_name.strip() or profile.display_name
        profile.save(update_fields=["role", "jurisdiction", "display_name"])

    return _change(actor, "account.update", profile_id, apply, reason=reason, role=role,
                   unit=jurisdiction)


def set_officer_active(actor: Actor, profile_id: int, active: bool, *, reason: str = "") -> OfficerProfile:
    """Suspend (``active=False``: no sign-in, no API token, a session ends at its next request)
    or reactivate an account."""

    def apply(profile: OfficerProfile) -> None:
        profile.user.is_active = active
        profile.user.save(update_fields=["is_active"])
        if active:
            OfficerProfile.objects.filter(pk=profile.pk).update(failed_logins=0, locked_until=None)

    return _change(actor, "account.reactivate" if active else "account.suspend", profile_id, apply,
                   reason=reason)


def reset_officer_password(actor: Actor, profile_id: int, password: str, *,
                           reset_second_factor: bool = False, reason: str = "") -> OfficerProfile:
    """A new password (told to the officer out of band); optionally a new second factor, enrolled
    at the next sign-in (a lost phone). Clears a lock-out."""

    def apply(profile: OfficerProfile) -> None:
        error = _password_error(password, profile.user)
        if error is not None:
            raise error
        profile.user.set_password(password)
        profile.user.save(update_fields=["password"])
        profile.failed_logins, profile.locked_until = 0, None
        fields = ["failed_logins", "locked_until"]
        if reset_second_factor:
            profile.totp_secret_enc, profile.totp_confirmed_at, profile.totp_last_step = "", None, 0
            fields += ["totp_secret_enc", "totp_confirmed_at", "totp_last_step"]
        profile.save(update_fields=fields)

    return _change(actor, "account.password_reset", profile_id, apply, reason=reason)


def actor_for_profile(profile: OfficerProfile, *, source: str = "officer",
                      ip: str | None = None, source_ref: str = "") -> Actor:
    unit = profile.jurisdiction
    return Actor(
        label=profile.user.get_username(), role=profile.role, source=source,
        user_id=profile.user_id, jurisdiction_id=unit.pk if unit else None,
        jurisdiction_level=unit.level if unit else None,
        jurisdiction_name=unit.name if unit else "", source_ref=source_ref, ip=ip,
    )


# ---- API tokens ----------------------------------------------------------------------------------

def token_digest(token: str) -> str:
    """What an API token is stored and looked up by (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_api_token(profile: OfficerProfile, name: str, *, actor: Actor | None = None) -> str:
    """Returns the token once; only its digest is kept. Audited (``account.token.create``)."""
    token = "dct_" + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(profile=profile, name=name, prefix=token[:8], digest=token_digest(token))
    audit.record(actor or _bootstrap_actor(), "account.token.create", subject_type="api_token",
                 subject_id=row.pk, after={"username": profile.user.get_username(), "name": row.name,
                                           "prefix": row.prefix})
    return token


@transaction.atomic
def revoke_api_token(token_id: int, *, actor: Actor | None = None) -> bool:
    """Revokes a token; False when it was already revoked (or is unknown). Audited."""
    row = (ApiToken.objects.select_for_update(of=("self",)).select_related("profile__user")
           .filter(pk=token_id, revoked_at__isnull=True).first())
    if row is None:
        return False
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    audit.record(actor or _bootstrap_actor(), "account.token.revoke", subject_type="api_token",
                 subject_id=token_id, before={"username": row.profile.user.get_username(),
                                              "name": row.name, "prefix": row.prefix})
    return True


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


# ---- Sign-in: password, then the second factor; lock-out -------------------------------------------

def lock_minutes() -> float:
    return float(getattr(settings, "DANCU_EID_LOCK_MINUTES", 30))


def _sign_in_actor(profile: OfficerProfile, ip: str | None) -> Actor:
    return actor_for_profile(profile, ip=ip, source_ref="sign-in")


def _locked_error(profile: OfficerProfile) -> DomainError:
    until = (timezone.localtime(profile.locked_until).strftime("%H:%M %d/%m/%Y")
             if profile.locked_until else "")
    return DomainError("E_ACCOUNT_TEMP_LOCKED",
                       _("Đăng nhập sai %(n)s lần liên tiếp: tài khoản bị tạm khóa đến %(until)s.")
                       % {"n": MAX_FAILED_LOGINS, "until": until}, "password")


def _is_locked(profile: OfficerProfile, now: dt.datetime) -> bool:
    return profile.locked_until is not None and profile.locked_until > now


def _count_failure(profile: OfficerProfile, what: str, ip: str | None) -> DomainError | None:
    """One more failure in a row (atomic UPDATE); at the limit the account is locked. Returns
    the lock-out error when this failure locked it."""
    now = timezone.now()
    with transaction.atomic():
        OfficerProfile.objects.filter(pk=profile.pk).update(failed_logins=F("failed_logins") + 1)
        profile.refresh_from_db(fields=["failed_logins", "locked_until"])
        locked = profile.failed_logins >= MAX_FAILED_LOGINS
        if locked:
            profile.locked_until = now + dt.timedelta(minutes=lock_minutes())
            profile.failed_logins = 0
            profile.save(update_fields=["locked_until", "failed_logins"])
        audit.record(_sign_in_actor(profile, ip), f"account.login.{what}_wrong",
                     subject_type="officer", subject_id=profile.pk,
                     details={"locked_until": profile.locked_until.isoformat()
                              if locked and profile.locked_until else None})
    return _locked_error(profile) if locked else None


def check_officer_password(username: str, password: str, *, ip: str | None = None) -> OfficerProfile:
    """The first factor. Returns the officer's profile; refuses (generic message) an unknown
    user, a wrong password, a suspended account or one that is not an officer's, and a locked
    one. A wrong password counts towards the lock-out."""
    invalid = DomainError("E_LOGIN_INVALID", _("Tên đăng nhập hoặc mật khẩu không đúng."), "password")
    profile = (OfficerProfile.objects.select_related("user", "jurisdiction")
               .filter(user__username=(username or "").strip()).first())
    now = timezone.now()
    if profile is not None and _is_locked(profile, now):
        raise _locked_error(profile)
    user = authenticate(None, username=(username or "").strip(), password=password or "")
    if user is None or profile is None or user.pk != profile.user_id:
        if profile is not None and profile.user.is_active and profile.user.has_usable_password():
            raise _count_failure(profile, "password", ip) or invalid
        raise invalid
    return profile


def begin_officer_totp(profile: OfficerProfile) -> str:
    """A new TOTP seed for an officer without a confirmed one (first sign-in, or after a reset);
    returns the otpauth:// URI for the QR code. An officer with a second factor keeps it."""
    with transaction.atomic():
        locked = _for_update().get(pk=profile.pk)
        if locked.has_totp:
            raise DomainError("E_TOTP_ENROLLED", _("Tài khoản đã có ứng dụng xác thực."), "code")
        secret, sealed = crypto.new_totp_secret()
        locked.totp_secret_enc, locked.totp_confirmed_at, locked.totp_last_step = sealed, None, 0
        locked.save(update_fields=["totp_secret_enc", "totp_confirmed_at", "totp_last_step"])
    profile.refresh_from_db()
    return crypto.totp_uri(secret, name=profile.user.get_username(), issuer="dancu (cán bộ)")


def pending_totp_uri(profile: OfficerProfile) -> str | None:
    """The otpauth:// URI of a seed begun but not yet confirmed (to show the QR code again)."""
    if not profile.totp_secret_enc or profile.totp_confirmed_at is not None:
        return None
    return crypto.totp_uri(crypto.decrypt(profile.totp_secret_enc),
                           name=profile.user.get_username(), issuer="dancu (cán bộ)")


def verify_officer_totp(profile: OfficerProfile, code: str, *, ip: str | None = None) -> OfficerProfile:
    """The second factor: a code of the officer's app (confirming the seed at the first sign-in).
    A code already used, or an older one, is refused (replay); a wrong code counts towards the
    lock-out. On success the failure count is reset and the sign-in audited."""
    now = timezone.now()
    with transaction.atomic():
        locked = _for_update().get(pk=profile.pk)
        if _is_locked(locked, now):
            error: DomainError | None = _locked_error(locked)
        elif not locked.user.is_active:
            error = DomainError("E_LOGIN_INVALID", _("Tên đăng nhập hoặc mật khẩu không đúng."), "password")
        else:
            step = crypto.totp_step(locked.totp_secret_enc, code, now)
            if step is not None and step > locked.totp_last_step:
                enrolling = locked.totp_confirmed_at is None
                locked.totp_last_step, locked.failed_logins, locked.locked_until = step, 0, None
                fields = ["totp_last_step", "failed_logins", "locked_until"]
                if enrolling:
                    locked.totp_confirmed_at = now
                    fields.append("totp_confirmed_at")
                locked.save(update_fields=fields)
                if enrolling:
                    audit.record(_sign_in_actor(locked, ip), "account.totp_enrol", subject_type="officer",
                                 subject_id=locked.pk, after={"second_factor": True})
                audit.record(_sign_in_actor(locked, ip), "account.login", subject_type="officer",
                             subject_id=locked.pk, details={"methods": ["pwd", "otp"]})
                return locked
            error = None if step is None else DomainError("E_OTP_USED", _("Mã này đã được dùng."), "code")
    if error is not None and error.code != "E_OTP_USED":
        raise error
    raise (_count_failure(locked, "totp", ip) or error
           or DomainError("E_TOTP_WRONG", _("Mã từ ứng dụng xác thực không đúng."), "code"))
