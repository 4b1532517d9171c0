"""Password recovery, and first activation of an account made at the counter."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.audit import services as audit
from dancu.eid.models import Device, EidAccount, OtpChallenge, OtpPurpose
from dancu.eid.passwords import hash_password
from dancu.eid.services._common import _blocked_error, _clean_password, citizen_actor, clean_phone
from dancu.eid.services._otp import (
    _consume_otp,
    _issue_otp,
    _sms_failure_recorded,
    _wrong_otp_error,
    _WrongOtp,
)


@_sms_failure_recorded
@transaction.atomic
def start_recovery(personal_id: str, phone: str) -> OtpChallenge | None:
    """Password recovery, and first activation of an account made at the counter: an OTP to the
    phone on record. Returns None (sending nothing) when the ID number and phone do not belong
    together; callers show the same message either way (no account enumeration)."""
    phone = clean_phone(phone)
    account = EidAccount.objects.filter(personal_id=(personal_id or "").strip(), phone=phone,
                                        guardian__isnull=True).first()
    if account is None or _blocked_error(account) is not None:
        return None
    return _issue_otp(OtpPurpose.RECOVERY, phone, account=account)


def complete_recovery(challenge_id: int, otp: str, new_password: str, *, ip: str | None = None) -> EidAccount:
    """Sets a new password after the OTP; lifts a temporary lock; releases bound devices (the
    next device is bound at its first login)."""
    _clean_password(new_password)
    new_hash = hash_password(new_password)  # before the transaction, as at registration
    try:
        with transaction.atomic():
            challenge = _consume_otp(challenge_id, otp, OtpPurpose.RECOVERY)
            assert challenge.account_id is not None  # a recovery code is sent for an account
            account = EidAccount.objects.select_for_update().get(pk=challenge.account_id)
            blocked = _blocked_error(account)
            if blocked is not None:
                raise blocked
            now = timezone.now()
            first = not account.password_hash
            account.password_hash = new_hash
            account.failed_logins, account.locked_until = 0, None
            account.activated_at = account.activated_at or now
            account.updated_at, account.version = now, account.version + 1
            account.save()
            Device.objects.filter(account=account, released_at__isnull=True).update(
                released_at=now, release_reason="recovery")
            audit.record(citizen_actor(account.personal_id, user_id=account.user_id, ip=ip),
                         "eid.account.activate" if first else "eid.account.recover",
                         subject_type="eid_account", subject_id=account.pk, personal_id=account.personal_id,
                         reason=_("Đặt mật khẩu sau khi xác thực OTP"))
            return account
    except _WrongOtp as exc:
        raise _wrong_otp_error(exc) from None
