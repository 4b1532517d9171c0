"""What the citizen pages share with the mobile JSON API (``eid/api.py``): recovery answers that
tell nothing about whether an ID number and a phone belong together."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from dancu.core.errors import DomainError
from dancu.eid.models import OtpChallenge
from dancu.eid.services.recovery import start_recovery

# Rate limits that only ever apply when the ID number and phone matched an account: a recovery
# request reports neither, or it would tell whether the two belong together.
# A gateway failure too: only a matching ID number and phone get as far as sending (the failed
# message is on record for the operators; the citizen can ask again at once).
QUIET_RECOVERY_CODES = frozenset({"E_OTP_TOO_SOON", "E_OTP_RATE", "E_SMS_FAILED"})


def start_recovery_without_disclosure(personal_id: str, phone: str) -> OtpChallenge | None:
    """``eid.services.start_recovery``, except that the resend limits (which can only trigger when
    the ID number and phone matched) answer like a mismatch: no code, no error. A malformed phone
    is still refused (it says nothing about any account)."""
    try:
        return start_recovery(personal_id, phone)
    except DomainError as err:
        if err.code in QUIET_RECOVERY_CODES:
            return None
        raise


# Every way a recovery code can fail. A request whose ID number and phone matched nothing has no
# challenge: it can only ever answer "unknown". A real one would answer "too many attempts" after
# five wrong codes, or "expired" — telling apart, in six tries, whether a phone belongs to an ID
# number. So all of them answer the same.
_RECOVERY_CODE_FAILURES = frozenset({"E_OTP_WRONG", "E_OTP_UNKNOWN", "E_OTP_ATTEMPTS", "E_OTP_EXPIRED",
                                     "E_OTP_USED"})


def as_wrong_code(err: DomainError) -> DomainError:
    """Recovery: one answer for every failed code (no account enumeration)."""
    if err.code in _RECOVERY_CODE_FAILURES:
        return DomainError("E_OTP_WRONG", _("Mã xác thực không đúng hoặc không còn hiệu lực (đã hết hạn, "
                                            "hoặc đã nhập sai quá số lần cho phép). Hãy kiểm tra lại, "
                                            "hoặc yêu cầu mã mới."), "otp")
    return err
