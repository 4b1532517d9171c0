"""The citizen's personal document store: attachments (uploads), signed e-results and receipts,
each with its SHA-256, and every use of a document in a dossier (reuse is counted)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    UPLOAD = "upload", _("Tệp đính kèm")
    RESULT = "result", _("Kết quả giải quyết thủ tục")
    RECEIPT = "receipt", _("Biên nhận")


class MediaType(models.TextChoices):
    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"


class Document(models.Model):
    # Random, url-safe, unambiguous to type (no 0/O, 1/I/L): the /verify/<code>/ address.
    code = models.CharField(max_length=16, unique=True)
    owner = models.ForeignKey("population.Citizen", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", db_index=False)  # (owner, created_at) below
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=300)
    filename = models.CharField(max_length=255, blank=True, default="")
    media_type = models.CharField(max_length=40, choices=MediaType.choices)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, help_text="actor label")
    signed = models.BooleanField(default=False)
    issuer = models.CharField(max_length=300, blank=True, default="")
    # The dossier (or payment) a result or receipt was issued for; "" for uploads.
    reference = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["owner", "created_at"], name="document_owner_at")]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["upload", "result", "receipt"]),
                                   name="document_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def extension(self) -> str:
        return {MediaType.PDF: "pdf", MediaType.JPEG: "jpg", MediaType.PNG: "png"}.get(
            self.media_type, "bin")  # type: ignore[call-overload]


class DocumentUse(models.Model):
    """One use of a document in a dossier (or another reference): the same document attached to
    a second dossier is a reuse — the citizen did not have to bring it again."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="uses")
    reference = models.CharField(max_length=40)
    used_at = models.DateTimeField()
    purpose = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "reference"],
                                               name="document_use_once_per_reference")]
