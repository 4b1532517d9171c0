"""dancu's HTTP client of the gateway's server-to-server API (``querydr``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings


class GatewayUnavailable(Exception):
    """The gateway did not answer with a JSON object (unreachable, timed out, an HTTP error)."""


def query_url() -> str:
    return f"{settings.DANCU_PAYMENT_GATEWAY_URL}/merchant_webapi/api/transaction"


def pay_url() -> str:
    return f"{settings.DANCU_PAYMENT_GATEWAY_URL}/paymentv2/vpcpay.html"


def post_json(url: str, body: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=settings.DANCU_PAYMENT_HTTP_TIMEOUT) as resp:  # noqa: S310
            answer = json.loads(resp.read(1_000_000))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise GatewayUnavailable(f"{type(exc).__name__}: {exc}"[:150]) from exc
    if not isinstance(answer, dict):
        raise GatewayUnavailable("the answer is not a JSON object")
    return {str(k): str(v) for k, v in answer.items() if v is not None}
