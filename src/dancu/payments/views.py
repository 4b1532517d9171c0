"""The gateway's callbacks and the receipt page, under /payments/.

- ``ipn``: server to server; answers the gateway's JSON (``RspCode``) with 200, whatever happened
  (a forged or unknown notification is refused by its code, never by a 5xx).
- ``return_view``: the payer's browser, sent back by the gateway with the signed result; dancu
  takes it like the IPN (whichever comes first decides; the other is "already confirmed") and
  sends the browser on to the caller's return URL, or shows why it refused.
- ``receipt``: the payment's receipt, for the browser that paid (its session) or the payer signed
  in with their e-ID.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from dancu.eid import sessions
from dancu.payments import protocol, selectors, services
from dancu.payments.models import Kind

SESSION_KEY = "dancu_payments"  # the txn_refs this browser came back from (its receipts)


def _params(data: QueryDict) -> dict[str, str]:
    """The parameters, each once (a repeated one: its last value, as the signature check sees)."""
    return {key: str(data[key]) for key in data}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ipn(request: HttpRequest) -> HttpResponse:
    data = request.GET if request.method == "GET" else request.POST
    try:
        result = services.handle_callback(_params(data), kind=Kind.IPN)
    except Exception:  # handle_callback never raises; the gateway still gets its JSON if it did
        return JsonResponse({"RspCode": protocol.RSP_ERROR,
                             "Message": protocol.RSP_MESSAGES[protocol.RSP_ERROR]})
    return JsonResponse(result.as_json())


@require_GET
def return_view(request: HttpRequest) -> HttpResponse:
    result = services.handle_callback(_params(request.GET), kind=Kind.RETURN)
    payment = result.payment
    if payment is None or result.code not in (protocol.RSP_CONFIRMED, protocol.RSP_ALREADY_CONFIRMED,
                                              protocol.RSP_ERROR):
        return render(request, "payments/refused.html", {"result": result}, status=400)
    seen = [ref for ref in request.session.get(SESSION_KEY, []) if ref != payment.txn_ref][-19:]
    request.session[SESSION_KEY] = [*seen, payment.txn_ref]
    target = payment.return_url or reverse("payments:receipt", args=[payment.txn_ref])
    parts = urlsplit(target)
    query = [*parse_qsl(parts.query), ("payment", payment.txn_ref), ("status", payment.status)]
    return redirect(urlunsplit(parts._replace(query=urlencode(query))))


@require_GET
def receipt(request: HttpRequest, txn_ref: str) -> HttpResponse:
    payment = selectors.get_payment(txn_ref)
    allowed = payment is not None and txn_ref in request.session.get(SESSION_KEY, [])
    if payment is not None and not allowed and payment.payer_id is not None:
        eid = sessions.current(request)
        allowed = eid is not None and eid.account.citizen_id == payment.payer_id
    if not allowed:
        return render(request, "404.html", status=404)
    return render(request, "payments/receipt.html", {"payment": payment})
