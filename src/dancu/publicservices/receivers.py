"""What the public services learn from the contexts below them, by signal (ARCHITECTURE.md):
a payment's success marks the dossier it pays (inside the transaction that records the
success, so both commit or neither)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from dancu.accounts.actor import system_actor
from dancu.payments.signals import payment_succeeded
from dancu.publicservices.services.processing import mark_paid

PAYMENTS_ACTOR = system_actor("payments", source="system", source_ref="payments.payment_succeeded")


@receiver(payment_succeeded, dispatch_uid="publicservices.payment_succeeded")
def dossier_paid(sender: Any, payment: Any, **kwargs: Any) -> None:
    mark_paid(
        PAYMENTS_ACTOR, payment.reference, amount_vnd=int(payment.amount_vnd), note=f"{payment.txn_ref}"
    )
