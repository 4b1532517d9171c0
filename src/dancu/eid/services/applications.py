"""Level 1 self-registration: the application checked against the registry, the portrait, the OTP to
the phone, then the account once the code and a password are given."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, NotFound
from dancu.eid import assurance
from dancu.eid.models import ApplicationStatus, Channel, EidAccount, EidApplication, OtpChallenge, OtpPurpose
from dancu.eid.passwords import hash_password
from dancu.eid.services._common import (
    _clean_password,
    _clean_personal_id,
    _create_account,
    account_snapshot,
    citizen_actor,
    clean_phone,
)
from dancu.eid.services._otp import (
    _consume_otp,
    _issue_otp,
    _sms_failure_recorded,
    _wrong_otp_error,
    _WrongOtp,
)
from dancu.population.selectors import check_identity

PORTRAIT_MAX_BYTES = 2 * 1024 * 1024


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _store_portrait(data: bytes | None) -> tuple[str, str, bool]:
    """Saves the face capture; returns (sha256, storage path, whether this call wrote the file)."""
    if not data:
        raise DomainError("E_REQUIRED", _("Cần ảnh chân dung."), "portrait")
    if len(data) > PORTRAIT_MAX_BYTES:
        raise DomainError("E_PORTRAIT_TOO_LARGE", _("Ảnh chân dung không được quá 2 MB."), "portrait")
    kind = _sniff_image(data)
    if kind is None:
        raise DomainError("E_PORTRAIT_FORMAT", _("Ảnh chân dung phải là JPEG hoặc PNG."), "portrait")
    digest = hashlib.sha256(data).hexdigest()
    path = f"eid/portraits/{digest[:2]}/{digest}.{kind}"
    if default_storage.exists(path):
        return digest, path, False
    default_storage.save(path, ContentFile(data))
    return digest, path, True


@contextmanager
def _portrait_kept_on_success(path: str, stored_now: bool) -> Iterator[None]:
    """A portrait written for an application that then fails (its transaction rolls back) is
    deleted: no face image is kept without its application."""
    try:
        yield
    except BaseException:
        if stored_now:
            default_storage.delete(path)
        raise


@dataclass
class ApplicationResult:
    application: EidApplication
    challenge: OtpChallenge | None = None

    @property
    def refused(self) -> bool:
        return self.application.status == ApplicationStatus.REFUSED


_REFUSALS = {
    "no_match": ("E_REGISTRY_MISMATCH",
                 _("Thông tin khai báo không khớp với Cơ sở dữ liệu quốc gia về dân cư.")),
    "deceased": ("E_PERSON_DECEASED", _("Công dân đã được ghi nhận là đã chết.")),
    "missing": ("E_PERSON_MISSING", _("Công dân đang được ghi nhận là mất tích.")),
}


def _refuse(app: EidApplication, code: str, reason: object, by: str = "registry") -> None:
    app.status, app.reason_code, app.reason = ApplicationStatus.REFUSED, code, str(reason)[:300]
    app.decided_at, app.decided_by = timezone.now(), by
    app.save()


@_sms_failure_recorded
@transaction.atomic
def submit_level1_application(*, personal_id: str, full_name: str, birth_date: dt.date, phone: str,
                              email: str = "", portrait: bytes | None, channel: str = Channel.WEB,
                              ip: str | None = None, today: dt.date | None = None) -> ApplicationResult:
    """Level 1 registration: checks the person against the registry (exists, living, name and
    date of birth match, old enough), then sends an OTP to the phone. Input errors raise; a
    refusal by the registry is recorded and returned (``result.refused``)."""
    personal_id = _clean_personal_id(personal_id)
    phone = clean_phone(phone)
    email = (email or "").strip()
    if not (full_name or "").strip():
        raise DomainError("E_REQUIRED", _("Cần nhập họ và tên."), "full_name")
    digest, path, stored_now = _store_portrait(portrait)
    with _portrait_kept_on_success(path, stored_now):
        return _open_level1_application(personal_id, full_name, birth_date, phone, email, digest, path,
                                        channel, ip, today)


def _open_level1_application(personal_id: str, full_name: str, birth_date: dt.date, phone: str, email: str,
                             digest: str, path: str, channel: str, ip: str | None,
                             today: dt.date | None) -> ApplicationResult:
    now = timezone.now()
    app = EidApplication.objects.create(
        personal_id=personal_id, level=1, channel=channel, phone=phone, email=email,
        portrait_sha256=digest, portrait_path=path, submitted_at=now, ip=ip)
    actor = citizen_actor(personal_id, ip=ip, channel=channel)
    check = check_identity(personal_id, full_name, birth_date)
    audit.record(actor, "eid.registry_check", subject_type="eid_application", subject_id=app.pk,
                 personal_id=personal_id, reason=_("Đăng ký định danh điện tử mức 1"),
                 details={"result": check.status})
    if check.status != "match":
        code, message = _REFUSALS[check.status]
        _refuse(app, code, message)
        return ApplicationResult(app)
    citizen = check.citizen
    assert citizen is not None
    age = assurance.age_on(citizen.birth_year, citizen.birth_month, citizen.birth_day,
                           today or timezone.localdate())
    if not assurance.eligibility(age).self_level1:
        _refuse(app, "E_AGE_GUARDIAN", _("Người dưới 6 tuổi đăng ký qua tài khoản của cha, mẹ hoặc "
                                         "người giám hộ."))
        return ApplicationResult(app)
    if EidAccount.objects.filter(personal_id=personal_id).exists():
        _refuse(app, "E_ACCOUNT_EXISTS", _("Công dân đã có tài khoản định danh điện tử."))
        return ApplicationResult(app)
    challenge = _issue_otp(OtpPurpose.REGISTRATION, phone, application=app)
    return ApplicationResult(app, challenge)


def confirm_level1_application(application_id: int, challenge_id: int, otp: str, password: str,
                               *, ip: str | None = None) -> EidAccount:
    """The phone is confirmed by the OTP and a password is set: the registry is asked again
    (the person may have died since) and the level-1 account is created, active."""
    _clean_password(password)
    # The ~20 ms hash (and its queue) before the transaction: no row lock — on SQLite no write
    # lock — waits on it.
    password_hash = hash_password(password)
    try:
        with transaction.atomic():
            outcome = _confirm_level1(application_id, challenge_id, otp, password_hash, ip)
    except _WrongOtp as exc:
        raise _wrong_otp_error(exc) from None
    if isinstance(outcome, EidApplication):  # refused, and the refusal is committed
        raise DomainError(outcome.reason_code, outcome.reason, "personal_id")
    return outcome


def _confirm_level1(application_id: int, challenge_id: int, otp: str, password_hash: str,
                    ip: str | None) -> EidAccount | EidApplication:
    app = EidApplication.objects.select_for_update().filter(pk=application_id, level=1).first()
    if app is None:
        raise NotFound("E_APPLICATION_UNKNOWN", _("Không tìm thấy hồ sơ đăng ký."), "application")
    if app.status != ApplicationStatus.PENDING:
        raise Conflict("E_APPLICATION_DECIDED", _("Hồ sơ này đã được xử lý."), "application")
    challenge = OtpChallenge.objects.filter(pk=challenge_id, application=app).first()
    if challenge is None:
        raise NotFound("E_OTP_UNKNOWN", _("Không tìm thấy yêu cầu mã xác thực."), "challenge")
    _consume_otp(challenge.pk, otp, OtpPurpose.REGISTRATION)
    from dancu.population.models import Citizen  # read of the record this account belongs to

    citizen = Citizen.objects.filter(personal_id=app.personal_id).first()
    if citizen is None or citizen.life_status != "living":
        _refuse(app, "E_PERSON_DECEASED", _("Công dân không còn ở trạng thái còn sống trong CSDL."))
        return app
    account = _create_account(citizen, level=1, phone=app.phone, email=app.email,
                              portrait=(app.portrait_sha256, app.portrait_path),
                              password_hash=password_hash)
    app.status, app.account, app.decided_at, app.decided_by = (
        ApplicationStatus.APPROVED, account, timezone.now(), "registry")
    app.save()
    audit.record(citizen_actor(app.personal_id, user_id=account.user_id, ip=ip),
                 "eid.account.create", subject_type="eid_account", subject_id=account.pk,
                 personal_id=app.personal_id, after=account_snapshot(account),
                 reason=_("Đăng ký định danh điện tử mức 1"))
    return account
