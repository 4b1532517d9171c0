"""``dancu agency serve social-insurance``: the social-insurance agency's stand-in
(dancu.agencies.social_insurance), and ``dancu agency participant …`` to give it a person's
contribution history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.agencies import social_insurance
from dancu.exchange import protocol

AGENCIES = ("social-insurance",)


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError("a rate between 0 and 1")
    return rate


def default_db() -> Path:
    return Path(settings.DATA_DIR) / "agencies" / "social-insurance.sqlite3"


class Command(BaseCommand):
    help = (
        "Stand-ins of other agencies' systems (development, tests, benchmarks; never in production): "
        "each its own process, SQLite file and signing key, reached by dancu over signed HTTP messages."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="serve an agency's stand-in")
        serve.add_argument("agency", choices=AGENCIES, help="which agency: %(choices)s")
        serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
        serve.add_argument(
            "--port",
            type=int,
            default=8091,
            help="the port (default 8091, as DANCU_AGENCY_SOCIAL_INSURANCE_URL's default)",
        )
        serve.add_argument(
            "--db", default="", help="its SQLite file (default DATA_DIR/agencies/social-insurance.sqlite3)"
        )
        serve.add_argument(
            "--key-dir",
            default="",
            help="its key directory: private.jwk, public.jwk "
            "(default DATA_DIR/agencies/social-insurance, where dancu's settings look)",
        )
        serve.add_argument(
            "--client-key",
            default="",
            help="dancu's public key (default: beside DANCU_EXCHANGE_KEY_FILE, <name>.public.jwk)",
        )
        serve.add_argument("--delay-ms", type=int, default=0, help="wait this long before each request")
        serve.add_argument(
            "--fail-rate",
            type=_rate,
            default=0.0,
            help="share of requests answered 503 before doing anything",
        )
        serve.add_argument(
            "--lose-answer-rate",
            type=_rate,
            default=0.0,
            help="share of requests processed and committed, then their answer lost (--lose-answer-mode)",
        )
        serve.add_argument(
            "--lose-answer-mode",
            choices=social_insurance.LOSE_MODES,
            default="mixed",
            help="503 after the commit, the connection closed mid-answer (truncate), or either (default)",
        )
        serve.add_argument("--quiet", action="store_true", help="no access log")
        who = sub.add_parser("participant", help="record a person's contribution history at the stand-in")
        who.add_argument("agency", choices=AGENCIES, help="which agency: %(choices)s")
        who.add_argument("personal_id", help="the person's 12-digit personal ID number")
        who.add_argument("months", type=int, help="months of social-insurance contributions")
        who.add_argument("--average-salary", type=int, default=6_000_000, help="VND per month")
        who.add_argument("--db", default="",
                         help="its SQLite file (default DATA_DIR/agencies/social-insurance.sqlite3)")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The agencies' stand-ins do not run with DANCU_ENV=production.")
        db = Path(options["db"] or default_db())
        if options["action"] == "participant":
            try:
                social_insurance.add_participant(
                    db, options["personal_id"], options["months"], options["average_salary"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{options['personal_id']}: {options['months']} months recorded in {db}")
            return
        key_dir = Path(options["key_dir"] or Path(settings.DATA_DIR) / "agencies" / "social-insurance")
        key = protocol.load_or_create_key(key_dir / "private.jwk", key_dir / "public.jwk")
        client_key = Path(
            options["client_key"] or protocol.public_path_for(Path(settings.DANCU_EXCHANGE_KEY_FILE))
        )
        app = social_insurance.SocialInsurance(
            db,
            key,
            client_key,
            delay_ms=max(0, options["delay_ms"]),
            fail_rate=options["fail_rate"],
            lose_answer_rate=options["lose_answer_rate"],
            lose_answer_mode=options["lose_answer_mode"],
        )
        try:
            server = social_insurance.make(app, options["host"], options["port"], quiet=options["quiet"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        self.stdout.write(
            f"Social-insurance stand-in ({social_insurance.MEMBER}) on "
            f"http://{options['host']}:{options['port']}/ (database {db}, public key "
            f"{key_dir / 'public.jwk'}, client key {client_key})"
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
