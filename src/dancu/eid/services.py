"""Every write of the e-ID context: applications, accounts, authenticators, devices, logins.

Each public function owns its transaction. Functions that must both record something (a failed
login, a refused application) and report a refusal commit the record and *return* the outcome;
they do not raise after writing, or the record would roll back with the exception.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    NumericPasswordValidator,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core import crypto, session_store
from dancu.core.errors import Conflict, DomainError, NotFound, OutOfJurisdiction
from dancu.core.pg import fetchone_prepared
from dancu.eid import assurance
from dancu.eid.models import (
    AccountStatus,
    ApplicationStatus,
    Channel,
    Device,
    EidAccount,
    EidApplication,
    Level2Enrolment,
    LoginEvent,
    LoginOutcome,
    OtpChallenge,
    OtpPurpose,
    SmsMessage,
)
from dancu.eid.passwords import hash_password, needs_rehash, verify_password
from dancu.eid.signals import account_status_changed
from dancu.eid.sms import SmsError, send_sms
from dancu.population import domain as id_domain
from dancu.population.selectors import check_identity

if TYPE_CHECKING:
    from dancu.population.models import Citizen

P = ParamSpec("P")
R = TypeVar("R")
_M = TypeVar("_M", bound=Model)

MAX_FAILED_LOGINS = 5
OTP_DIGITS = 6
OTP_MAX_ATTEMPTS = 5
PORTRAIT_MAX_BYTES = 2 * 1024 * 1024
_PHONE = re.compile(r"^(?:\+84|84|0)([35789]\d{8})$")


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def lock_minutes() -> float:
    return _setting("DANCU_EID_LOCK_MINUTES", 30)


def otp_ttl_seconds() -> float:
    return _setting("DANCU_OTP_TTL_SECONDS", 300)


def otp_resend_seconds() -> float:
    return _setting("DANCU_OTP_RESEND_SECONDS", 60)


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


# ---- One-time codes --------------------------------------------------------------------------

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


# ---- Level 1 self-registration ----------------------------------------------------------------

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


# ---- Level 2 at the counter --------------------------------------------------------------------

@transaction.atomic
def enrol_level2(actor: Actor, personal_id: str, *, card_checked: bool, device_reference: str,
                 capture_reference: str, phone: str = "", on_request: bool = False,
                 today: dt.date | None = None) -> EidAccount:
    """An officer of the commune police verified the card and captured the biometrics on the
    station's devices: the account is raised to level 2 (or made at level 2, to be activated by
    the person with an OTP to set a password)."""
    actor.require_write()
    if actor.role != "commune_police" or actor.jurisdiction_id is None or actor.user_id is None:
        raise OutOfJurisdiction("E_ROLE_COMMUNE_POLICE",
                                _("Chỉ công an cấp xã thu nhận hồ sơ định danh điện tử mức 2."))
    if not card_checked:
        raise DomainError("E_CARD_NOT_CHECKED", _("Cần kiểm tra thẻ căn cước của công dân."),
                          "card_checked")
    for name, value in (("device_reference", device_reference), ("capture_reference", capture_reference)):
        if not (value or "").strip():
            raise DomainError("E_REQUIRED", _("Cần mã thiết bị và mã lần thu nhận sinh trắc học."), name)
    personal_id = _clean_personal_id(personal_id)
    from dancu.population.selectors import get_citizen

    citizen = get_citizen(actor, personal_id, reason=str(_("Thu nhận định danh điện tử mức 2")))
    if citizen.life_status != "living":
        raise DomainError("E_PERSON_DECEASED", _("Công dân không còn ở trạng thái còn sống."), "personal_id")
    age = assurance.age_on(citizen.birth_year, citizen.birth_month, citizen.birth_day,
                           today or timezone.localdate())
    rule = assurance.eligibility(age)
    if not rule.level2:
        raise DomainError("E_AGE_LEVEL2", _("Người dưới 6 tuổi chưa được cấp định danh điện tử mức 2."),
                          "personal_id")
    if rule.level2_on_request and not on_request:
        raise DomainError("E_LEVEL2_ON_REQUEST",
                          _("Người từ 6 đến dưới 14 tuổi chỉ được cấp mức 2 khi có yêu cầu."), "on_request")
    now = timezone.now()
    account = EidAccount.objects.select_for_update().filter(personal_id=personal_id).first()
    before = account_snapshot(account) if account else None
    if account is not None and account.status != AccountStatus.ACTIVE:
        raise Conflict("E_ACCOUNT_NOT_ACTIVE", _("Tài khoản đang bị khóa, tạm dừng hoặc đã thu hồi."),
                       "personal_id")
    clean = clean_phone(phone) if phone else ""
    if account is None:
        if not clean:
            raise DomainError("E_REQUIRED", _("Cần số điện thoại để kích hoạt tài khoản."), "phone")
        account = _create_account(citizen, level=2, phone=clean)
    else:
        account.level = 2
        if clean:
            account.phone = clean
        account.updated_at, account.version = now, account.version + 1
        account.save()
    app = EidApplication.objects.create(
        personal_id=personal_id, level=2, channel=Channel.COUNTER, status=ApplicationStatus.APPROVED,
        phone=account.phone, on_request=on_request, account=account, submitted_at=now, decided_at=now,
        decided_by=actor.label)
    Level2Enrolment.objects.create(
        account=account, application=app, officer_id=actor.user_id, officer_label=actor.label,
        place_id=actor.jurisdiction_id, at=now, card_checked=True,
        device_reference=device_reference.strip()[:100], capture_reference=capture_reference.strip()[:100])
    audit.record(actor, "eid.account.level2", subject_type="eid_account", subject_id=account.pk,
                 personal_id=personal_id, before=before, after=account_snapshot(account),
                 reason=_("Thu nhận định danh điện tử mức 2 tại công an xã"),
                 details={"device_reference": device_reference, "capture_reference": capture_reference})
    return account


# ---- A child's account through a guardian ------------------------------------------------------

@transaction.atomic
def register_child(guardian: EidAccount, child_personal_id: str, *, ip: str | None = None,
                   today: dt.date | None = None) -> EidAccount:
    """Level 1 for a child under 6 (or, on request, up to 14) through the level-2 account of a
    parent recorded in the registry. The child's account has no password of its own."""
    if guardian.status != AccountStatus.ACTIVE or guardian.level < 2:
        raise DomainError("E_GUARDIAN_LEVEL",
                          _("Người giám hộ cần tài khoản định danh mức 2 đang hoạt động."),
                          "guardian")
    child_personal_id = _clean_personal_id(child_personal_id)
    from dancu.population.models import Citizen

    child = Citizen.objects.filter(personal_id=child_personal_id).first()
    parent_ids = {child.father_id, child.mother_id} if child else set()
    now = timezone.now()
    app = EidApplication.objects.create(personal_id=child_personal_id, level=1, channel=Channel.GUARDIAN,
                                        phone=guardian.phone, guardian=guardian, submitted_at=now, ip=ip)
    audit.record(citizen_actor(guardian.personal_id, user_id=guardian.user_id, ip=ip),
                 "eid.registry_check", subject_type="eid_application", subject_id=app.pk,
                 personal_id=child_personal_id, reason=_("Đăng ký định danh điện tử cho con"))
    if child is None or guardian.citizen_id not in parent_ids:
        raise DomainError("E_NOT_PARENT", _("CSDL dân cư không ghi nhận bạn là cha/mẹ của người này."),
                          "personal_id")
    if child.life_status != "living":
        raise DomainError("E_PERSON_DECEASED", _("Công dân không còn ở trạng thái còn sống."), "personal_id")
    age = assurance.age_on(child.birth_year, child.birth_month, child.birth_day,
                           today or timezone.localdate())
    if age >= 14:
        raise DomainError("E_AGE_SELF", _("Người từ 14 tuổi tự đăng ký tài khoản."), "personal_id")
    account = _create_account(child, level=1, phone=guardian.phone, guardian=guardian)
    app.status, app.account, app.decided_at, app.decided_by = (
        ApplicationStatus.APPROVED, account, now, "registry")
    app.save()
    audit.record(citizen_actor(guardian.personal_id, user_id=guardian.user_id, ip=ip),
                 "eid.account.create", subject_type="eid_account", subject_id=account.pk,
                 personal_id=child_personal_id, after=account_snapshot(account),
                 reason=_("Đăng ký định danh điện tử cho con"))
    return account


# ---- Passwords, lock-out, recovery ---------------------------------------------------------------

@dataclass
class LoginResult:
    """``ok``: the password was right and the account may log in. Otherwise ``error`` says why;
    the failure has been recorded (and counted) already."""

    account: EidAccount | None
    error: DomainError | None = None
    methods: list[str] = field(default_factory=list)
    otp_challenge: OtpChallenge | None = None  # a new device must confirm this first

    @property
    def ok(self) -> bool:
        return self.error is None and self.otp_challenge is None


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


def _temp_locked_error(account: EidAccount, *, just_now: bool = False) -> DomainError:
    until = timezone.localtime(account.locked_until).strftime("%H:%M %d/%m/%Y")
    if just_now:  # the attempt that locked the account says so at once
        message = _("Nhập sai mật khẩu %(n)d lần liên tiếp: tài khoản tạm khóa đến %(until)s.") % {
            "n": MAX_FAILED_LOGINS, "until": until}
    else:
        message = _("Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần; thử lại sau %(until)s.") % {
            "until": until}
    return DomainError("E_ACCOUNT_TEMP_LOCKED", message, "password")


def _credentials_error() -> DomainError:
    return DomainError("E_CREDENTIALS", _("Số định danh hoặc mật khẩu không đúng."), "password")


# ---- the first factor: an attempt takes a slot before its hash ---------------------------------------
#
# The failure counter is raised *before* the password is hashed, in one atomic UPDATE that only
# succeeds while the account may log in (active, not locked, fewer than MAX_FAILED_LOGINS attempts
# counted): parallel guesses cannot get more than MAX_FAILED_LOGINS hashes checked per lock period,
# and no row lock is held while the hash runs (~20 ms). A right password resets the counter; a
# wrong one leaves its count and, at the limit, locks the account. An attempt whose process died
# mid-hash stays counted as a failure (pessimistic).

def _account_columns(alias: str, model: type[Model]) -> list[str]:
    return [f"{alias}.{f.column}" for f in model._meta.concrete_fields]


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _from_row(model: type[_M], row: tuple | list) -> _M:
    return model.from_db(connection.alias, _attnames(model), list(row))


@cache
def _take_attempt_sql() -> str:
    """PostgreSQL: the slot and the account with its user in one prepared statement (table and
    column names from the models)."""
    user = get_user_model()
    return (f"UPDATE {EidAccount._meta.db_table} AS e SET failed_logins = e.failed_logins + 1 "  # noqa: S608
            f"FROM {user._meta.db_table} AS u "
            "WHERE e.personal_id = %(pid)s AND u.id = e.user_id AND e.status = %(active)s "
            "AND e.password_hash <> '' AND (e.locked_until IS NULL OR e.locked_until <= %(now)s) "
            "AND e.failed_logins < %(max)s RETURNING "
            + ", ".join(_account_columns("e", EidAccount) + _account_columns("u", user)))


def _take_attempt(personal_id: str, now: dt.datetime) -> EidAccount | None:
    """The account (its user attached) with one more attempt counted, or None when it may not
    try now (unknown, no password, blocked, locked, or the limit reached)."""
    params = {"pid": personal_id, "active": AccountStatus.ACTIVE, "now": now, "max": MAX_FAILED_LOGINS}
    if connection.vendor == "postgresql":
        row = fetchone_prepared(_take_attempt_sql(), params)
        if row is None:
            return None
        n = len(EidAccount._meta.concrete_fields)
        account = _from_row(EidAccount, row[:n])
        account.user = _from_row(get_user_model(), row[n:])
        return account
    with transaction.atomic():  # the UPDATE's row lock (SQLite: its write lock) until the read
        taken = (EidAccount.objects.filter(personal_id=personal_id, status=AccountStatus.ACTIVE,
                                           failed_logins__lt=MAX_FAILED_LOGINS)
                 .exclude(password_hash="")
                 .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
                 .update(failed_logins=F("failed_logins") + 1))
        if not taken:
            return None
        return EidAccount.objects.select_related("user").get(personal_id=personal_id)


def _refused_attempt(personal_id: str, password: str, now: dt.datetime, log: dict) -> LoginResult:
    """Why the account may not try now (no hash is checked: nothing was counted)."""
    account = next(iter(EidAccount.objects.filter(personal_id=personal_id)[:1]), None)
    if account is None or not account.password_hash:
        verify_password("", password or "")  # same time as a real check (no account enumeration)
        return LoginResult(None, _credentials_error())
    blocked = _blocked_error(account)
    if blocked is not None:
        _login_event(account, LoginOutcome.BLOCKED, **log)
        return LoginResult(account, blocked)
    if not (account.locked_until and account.locked_until > now):
        # The limit is reached by attempts still being checked (parallel guesses) or whose
        # process died: the account is locked now, as at the fifth wrong password.
        until = now + dt.timedelta(minutes=lock_minutes())
        EidAccount.objects.filter(pk=account.pk, failed_logins__gte=MAX_FAILED_LOGINS).filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=now)).update(locked_until=until,
                                                                              failed_logins=0)
        account.refresh_from_db(fields=["failed_logins", "locked_until"])
        if not (account.locked_until and account.locked_until > now):
            account.locked_until = until  # lifted meanwhile by a right password: say the limit
    _login_event(account, LoginOutcome.TEMP_LOCKED, **log)
    return LoginResult(account, _temp_locked_error(account))


def _record_failure(account: EidAccount, now: dt.datetime, log: dict) -> LoginResult:
    """The attempt's count stays; when it is the limit, the account is locked for a period."""
    until = now + dt.timedelta(minutes=lock_minutes())
    with transaction.atomic():
        locked = EidAccount.objects.filter(pk=account.pk, failed_logins__gte=MAX_FAILED_LOGINS).update(
            locked_until=until, failed_logins=0)
        _login_event(account, LoginOutcome.BAD_PASSWORD, **log)
    if locked:
        account.locked_until, account.failed_logins = until, 0
        return LoginResult(account, _temp_locked_error(account, just_now=True))
    return LoginResult(account, _credentials_error())


@cache
def _success_sql(with_session: bool) -> str:
    """PostgreSQL: the counter reset (and a re-hashed password) with the login's record — and
    the new web session's row."""
    columns = ("account_id", "at", "outcome", "methods", "acr", "client_id", "client_name",
               "device_id", "ip", "user_agent")
    session = f", session AS ({session_store.insert_sql()}) " if with_session else " "
    return (f"WITH reset AS (UPDATE {EidAccount._meta.db_table} "  # noqa: S608
            "SET failed_logins = 0, locked_until = NULL, "
            "password_hash = COALESCE(%(new_hash)s, password_hash) WHERE id = %(account_id)s)"
            f"{session}INSERT INTO {LoginEvent._meta.db_table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(f'%({c})s' for c in columns)}) RETURNING id")


# Starts the web session of a successful login (in memory) and returns its row, or None when the
# session is saved the usual way (``eid.sessions.starter``).
SessionStart = Callable[[EidAccount, list[str]], session_store.NewRow | None]


def _login_success(account: EidAccount, new_hash: str | None, now: dt.datetime, log: dict,
                   start_session: SessionStart | None) -> LoginResult:
    """A web login (no device): the counter reset and the LoginEvent, with the session's row
    when the caller starts one: one statement on PostgreSQL, one transaction elsewhere."""
    methods, acr = ["pwd"], assurance.acr_for_level(1)
    changes = _clear_failures(account, new_hash)
    row = start_session(account, methods) if start_session is not None else None
    if connection.vendor == "postgresql":
        fetchone_prepared(_success_sql(row is not None), {
            "new_hash": new_hash, "account_id": account.pk, "at": now, "outcome": LoginOutcome.SUCCESS,
            "methods": " ".join(methods), "acr": acr, **_login_event_fields(**log),
            **(row.params() if row is not None else {})})
    else:
        with transaction.atomic():
            EidAccount.objects.filter(pk=account.pk).update(**changes)
            _login_event(account, LoginOutcome.SUCCESS, methods=methods, acr=acr, **log)
            if row is not None:
                row.insert()
    if row is not None:
        row.written()
    return LoginResult(account, None, methods)


def _clear_failures(account: EidAccount, new_hash: str | None) -> dict:
    """A right password: no failure counted, no lock (and the upgraded hash), on ``account``;
    returns the changes for the caller's UPDATE."""
    changes: dict = {"failed_logins": 0, "locked_until": None}
    if new_hash:
        changes["password_hash"] = new_hash
    for name, value in changes.items():
        setattr(account, name, value)
    return changes


@_sms_failure_recorded
def authenticate_password(personal_id: str, password: str, *, ip: str | None = None, user_agent: str = "",
                          device_id: str = "", device_name: str = "", client_id: str = "",
                          client_name: str = "", start_session: SessionStart | None = None) -> LoginResult:
    """The first factor. Five wrong passwords in a row lock the account for
    ``DANCU_EID_LOCK_MINUTES`` — counted before each hash, so parallel guesses get no more (see
    above). With ``device_id`` (the mobile app) the account's device binding applies: the first
    device is bound at activation; another device gets an OTP challenge. Without it (the web),
    ``start_session`` is called once the password is right, and the row of the session it starts
    is written with the login's record (a login is recorded exactly when its session exists)."""
    personal_id = (personal_id or "").strip()
    log: dict[str, Any] = {"ip": ip, "user_agent": user_agent, "device_id": device_id, "client_id": client_id,
           "client_name": client_name}
    now = timezone.now()
    account = _take_attempt(personal_id, now)
    if account is None:
        return _refused_attempt(personal_id, password, now, log)
    if not verify_password(account.password_hash, password or ""):
        return _record_failure(account, now, log)
    new_hash = hash_password(password) if needs_rehash(account.password_hash) else None
    if not device_id:
        return _login_success(account, new_hash, now, log, start_session)
    with transaction.atomic():
        EidAccount.objects.filter(pk=account.pk).update(**_clear_failures(account, new_hash))
        active = Device.objects.filter(account=account, released_at__isnull=True).first()
        if active is None:
            Device.objects.create(account=account, device_id=device_id[:100], name=device_name[:100],
                                  bound_at=now, last_seen_at=now)
        elif active.device_id != device_id:
            challenge = _issue_otp(OtpPurpose.NEW_DEVICE, account.phone, account=account,
                                   subject=f"{device_id[:60]}|{device_name[:38]}")
            _login_event(account, LoginOutcome.OTP_REQUIRED, methods=["pwd"], **log)
            return LoginResult(account, None, ["pwd"], otp_challenge=challenge)
        else:
            Device.objects.filter(pk=active.pk).update(last_seen_at=now)
        _login_event(account, LoginOutcome.SUCCESS, methods=["pwd"], acr=assurance.acr_for_level(1), **log)
    return LoginResult(account, None, ["pwd"])


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


# ---- Second factors (step-up) ------------------------------------------------------------------

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


def available_methods(account: EidAccount) -> set[str]:
    """The authenticators this account can use on the web (biometrics are captured on the
    police's devices and not offered as a login factor here)."""
    methods = {"pwd"} if account.password_hash else set()
    if account.phone:
        methods.add("sms")
    if account.has_totp:
        methods.add("otp")
    return methods


# ---- Officers: suspend, reinstate, revoke; the registry: lock on death ---------------------------

def _officer_account(actor: Actor, personal_id: str) -> EidAccount:
    actor.require_write()
    from dancu.population.selectors import get_citizen

    get_citizen(actor, personal_id, reason=str(_("Quản lý tài khoản định danh điện tử")))
    account = EidAccount.objects.select_for_update().filter(personal_id=personal_id).first()
    if account is None:
        raise NotFound("E_ACCOUNT_UNKNOWN", _("Công dân chưa có tài khoản định danh điện tử."), "personal_id")
    return account


def _set_status(actor: Actor, account: EidAccount, status: str, reason: str, action: str) -> EidAccount:
    before = account_snapshot(account)
    account.status, account.status_reason = status, reason[:300]
    account.updated_at, account.version = timezone.now(), account.version + 1
    account.save()
    audit.record(actor, action, subject_type="eid_account", subject_id=account.pk,
                 personal_id=account.personal_id, before=before, after=account_snapshot(account),
                 reason=reason)
    account_status_changed.send(sender=EidAccount, account=account)
    return account


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("E_REASON_REQUIRED", _("Cần nêu lý do."), "reason")
    return reason


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


@transaction.atomic
def suspend_account(actor: Actor, personal_id: str, *, reason: str) -> EidAccount:
    reason = _require_reason(reason)
    account = _officer_account(actor, personal_id)
    if account.status != AccountStatus.ACTIVE:
        raise Conflict("E_ACCOUNT_NOT_ACTIVE", _("Tài khoản không ở trạng thái hoạt động."), "personal_id")
    return _set_status(actor, account, AccountStatus.SUSPENDED, reason, "eid.account.suspend")


@transaction.atomic
def reinstate_account(actor: Actor, personal_id: str, *, reason: str) -> EidAccount:
    reason = _require_reason(reason)
    account = _officer_account(actor, personal_id)
    if account.status != AccountStatus.SUSPENDED:
        raise Conflict("E_ACCOUNT_NOT_SUSPENDED", _("Chỉ khôi phục được tài khoản đang tạm dừng."),
                       "personal_id")
    return _set_status(actor, account, AccountStatus.ACTIVE, reason, "eid.account.reinstate")


@transaction.atomic
def revoke_account(actor: Actor, personal_id: str, *, reason: str) -> EidAccount:
    reason = _require_reason(reason)
    account = _officer_account(actor, personal_id)
    if account.status == AccountStatus.REVOKED:
        raise Conflict("E_ACCOUNT_REVOKED", _("Tài khoản đã bị thu hồi."), "personal_id")
    return _set_status(actor, account, AccountStatus.REVOKED, reason, "eid.account.revoke")


def lock_for_death(citizen_id: int, actor: Actor) -> EidAccount | None:
    """Called (inside the registry's transaction) when a person is recorded deceased."""
    account = EidAccount.objects.select_for_update().filter(citizen_id=citizen_id).first()
    if account is None or account.status == AccountStatus.REVOKED:
        return account
    return _set_status(actor, account, AccountStatus.LOCKED,
                       str(_("Khóa tự động: CSDL dân cư ghi nhận công dân đã chết.")), "eid.account.lock")


@transaction.atomic
def release_device(account: EidAccount, device_pk: int) -> None:
    """The citizen removes a device from their account."""
    updated = Device.objects.filter(pk=device_pk, account=account, released_at__isnull=True).update(
        released_at=timezone.now(), release_reason="by_owner")
    if not updated:
        raise NotFound("E_DEVICE_UNKNOWN", _("Không tìm thấy thiết bị."), "device")

