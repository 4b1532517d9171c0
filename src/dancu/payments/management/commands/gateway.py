"""``dancu gateway serve --port P``: the sandbox payment gateway (dancu.payments.sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.payments import sandbox


class Command(BaseCommand):
    help = ("The sandbox payment gateway (development and tests; never in production): its own "
            "process and SQLite file, a page where the tester chooses success, failure, timeout, "
            "late or double notification, the IPN sent to dancu over HTTP, and querydr.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="serve the sandbox gateway")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8090)
        serve.add_argument("--db", default="",
                           help="its SQLite file (default DATA_DIR/payment-gateway.sqlite3)")
        serve.add_argument("--ipn-url", default="",
                           help="dancu's IPN URL (default: the return URL's origin + /payments/ipn)")
        serve.add_argument("--quiet", action="store_true", help="no access log")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The sandbox gateway does not run with DANCU_ENV=production.")
        db = Path(options["db"] or settings.DATA_DIR / "payment-gateway.sqlite3")
        app = sandbox.Sandbox(db, {settings.DANCU_PAYMENT_TMN_CODE: settings.DANCU_PAYMENT_SECRET},
                              ipn_url=options["ipn_url"], http_timeout=settings.DANCU_PAYMENT_HTTP_TIMEOUT)
        try:
            server = sandbox.make(app, options["host"], options["port"], quiet=options["quiet"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        self.stdout.write(f"Sandbox payment gateway on http://{options['host']}:{options['port']}/ "
                          f"(merchant {settings.DANCU_PAYMENT_TMN_CODE}, database {db})", ending="\n")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
