"""Payments of fees through a payment gateway, and every message exchanged with it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    PENDING = "pending", _("Đang chờ thanh toán")
    SUCCEEDED = "succeeded", _("Đã thanh toán")
    FAILED = "failed", _("Thanh toán không thành công")
    EXPIRED = "expired", _("Hết hạn thanh toán")


class Payment(models.Model):
    """One attempt to pay ``amount_vnd`` for ``reference`` (a dossier code) at the gateway.

    A reference may have several attempts (abandoned, failed, expired), but at most one
    succeeded: a partial unique index makes the database refuse a second, whatever the races."""

    reference = models.CharField(_("mã hồ sơ"), max_length=40)
    amount_vnd = models.BigIntegerField(_("số tiền (đồng)"))
    status = models.CharField(_("trạng thái"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # Our order number at the gateway (vnp_TxnRef): random, alphanumeric.
    txn_ref = models.CharField(_("mã giao dịch"), max_length=32, unique=True)
    gateway_txn = models.CharField(_("mã giao dịch tại cổng"), max_length=40, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payer = models.ForeignKey("population.Citizen", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    receipt = models.CharField(_("số biên lai"), max_length=40, null=True, blank=True)
    # Where the citizen's browser goes once dancu has taken the gateway's answer.
    return_url = models.CharField(max_length=500, blank=True, default="")
    # The gateway took the money, but the reference had already been paid by another attempt:
    # the money is recorded (gateway_txn, paid_at) and must be refunded.
    refund_due = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reference"], condition=Q(status="succeeded"),
                                    name="payments_one_success_per_reference"),
            models.CheckConstraint(condition=Q(amount_vnd__gt=0), name="payments_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["reference"], name="payments_reference"),
            # reconciliation: the pending ones, oldest first
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="payments_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.txn_ref} {self.reference} {self.amount_vnd} {self.status}"

    @property
    def amount_display(self) -> str:
        """1.500.000 (Vietnamese thousands separator)."""
        return f"{self.amount_vnd:,}".replace(",", ".")


class Direction(models.TextChoices):
    OUT = "out", _("dancu gửi")
    IN = "in", _("dancu nhận")


class Kind(models.TextChoices):
    REDIRECT = "redirect", _("chuyển tới cổng thanh toán")
    RETURN = "return", _("trình duyệt trở về")
    IPN = "ipn", _("thông báo từ cổng (IPN)")
    QUERY = "query", _("truy vấn giao dịch (querydr)")


class GatewayMessage(models.Model):
    """Every exchange with the gateway, out and in, with the result of its signature check and
    what dancu did with it (``outcome``: the answer code and a word)."""

    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="messages")
    txn_ref = models.CharField(max_length=100, blank=True, default="")  # as received, even unknown
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    params = models.JSONField(default=dict)
    signature_ok = models.BooleanField(null=True)  # None: nothing to check (a failed request)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["txn_ref", "received_at"], name="payments_msg_txn")]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.txn_ref} {self.outcome}"
