"""What several e-ID services share: the citizen as actor, input checks (phone, ID number, password),
making an account and its audit snapshot, the blocked-account rule, the login record."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    NumericPasswordValidator,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.core.errors import Conflict, DomainError
from dancu.eid.models import AccountStatus, EidAccount, LoginEvent
from dancu.population import domain as id_domain

if TYPE_CHECKING:
    from dancu.population.models import Citizen


_PHONE = re.compile(r"^(?:\+84|84|0)([35789]\d{8})$")


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def citizen_actor(personal_id: str, *, user_id: int | None = None, ip: str | None = None,
                  channel: str = "web") -> Actor:
    """The person acting on their own e-ID (self-registration, self-service): read-only on the
    registry, audited with source "citizen"."""
    return Actor(label=f"citizen:{personal_id}", role="citizen", source="citizen",
                 user_id=user_id, source_ref=f"eid:{channel}", ip=ip)


# ---- Input ----------------------------------------------------------------------------------

def clean_phone(raw: str, field_name: str = "phone") -> str:
    """A Vietnamese mobile number in E.164 (+84 and 9 digits)."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    match = _PHONE.match(digits)
    if not match:
        raise DomainError("E_PHONE_FORMAT", _("Số điện thoại di động không hợp lệ (ví dụ 0912345678)."),
                          field_name)
    return "+84" + match.group(1)


def _clean_personal_id(raw: str) -> str:
    value = (raw or "").strip()
    errors = id_domain.check_personal_id(value)
    if errors:
        raise DomainError.many(errors)
    return value


# Citizens' passwords: at least 8 characters (OWASP ASVS 5.0 V6.2.1, NIST SP 800-63B), not a
# common password, not only digits; five wrong tries lock the account (Decree 69). The one
# minimum: the rule, the forms' help text, the API schema and docs/eid.md all say this number.
# (Officers' console passwords follow AUTH_PASSWORD_VALIDATORS: 10 characters.)
CITIZEN_PASSWORD_MIN_LENGTH = 8
_CITIZEN_PASSWORD_VALIDATORS: list[Any] = [  # django-stubs' PasswordValidator is stub-only
    CommonPasswordValidator(),
    NumericPasswordValidator(),
]


def _clean_password(password: str, user: Any = None) -> str:
    if len(password or "") < CITIZEN_PASSWORD_MIN_LENGTH:
        raise DomainError("E_PASSWORD_WEAK", _("Mật khẩu cần ít nhất %(n)s ký tự.")
                          % {"n": CITIZEN_PASSWORD_MIN_LENGTH}, "password")
    try:
        validate_password(password, user, password_validators=_CITIZEN_PASSWORD_VALIDATORS)
    except ValidationError as exc:
        raise DomainError("E_PASSWORD_WEAK", " ".join(exc.messages), "password") from exc
    return password


def _create_account(citizen: Citizen, *, level: int, phone: str, email: str = "",
                    portrait: tuple[str, str] = ("", ""), password_hash: str = "",
                    guardian: EidAccount | None = None) -> EidAccount:
    User = get_user_model()
    now = timezone.now()
    personal_id = citizen.personal_id
    user = User(username=f"eid-{personal_id}", is_staff=False, is_superuser=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            return EidAccount.objects.create(
                user=user, citizen=citizen, personal_id=personal_id, level=level, phone=phone,
                email=email, portrait_sha256=portrait[0], portrait_path=portrait[1],
                password_hash=password_hash, guardian=guardian,
                created_at=now, updated_at=now, activated_at=now if password_hash else None)
    except IntegrityError as exc:
        raise Conflict("E_ACCOUNT_EXISTS", _("Công dân đã có tài khoản định danh điện tử."),
                       "personal_id") from exc


def account_snapshot(account: EidAccount) -> dict[str, object]:
    return {"level": account.level, "status": account.status, "phone": account.phone,
            "email": account.email, "guardian": account.guardian.personal_id if account.guardian else None,
            "has_password": account.has_password, "has_totp": account.has_totp,
            "status_reason": account.status_reason}


def _blocked_error(account: EidAccount) -> DomainError | None:
    if account.status == AccountStatus.LOCKED:
        return DomainError("E_ACCOUNT_LOCKED", _("Tài khoản đã bị khóa."), "personal_id")
    if account.status == AccountStatus.SUSPENDED:
        return DomainError("E_ACCOUNT_SUSPENDED", _("Tài khoản đang bị tạm dừng."), "personal_id")
    if account.status == AccountStatus.REVOKED:
        return DomainError("E_ACCOUNT_REVOKED", _("Tài khoản đã bị thu hồi."), "personal_id")
    return None


def _login_event_fields(*, ip: str | None = None, user_agent: str = "", device_id: str = "",
                        client_id: str = "", client_name: str = "") -> dict:
    return {"client_id": client_id[:100], "client_name": client_name[:255], "device_id": device_id[:100],
            "ip": ip, "user_agent": (user_agent or "")[:300]}


def _login_event(account: EidAccount, outcome: str, *, methods: list[str] | None = None, acr: str = "",
                 **log: Any) -> None:
    LoginEvent.objects.create(account=account, at=timezone.now(), outcome=outcome,
                              methods=" ".join(methods or []), acr=acr, **_login_event_fields(**log))
