"""The signature of gateway messages, against a computation written out independently."""

from __future__ import annotations

import hashlib
import hmac

from dancu.payments import protocol

SECRET = "SECRET-KEY-OF-THE-MERCHANT-0123456789"


def test_the_signature_is_hmac_sha512_over_the_sorted_url_encoded_parameters() -> None:
    params = {
        "vnp_TxnRef": "ABC123",
        "vnp_Amount": "5000000",
        "vnp_OrderInfo": "Thanh toan ho so DC-1 & x",
        "vnp_ReturnUrl": "http://127.0.0.1:8000/payments/return",
        "vnp_TmnCode": "DANCU001",
        "vnp_BankCode": "",
        "other": "not signed",
    }
    # Written by hand: sorted names, values url-encoded (space → +), the empty one and non-vnp_ left out.
    data = (
        "vnp_Amount=5000000&vnp_OrderInfo=Thanh+toan+ho+so+DC-1+%26+x&vnp_ReturnUrl=http%3A%2F%2F"
        "127.0.0.1%3A8000%2Fpayments%2Freturn&vnp_TmnCode=DANCU001&vnp_TxnRef=ABC123"
    )
    expected = hmac.new(SECRET.encode(), data.encode(), hashlib.sha512).hexdigest()
    assert protocol.hash_data(params) == data
    signed = protocol.sign(params, SECRET)
    assert signed["vnp_SecureHash"] == expected and len(expected) == 128
    assert protocol.verify(signed, SECRET)
    assert protocol.verify({**signed, "vnp_SecureHash": expected.upper()}, SECRET)  # hex case ignored


def test_any_change_or_another_key_breaks_the_signature() -> None:
    signed = protocol.sign({"vnp_TxnRef": "ABC123", "vnp_Amount": "5000000"}, SECRET)
    assert not protocol.verify({**signed, "vnp_Amount": "500000"}, SECRET)
    assert not protocol.verify({**signed, "vnp_Extra": "1"}, SECRET)
    assert not protocol.verify(signed, SECRET + "x")
    assert not protocol.verify({k: v for k, v in signed.items() if k != "vnp_SecureHash"}, SECRET)
    assert not protocol.verify({**signed, "vnp_SecureHash": ""}, SECRET)
    # the hash type, if a gateway adds it, is not part of the signed data
    assert protocol.verify({**signed, "vnp_SecureHashType": "HmacSHA512"}, SECRET)


def test_amounts_are_in_minor_units_and_dates_in_vietnam_time() -> None:
    import datetime as dt

    assert protocol.minor_units(50_000) == "5000000"
    assert protocol.parse_amount("5000000") == 5_000_000
    assert protocol.parse_amount("-1") is None and protocol.parse_amount("1e5") is None
    assert protocol.parse_amount("５") is None and protocol.parse_amount(None) is None
    when = dt.datetime(2026, 1, 1, 17, 30, tzinfo=dt.UTC)
    assert protocol.format_date(when) == "20260102003000"
    assert protocol.parse_date("20260102003000") == when
    assert protocol.parse_date("garbage") is None
