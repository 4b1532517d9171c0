"""Reads of payments (other contexts read through these)."""

from __future__ import annotations

from django.db.models import QuerySet

from dancu.payments.models import GatewayMessage, Payment, Status


def get_payment(txn_ref: str) -> Payment | None:
    return Payment.objects.select_related("payer").filter(txn_ref=txn_ref).first()


def payments_for(reference: str) -> QuerySet[Payment]:
    """Every attempt to pay for ``reference``, newest first."""
    return Payment.objects.filter(reference=reference).order_by("-created_at", "-id")


def succeeded_payment(reference: str) -> Payment | None:
    """The one succeeded payment of ``reference`` (the database allows no second), or None."""
    return Payment.objects.filter(reference=reference, status=Status.SUCCEEDED).first()


def is_paid(reference: str) -> bool:
    return Payment.objects.filter(reference=reference, status=Status.SUCCEEDED).exists()


def messages_of(payment: Payment) -> QuerySet[GatewayMessage]:
    return GatewayMessage.objects.filter(payment=payment).order_by("received_at", "id")
