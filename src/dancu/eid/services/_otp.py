"""One-time codes by SMS, shared by registration, new devices, recovery and step-up: issue, check once,
count a wrong attempt; a gateway failure keeps nothing of the operation."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.core import crypto
from dancu.core.errors import DomainError, NotFound
from dancu.eid.models import EidAccount, EidApplication, OtpChallenge, OtpPurpose, SmsMessage
from dancu.eid.services._common import _setting
from dancu.eid.sms import SmsError, send_sms

P = ParamSpec("P")
R = TypeVar("R")

OTP_DIGITS = 6
OTP_MAX_ATTEMPTS = 5


def otp_ttl_seconds() -> float:
    return _setting("DANCU_OTP_TTL_SECONDS", 300)


def otp_resend_seconds() -> float:
    return _setting("DANCU_OTP_RESEND_SECONDS", 60)


def _otp_message(code: str, purpose: str) -> str:
    minutes = int(otp_ttl_seconds() // 60)
    return str(_("Mã xác thực dancu của bạn là %(code)s (%(purpose)s), hiệu lực %(minutes)s phút. "
                 "Không cung cấp mã này cho bất kỳ ai.")
               % {"code": code, "purpose": OtpPurpose(purpose).label, "minutes": minutes})


class SmsUnavailable(DomainError):
    """The SMS gateway did not take the one-time code: nothing of the operation was kept (the
    code would never arrive); the failed message is on record for the operators."""

    status = 503


def _sms_failure_recorded(service: Callable[P, R]) -> Callable[P, R]:
    """For a service that sends an OTP inside its transaction: when the gateway fails, the
    transaction has rolled back (no challenge, no application left half-done); the failed
    SmsMessage is saved after it, and the caller gets a clear error instead of a crash."""

    @wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return service(*args, **kwargs)
        except SmsError as exc:
            record = exc.record
            if record is not None and not SmsMessage.objects.filter(pk=record.pk).exists():
                record.pk = None  # rolled back with the service's transaction: on record again
                record.save(force_insert=True)
            raise SmsUnavailable("E_SMS_FAILED", _("Không gửi được tin nhắn tới số điện thoại lúc này; "
                                                   "hãy thử lại sau ít phút."), "phone") from exc

    return wrapper


def _issue_otp(purpose: str, phone: str, *, account: EidAccount | None = None,
               application: EidApplication | None = None, subject: str = "") -> OtpChallenge:
    now = timezone.now()
    recent = OtpChallenge.objects.filter(phone=phone, purpose=purpose,
                                         created_at__gt=now - dt.timedelta(seconds=otp_resend_seconds()))
    if recent.exists():
        raise DomainError("E_OTP_TOO_SOON",
                          _("Vừa gửi mã; hãy chờ %(s)d giây rồi yêu cầu lại.")
                          % {"s": int(otp_resend_seconds())},
                          "phone")
    hourly = OtpChallenge.objects.filter(phone=phone, created_at__gt=now - dt.timedelta(hours=1)).count()
    if hourly >= int(_setting("DANCU_OTP_MAX_PER_HOUR", 5)):
        raise DomainError("E_OTP_RATE", _("Đã gửi quá nhiều mã tới số này trong một giờ."), "phone")
    code = "".join(secrets.choice("0123456789") for _ in range(OTP_DIGITS))
    challenge = OtpChallenge.objects.create(
        purpose=purpose, phone=phone, account=account, application=application, subject=subject,
        code_hmac="", created_at=now, expires_at=now + dt.timedelta(seconds=otp_ttl_seconds()))
    challenge.code_hmac = crypto.code_digest(str(challenge.pk), code)
    challenge.save(update_fields=["code_hmac"])
    send_sms(phone, _otp_message(code, purpose))
    return challenge


def _consume_otp(challenge_id: int, code: str, purpose: str) -> OtpChallenge:
    """Checks and uses a code once. Called inside the caller's transaction; a wrong code raises
    ``_WrongOtp``, which rolls that transaction back — the caller then counts the attempt
    (``_wrong_otp_error``) outside it, so the count survives."""
    challenge = OtpChallenge.objects.select_for_update().filter(pk=challenge_id, purpose=purpose).first()
    if challenge is None:
        raise NotFound("E_OTP_UNKNOWN", _("Không tìm thấy yêu cầu mã xác thực."), "challenge")
    if challenge.consumed_at is not None:
        raise DomainError("E_OTP_USED", _("Mã này đã được dùng."), "otp")
    if challenge.expires_at <= timezone.now():
        raise DomainError("E_OTP_EXPIRED", _("Mã đã hết hạn; hãy yêu cầu mã mới."), "otp")
    if challenge.attempts >= OTP_MAX_ATTEMPTS:
        raise DomainError("E_OTP_ATTEMPTS", _("Nhập sai quá số lần cho phép; hãy yêu cầu mã mới."), "otp")
    expected = crypto.code_digest(str(challenge.pk), (code or "").strip())
    if not crypto.digests_equal(challenge.code_hmac, expected):
        raise _WrongOtp(challenge)
    challenge.consumed_at = timezone.now()
    challenge.save(update_fields=["consumed_at"])
    return challenge


class _WrongOtp(Exception):
    def __init__(self, challenge: OtpChallenge) -> None:
        self.challenge = challenge


def _wrong_otp_error(exc: _WrongOtp) -> DomainError:
    """Counts the wrong attempt (after the caller's transaction rolled back) and says so."""
    OtpChallenge.objects.filter(pk=exc.challenge.pk).update(attempts=F("attempts") + 1)
    return DomainError("E_OTP_WRONG", _("Mã xác thực không đúng."), "otp")
