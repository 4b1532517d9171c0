"""Signed gateway answers, as the gateway would send them (for the tests that call dancu directly)."""

from __future__ import annotations

from django.conf import settings

from dancu.payments import protocol
from dancu.payments.models import Payment


def answer(
    payment: Payment, *, ok: bool = True, secret: str | None = None, **overrides: str
) -> dict[str, str]:
    params = {
        "vnp_Amount": protocol.minor_units(payment.amount_vnd),
        "vnp_BankCode": "NCB",
        "vnp_OrderInfo": f"Thanh toan le phi ho so {payment.reference}",
        "vnp_PayDate": "20260101120000",
        "vnp_ResponseCode": "00" if ok else "24",
        "vnp_TmnCode": settings.DANCU_PAYMENT_TMN_CODE,
        "vnp_TransactionNo": "14000001",
        "vnp_TransactionStatus": "00" if ok else "02",
        "vnp_TxnRef": payment.txn_ref,
    }
    params.update(overrides)
    return protocol.sign(params, secret or settings.DANCU_PAYMENT_SECRET)
