"""``dancu eid outbox [--phone P] [--last N]`` — the latest SMS the platform sent, to read
one-time codes in development and demos (with ``DANCU_SMS_BACKEND=outbox`` nothing leaves the
machine). Thin: parses arguments, calls ``eid.selectors.outbox`` (audited), prints.

``dancu eid rekey`` — after changing ``DANCU_EID_SECRET_KEY`` (the old key listed in
``DANCU_EID_PREVIOUS_SECRET_KEYS``): re-encrypt every stored TOTP seed with the new key
(``eid.services.totp.rekey_totp_seeds``); then the old key can be dropped."""

from __future__ import annotations

from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from dancu.accounts.actor import system_actor
from dancu.core.errors import DomainError
from dancu.eid import selectors
from dancu.eid.services import clean_phone
from dancu.eid.services.totp import rekey_totp_seeds


class Command(BaseCommand):
    help = "Electronic identification tools: the SMS outbox; re-encrypting TOTP seeds after a key change."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        out = sub.add_parser("outbox", help="Print the latest SMS, newest first.")
        out.add_argument("--phone", default="", help="only messages to this number (0912345678 or +84…)")
        out.add_argument("--last", type=int, default=10, help="how many (1–500, default 10)")
        sub.add_parser("rekey", help="Re-encrypt stored TOTP seeds with the current DANCU_EID_SECRET_KEY.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "rekey":
            actor = system_actor("cli:eid", source="system", source_ref="dancu eid rekey")
            done = rekey_totp_seeds(actor)
            self.stdout.write(f"{done} TOTP seed(s) re-encrypted with the current key.")
            return
        if opts["last"] < 1 or opts["last"] > 500:
            raise CommandError("--last must be between 1 and 500")
        try:
            phone = clean_phone(opts["phone"]) if opts["phone"] else ""
        except DomainError as err:
            raise CommandError(f"--phone: {err.message}") from err
        actor = system_actor("cli:eid", source="system", source_ref="dancu eid outbox")
        rows = selectors.outbox(actor, phone=phone, last=opts["last"])
        console = Console(file=cast(TextIO, self.stdout), width=140)  # OutputWrapper: a text stream
        if not rows:
            console.print("No SMS" + (f" to {phone}" if phone else "") + ".")
            return
        table = Table(title="SMS outbox (newest first)")
        for column in ("time", "to", "status", "text"):
            table.add_column(column, overflow="fold")
        for m in rows:
            table.add_row(timezone.localtime(m.created_at).strftime("%d/%m/%Y %H:%M:%S"), m.to,
                          m.status + (f" ({m.error})" if m.error else ""), m.body)
        console.print(table)
