"""The authenticator app (TOTP): enrolment, the code as second factor (no replay), re-encryption of
the stored seeds after a key change."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core import crypto
from dancu.core.errors import DomainError
from dancu.eid.models import EidAccount, LoginOutcome
from dancu.eid.services._common import _login_event


@transaction.atomic
def begin_totp_enrolment(account: EidAccount) -> str:
    """A new TOTP secret (not yet usable); returns the otpauth:// URI for the authenticator app."""
    secret, sealed = crypto.new_totp_secret()
    EidAccount.objects.filter(pk=account.pk).update(
        totp_secret_enc=sealed, totp_confirmed_at=None, totp_last_step=0,
        updated_at=timezone.now())
    account.refresh_from_db()
    return crypto.totp_uri(secret, name=account.personal_id)


def _check_totp(account: EidAccount, code: str) -> int | None:
    """The time step the code belongs to (now ±1 step), or None."""
    return crypto.totp_step(account.totp_secret_enc, code, timezone.now())


@transaction.atomic
def confirm_totp_enrolment(account: EidAccount, code: str) -> None:
    locked = EidAccount.objects.select_for_update().get(pk=account.pk)
    step = _check_totp(locked, code)
    if step is None:
        raise DomainError("E_TOTP_WRONG", _("Mã từ ứng dụng xác thực không đúng."), "code")
    locked.totp_confirmed_at, locked.totp_last_step, locked.updated_at = timezone.now(), step, timezone.now()
    locked.save(update_fields=["totp_confirmed_at", "totp_last_step", "updated_at"])
    account.refresh_from_db()


def verify_totp(account: EidAccount, code: str, *, ip: str | None = None) -> list[str]:
    """A TOTP code as second factor. A code (or an older one) already used is refused (replay)."""
    with transaction.atomic():
        locked = EidAccount.objects.select_for_update().get(pk=account.pk)
        step = _check_totp(locked, code) if locked.has_totp else None
        if step is not None and step > locked.totp_last_step:
            locked.totp_last_step = step
            locked.save(update_fields=["totp_last_step"])
            _login_event(locked, LoginOutcome.STEP_UP, methods=["otp"], ip=ip)
            return ["otp"]
        _login_event(locked, LoginOutcome.STEP_UP_FAILED, methods=["otp"], ip=ip)
        replay = step is not None
    if replay:
        raise DomainError("E_OTP_USED", _("Mã này đã được dùng."), "code")
    raise DomainError("E_TOTP_WRONG", _("Mã từ ứng dụng xác thực không đúng."), "code")


def rekey_totp_seeds(actor: Actor, *, batch: int = 500) -> int:
    """Re-encrypts every stored TOTP seed with the current key (``crypto.reencrypt``), after
    ``DANCU_EID_SECRET_KEY`` was changed and the old key listed in
    ``DANCU_EID_PREVIOUS_SECRET_KEYS``. Row by row, each UPDATE conditional on the seed being
    unchanged (an enrolment meanwhile already used the new key); batches of ``batch`` rows in
    their own transactions, so it can run beside the service and be run again. Returns how many
    seeds were re-encrypted; one audit event, with the count only."""
    done, last_pk = 0, 0
    while True:
        rows = list(EidAccount.objects.exclude(totp_secret_enc="").filter(pk__gt=last_pk)
                    .order_by("pk").values_list("pk", "totp_secret_enc")[:batch])
        if not rows:
            break
        with transaction.atomic():
            for pk, sealed in rows:
                fresh = crypto.reencrypt(sealed)
                done += EidAccount.objects.filter(pk=pk, totp_secret_enc=sealed).update(totp_secret_enc=fresh)
        last_pk = rows[-1][0]
    audit.record(actor, "eid.totp_rekey", subject_type="eid_account", details={"seeds": done})
    return done
