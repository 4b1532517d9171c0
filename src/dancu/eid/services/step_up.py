"""Second factors on the web: the SMS code of a step-up, and which authenticators an account can use."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from dancu.core.errors import NotFound
from dancu.eid.models import EidAccount, LoginOutcome, OtpChallenge, OtpPurpose
from dancu.eid.services._common import _blocked_error, _login_event
from dancu.eid.services._otp import (
    _consume_otp,
    _issue_otp,
    _sms_failure_recorded,
    _wrong_otp_error,
    _WrongOtp,
)


@_sms_failure_recorded
@transaction.atomic
def start_sms_step_up(account: EidAccount) -> OtpChallenge:
    blocked = _blocked_error(account)
    if blocked is not None:
        raise blocked
    return _issue_otp(OtpPurpose.STEP_UP, account.phone, account=account)


def verify_sms_step_up(account: EidAccount, challenge_id: int, otp: str, *,
                       ip: str | None = None) -> list[str]:
    """Checks the SMS code of a step-up; returns the methods it adds (["sms"])."""
    try:
        with transaction.atomic():
            challenge = OtpChallenge.objects.filter(pk=challenge_id, account=account).first()
            if challenge is None:
                raise NotFound("E_OTP_UNKNOWN", _("Không tìm thấy yêu cầu mã xác thực."), "challenge")
            _consume_otp(challenge.pk, otp, OtpPurpose.STEP_UP)
            _login_event(account, LoginOutcome.STEP_UP, methods=["sms"], ip=ip)
            return ["sms"]
    except _WrongOtp as exc:
        with transaction.atomic():
            _login_event(account, LoginOutcome.STEP_UP_FAILED, methods=["sms"], ip=ip)
        raise _wrong_otp_error(exc) from None


def available_methods(account: EidAccount) -> set[str]:
    """The authenticators this account can use on the web (biometrics are captured on the
    police's devices and not offered as a login factor here)."""
    methods = {"pwd"} if account.password_hash else set()
    if account.phone:
        methods.add("sms")
    if account.has_totp:
        methods.add("otp")
    return methods
