"""``dancu demo``: from nothing to a running province on a laptop.

Creates the database (SQLite by default), migrates, loads the administrative units,
seeds a synthetic province, creates one demo officer per role, prints the logins and
serves the console. Safe to run again: it reuses what is already there.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from rich.console import Console
from rich.table import Table

from dancu.accounts import services as accounts
from dancu.accounts.models import OfficerProfile, Role
from dancu.core.management.commands.serve import default_workers, run_server
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population.models import Citizen

DEMO_PASSWORD = "demo-dancu-2026"  # noqa: S105 — printed to the user; refused in production


class Command(BaseCommand):
    help = "Set up and serve a demo province (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", type=int, default=20_000, help="citizens to generate")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--province", default="38", help="2025 province code (38 = Thanh Hóa)")
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=default_workers())
        parser.add_argument("--no-serve", action="store_true", help="set up, print logins, exit")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("dancu demo creates known passwords: not in production mode")
        console = Console()
        console.print(f"[bold]dancu demo[/] — database: {settings.DATABASES['default']['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        console.print("✓ database migrated")
        from dancu.geo.services import load_admin_units

        counts = load_admin_units()
        console.print(f"✓ administrative units: {counts}")
        province = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE,
                                            code=opts["province"]).first()
        if province is None:
            raise CommandError(f"--province {opts['province']}: no 2025 province with that code")
        existing = Citizen.objects.filter(current_province=province).count()
        if existing == 0:
            from dancu.population.generator import generate_population

            generate_population(size=opts["size"], seed=opts["seed"], province=province, progress=True)
        else:
            console.print(f"✓ {existing:,} citizens already in {province.name}: not generating again")
        logins = self._officers(province)
        citizen_login = self._eid_account(province)
        self._print(console, province, logins, opts["bind"])
        if citizen_login:
            console.print(f"[bold]e-ID (công dân):[/] http://{opts['bind']}/eid/login/ — số định danh "
                          f"{citizen_login}, mật khẩu {DEMO_PASSWORD} (tài khoản mức 2; mã OTP: "
                          "`dancu eid outbox`)")
        if not opts["no_serve"]:
            run_server(opts["bind"], opts["workers"], 4)

    def _officers(self, province: AdminUnit) -> list[tuple[str, str, str]]:
        busiest = (Citizen.objects.filter(current_province=province)
                   .values("current_commune").annotate(n=Count("id")).order_by("-n").first())
        commune = AdminUnit.objects.get(pk=busiest["current_commune"]) if busiest else \
            AdminUnit.objects.filter(province=province, level=Level.COMMUNE).order_by("code").first()
        wanted = [
            ("demo.xa", Role.COMMUNE_POLICE, commune),
            ("demo.tinh", Role.PROVINCE_POLICE, province),
            ("demo.bo", Role.MINISTRY_ADMIN, None),
            ("demo.kiemtra", Role.AUDITOR, None),
        ]
        out = []
        User = get_user_model()
        for username, role, unit in wanted:
            profile = OfficerProfile.objects.filter(user__username=username).first()
            if profile is None:
                if User.objects.filter(username=username).exists():
                    raise CommandError(f"user {username} exists without an officer profile")
                profile = accounts.create_officer(username, DEMO_PASSWORD, role, jurisdiction=unit,
                                                  display_name=username, is_staff=role == Role.MINISTRY_ADMIN)
            out.append((username, profile.get_role_display(),
                        profile.jurisdiction.name if profile.jurisdiction else "Toàn quốc"))
        return out

    def _eid_account(self, province: AdminUnit) -> str | None:
        """A living adult of the busiest commune with a level-2 e-ID account (made through the
        same services as a real registration: registry check, OTP from the outbox, counter)."""
        import datetime as dt

        from dancu.accounts.services import actor_for_profile
        from dancu.eid import services as eid
        from dancu.eid.models import EidAccount
        from dancu.eid.sms import latest_code

        existing = EidAccount.objects.filter(citizen__current_province=province).first()
        if existing is not None:
            return existing.personal_id
        officer = OfficerProfile.objects.filter(user__username="demo.xa").first()
        if officer is None or officer.jurisdiction is None:
            return None
        person = (Citizen.objects.filter(current_commune=officer.jurisdiction, life_status="living",
                                         birth_day__isnull=False, birth_year__lte=2000)
                  .order_by("personal_id").first())
        if person is None:
            return None
        result = eid.submit_level1_application(
            personal_id=person.personal_id, full_name=person.full_name,
            birth_date=dt.date(person.birth_year, person.birth_month or 1, person.birth_day or 1),
            phone="0912000000", portrait=b"\x89PNG\r\n\x1a\n" + bytes(64), channel="web")
        if result.refused or result.challenge is None:
            return None
        code = latest_code(result.challenge.phone) or ""
        eid.confirm_level1_application(result.application.pk, result.challenge.pk, code, DEMO_PASSWORD)
        eid.enrol_level2(actor_for_profile(officer, source="system", source_ref="dancu demo"),
                         person.personal_id, card_checked=True, device_reference="DEMO-ABIS",
                         capture_reference="DEMO-CAPTURE")
        return person.personal_id

    def _print(self, console: Console, province: AdminUnit, logins: list[tuple[str, str, str]],
               bind: str) -> None:
        table = Table(title=f"Tài khoản demo — mật khẩu: {DEMO_PASSWORD}")
        for col in ("Tên đăng nhập", "Vai trò", "Địa bàn"):
            table.add_column(col)
        for row in logins:
            table.add_row(*row)
        console.print(table)
        total = Citizen.objects.count()
        living = Citizen.objects.filter(current_province=province, life_status="living").count()
        deceased = Citizen.objects.filter(life_status="deceased").count()
        console.print(f"{total:,} citizens in the registry: {living:,} living in {province.name}, "
                      f"{deceased:,} deceased.")
        console.print(f"[bold green]Console:[/] http://{bind}/   [bold]API docs:[/] http://{bind}/api/v1/docs")
