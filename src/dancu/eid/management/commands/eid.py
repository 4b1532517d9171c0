"""``dancu eid outbox [--phone P] [--last N]`` — the latest SMS the platform sent, to read
one-time codes in development and demos (with ``DANCU_SMS_BACKEND=outbox`` nothing leaves the
machine). Thin: parses arguments, calls ``eid.selectors.outbox`` (audited), prints."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from dancu.accounts.actor import system_actor
from dancu.core.errors import DomainError
from dancu.eid import selectors, services


class Command(BaseCommand):
    help = "Electronic identification tools: the SMS outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        out = sub.add_parser("outbox", help="Print the latest SMS, newest first.")
        out.add_argument("--phone", default="", help="only messages to this number (0912345678 or +84…)")
        out.add_argument("--last", type=int, default=10, help="how many (1–500, default 10)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["last"] < 1 or opts["last"] > 500:
            raise CommandError("--last must be between 1 and 500")
        try:
            phone = services.clean_phone(opts["phone"]) if opts["phone"] else ""
        except DomainError as err:
            raise CommandError(f"--phone: {err.message}") from err
        actor = system_actor("cli:eid", source="system", source_ref="dancu eid outbox")
        rows = selectors.outbox(actor, phone=phone, last=opts["last"])
        console = Console(file=self.stdout, width=140)
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
