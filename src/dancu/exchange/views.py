"""The exchange log for the ministry's administrators and auditors: the latest messages (no
personal data) and one message with its request, answer and tries (audited as a read)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dancu.accounts.views import not_found, officer_required
from dancu.core.errors import NotFound
from dancu.exchange import selectors
from dancu.exchange.models import MessageStatus


@officer_required(roles=selectors.LOG_READERS)
def log(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in MessageStatus.values:
        status = ""
    return render(request, "exchange/log.html", {
        "messages_": selectors.latest_messages(status=status, limit=100), "status": status,
        "statuses": MessageStatus.choices})


@officer_required(roles=selectors.LOG_READERS)
def message(request: HttpRequest, message_id: str) -> HttpResponse:
    try:
        found, request_payload = selectors.read_message(request.actor, message_id)  # type: ignore[attr-defined]
    except NotFound as err:
        return not_found(request, err.message)
    return render(request, "exchange/message.html", {
        "message": found, "request_body": _pretty(request_payload.get("body")),
        "answer_body": _pretty(found.answer_body) if found.answer_body is not None else "",
        "tries": selectors.attempts_of(found)})


def _pretty(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
