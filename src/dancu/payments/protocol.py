"""The gateway protocol, in the shape of VNPay's (the gateway most Vietnamese portals use).

Plain functions without Django, shared by dancu's side (``services``) and the sandbox gateway
(``sandbox``): one implementation of the signature, so the two cannot disagree by accident —
the tests also check it against a signature computed independently.

- Every message is a flat set of ``vnp_*`` parameters; amounts in minor units (``vnp_Amount``
  = VND × 100); dates ``yyyyMMddHHmmss`` in Vietnam's time (GMT+7).
- ``vnp_SecureHash`` = hex HMAC-SHA512, keyed with the merchant's secret, over the parameters
  other than ``vnp_SecureHash``/``vnp_SecureHashType``, sorted by name, each ``name=value``
  url-encoded (``quote_plus``) and joined with ``&``. Checked in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote_plus

VERSION = "2.1.0"
HASH_FIELDS_EXCLUDED = frozenset({"vnp_SecureHash", "vnp_SecureHashType"})
VN_TZ = dt.timezone(dt.timedelta(hours=7))

# vnp_ResponseCode / vnp_TransactionStatus of a payment
SUCCESS = "00"
TXN_PENDING = "01"  # querydr: not completed (yet) at the gateway
TXN_FAILED = "02"
CUSTOMER_CANCELLED = "24"
QUERY_NOT_FOUND = "91"
QUERY_BAD_SIGNATURE = "97"

# The merchant's answers to an IPN (RspCode)
RSP_CONFIRMED = "00"
RSP_UNKNOWN_ORDER = "01"
RSP_ALREADY_CONFIRMED = "02"
RSP_WRONG_AMOUNT = "04"
RSP_BAD_SIGNATURE = "97"
RSP_ERROR = "99"
RSP_MESSAGES = {
    RSP_CONFIRMED: "Confirm Success",
    RSP_UNKNOWN_ORDER: "Order not found",
    RSP_ALREADY_CONFIRMED: "Order already confirmed",
    RSP_WRONG_AMOUNT: "Invalid amount",
    RSP_BAD_SIGNATURE: "Invalid signature",
    RSP_ERROR: "Unknown error",
}


def hash_data(params: Mapping[str, object]) -> str:
    """The signed string: sorted ``name=value`` pairs, url-encoded, joined with ``&``."""
    return "&".join(f"{quote_plus(k)}={quote_plus(str(v))}" for k, v in sorted(params.items())
                    if k not in HASH_FIELDS_EXCLUDED and k.startswith("vnp_") and v not in (None, ""))


def signature(params: Mapping[str, object], secret: str) -> str:
    return hmac.new(secret.encode(), hash_data(params).encode(), hashlib.sha512).hexdigest()


def sign(params: Mapping[str, object], secret: str) -> dict[str, str]:
    """The parameters with their ``vnp_SecureHash``."""
    signed = {k: str(v) for k, v in params.items() if k not in HASH_FIELDS_EXCLUDED}
    signed["vnp_SecureHash"] = signature(signed, secret)
    return signed


def verify(params: Mapping[str, object], secret: str) -> bool:
    """Is ``vnp_SecureHash`` the HMAC of the other parameters? Constant-time comparison."""
    given = params.get("vnp_SecureHash")
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(signature(params, secret).encode(), given.strip().lower().encode())


def query_string(params: Mapping[str, object]) -> str:
    """The url-encoded query of signed parameters, in the order signed (hash last)."""
    items = sorted((k, v) for k, v in params.items() if k != "vnp_SecureHash")
    if "vnp_SecureHash" in params:
        items.append(("vnp_SecureHash", params["vnp_SecureHash"]))
    return "&".join(f"{quote_plus(k)}={quote_plus(str(v))}" for k, v in items)


def format_date(when: dt.datetime) -> str:
    """``yyyyMMddHHmmss`` in Vietnam's time."""
    return when.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S")


def parse_date(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ)
    except (TypeError, ValueError):
        return None


def minor_units(amount_vnd: int) -> str:
    """``vnp_Amount``: the amount × 100."""
    return str(amount_vnd * 100)


def parse_amount(text: object) -> int | None:
    """``vnp_Amount`` back to minor units, None when it is not a whole non-negative number."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 20:
        return None
    return int(text)
