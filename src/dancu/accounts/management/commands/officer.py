"""``dancu officer``: officer and service accounts and their API tokens.

    dancu officer create USERNAME --role ROLE [--unit 2025:xxxxx] [--password-stdin|--no-password]
                         [--display-name NAME]
    dancu officer update USERNAME --role ROLE [--unit 2025:xxxxx] [--display-name NAME]
    dancu officer suspend USERNAME | dancu officer reactivate USERNAME
    dancu officer token create USERNAME --name NAME     # prints the token once, on stdout
    dancu officer token revoke ID
    dancu officer list

Every change goes through ``accounts.services`` — the same functions, rules and audit events as
the console's officer screens (source "system", actor "cli:officer", a national ministry
administrator: whoever runs the command on the server has that right).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dancu.accounts import services as accounts
from dancu.accounts.actor import Actor, system_actor
from dancu.accounts.auth import cache_seconds
from dancu.accounts.models import ApiToken, OfficerProfile, Role
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.geo.selectors import find_unit

# DomainError fields of accounts.services → the command-line argument that supplied them.
_ARGUMENT_OF_FIELD = {"role": "--role", "jurisdiction": "--unit", "username": "USERNAME",
                      "name": "--name", "password": "--password-stdin"}

_UNIT_LEVEL_OF_ROLE = {Role.COMMUNE_POLICE: Level.COMMUNE, Role.PROVINCE_POLICE: Level.PROVINCE,
                       Role.COMMUNE_JUSTICE: Level.COMMUNE, Role.COUNTER: Level.COMMUNE}


def _actor() -> Actor:
    return system_actor("cli:officer", source="system", source_ref="dancu officer")


class Command(BaseCommand):
    help = "Create and list officer/service accounts; create and revoke their API tokens."
    # call_command(..., stdin=io.StringIO("password\n")) in tests; sys.stdin otherwise.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="{create,update,suspend,reactivate,token,list}")

        create = sub.add_parser("create", help="create an officer or service account")
        create.add_argument("username", metavar="USERNAME", help="the login name of the new account")
        create.add_argument("--role", required=True, choices=Role.values,
                            help="commune_police and province_police need --unit")
        create.add_argument("--unit", metavar="2025:CODE",
                            help="jurisdiction: a 2025 commune (2025:00097) or province (2025:01)")
        pw = create.add_mutually_exclusive_group()
        pw.add_argument("--password-stdin", action="store_true",
                        help="read the console password from the first line of stdin")
        pw.add_argument("--no-password", action="store_true",
                        help="no console login (service accounts authenticate with tokens)")
        create.add_argument("--display-name", default="", help="name shown in the console")

        update = sub.add_parser("update", help="change an account's role and area")
        update.add_argument("username", metavar="USERNAME", help="the account to change")
        update.add_argument("--role", required=True, choices=Role.values,
                            help="commune_police and province_police need --unit")
        update.add_argument("--unit", metavar="2025:CODE", help="the new jurisdiction")
        update.add_argument("--display-name", default="", help="name shown in the console")
        for name, text in (("suspend", "suspend an account (no sign-in, no API token)"),
                           ("reactivate", "reactivate a suspended account")):
            status = sub.add_parser(name, help=text)
            status.add_argument("username", metavar="USERNAME", help="the account to " + name)

        token = sub.add_parser("token", help="API tokens")
        token_sub = token.add_subparsers(dest="token_action", required=True,
                                         metavar="{create,revoke}")
        token_create = token_sub.add_parser("create", help="issue a token (printed once)")
        token_create.add_argument("username", metavar="USERNAME", help="the account the token acts as")
        token_create.add_argument("--name", required=True, help="what the token is for")
        token_revoke = token_sub.add_parser("revoke", help="revoke a token by its id")
        token_revoke.add_argument("token_id", metavar="ID", type=int,
                                  help="the token's id, as dancu officer list shows it")

        sub.add_parser("list", help="accounts with their tokens")

    def handle(self, *args: Any, **options: Any) -> None:
        action = (options["action"], options.get("token_action"))
        if action[0] == "create":
            self._create(options)
        elif action[0] == "update":
            self._update(options)
        elif action[0] in ("suspend", "reactivate"):
            self._set_active(options["username"], action[0] == "reactivate")
        elif action == ("token", "create"):
            self._token_create(options["username"], options["name"])
        elif action == ("token", "revoke"):
            self._token_revoke(options["token_id"])
        else:
            self._list()

    # ---- create ----------------------------------------------------------------------------

    def _create(self, options: dict[str, Any]) -> None:
        unit = self._unit(options.get("unit"))
        needed = _UNIT_LEVEL_OF_ROLE.get(options["role"])
        if needed and (unit is None or unit.level != needed):
            raise CommandError(f"--unit: role {options['role']} needs a 2025 {needed} "
                               f"(e.g. {'2025:00097' if needed == Level.COMMUNE else '2025:01'})")
        password = self._password(options)
        try:
            profile = accounts.create_officer(options["username"], password, options["role"],
                                              jurisdiction=unit, actor=_actor(),
                                              display_name=options.get("display_name") or "")
        except DomainError as exc:
            raise _command_error(exc) from exc
        area = f"{unit.name} ({unit.qualified_code})" if unit else "national"
        self.stdout.write(self.style.SUCCESS(
            f"Created {profile.user.get_username()}: role {profile.role}, area {area}, "
            f"console login {'enabled' if password else 'disabled'}."))

    def _update(self, options: dict[str, Any]) -> None:
        profile = _profile(options["username"])
        try:
            profile = accounts.update_officer(_actor(), profile.pk, role=options["role"],
                                              jurisdiction=self._unit(options.get("unit")),
                                              display_name=options.get("display_name") or "")
        except DomainError as exc:
            raise _command_error(exc) from exc
        unit = profile.jurisdiction
        self.stdout.write(self.style.SUCCESS(
            f"Updated {profile.user.get_username()}: role {profile.role}, "
            f"area {f'{unit.name} ({unit.qualified_code})' if unit else 'national'}."))

    def _set_active(self, username: str, active: bool) -> None:
        profile = _profile(username)
        try:
            accounts.set_officer_active(_actor(), profile.pk, active)
        except DomainError as exc:
            raise _command_error(exc) from exc
        self.stdout.write(self.style.SUCCESS(
            f"{'Reactivated' if active else 'Suspended'} {username}."
            + ("" if active else f" Running servers refuse its API tokens within {cache_seconds():g} s.")))

    def _unit(self, code: str | None) -> AdminUnit | None:
        if not code:
            return None
        unit = find_unit(code.strip())
        if unit is None:
            raise CommandError(f"--unit: unknown administrative unit {code!r} "
                               "(expected a 2025 code such as 2025:00097 or 2025:01)")
        if unit.code_system != CodeSystem.V2025 or unit.level not in (Level.COMMUNE, Level.PROVINCE):
            raise CommandError(f"--unit: {code!r} is not a commune or province of the 2025 "
                               "system (areas are 2025 units, e.g. 2025:00097 or 2025:01)")
        return unit

    def _password(self, options: dict[str, Any]) -> str | None:
        if options.get("no_password"):
            return None
        if options.get("password_stdin"):
            stream = options.get("stdin") or sys.stdin
            password = stream.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: empty password on stdin")
        elif options["role"] == Role.SERVICE:
            return None  # a service account signs in with tokens only
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("passwords do not match")
        else:
            raise CommandError("give --password-stdin or --no-password (stdin is not a terminal)")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from exc
        return password

    # ---- tokens ----------------------------------------------------------------------------

    def _token_create(self, username: str, name: str) -> None:
        name = name.strip()
        if not name:
            raise CommandError("--name: give the token a name (what it is for)")
        profile = _profile(username)
        if not profile.user.is_active:
            raise CommandError(f"USERNAME: account {username!r} is deactivated")
        token = accounts.issue_api_token(profile, name[:80], actor=_actor())
        row = ApiToken.objects.get(digest=hashlib.sha256(token.encode()).hexdigest())
        self.stderr.write(f"Token {row.pk} ({row.name!r}) for {username}, role {profile.role}. "
                          "Shown once; only its digest is stored:")
        self.stdout.write(token)

    def _token_revoke(self, token_id: int) -> None:
        row = ApiToken.objects.select_related("profile__user").filter(pk=token_id).first()
        if row is None:
            raise CommandError(f"ID: no API token with id {token_id}")
        if row.revoked_at is not None:
            self.stdout.write(f"Token {token_id} was already revoked at {_when(row.revoked_at)}.")
            return
        accounts.revoke_api_token(token_id, actor=_actor())
        self.stdout.write(self.style.SUCCESS(
            f"Revoked token {token_id} ({row.name!r} of {row.profile.user.get_username()}). Running "
            f"servers stop accepting it within {cache_seconds():g} s."))

    # ---- list ------------------------------------------------------------------------------

    def _list(self) -> None:
        profiles = (OfficerProfile.objects.select_related("user", "jurisdiction")
                    .prefetch_related("tokens").order_by("user__username"))
        count = 0
        for p in profiles:
            count += 1
            unit = f"{p.jurisdiction.qualified_code} {p.jurisdiction.name}" if p.jurisdiction else "national"
            state = "" if p.user.is_active else "  [inactive]"
            self.stdout.write(f"{p.user.get_username():<24} {p.role:<16} {unit}{state}")
            for t in sorted(p.tokens.all(), key=lambda t: t.pk):
                used = _when(t.last_used_at) if t.last_used_at else "never"
                status = f"revoked {_when(t.revoked_at)}" if t.revoked_at else "active"
                self.stdout.write(f"    token {t.pk:<6} {t.prefix}…  {t.name!r}  {status}, "
                                  f"created {_when(t.created_at)}, last used {used}")
        if not count:
            self.stdout.write("No officer accounts.")


def _profile(username: str) -> OfficerProfile:
    profile = (OfficerProfile.objects.select_related("user", "jurisdiction")
               .filter(user__username=username).first())
    if profile is None:
        raise CommandError(f"USERNAME: no officer account {username!r}")
    return profile


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _command_error(exc: DomainError) -> CommandError:
    parts = [f"{_ARGUMENT_OF_FIELD.get(e.field or '', e.field or 'error')}: {e.message} ({e.code})"
             for e in exc.errors]
    return CommandError("; ".join(parts))
