"""The audit trail: every read of personal data and every write, and the versioned
history of records (before/after) — one append-only table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    OFFICER = "officer", _("Cán bộ thao tác")
    API = "api", _("Tài khoản dịch vụ")
    IMPORT = "import", _("Lô nhập dữ liệu")
    DOSSIER = "dossier", _("Hồ sơ thủ tục")
    SYSTEM = "system", _("Hệ thống")
    CITIZEN = "citizen", _("Công dân tự thực hiện")
    RELYING_PARTY = "rp", _("Bên sử dụng dịch vụ xác thực")


class AuditEvent(models.Model):
    at = models.DateTimeField(db_index=True)
    # indexed by (actor, at) below: no index of the key alone
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+", db_index=False)
    actor_label = models.CharField(max_length=150, help_text="Username or system component")
    action = models.CharField(max_length=60, help_text="e.g. citizen.view, citizen.update")
    source = models.CharField(max_length=10, choices=Source.choices)
    source_ref = models.CharField(max_length=120, blank=True, default="",
                                  help_text="Import batch, dossier number, request id…")
    reason = models.CharField(max_length=500, blank=True, default="",
                              help_text="Why: legal basis or purpose stated by the actor")
    subject_type = models.CharField(max_length=40, blank=True, default="")
    subject_id = models.CharField(max_length=40, blank=True, default="")
    # The citizen the event concerns (ID number), to show a person's whole history.
    personal_id = models.CharField(max_length=12, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Parameters of a read that is not a change (a search's query and the IDs it returned).
    details = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        # The busiest table: every index is maintained on every read of personal data. A person's
        # history is (personal_id, at) — equality only, so no pattern-ops twin; an actor's
        # (actor, at) also serves the foreign key.
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["action", "at"]),
                   models.Index(fields=["personal_id", "at"], name="audit_personal_at")]
        ordering = ["-at", "-id"]

    @property
    def is_change(self) -> bool:
        return self.after is not None or self.before is not None
