"""Reads of the exchange log (the proof of what dancu sent and received)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from dancu.exchange.models import ExchangeAttempt, ExchangeMessage


def get_message(message_id: str) -> ExchangeMessage | None:
    try:
        key = uuid.UUID(str(message_id))
    except ValueError:
        return None
    return ExchangeMessage.objects.filter(message_id=key).first()


def attempts_of(message: ExchangeMessage) -> QuerySet[ExchangeAttempt]:
    return message.tries.order_by("id")


def latest_messages(*, agency: str = "", status: str = "", limit: int = 50) -> QuerySet[ExchangeMessage]:
    rows = ExchangeMessage.objects.order_by("-id")
    if agency:
        rows = rows.filter(agency=agency)
    if status:
        rows = rows.filter(status=status)
    return rows[:limit]
