"""Every write of the payments context: starting a payment, taking the gateway's answers
(browser return, IPN, reconciliation's query), and reconciliation itself.

The rules (docs/payments.md):
- an answer counts only if its HMAC-SHA512 signature is right (constant-time check), it names a
  payment of ours (``vnp_TxnRef``, our terminal code) and the amount is the payment's × 100;
  anything else is refused with the gateway's code and logged, and changes nothing;
- the first valid final answer decides a payment; later ones (replays, the second of a double
  notification, a late IPN after reconciliation) change nothing and are answered "02"; the row is
  locked while deciding (SELECT … FOR UPDATE on PostgreSQL; SQLite's write transactions are
  exclusive), so two answers at once still record one success;
- at most one succeeded payment per reference, by a partial unique index: a second attempt the
  gateway also took is recorded with ``refund_due`` instead (the money is not lost);
- success sends ``signals.payment_succeeded`` inside the transaction that records it;
- every message, in and out, is a ``GatewayMessage`` with its signature check and outcome.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError
from dancu.core.text import nfc
from dancu.payments import gateway, protocol
from dancu.payments.models import Direction, GatewayMessage, Kind, Payment, Status
from dancu.payments.signals import payment_succeeded

if TYPE_CHECKING:
    from dancu.population.models import Citizen

log = logging.getLogger(__name__)

MAX_AMOUNT_VND = 10**11  # far above any fee; keeps vnp_Amount within the gateway's 64-bit field


def gateway_actor() -> Actor:
    """Who acts when the gateway's answer changes a payment (the audit trail's actor)."""
    return Actor(label=f"payment-gateway:{settings.DANCU_PAYMENT_TMN_CODE}"[:150], role="payment_gateway",
                 source="system", source_ref="payments")


def reconciliation_actor() -> Actor:
    return Actor(label="payments.reconcile", role="system", source="system", source_ref="payments")


# ---- starting a payment -----------------------------------------------------------------------

def start_payment(actor: Actor, *, reference: str, amount_vnd: int, payer: Citizen | None,
                  return_url: str) -> tuple[Payment, str]:
    """A new pending payment of ``amount_vnd`` for ``reference`` and the signed URL of the
    gateway's payment page to send the payer's browser to. ``return_url`` is where the browser
    comes back to once dancu has the gateway's answer (``?payment=<txn_ref>&status=…`` added).
    Refused (nothing written): a bad reference, amount or return URL (the field named), or a
    reference already paid (``E_ALREADY_PAID``)."""
    try:
        return _start_payment(actor, reference=reference, amount_vnd=amount_vnd, payer=payer,
                              return_url=return_url)
    except DomainError as exc:
        audit.record_refusal(actor, "payment.start", exc, subject_type="payment",
                             subject_id=str(reference)[:40],
                             personal_id=getattr(payer, "personal_id", "") or "")
        raise


def _check_input(reference: Any, amount_vnd: Any, return_url: Any) -> tuple[str, int, str]:
    if not isinstance(reference, str):
        raise DomainError("E_REFERENCE", _("Thiếu mã hồ sơ cần thanh toán."), "reference")
    reference = nfc(reference.strip())
    if not reference or len(reference) > 40 or not all(c.isascii() and (c.isalnum() or c in "-_.")
                                                       for c in reference):
        raise DomainError("E_REFERENCE", _("Mã hồ sơ không hợp lệ (tối đa 40 ký tự chữ, số, '-', '_', '.')."),
                          "reference")
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int) \
            or not 0 < amount_vnd <= MAX_AMOUNT_VND:
        raise DomainError("E_AMOUNT", _("Số tiền phải là số nguyên đồng, lớn hơn 0."), "amount_vnd")
    if not isinstance(return_url, str) or len(return_url) > 500 or return_url.startswith("//") or not (
            return_url == "" or return_url.startswith("/")
            or urlsplit(return_url).scheme in ("http", "https")):
        raise DomainError("E_RETURN_URL", _("Địa chỉ trở về không hợp lệ."), "return_url")
    return reference, amount_vnd, return_url


def dancu_return_url(return_url: str) -> str:
    """The URL of dancu's return view the gateway sends the browser to."""
    if settings.DANCU_PAYMENT_RETURN_URL:
        return str(settings.DANCU_PAYMENT_RETURN_URL)
    parts = urlsplit(return_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError("E_RETURN_URL", _("Cần địa chỉ trở về đầy đủ (http/https) hoặc cấu hình "
                                            "DANCU_PAYMENT_RETURN_URL."), "return_url")
    return f"{parts.scheme}://{parts.netloc}{reverse('payments:return')}"


def new_txn_ref() -> str:
    """16 characters A-Z2-7 (80 random bits)."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


@transaction.atomic
def _start_payment(actor: Actor, *, reference: Any, amount_vnd: Any, payer: Citizen | None,
                   return_url: Any) -> tuple[Payment, str]:
    reference, amount_vnd, return_url = _check_input(reference, amount_vnd, return_url)
    gateway_return = dancu_return_url(return_url)
    if Payment.objects.filter(reference=reference, status=Status.SUCCEEDED).exists():
        raise Conflict("E_ALREADY_PAID", _("Hồ sơ này đã được thanh toán."), "reference")
    now = timezone.now()
    payment = Payment.objects.create(reference=reference, amount_vnd=amount_vnd, txn_ref=new_txn_ref(),
                                     payer=payer, return_url=return_url)
    params = protocol.sign({
        "vnp_Version": protocol.VERSION,
        "vnp_Command": "pay",
        "vnp_TmnCode": settings.DANCU_PAYMENT_TMN_CODE,
        "vnp_Amount": protocol.minor_units(amount_vnd),
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": payment.txn_ref,
        "vnp_OrderInfo": f"Thanh toan le phi ho so {reference}",
        "vnp_OrderType": "other",
        "vnp_Locale": "vn",
        "vnp_ReturnUrl": gateway_return,
        "vnp_IpAddr": actor.ip or "127.0.0.1",
        "vnp_CreateDate": protocol.format_date(now),
        "vnp_ExpireDate": protocol.format_date(
            now + dt.timedelta(minutes=settings.DANCU_PAYMENT_EXPIRE_MINUTES)),
    }, settings.DANCU_PAYMENT_SECRET)
    _log(payment, payment.txn_ref, Direction.OUT, Kind.REDIRECT, params, True, "sent")
    audit.record(actor, "payment.start", subject_type="payment", subject_id=payment.txn_ref,
                 personal_id=payer.personal_id if payer is not None else "",
                 after={"reference": reference, "amount_vnd": amount_vnd, "txn_ref": payment.txn_ref})
    return payment, f"{gateway.pay_url()}?{protocol.query_string(params)}"


# ---- the gateway's answers --------------------------------------------------------------------

@dataclass(frozen=True)
class CallbackResult:
    code: str  # the IPN answer code (RspCode)
    message: str
    field: str | None = None  # the parameter at fault
    payment: Payment | None = None
    changed: bool = False  # this message decided the payment

    @property
    def accepted(self) -> bool:
        """A valid message about a payment of ours (new or already decided)."""
        return self.code in (protocol.RSP_CONFIRMED, protocol.RSP_ALREADY_CONFIRMED)

    def as_json(self) -> dict[str, str]:
        body = {"RspCode": self.code, "Message": self.message}
        if self.field:
            body["field"] = self.field
        return body


def _log(payment: Payment | None, txn_ref: str, direction: str, kind: str, params: Mapping[str, Any],
         signature_ok: bool | None, outcome: str) -> GatewayMessage:
    return GatewayMessage.objects.create(
        payment=payment, txn_ref=str(txn_ref)[:100], direction=direction, kind=kind,
        params={str(k)[:100]: str(v)[:2000] for k, v in list(params.items())[:100]},
        signature_ok=signature_ok, outcome=outcome[:200])


def _result(code: str, field: str | None = None, payment: Payment | None = None, changed: bool = False,
            message: str | None = None) -> CallbackResult:
    return CallbackResult(code, message or protocol.RSP_MESSAGES[code], field, payment, changed)


def handle_callback(params: Mapping[str, str], *, kind: str) -> CallbackResult:
    """Take a signed answer of the gateway: the browser's return (``kind="return"``) or the
    server-to-server notification (``"ipn"``). Never raises: the result carries the answer code
    (``00`` decided now, ``02`` decided before, ``01`` unknown payment, ``04`` wrong amount,
    ``97`` bad signature, ``99`` an error — the payment then stays as it was)."""
    params = {str(k): v for k, v in params.items() if isinstance(v, str)}
    txn_ref = params.get("vnp_TxnRef", "")
    try:
        return _handle(params, kind, txn_ref)
    except Exception as exc:  # a receiver or the database failed: rolled back; logged, answered 99
        log.exception("payment callback %s failed", txn_ref)
        payment = Payment.objects.filter(txn_ref=txn_ref[:32]).first()
        _log(payment, txn_ref, Direction.IN, kind, params, None, f"99 error: {type(exc).__name__}")
        return _result(protocol.RSP_ERROR, payment=payment)


def _handle(params: dict[str, str], kind: str, txn_ref: str) -> CallbackResult:
    if not protocol.verify(params, settings.DANCU_PAYMENT_SECRET):
        _log(None, txn_ref, Direction.IN, kind, params, False, "97 signature refused")
        return _result(protocol.RSP_BAD_SIGNATURE, "vnp_SecureHash")
    if params.get("vnp_TmnCode") != settings.DANCU_PAYMENT_TMN_CODE:
        _log(None, txn_ref, Direction.IN, kind, params, True, "01 not our terminal code")
        return _result(protocol.RSP_UNKNOWN_ORDER, "vnp_TmnCode")
    succeeded = (params.get("vnp_ResponseCode") == protocol.SUCCESS
                 and params.get("vnp_TransactionStatus", protocol.SUCCESS) == protocol.SUCCESS)
    with transaction.atomic():
        return _decide(params, kind, txn_ref, succeeded=succeeded)


def _decide(params: Mapping[str, str], kind: str, txn_ref: str, *, succeeded: bool,
            expire: bool = False, check_amount: bool = True) -> CallbackResult:
    """Inside a transaction: apply a verified answer to the payment it names, once."""
    payment = Payment.objects.select_for_update().filter(txn_ref=txn_ref[:32]).first() if txn_ref else None
    if payment is None or payment.txn_ref != txn_ref:
        _log(None, txn_ref, Direction.IN, kind, params, True, "01 unknown payment")
        return _result(protocol.RSP_UNKNOWN_ORDER, "vnp_TxnRef")
    if check_amount and protocol.parse_amount(params.get("vnp_Amount")) != payment.amount_vnd * 100:
        _log(payment, txn_ref, Direction.IN, kind, params, True,
             f"04 amount {params.get('vnp_Amount', '')[:30]} != {payment.amount_vnd * 100}")
        return _result(protocol.RSP_WRONG_AMOUNT, "vnp_Amount", payment)
    if payment.status in (Status.SUCCEEDED, Status.FAILED) or (payment.status == Status.EXPIRED
                                                               and not succeeded):
        _log(payment, txn_ref, Direction.IN, kind, params, True, f"02 already {payment.status}")
        return _result(protocol.RSP_ALREADY_CONFIRMED, payment=payment)
    before = {"status": payment.status}
    if succeeded:
        outcome = _record_success(payment, params)
    else:
        payment.status = Status.EXPIRED if expire else Status.FAILED
        payment.gateway_txn = params.get("vnp_TransactionNo", "")[:40] or None
        payment.save(update_fields=["status", "gateway_txn"])
        outcome = payment.status
    _log(payment, txn_ref, Direction.IN, kind, params, True, f"00 {outcome}")
    audit.record(gateway_actor() if kind != Kind.QUERY else reconciliation_actor(), f"payment.{outcome}",
                 subject_type="payment", subject_id=payment.txn_ref,
                 personal_id=payment.payer.personal_id if payment.payer is not None else "",
                 before=before, after={"status": payment.status, "refund_due": payment.refund_due,
                                       "gateway_txn": payment.gateway_txn, "via": kind},
                 details={"reference": payment.reference})
    return _result(protocol.RSP_CONFIRMED, payment=payment, changed=True)


def _record_success(payment: Payment, params: Mapping[str, str]) -> str:
    payment.gateway_txn = params.get("vnp_TransactionNo", "")[:40] or None
    payment.paid_at = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: the partial unique index may refuse
            payment.status = Status.SUCCEEDED
            payment.receipt = f"BL{timezone.localdate(payment.paid_at):%Y%m%d}-{payment.pk:08d}"
            payment.save(update_fields=["status", "gateway_txn", "paid_at", "receipt"])
    except IntegrityError:
        # Another attempt for the same reference succeeded first: no dossier is paid twice, and
        # the money of this one is recorded for a refund.
        payment.status, payment.receipt, payment.refund_due = Status.FAILED, None, True
        payment.save(update_fields=["status", "gateway_txn", "paid_at", "receipt", "refund_due"])
        return "refund_due"
    payment_succeeded.send(sender=Payment, payment=payment)
    return "succeeded"


# ---- reconciliation ---------------------------------------------------------------------------

def reconcile(*, now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Ask the gateway (``querydr``) about every payment pending longer than
    ``DANCU_PAYMENT_RECONCILE_AFTER_MINUTES``, oldest first, and record its answer: succeeded,
    failed, or — not completed at the gateway and past its expiry — expired. A gateway that does
    not answer leaves the payment pending for the next run. Returns counts by outcome."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.DANCU_PAYMENT_RECONCILE_AFTER_MINUTES)
    counts: dict[str, int] = {}
    pending = list(Payment.objects.filter(status=Status.PENDING, created_at__lt=cutoff)
                   .order_by("created_at", "id")[:limit])
    for payment in pending:
        outcome = reconcile_payment(payment, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def reconcile_payment(payment: Payment, *, now: dt.datetime | None = None) -> str:
    """One payment's ``querydr``; the outcome in a word (``succeeded``, ``failed``, ``expired``,
    ``pending``, ``unreachable``, ``refused``, ``unchanged``)."""
    now = now or timezone.now()
    request = protocol.sign({
        "vnp_RequestId": secrets.token_hex(16),
        "vnp_Version": protocol.VERSION,
        "vnp_Command": "querydr",
        "vnp_TmnCode": settings.DANCU_PAYMENT_TMN_CODE,
        "vnp_TxnRef": payment.txn_ref,
        "vnp_OrderInfo": f"Doi soat giao dich {payment.txn_ref}",
        "vnp_TransactionDate": protocol.format_date(payment.created_at),
        "vnp_CreateDate": protocol.format_date(now),
        "vnp_IpAddr": "127.0.0.1",
    }, settings.DANCU_PAYMENT_SECRET)
    _log(payment, payment.txn_ref, Direction.OUT, Kind.QUERY, request, True, "sent")
    try:
        answer = gateway.post_json(gateway.query_url(), request)
    except gateway.GatewayUnavailable as exc:
        _log(payment, payment.txn_ref, Direction.IN, Kind.QUERY, {}, None, f"unreachable: {exc}")
        return "unreachable"
    if not protocol.verify(answer, settings.DANCU_PAYMENT_SECRET):
        _log(payment, payment.txn_ref, Direction.IN, Kind.QUERY, answer, False, "97 signature refused")
        return "refused"
    if answer.get("vnp_TxnRef", payment.txn_ref) != payment.txn_ref or \
            answer.get("vnp_TmnCode") != settings.DANCU_PAYMENT_TMN_CODE:
        _log(payment, payment.txn_ref, Direction.IN, Kind.QUERY, answer, True, "refused: another transaction")
        return "refused"
    code, status = answer.get("vnp_ResponseCode"), answer.get("vnp_TransactionStatus")
    expired = now > payment.created_at + dt.timedelta(minutes=settings.DANCU_PAYMENT_EXPIRE_MINUTES)
    if code == protocol.SUCCESS and status in (protocol.SUCCESS, protocol.TXN_FAILED):
        with transaction.atomic():
            result = _decide(answer, Kind.QUERY, payment.txn_ref, succeeded=status == protocol.SUCCESS)
        if not result.changed:
            return "unchanged" if result.accepted else "refused"
        assert result.payment is not None
        return "refund_due" if result.payment.refund_due else str(result.payment.status)
    never_completed = code == protocol.QUERY_NOT_FOUND or (code == protocol.SUCCESS
                                                           and status == protocol.TXN_PENDING)
    if expired and never_completed:
        with transaction.atomic():  # the gateway has no completed payment: nothing to compare
            result = _decide(answer, Kind.QUERY, payment.txn_ref, succeeded=False, expire=True,
                             check_amount=False)
        return "expired" if result.changed else "unchanged"
    _log(payment, payment.txn_ref, Direction.IN, Kind.QUERY, answer, True,
         f"pending at the gateway ({code}/{status})")
    return "pending"
