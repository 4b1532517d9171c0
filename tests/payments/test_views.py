"""The pages under /payments/ through Django's test client: the receipt's access rule, and the
answers' shape whatever arrives."""

from __future__ import annotations

from django.utils import timezone

from dancu.eid import sessions
from dancu.payments import services
from dancu.payments.models import GatewayMessage, Payment, Status
from tests.eid_helpers import level1_account
from tests.payments.helpers import answer


def _paid(citizen, payer) -> Payment:
    payment, _ = services.start_payment(citizen, reference="DC-77", amount_vnd=25_000, payer=payer,
                                        return_url="http://testserver/dich-vu-cong/")
    assert services.handle_callback(answer(payment), kind="ipn").code == "00"
    payment.refresh_from_db()
    return payment


def _sign_in(client, account) -> None:
    client.force_login(account.user, backend=sessions.BACKEND)
    session = client.session
    session[sessions.SESSION_KEY] = {"account": account.pk, "methods": ["pwd"],
                                     "auth_time": int(timezone.now().timestamp())}
    session.save()


def test_the_receipt_opens_to_the_payer_signed_in_and_to_no_one_else(client, citizen, payer, geo,
                                                                     commune_officer) -> None:
    payment = _paid(citizen, payer)
    url = f"/payments/{payment.txn_ref}/receipt"
    assert client.get(url).status_code == 404
    _sign_in(client, level1_account(payer))
    page = client.get(url)
    assert page.status_code == 200 and payment.receipt in page.content.decode()
    assert payer.full_name in page.content.decode()
    from tests.eid_helpers import person

    other = person(commune_officer, geo.hac_thanh, full_name="Trần Văn Nam", birth_date="1985-02-03")
    client.logout()
    _sign_in(client, level1_account(other, phone="0987654321"))
    assert client.get(url).status_code == 404
    assert client.get("/payments/NOSUCHTXN/receipt").status_code == 404


def test_the_return_remembers_the_payment_for_this_browser_and_keeps_the_callers_query(client, citizen,
                                                                                       payer) -> None:
    payment, _ = services.start_payment(citizen, reference="DC-78", amount_vnd=25_000, payer=payer,
                                        return_url="http://testserver/dich-vu-cong/ho-so?tab=phi")
    back = client.get("/payments/return", answer(payment))
    assert back.status_code == 302
    assert back["Location"] == (f"http://testserver/dich-vu-cong/ho-so?tab=phi&payment={payment.txn_ref}"
                                "&status=succeeded")
    assert client.get(f"/payments/{payment.txn_ref}/receipt").status_code == 200
    assert Payment.objects.get(pk=payment.pk).status == Status.SUCCEEDED


def test_whatever_reaches_the_ipn_gets_a_json_answer_never_a_5xx(client, citizen, payer) -> None:
    payment, _ = services.start_payment(citizen, reference="DC-79", amount_vnd=25_000, payer=None,
                                        return_url="http://testserver/x")
    for params in ({}, {"vnp_TxnRef": "x" * 5000}, {"vnp_SecureHash": "zz", "vnp_Amount": "-1"},
                   {**answer(payment), "vnp_Amount": "9" * 40}):
        got = client.get("/payments/ipn", params)
        assert got.status_code == 200
        assert (got.json()["RspCode"], got.json()["field"]) == ("97", "vnp_SecureHash")
    wrong = client.get("/payments/ipn", answer(payment, vnp_Amount="9" * 40))
    assert wrong.json() == {"RspCode": "04", "Message": "Invalid amount", "field": "vnp_Amount"}
    assert client.put("/payments/ipn").status_code == 405
    assert client.get("/payments/return", {}).status_code == 400
    assert GatewayMessage.objects.filter(direction="in").count() == 6
