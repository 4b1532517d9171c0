"""Reads of the exchange log (the proof of what dancu sent and received)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from dancu.audit import services as audit
from dancu.core.errors import NotFound
from dancu.exchange import protocol
from dancu.exchange.models import ExchangeAttempt, ExchangeMessage

if TYPE_CHECKING:
    from dancu.accounts.actor import Actor

# The roles that read the exchange log (national: it spans every area).
LOG_READERS = frozenset({"ministry_admin", "auditor"})
LOG_READ_PURPOSE = "Kiểm tra nhật ký trao đổi thông tin liên thông"


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


def read_message(actor: Actor, message_id: str) -> tuple[ExchangeMessage, dict[str, Any]]:
    """A message of the log for an officer's page, with the request's body as signed; the read
    of the person's data it carries is audited (``exchange.message.view``)."""
    message = get_message(message_id)
    if message is None:
        raise NotFound("E_NOT_FOUND", _("Không có thông điệp này trong nhật ký trao đổi."), "message_id")
    audit.record(actor, "exchange.message.view", subject_type="exchange_message",
                 subject_id=str(message.message_id), personal_id=message.personal_id,
                 reason=LOG_READ_PURPOSE)
    return message, protocol.unverified_payload(message.request_jws)
