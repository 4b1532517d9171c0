"""Officers and service accounts: who may act, in what role, over which area."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMUNE_POLICE = "commune_police", _("Công an xã/phường")
    PROVINCE_POLICE = "province_police", _("Công an tỉnh")
    MINISTRY_ADMIN = "ministry_admin", _("Quản trị Bộ Công an")
    AUDITOR = "auditor", _("Kiểm tra viên (chỉ xem)")
    SERVICE = "service", _("Tài khoản dịch vụ (API)")
    # Issue #12 (docs/publicservices.md, "Roles"): they process public-service dossiers of
    # their commune only; neither writes the registry from the console.
    COMMUNE_JUSTICE = "commune_justice", _("Tư pháp - hộ tịch xã/phường")
    COUNTER = "counter", _("Cán bộ một cửa xã/phường")


class OfficerProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="officer")
    role = models.CharField(max_length=20, choices=Role.choices)
    # A 2025 commune for commune police, a 2025 province for province police; empty = national.
    jurisdiction = models.ForeignKey("geo.AdminUnit", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    display_name = models.CharField(max_length=120, blank=True, default="")
    # Second factor (TOTP, RFC 6238): the seed encrypted with dancu.core.crypto; usable once
    # confirmed with a first code; the last time step used (a code is never accepted twice).
    totp_secret_enc = models.TextField(blank=True, default="")
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0)
    # Lock-out: wrong passwords or codes in a row; at the limit the account waits until locked_until.
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()})"

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret_enc) and self.totp_confirmed_at is not None


class ApiToken(models.Model):
    """Bearer token of an internal service account. Only a SHA-256 digest is stored."""

    profile = models.ForeignKey(OfficerProfile, on_delete=models.PROTECT, related_name="tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise a token")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
