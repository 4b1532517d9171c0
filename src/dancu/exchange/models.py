"""dancu's log of its exchanges with other agencies: every message sent, every try, every answer
(docs/exchange.md). With the agency's own log, either side can prove what it sent and received."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Chờ trả lời")  # signed and stored, not yet answered (never tried/in flight)
    ANSWERED = "answered", _("Đã trả lời")  # a verified answer is stored: final
    FAILED = "failed", _("Gửi lỗi, sẽ gửi lại")  # the last try failed (down, timeout, bad answer): retried


class AnswerStatus(models.TextChoices):
    OK = "ok", _("chấp nhận")
    REFUSED = "refused", _("từ chối")


AGENCY_NAMES = {"social_insurance": _("Bảo hiểm xã hội")}  # how the log names each agency code


class ExchangeMessage(models.Model):
    """One message to an agency: the request exactly as signed (resent byte for byte on every
    retry) and, once it has come, the agency's signed answer."""

    message_id = models.UUIDField(unique=True)
    agency = models.CharField(max_length=40)
    service = models.CharField(max_length=80)
    personal_id = models.CharField(max_length=12, blank=True)
    purpose = models.CharField(max_length=200)
    request_jws = models.TextField()
    request_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    answer_status = models.CharField(max_length=10, choices=AnswerStatus.choices, blank=True)
    answer_body = models.JSONField(null=True, blank=True)
    answer_jws = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "created_at"], name="exchange_msg_agency_time")]
        constraints = [
            models.CheckConstraint(
                name="exchange_answered_has_answer",
                condition=(~models.Q(status="answered")
                           | (models.Q(answered_at__isnull=False) & ~models.Q(answer_jws="")
                              & models.Q(answer_status__in=["ok", "refused"]))),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency}/{self.service} {self.message_id} ({self.status})"

    @property
    def agency_name(self) -> str:
        return str(AGENCY_NAMES.get(self.agency, self.agency))


class ExchangeAttempt(models.Model):
    """One HTTP try of a message: when, the HTTP status (None: no answer at all), the error, the
    hash of the answer received."""

    message = models.ForeignKey(ExchangeMessage, on_delete=models.PROTECT, related_name="tries")
    at = models.DateTimeField(auto_now_add=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    answer_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["message", "at"], name="exchange_attempt_msg_time")]

    def __str__(self) -> str:
        return f"{self.message_id} @ {self.at}: {self.http_status or self.error}"
