"""Devices bound to an account (the mobile app): a new device confirmed by OTP, a device released by
its owner."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.core.errors import NotFound
from dancu.eid import assurance
from dancu.eid.models import Device, EidAccount, LoginOutcome, OtpPurpose
from dancu.eid.services._common import _blocked_error, _login_event
from dancu.eid.services._otp import _consume_otp, _wrong_otp_error, _WrongOtp


def confirm_new_device(challenge_id: int, otp: str, *, ip: str | None = None) -> EidAccount:
    """The OTP sent when a password login came from another device: the old device is released
    and the new one bound."""
    try:
        with transaction.atomic():
            challenge = _consume_otp(challenge_id, otp, OtpPurpose.NEW_DEVICE)
            assert challenge.account_id is not None  # a new device's code is sent for an account
            account = EidAccount.objects.select_for_update().get(pk=challenge.account_id)
            blocked = _blocked_error(account)
            if blocked is not None:
                raise blocked
            now = timezone.now()
            device_id, _sep, name = challenge.subject.partition("|")
            Device.objects.filter(account=account, released_at__isnull=True).update(
                released_at=now, release_reason="new_device")
            Device.objects.create(account=account, device_id=device_id, name=name, bound_at=now,
                                  last_seen_at=now)
            _login_event(account, LoginOutcome.SUCCESS, methods=["pwd", "sms"], device_id=device_id, ip=ip,
                         acr=assurance.acr_for_level(
                             assurance.assurance_level(["pwd", "sms"], account.level)))
            return account
    except _WrongOtp as exc:
        raise _wrong_otp_error(exc) from None


@transaction.atomic
def release_device(account: EidAccount, device_pk: int) -> None:
    """The citizen removes a device from their account."""
    updated = Device.objects.filter(pk=device_pk, account=account, released_at__isnull=True).update(
        released_at=timezone.now(), release_reason="by_owner")
    if not updated:
        raise NotFound("E_DEVICE_UNKNOWN", _("Không tìm thấy thiết bị."), "device")
