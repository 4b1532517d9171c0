"""start_payment and the gateway's answers, called directly on the real database."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import IntegrityError, transaction

from dancu.audit.models import AuditEvent
from dancu.core.errors import Conflict, DomainError
from dancu.payments import protocol, selectors, services
from dancu.payments.models import GatewayMessage, Payment, Status
from dancu.payments.signals import payment_succeeded
from tests.payments.helpers import answer

RETURN = "http://portal.example/dich-vu-cong/ho-so/DC-20260101-000001"


def start(citizen, payer, reference="DC-20260101-000001", amount=50_000):
    return services.start_payment(
        citizen, reference=reference, amount_vnd=amount, payer=payer, return_url=RETURN
    )


def test_start_payment_signs_the_redirect_and_logs_it(citizen, payer, settings) -> None:
    payment, url = start(citizen, payer)
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == f"{settings.DANCU_PAYMENT_GATEWAY_URL}/paymentv2/vpcpay.html"
    )
    params = dict(parse_qsl(parts.query))
    assert protocol.verify(params, settings.DANCU_PAYMENT_SECRET)
    assert params["vnp_Amount"] == "5000000" and params["vnp_TxnRef"] == payment.txn_ref
    assert params["vnp_ReturnUrl"] == "http://portal.example/payments/return"
    assert params["vnp_IpAddr"] == "203.0.113.7" and params["vnp_TmnCode"] == settings.DANCU_PAYMENT_TMN_CODE
    assert (payment.status, payment.payer, payment.return_url) == (Status.PENDING, payer, RETURN)
    out = GatewayMessage.objects.get()
    assert (out.direction, out.kind, out.signature_ok, out.payment) == ("out", "redirect", True, payment)
    event = AuditEvent.objects.get(action="payment.start")
    assert event.personal_id == payer.personal_id and event.subject_id == payment.txn_ref


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"reference": ""}, "E_REFERENCE", "reference"),
        ({"reference": "DC 1; DROP"}, "E_REFERENCE", "reference"),
        ({"reference": "x" * 41}, "E_REFERENCE", "reference"),
        ({"amount_vnd": 0}, "E_AMOUNT", "amount_vnd"),
        ({"amount_vnd": -5}, "E_AMOUNT", "amount_vnd"),
        ({"amount_vnd": 10.5}, "E_AMOUNT", "amount_vnd"),
        ({"amount_vnd": True}, "E_AMOUNT", "amount_vnd"),
        ({"amount_vnd": "50000"}, "E_AMOUNT", "amount_vnd"),
        ({"return_url": "javascript:alert(1)"}, "E_RETURN_URL", "return_url"),
        ({"return_url": "//evil.example/x"}, "E_RETURN_URL", "return_url"),
        ({"return_url": "/relative-needs-a-configured-return"}, "E_RETURN_URL", "return_url"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing_but_the_refusal(
    citizen, payer, kwargs, code, field
) -> None:
    args = {"reference": "DC-1", "amount_vnd": 50_000, "payer": payer, "return_url": RETURN, **kwargs}
    with pytest.raises(DomainError) as err:
        services.start_payment(citizen, **args)
    assert (err.value.code, err.value.field) == (code, field)
    assert not Payment.objects.exists() and not GatewayMessage.objects.exists()
    refusal = AuditEvent.objects.get(action="payment.start.denied")
    assert refusal.details["code"] == code and refusal.details["field"] == field


def test_a_relative_return_url_is_fine_when_dancus_return_url_is_configured(citizen, payer, settings) -> None:
    settings.DANCU_PAYMENT_RETURN_URL = "https://dichvucong.example/payments/return"
    _, url = services.start_payment(
        citizen, reference="DC-1", amount_vnd=1000, payer=payer, return_url="/dich-vu-cong/"
    )
    assert dict(parse_qsl(urlsplit(url).query))["vnp_ReturnUrl"] == settings.DANCU_PAYMENT_RETURN_URL


def test_success_is_recorded_once_with_the_signal_inside_the_transaction(citizen, payer, successes) -> None:
    payment, _ = start(citizen, payer)
    result = services.handle_callback(answer(payment), kind="ipn")
    assert (result.code, result.changed, result.field) == ("00", True, None)
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED and payment.gateway_txn == "14000001"
    assert payment.paid_at is not None and payment.receipt and payment.receipt.startswith("BL")
    assert successes == [(payment.pk, True)]
    # the replay, and the browser's return after the IPN: "already confirmed", nothing changes
    for kind in ("ipn", "return"):
        again = services.handle_callback(answer(payment), kind=kind)
        assert (again.code, again.changed) == ("02", False)
    assert successes == [(payment.pk, True)]
    assert selectors.succeeded_payment(payment.reference) == payment and selectors.is_paid(payment.reference)
    assert list(GatewayMessage.objects.filter(direction="in").values_list("kind", "outcome")) == [
        ("ipn", "00 succeeded"),
        ("ipn", "02 already succeeded"),
        ("return", "02 already succeeded"),
    ]
    event = AuditEvent.objects.get(action="payment.succeeded")
    assert event.personal_id == payer.personal_id and event.before == {"status": "pending"}
    with pytest.raises(Conflict) as err:  # a reference paid is not paid again
        start(citizen, payer)
    assert (err.value.code, err.value.field) == ("E_ALREADY_PAID", "reference")


@pytest.mark.parametrize(
    ("tamper", "code", "field"),
    [
        ("forged", "97", "vnp_SecureHash"),
        ("other_secret", "97", "vnp_SecureHash"),
        ("no_signature", "97", "vnp_SecureHash"),
        ("wrong_amount", "04", "vnp_Amount"),
        ("unknown_txn", "01", "vnp_TxnRef"),
        ("other_terminal", "01", "vnp_TmnCode"),
    ],
)
def test_forged_wrong_or_unknown_answers_are_refused_and_logged(
    citizen, payer, successes, tamper, code, field
) -> None:
    payment, _ = start(citizen, payer)
    params = {
        "forged": lambda: {**answer(payment), "vnp_Amount": "100"},
        "other_secret": lambda: answer(payment, secret="not-the-merchant-secret-0123456789abcdef"),
        "no_signature": lambda: {k: v for k, v in answer(payment).items() if k != "vnp_SecureHash"},
        "wrong_amount": lambda: answer(payment, vnp_Amount="100"),
        "unknown_txn": lambda: answer(payment, vnp_TxnRef="NOSUCHTXN0000000"),
        "other_terminal": lambda: answer(payment, vnp_TmnCode="OTHER001"),
    }[tamper]()
    result = services.handle_callback(params, kind="ipn")
    assert (result.code, result.field, result.changed) == (code, field, False)
    assert result.as_json() == {"RspCode": code, "Message": protocol.RSP_MESSAGES[code], "field": field}
    payment.refresh_from_db()
    assert payment.status == Status.PENDING and not successes
    logged = GatewayMessage.objects.get(direction="in")
    assert logged.outcome.startswith(code) and logged.signature_ok is (code != "97")
    # the genuine answer still counts afterwards
    assert services.handle_callback(answer(payment), kind="ipn").code == "00"


def test_a_failed_payment_stays_failed_and_the_reference_can_be_paid_again(citizen, payer, successes) -> None:
    payment, _ = start(citizen, payer)
    assert services.handle_callback(answer(payment, ok=False), kind="return").code == "00"
    payment.refresh_from_db()
    assert payment.status == Status.FAILED and not successes
    assert services.handle_callback(answer(payment), kind="ipn").code == "02"  # decided already
    second, _ = start(citizen, payer)
    assert services.handle_callback(answer(second), kind="ipn").code == "00"
    assert selectors.succeeded_payment(payment.reference) == second


def test_a_late_success_after_expiry_is_not_lost(citizen, payer, successes) -> None:
    payment, _ = start(citizen, payer)
    Payment.objects.filter(pk=payment.pk).update(status=Status.EXPIRED)
    assert services.handle_callback(answer(payment, ok=False), kind="ipn").code == "02"
    assert services.handle_callback(answer(payment), kind="ipn").code == "00"
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED and successes == [(payment.pk, True)]


def test_a_second_attempt_paid_at_the_gateway_is_kept_for_refund_not_recorded_as_paid(
    citizen, payer, successes
) -> None:
    first, _ = start(citizen, payer)
    second, _ = start(citizen, payer)  # the first page abandoned, a second attempt started
    assert services.handle_callback(answer(second), kind="ipn").code == "00"
    result = services.handle_callback(answer(first, vnp_TransactionNo="14000002"), kind="ipn")
    assert (result.code, result.changed) == ("00", True)
    first.refresh_from_db()
    assert (first.status, first.refund_due, first.gateway_txn) == (Status.FAILED, True, "14000002")
    assert first.paid_at is not None and first.receipt is None
    assert successes == [(second.pk, True)]
    assert AuditEvent.objects.filter(action="payment.refund_due", subject_id=first.txn_ref).exists()


def test_the_database_refuses_a_second_success_for_a_reference(citizen, payer) -> None:
    first, _ = start(citizen, payer)
    second, _ = start(citizen, payer)
    Payment.objects.filter(pk=first.pk).update(status=Status.SUCCEEDED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=second.pk).update(status=Status.SUCCEEDED)


def test_a_receiver_that_fails_rolls_the_success_back_and_the_gateway_gets_99(citizen, payer) -> None:
    payment, _ = start(citizen, payer)

    def broken(sender, payment, **kwargs):
        raise RuntimeError("the dossier could not be marked paid")

    payment_succeeded.connect(broken, weak=False, dispatch_uid="tests.broken")
    try:
        result = services.handle_callback(answer(payment), kind="ipn")
    finally:
        payment_succeeded.disconnect(dispatch_uid="tests.broken")
    assert result.code == "99"
    payment.refresh_from_db()
    assert payment.status == Status.PENDING and payment.receipt is None
    assert GatewayMessage.objects.filter(direction="in").get().outcome == "99 error: RuntimeError"
    assert not AuditEvent.objects.filter(action="payment.succeeded").exists()
    assert services.handle_callback(answer(payment), kind="ipn").code == "00"  # the gateway's retry
