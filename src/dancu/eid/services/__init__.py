"""Every write of the e-ID context: applications, accounts, authenticators, devices, logins —
one module per capability:

- ``applications``: level 1 self-registration (the registry check, the portrait, the OTP);
- ``level2``: level 2 at the commune police's counter;
- ``guardians``: a child's account through a parent's;
- ``login``: the first factor (password, lock-out, device binding, the web session's row);
- ``devices``: a new device confirmed by OTP, a device released by its owner;
- ``recovery``: password recovery and first activation;
- ``step_up``: the SMS second factor, the authenticators an account can use;
- ``totp``: the authenticator app (enrolment, verification, re-keying the seeds);
- ``officer``: suspend, reinstate, revoke; the lock of a person recorded deceased;
- ``_common`` and ``_otp``: what they share (input checks, account creation, the blocked-account
  rule, the login record; one-time codes by SMS).

Each public function owns its transaction. Functions that must both record something (a failed
login, a refused application) and report a refusal commit the record and *return* the outcome;
they do not raise after writing, or the record would roll back with the exception.

The public API is re-exported here (``from dancu.eid import services; services.X``). A test that
replaces a name a service uses patches the module that uses it (``services.login.verify_password``),
not this package: a service looks its names up in its own module.
"""

from dancu.eid.services._common import (
    CITIZEN_PASSWORD_MIN_LENGTH,
    account_snapshot,
    citizen_actor,
    clean_phone,
)
from dancu.eid.services._otp import (
    OTP_DIGITS,
    OTP_MAX_ATTEMPTS,
    SmsUnavailable,
    otp_resend_seconds,
    otp_ttl_seconds,
)
from dancu.eid.services.applications import (
    PORTRAIT_MAX_BYTES,
    ApplicationResult,
    confirm_level1_application,
    submit_level1_application,
)
from dancu.eid.services.devices import confirm_new_device, release_device
from dancu.eid.services.guardians import register_child
from dancu.eid.services.level2 import enrol_level2
from dancu.eid.services.login import (
    MAX_FAILED_LOGINS,
    LoginResult,
    SessionStart,
    authenticate_password,
    lock_minutes,
)
from dancu.eid.services.officer import lock_for_death, reinstate_account, revoke_account, suspend_account
from dancu.eid.services.recovery import complete_recovery, start_recovery
from dancu.eid.services.step_up import available_methods, start_sms_step_up, verify_sms_step_up
from dancu.eid.services.totp import (
    begin_totp_enrolment,
    confirm_totp_enrolment,
    rekey_totp_seeds,
    verify_totp,
)

__all__ = [
    "CITIZEN_PASSWORD_MIN_LENGTH",
    "MAX_FAILED_LOGINS",
    "OTP_DIGITS",
    "OTP_MAX_ATTEMPTS",
    "PORTRAIT_MAX_BYTES",
    "ApplicationResult",
    "LoginResult",
    "SessionStart",
    "SmsUnavailable",
    "account_snapshot",
    "authenticate_password",
    "available_methods",
    "begin_totp_enrolment",
    "citizen_actor",
    "clean_phone",
    "complete_recovery",
    "confirm_level1_application",
    "confirm_new_device",
    "confirm_totp_enrolment",
    "enrol_level2",
    "lock_for_death",
    "lock_minutes",
    "otp_resend_seconds",
    "otp_ttl_seconds",
    "register_child",
    "reinstate_account",
    "rekey_totp_seeds",
    "release_device",
    "revoke_account",
    "start_recovery",
    "start_sms_step_up",
    "submit_level1_application",
    "suspend_account",
    "verify_sms_step_up",
    "verify_totp",
]
