"""The authentication service's own records beside django-oauth-toolkit's tables (clients,
grants, tokens): the relying party's agreement, the citizen's consents, the authentication
context behind each code and ID token, and the eKYC rate windows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Agreement(models.Model):
    """The written agreement of a relying party (Decree 69, Art. 18): what it may ask for, why,
    until when. An expired or not-yet-valid agreement stops the client working."""

    application = models.OneToOneField(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                       on_delete=models.PROTECT, related_name="agreement")
    organisation = models.CharField(_("tổ chức"), max_length=255)
    reference = models.CharField(_("số văn bản thỏa thuận"), max_length=100, blank=True, default="")
    purpose = models.CharField(_("mục đích"), max_length=500)
    allowed_scopes = models.CharField(_("phạm vi được phép"), max_length=300,
                                      help_text="space-separated scopes")
    min_acr_level = models.PositiveSmallIntegerField(_("mức xác thực tối thiểu"), default=0)
    valid_from = models.DateTimeField(_("hiệu lực từ"))
    valid_until = models.DateTimeField(_("hiệu lực đến"))
    contact_name = models.CharField(_("người liên hệ"), max_length=150)
    contact_email = models.EmailField(_("thư điện tử liên hệ"))
    contact_phone = models.CharField(_("điện thoại liên hệ"), max_length=20, blank=True, default="")
    ekyc_per_minute = models.PositiveIntegerField(_("giới hạn eKYC mỗi phút"), default=600)
    # OpenID Connect Core 8: a pairwise ``sub`` by default (relying parties cannot correlate a
    # citizen); ``public`` (the same ``sub`` at every relying party) only where the agreement says so.
    subject_type = models.CharField(_("loại định danh chủ thể"), max_length=10, default="pairwise",
                                    choices=[("pairwise", "pairwise"), ("public", "public")])
    # Relying parties of one organisation that must see the same ``sub`` share a sector
    # identifier (OIDC Core 8.1); empty: the client's own sector (its client_id).
    sector_identifier = models.CharField(_("định danh khu vực"), max_length=255, blank=True, default="")
    # OIDC Registration's application_type: a ``native`` app (RFC 8252) may use any port on its
    # registered loopback redirect URI; a ``web`` client's redirect URIs match exactly.
    application_type = models.CharField(_("loại ứng dụng"), max_length=10, default="web",
                                        choices=[("web", "web"), ("native", "native")])
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.organisation} ({self.application_id})"

    @property
    def scopes(self) -> set[str]:
        return set(self.allowed_scopes.split())

    def in_force(self, at=None) -> bool:
        at = at or timezone.now()
        return self.valid_from <= at < self.valid_until


class Consent(models.Model):
    """What a citizen allowed a relying party to receive, and for what stated purpose.
    Revoking it revokes the relying party's tokens for that person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    scopes = models.CharField(max_length=300)
    purpose = models.CharField(max_length=500)
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "application"], condition=Q(revoked_at__isnull=True),
                                    name="oidc_one_live_consent"),
        ]

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())


class AuthContext(models.Model):
    """How the person authenticated for one authorization code, then for each ID token issued
    from it (and from its refresh tokens): the acr, amr and auth_time claims."""

    code_digest = models.CharField(max_length=64, null=True, blank=True)
    id_token_jti = models.UUIDField(null=True, blank=True, unique=True)
    acr = models.CharField(max_length=40)
    amr = models.CharField(max_length=60)
    auth_time = models.BigIntegerField()
    # The refresh-token family the code was exchanged for (a code's row only): a second
    # redemption of the code revokes the family (RFC 6749 §4.1.2).
    token_family = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # A constraint, not unique=True: PostgreSQL then has no varchar_pattern_ops twin index
        # (looked up by equality only; a row is written for every code and every ID token).
        constraints = [models.UniqueConstraint(fields=["code_digest"], name="oidc_authcontext_code")]


class RateWindow(models.Model):
    """Calls of one client in one minute (eKYC rate limit), shared by every server process."""

    client_id = models.CharField(max_length=100)
    window = models.BigIntegerField(help_text="epoch minute")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "window"], name="oidc_rate_window")]
