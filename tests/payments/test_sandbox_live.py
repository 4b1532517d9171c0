"""End to end over real HTTP: dancu under a live server, the sandbox gateway in its own process
(``dancu gateway serve``), the browser played by an HTTP client. Every outcome the tester can
choose at the gateway: success, failure, timeout (no callback → reconciliation), late
notification, double notification; forged and replayed notifications; the receipt."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.payments import protocol, services
from dancu.payments.models import GatewayMessage, Payment, Status
from tests.payments.helpers import answer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def world(transactional_db, live_server, gateway_url, citizen, payer, successes):
    return {
        "dancu": live_server.url,
        "gateway": gateway_url,
        "citizen": citizen,
        "payer": payer,
        "successes": successes,
    }


def go_to_gateway(world, reference="DC-20260101-000042", amount=50_000):
    payment, url = services.start_payment(
        world["citizen"],
        reference=reference,
        amount_vnd=amount,
        payer=world["payer"],
        return_url=world["dancu"] + "/dich-vu-cong/xong",
    )
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200, page.text
    assert "50,000 VND" in page.text and payment.txn_ref in page.text
    txn_no = re.search(r"name='txn' value='(\d+)'", page.text).group(1)
    return payment, browser, txn_no


def choose(world, browser, txn_no, mode, delay="1"):
    return browser.post(
        f"{world['gateway']}/paymentv2/choose",
        data={"txn": txn_no, "mode": mode, "delay": delay},
        allow_redirects=False,
        timeout=30,
    )


def come_back(world, browser, chosen):
    """The browser follows the gateway's redirect to dancu's return URL, then dancu's to the portal."""
    assert chosen.status_code == 302, chosen.text
    back = chosen.headers["Location"]
    assert back.startswith(world["dancu"] + "/payments/return?")
    landed = browser.get(back, allow_redirects=False, timeout=10)
    assert landed.status_code == 302, landed.text
    return landed.headers["Location"]


def inbound(payment):
    return list(
        GatewayMessage.objects.filter(payment=payment, direction="in")
        .order_by("id")
        .values_list("kind", "outcome", "signature_ok")
    )


def test_success_the_ipn_over_http_decides_the_return_confirms_and_the_receipt_shows(world) -> None:
    payment, browser, txn_no = go_to_gateway(world)
    target = come_back(world, browser, choose(world, browser, txn_no, "success"))
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED and payment.gateway_txn == txn_no
    assert target == f"{world['dancu']}/dich-vu-cong/xong?payment={payment.txn_ref}&status=succeeded"
    assert inbound(payment) == [("ipn", "00 succeeded", True), ("return", "02 already succeeded", True)]
    assert world["successes"] == [(payment.pk, True)]
    receipt = browser.get(f"{world['dancu']}/payments/{payment.txn_ref}/receipt", timeout=10)
    assert receipt.status_code == 200 and payment.receipt in receipt.text and "50.000" in receipt.text
    stranger = requests.get(f"{world['dancu']}/payments/{payment.txn_ref}/receipt", timeout=10)
    assert stranger.status_code == 404 and payment.receipt not in stranger.text
    # the IPN as captured, sent again (a replay): confirmed already, nothing changes
    ipn = GatewayMessage.objects.filter(payment=payment, kind="ipn").first().params
    replay = requests.get(f"{world['dancu']}/payments/ipn", params=ipn, timeout=10)
    assert replay.status_code == 200 and replay.json() == {
        "RspCode": "02",
        "Message": "Order already confirmed",
    }
    assert Payment.objects.get(pk=payment.pk).status == Status.SUCCEEDED and len(world["successes"]) == 1


def test_failure_is_recorded_and_the_reference_stays_unpaid(world) -> None:
    payment, browser, txn_no = go_to_gateway(world)
    target = come_back(world, browser, choose(world, browser, txn_no, "failure"))
    payment.refresh_from_db()
    assert payment.status == Status.FAILED and target.endswith("status=failed")
    assert inbound(payment) == [("ipn", "00 failed", True), ("return", "02 already failed", True)]
    assert not world["successes"]
    again, _ = services.start_payment(
        world["citizen"],
        reference=payment.reference,
        amount_vnd=50_000,
        payer=world["payer"],
        return_url=world["dancu"] + "/x",
    )
    assert again.status == Status.PENDING


def test_timeout_without_any_callback_is_found_by_reconciliation(world) -> None:
    payment, browser, txn_no = go_to_gateway(world)
    page = choose(world, browser, txn_no, "timeout")
    assert page.status_code == 200 and "gw-timeout" in page.text
    payment.refresh_from_db()
    assert payment.status == Status.PENDING and inbound(payment) == []
    assert services.reconcile() == {}  # not pending long enough yet
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    assert services.reconcile() == {"succeeded": 1}
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED and payment.gateway_txn == txn_no
    assert world["successes"] == [(payment.pk, True)]
    assert list(
        GatewayMessage.objects.filter(payment=payment, kind="query").values_list("direction", "outcome")
    ) == [("out", "sent"), ("in", "00 succeeded")]
    assert AuditEvent.objects.get(action="payment.succeeded").actor_label == "payments.reconcile"
    assert services.reconcile() == {}  # decided: no longer asked


def test_a_late_notification_decides_a_payment_whose_browser_never_came_back(world) -> None:
    payment, browser, txn_no = go_to_gateway(world)
    page = choose(world, browser, txn_no, "late", delay="1")
    assert page.status_code == 200 and "gw-late" in page.text
    assert Payment.objects.get(pk=payment.pk).status == Status.PENDING
    for _ in range(100):
        if Payment.objects.get(pk=payment.pk).status != Status.PENDING:
            break
        time.sleep(0.1)
    assert Payment.objects.get(pk=payment.pk).status == Status.SUCCEEDED
    assert inbound(payment) == [("ipn", "00 succeeded", True)]
    # the browser follows the gateway's link back afterwards: already confirmed
    back = re.search(r"href='([^']+)' data-testid='gw-return'", page.text).group(1).replace("&amp;", "&")
    assert browser.get(back, allow_redirects=False, timeout=10).status_code == 302
    assert inbound(payment)[-1] == ("return", "02 already succeeded", True)
    assert len(world["successes"]) == 1


def test_a_late_notification_after_reconciliation_changes_nothing(world) -> None:
    payment, browser, txn_no = go_to_gateway(world)
    choose(world, browser, txn_no, "late", delay="2")
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    assert services.reconcile() == {"succeeded": 1}
    for _ in range(100):
        if GatewayMessage.objects.filter(payment=payment, kind="ipn").exists():
            break
        time.sleep(0.1)
    assert inbound(payment)[-1] == ("ipn", "02 already succeeded", True)
    assert len(world["successes"]) == 1


def test_a_double_notification_at_once_records_one_success(world) -> None:
    payment, browser, txn_no = go_to_gateway(world)
    come_back(world, browser, choose(world, browser, txn_no, "double"))
    payment.refresh_from_db()
    assert payment.status == Status.SUCCEEDED
    ipns = sorted(o for k, o, _ in inbound(payment) if k == "ipn")
    assert ipns == ["00 succeeded", "02 already succeeded"]
    assert world["successes"] == [(payment.pk, True)]


def test_an_abandoned_payment_expires_once_the_gateway_says_it_was_never_completed(world) -> None:
    payment, _browser, _txn_no = go_to_gateway(world)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    assert services.reconcile() == {"pending": 1}  # not completed, not expired yet
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=16))
    assert services.reconcile() == {"expired": 1}
    assert Payment.objects.get(pk=payment.pk).status == Status.EXPIRED
    assert AuditEvent.objects.filter(action="payment.expired", subject_id=payment.txn_ref).exists()


def test_an_unreachable_gateway_leaves_the_payment_pending_and_logged(world, settings) -> None:
    payment, _, _ = go_to_gateway(world)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=30))
    settings.DANCU_PAYMENT_GATEWAY_URL = f"http://127.0.0.1:{free_port()}"
    assert services.reconcile() == {"unreachable": 1}
    assert Payment.objects.get(pk=payment.pk).status == Status.PENDING
    last = GatewayMessage.objects.filter(payment=payment, kind="query").last()
    assert last.signature_ok is None and last.outcome.startswith("unreachable")


@pytest.mark.parametrize(
    ("tamper", "code", "field"),
    [
        (lambda p: {**answer(p), "vnp_Amount": "100"}, "97", "vnp_SecureHash"),
        (lambda p: answer(p, vnp_Amount="100"), "04", "vnp_Amount"),
        (lambda p: answer(p, vnp_TxnRef="NOSUCHTXN0000000"), "01", "vnp_TxnRef"),
    ],
)
def test_forged_wrong_and_unknown_notifications_over_http(world, tamper, code, field) -> None:
    payment, _, _ = go_to_gateway(world)
    params = tamper(payment)
    got = requests.get(f"{world['dancu']}/payments/ipn", params=params, timeout=10)
    assert got.status_code == 200 and got.json() == {
        "RspCode": code,
        "Message": protocol.RSP_MESSAGES[code],
        "field": field,
    }
    posted = requests.post(f"{world['dancu']}/payments/ipn", data=params, timeout=10)  # POST form too
    assert posted.status_code == 200 and posted.json()["RspCode"] == code
    page = requests.get(f"{world['dancu']}/payments/return", params=params, allow_redirects=False, timeout=10)
    assert (
        page.status_code == 400
        and f'data-code="{code}"' in page.text
        and f'data-field="{field}"' in page.text
    )
    assert Payment.objects.get(pk=payment.pk).status == Status.PENDING and not world["successes"]
    assert GatewayMessage.objects.filter(direction="in", outcome__startswith=code).count() == 3


def test_the_gateway_refuses_a_forged_payment_request(world) -> None:
    _, url = services.start_payment(
        world["citizen"], reference="DC-9", amount_vnd=10_000, payer=None, return_url=world["dancu"] + "/x"
    )
    params = dict(parse_qsl(urlsplit(url).query))
    params["vnp_Amount"] = "100"  # the payer lowers the amount on the way
    page = requests.get(f"{world['gateway']}/paymentv2/vpcpay.html", params=params, timeout=10)
    assert page.status_code == 400 and "data-code='70'" in page.text


def test_reconciliation_is_a_periodic_job_the_worker_runs(world) -> None:
    from dancu.core.tasks import periodic_jobs
    from dancu.core.worker import run_until_idle

    spec = periodic_jobs()["payments.reconcile"]
    assert spec.every == dt.timedelta(minutes=5)
    payment, browser, txn_no = go_to_gateway(world)
    choose(world, browser, txn_no, "timeout")
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    run_until_idle(periodic=["payments.reconcile"], now=timezone.now() + dt.timedelta(minutes=6))
    assert Payment.objects.get(pk=payment.pk).status == Status.SUCCEEDED
