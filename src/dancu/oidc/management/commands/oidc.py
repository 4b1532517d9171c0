"""``dancu oidc``: relying parties of the authentication service, and its signing keys.

    dancu oidc client create --name NAME --organisation ORG --purpose TEXT --scopes "openid profile"
                             --redirect-uri https://rp/cb [--redirect-uri …] [--public]
                             [--grant authorization-code|client-credentials]
                             --valid-until 2027-12-31 --contact-name N --contact-email E
                             [--contact-phone P] [--reference DOC] [--min-acr 0..4]
                             [--post-logout-uri URI …] [--ekyc-per-minute N]
    dancu oidc client list
    dancu oidc keys list | rotate | retire FILE
    dancu oidc prune        # nightly: expired tokens, past eKYC rate windows, spent contexts

``client create`` prints the client id and (for a confidential client) the secret once; only a
hash of the secret is stored. Audited as actor "cli:oidc". After ``keys rotate`` or ``retire``,
restart the servers: they read the keys at start-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from oauth2_provider.models import get_application_model

from dancu.accounts.actor import system_actor
from dancu.core.errors import DomainError
from dancu.oidc import keys
from dancu.oidc import services as oidc

_ARGUMENT_OF_FIELD = {
    "redirect_uris": "--redirect-uri",
    "scopes": "--scopes",
    "valid_until": "--valid-until",
    "grant_type": "--grant",
    "public": "--public",
    "min_acr_level": "--min-acr",
}


def _date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--valid-until: not a date (YYYY-MM-DD): {value}") from exc
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


class Command(BaseCommand):
    help = "Register relying parties (OAuth/OIDC clients with their agreement); manage signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="area", required=True, metavar="{client,keys,prune}")
        client = sub.add_parser("client", help="relying parties").add_subparsers(dest="action", required=True)
        create = client.add_parser("create", help="register a relying party and its agreement")
        create.add_argument("--name", required=True, help="the service's name, shown to citizens at login")
        create.add_argument("--organisation", required=True, help="its agency, bank or hospital")
        create.add_argument("--purpose", required=True, help="why it needs the data (consent page)")
        create.add_argument("--scopes", required=True, help='space-separated, e.g. "openid identity profile"')
        create.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris",
                            help="an allowed redirect URI after login (repeat for several)")
        create.add_argument("--post-logout-uri", action="append", default=[], dest="post_logout_uris",
                            help="an allowed redirect URI after logout (repeat for several)")
        create.add_argument(
            "--grant", default="authorization-code", choices=["authorization-code", "client-credentials"],
            help="authorization-code (citizens log in; default) or client-credentials (server to server)",
        )
        create.add_argument("--public", action="store_true", help="a public client (mobile/SPA): no secret")
        create.add_argument("--valid-until", required=True, help="last day of the agreement (YYYY-MM-DD)")
        create.add_argument("--contact-name", required=True, help="the relying party's contact person")
        create.add_argument("--contact-email", required=True, help="the contact's e-mail address")
        create.add_argument("--contact-phone", default="", help="the contact's phone number")
        create.add_argument("--reference", default="", help="number of the written agreement")
        create.add_argument("--min-acr", type=int, default=0, help="minimum assurance level (0–4)")
        create.add_argument("--ekyc-per-minute", type=int, default=600,
                            help="eKYC verifications allowed per minute (default 600)")
        create.add_argument("--public-subject", action="store_true",
                            help="the same sub at every relying party (only where the agreement allows it)")
        create.add_argument("--sector-identifier", default="",
                            help="relying parties sharing it see the same pairwise sub")
        create.add_argument("--native", action="store_true",
                            help="an installed app (RFC 8252): any port on its loopback redirect URI")
        client.add_parser("list", help="relying parties and their agreements")
        k = sub.add_parser("keys", help="ID-token signing keys").add_subparsers(dest="action", required=True)
        k.add_parser("list", help="the active signing key and the inactive ones still published")
        k.add_parser("rotate", help="make a new active key; the previous one stays published")
        retire = k.add_parser("retire", help="stop publishing an inactive key")
        retire.add_argument("file", help="the inactive key's file, as dancu oidc keys list names it")
        sub.add_parser("prune", help="delete expired tokens, past eKYC rate windows and spent "
                                     "authentication contexts (run nightly)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["area"] == "prune":
            done = oidc.prune()
            self.stdout.write(f"eKYC rate windows: {done.rate_windows}, code contexts: {done.code_contexts}, "
                              f"ID-token contexts: {done.id_token_contexts} deleted; expired tokens cleared")
            return
        getattr(self, f"_{opts['area']}_{opts['action']}")(opts)

    def _client_create(self, opts: dict[str, Any]) -> None:
        actor = system_actor("cli:oidc", source="system", source_ref="dancu oidc")
        try:
            new = oidc.create_client(
                actor,
                name=opts["name"],
                organisation=opts["organisation"],
                purpose=opts["purpose"],
                scopes=opts["scopes"].split(),
                redirect_uris=opts["redirect_uris"],
                grant_type=opts["grant"],
                public=opts["public"],
                valid_until=_date(opts["valid_until"]),
                contact_name=opts["contact_name"],
                contact_email=opts["contact_email"],
                contact_phone=opts["contact_phone"],
                reference=opts["reference"],
                min_acr_level=opts["min_acr"],
                post_logout_redirect_uris=opts["post_logout_uris"],
                ekyc_per_minute=opts["ekyc_per_minute"],
                subject_type="public" if opts["public_subject"] else "pairwise",
                sector_identifier=opts["sector_identifier"],
                native=opts["native"],
            )
        except DomainError as exc:
            where = _ARGUMENT_OF_FIELD.get(exc.field or "", exc.field or "")
            raise CommandError(f"{where}: {exc.message}" if where else str(exc.message)) from exc
        self.stdout.write(f"client_id: {new.client_id}")
        if new.client_secret:
            self.stdout.write(f"client_secret: {new.client_secret}")
            self.stderr.write("The secret is shown once; only its hash is stored.")

    def _client_list(self, opts: dict[str, Any]) -> None:
        for app in get_application_model().objects.select_related("agreement").order_by("id"):
            agreement = getattr(app, "agreement", None)
            state = "in force" if agreement and agreement.in_force() else "NOT in force"
            until = agreement.valid_until.date().isoformat() if agreement else "-"
            self.stdout.write(
                f"{app.client_id}\t{app.name}\t{app.authorization_grant_type}\t"
                f"{agreement.allowed_scopes if agreement else '-'}\tuntil {until}\t{state}"
            )

    def _keys_list(self, opts: dict[str, Any]) -> None:
        data = keys.listing(settings.DANCU_OIDC_KEY_DIR)
        self.stdout.write(f"active: {data.get('active')}")
        for name in data.get("inactive", []):
            self.stdout.write(f"inactive: {name}")

    def _keys_rotate(self, opts: dict[str, Any]) -> None:
        data = keys.rotate(settings.DANCU_OIDC_KEY_DIR)
        self.stdout.write(f"active: {data['active']}")
        self.stderr.write("Restart the servers to sign with the new key.")

    def _keys_retire(self, opts: dict[str, Any]) -> None:
        try:
            keys.retire(settings.DANCU_OIDC_KEY_DIR, opts["file"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"retired: {opts['file']}")
