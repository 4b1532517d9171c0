"""``dancu exchange show MESSAGE_ID``: a message as logged — the request and the answer exactly as
signed, and every try (the proof of what dancu sent and received). dancu's key itself is made
without Django: ``python -m dancu.exchange.protocol key PATH`` (docs/exchange.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.exchange import selectors


class Command(BaseCommand):
    help = "dancu's exchange with other agencies: show a logged message (request, answer, tries)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="a logged message: request, answer, tries (JSON)")
        show.add_argument("message_id", help="the message id (UUID) of the exchange")

    def handle(self, *args: Any, **options: Any) -> None:
        message = selectors.get_message(options["message_id"])
        if message is None:
            raise CommandError("No such message in the exchange log.")
        self.stdout.write(json.dumps({
            "message_id": str(message.message_id), "agency": message.agency, "service": message.service,
            "personal_id": message.personal_id, "purpose": message.purpose, "status": message.status,
            "request_jws": message.request_jws, "request_sha256": message.request_sha256,
            "answer_status": message.answer_status, "answer_body": message.answer_body,
            "answer_jws": message.answer_jws,
            "answered_at": message.answered_at.isoformat() if message.answered_at else None,
            "tries": [{"at": t.at.isoformat(), "http_status": t.http_status, "error": t.error,
                       "answer_sha256": t.answer_sha256} for t in selectors.attempts_of(message)],
        }, ensure_ascii=False, indent=1))
