"""Electronic identification accounts (tài khoản định danh điện tử, Decree 69/2024/NĐ-CP).

An account belongs to one person of the population registry and to one Django user (so that
sessions and the OpenID Connect provider can name the person); its credentials live here, never
in ``auth_user``: the Django user of a citizen has an unusable password and no staff rights.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Đang hoạt động")
    LOCKED = "locked", _("Bị khóa")            # automatically: the person died
    SUSPENDED = "suspended", _("Tạm dừng")     # by an officer, reversible
    REVOKED = "revoked", _("Thu hồi")          # by an officer, final


class EidAccount(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="eid_account")
    citizen = models.OneToOneField("population.Citizen", on_delete=models.PROTECT,
                                   related_name="+")
    personal_id = models.CharField(_("số định danh cá nhân"), max_length=12, unique=True)
    level = models.PositiveSmallIntegerField(_("mức độ"), choices=[(1, _("Mức 1")), (2, _("Mức 2"))])
    status = models.CharField(_("trạng thái"), max_length=10, choices=AccountStatus.choices,
                              default=AccountStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True, default="")
    phone = models.CharField(_("số điện thoại"), max_length=16, help_text="E.164, +84…")
    email = models.EmailField(_("thư điện tử"), blank=True, default="")
    portrait_sha256 = models.CharField(max_length=64, blank=True, default="")
    portrait_path = models.CharField(max_length=255, blank=True, default="")
    # Argon2id (argon2-cffi, OWASP parameters); empty until the person sets a password
    # (a level-2 account made at the counter, a child's account held by a guardian).
    password_hash = models.CharField(max_length=200, blank=True, default="")
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # TOTP secret, encrypted (Fernet) — see eid.secrets; confirmed once a first code is checked.
    totp_secret_enc = models.TextField(blank=True, default="")
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0, help_text="last accepted time step (replay)")
    guardian = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="wards")
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(level__in=(1, 2)), name="eid_account_level_1_2"),
        ]

    def __str__(self) -> str:
        return f"e-ID {self.personal_id} (mức {self.level}, {self.status})"

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def has_totp(self) -> bool:
        return self.totp_confirmed_at is not None


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Đang xử lý")
    APPROVED = "approved", _("Đã duyệt")
    REFUSED = "refused", _("Từ chối")


class Channel(models.TextChoices):
    WEB = "web", _("Cổng web")
    APP = "app", _("Ứng dụng di động (API)")
    COUNTER = "counter", _("Trực tiếp tại công an xã")
    GUARDIAN = "guardian", _("Qua tài khoản người giám hộ")


class EidApplication(models.Model):
    """One request for an account or a higher level, with its outcome and timing (KPIs)."""

    personal_id = models.CharField(max_length=12, db_index=True)
    level = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.PENDING)
    reason_code = models.CharField(max_length=40, blank=True, default="")
    reason = models.CharField(max_length=300, blank=True, default="")
    phone = models.CharField(max_length=16, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    portrait_sha256 = models.CharField(max_length=64, blank=True, default="")
    portrait_path = models.CharField(max_length=255, blank=True, default="")
    on_request = models.BooleanField(default=False, help_text="level 2 asked for a child of 6–13")
    guardian = models.ForeignKey(EidAccount, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    account = models.ForeignKey(EidAccount, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="applications")
    submitted_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "submitted_at"], name="eid_app_status_time")]


class Level2Enrolment(models.Model):
    """The in-person check at the commune police: card seen, biometrics captured on the
    station's devices (only references to the capture are kept here)."""

    account = models.ForeignKey(EidAccount, on_delete=models.PROTECT, related_name="enrolments")
    application = models.OneToOneField(EidApplication, on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    officer_label = models.CharField(max_length=150)
    place = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    card_checked = models.BooleanField()
    device_reference = models.CharField(max_length=100)
    capture_reference = models.CharField(max_length=100)


class Device(models.Model):
    """A mobile device the account is bound to. One active device at a time."""

    account = models.ForeignKey(EidAccount, on_delete=models.PROTECT, related_name="devices")
    device_id = models.CharField(max_length=100)
    name = models.CharField(max_length=100, blank=True, default="")
    bound_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(released_at__isnull=True),
                                    name="eid_one_active_device"),
        ]


class OtpPurpose(models.TextChoices):
    REGISTRATION = "registration", _("Đăng ký tài khoản")
    NEW_DEVICE = "new_device", _("Thiết bị mới")
    RECOVERY = "recovery", _("Khôi phục/kích hoạt mật khẩu")
    STEP_UP = "step_up", _("Xác thực bước hai")


class OtpChallenge(models.Model):
    """A one-time code sent by SMS. Only an HMAC of the code is kept; it can be used once."""

    purpose = models.CharField(max_length=16, choices=OtpPurpose.choices)
    phone = models.CharField(max_length=16, db_index=True)
    account = models.ForeignKey(EidAccount, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    application = models.ForeignKey(EidApplication, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    subject = models.CharField(max_length=100, blank=True, default="",
                               help_text="what the code unlocks, e.g. the device id")
    code_hmac = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)


class SmsMessage(models.Model):
    """Every SMS the platform sent, whatever the backend: the development backend stops here
    (officers and tests read the outbox), the HTTP backend records the gateway's answer."""

    to = models.CharField(max_length=16, db_index=True)
    body = models.CharField(max_length=480)
    backend = models.CharField(max_length=20)
    status = models.CharField(max_length=12)  # outbox / sent / failed
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", _("Thành công")
    BAD_PASSWORD = "bad_password", _("Sai mật khẩu")
    TEMP_LOCKED = "temp_locked", _("Tạm khóa do nhập sai nhiều lần")
    BLOCKED = "blocked", _("Tài khoản bị khóa/tạm dừng/thu hồi")
    OTP_REQUIRED = "otp_required", _("Cần mã OTP (thiết bị mới)")
    STEP_UP = "step_up", _("Xác thực bước hai")
    STEP_UP_FAILED = "step_up_failed", _("Xác thực bước hai thất bại")


class LoginEvent(models.Model):
    """The citizen's login history (shown to them; also feeds the KPIs)."""

    # written at every login attempt: the foreign key's own index would repeat (account, at)'s prefix
    account = models.ForeignKey(EidAccount, on_delete=models.PROTECT, related_name="logins",
                                db_index=False)
    at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=LoginOutcome.choices)
    methods = models.CharField(max_length=60, blank=True, default="")
    acr = models.CharField(max_length=40, blank=True, default="")
    client_id = models.CharField(max_length=100, blank=True, default="")
    client_name = models.CharField(max_length=255, blank=True, default="")
    device_id = models.CharField(max_length=100, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["account", "at"], name="eid_login_account_at")]
