"""The payer in headless Chromium: dancu's signed redirect → the sandbox gateway's page (its own
process) → "success" → back through dancu's return URL to the receipt; the IPN reached dancu over
HTTP before. See tests/browser.py for the Chromium conventions."""

from __future__ import annotations

from dancu.payments import services
from dancu.payments.models import GatewayMessage, Payment, Status
from tests.browser import BROWSER

pytestmark = BROWSER


def test_the_payer_chooses_success_at_the_gateway_and_sees_the_receipt(
    browser,
    transactional_db,
    live_server,
    gateway_url,
    citizen,
    payer,
    settings,
) -> None:
    settings.DANCU_PAYMENT_RETURN_URL = f"{live_server.url}/payments/return"
    payment, url = services.start_payment(citizen, reference="DC-20260101-000007", amount_vnd=150_000,
                                          payer=payer, return_url="")  # no page of the caller: the receipt
    page = browser.new_context(locale="vi-VN").new_page()
    page.goto(url)
    assert page.get_by_test_id("gw-amount").inner_text() == "150,000 VND"
    page.get_by_test_id("gw-success").click()
    page.wait_for_url(f"{live_server.url}/payments/{payment.txn_ref}/receipt?*")
    assert page.get_by_test_id("payment-status").get_attribute("data-status") == "succeeded"
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    assert page.get_by_test_id("receipt-number").inner_text() == payment.receipt
    assert page.get_by_test_id("payment-amount").inner_text() == "150.000 ₫"
    inbound = GatewayMessage.objects.filter(payment=payment, direction="in")
    assert list(inbound.values_list("kind", flat=True)) == ["ipn", "return"]
    # a forged return in the same browser is refused with the field named, and changes nothing
    page.goto(f"{live_server.url}/payments/return?vnp_TxnRef={payment.txn_ref}&vnp_ResponseCode=00"
              f"&vnp_Amount=100&vnp_SecureHash=00")
    assert page.get_by_test_id("refused-code").get_attribute("data-field") == "vnp_SecureHash"
    assert Payment.objects.get(pk=payment.pk).status == Status.SUCCEEDED
