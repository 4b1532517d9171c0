"""``dancu demo``: from nothing to a running province on a laptop.

Creates the database (SQLite by default), migrates, loads the administrative units,
seeds a synthetic province, creates one demo officer per role and a citizen's level-2 e-ID
account, prints the logins and serves the console. Safe to run again: it reuses what is
already there. It speaks one language: Vietnamese, or English with ``DANCU_LANGUAGE=en``
(``dancu.core.language``).
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rich.console import Console
from rich.table import Table

from dancu.accounts import services as accounts
from dancu.accounts.models import OfficerProfile, Role
from dancu.core.language import command_language
from dancu.core.management.commands.serve import default_workers, ensure_free, run_server
from dancu.demo.children import Children, terminated_as_exit
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population.models import Citizen

DEMO_PASSWORD = "demo-dancu-2026"  # noqa: S105 — printed to the user; refused in production


def _port_free(host: str, port: int) -> bool:
    """Nothing listens on ``host:port`` (a connection of an earlier run in TIME_WAIT does not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def number(n: int) -> str:
    """A count as the active language writes it: 20.000 in Vietnamese, 20,000 in English."""
    text = f"{n:,}"
    return text.replace(",", ".") if translation.get_language() == "vi" else text


class Command(BaseCommand):
    help = ("Set up and serve a demo province (development only); "
            "messages in Vietnamese, or English with DANCU_LANGUAGE=en.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", type=int, default=20_000,
                            help="citizens to generate on the first run (default 20000)")
        parser.add_argument("--seed", type=int, default=2026,
                            help="random seed of the synthetic population (same seed, same people)")
        parser.add_argument("--province", default="38", help="2025 province code (38 = Thanh Hóa)")
        parser.add_argument("--bind", default=os.environ.get("DANCU_BIND", "127.0.0.1:8000"),
                            help="HOST:PORT to serve on (default 127.0.0.1:8000, or DANCU_BIND); "
                                 "e.g. --bind 127.0.0.1:8080 for another port")
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="worker processes (default: one per CPU, or DANCU_WORKERS)")
        parser.add_argument("--no-serve", action="store_true",
                            help="set up and print the logins, then exit without serving")
        parser.add_argument("--gateway-port", type=int, default=None,
                            help="port of the sandbox payment gateway started beside the server "
                                 "(default 8090: the port of DANCU_PAYMENT_GATEWAY_URL)")
        parser.add_argument("--agency-port", type=int, default=None,
                            help="port of the social-insurance agency's stand-in started beside the "
                                 "server (default 8091: the port of DANCU_AGENCY_SOCIAL_INSURANCE_URL)")
        parser.add_argument("--verbose", action="store_true",
                            help="print every task the worker runs (default: its warnings and errors only)")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(command_language()):
            self._ports(opts)
            self._set_up(opts)
        if not opts["no_serve"]:
            # background tasks and periodic jobs (docs/tasks.md); the stand-ins of the payment
            # gateway and of the social-insurance agency; all stopped together with the server
            with terminated_as_exit(), Children() as children:
                with translation.override(command_language()):
                    self._beside(children, opts)
                run_server(opts["bind"], opts["workers"], 4)

    def _ports(self, opts: dict[str, Any]) -> None:
        """``--gateway-port`` and ``--agency-port`` move the stand-ins' URLs (their settings and
        environment variables, so that the server and the worker started beside reach them
        there)."""
        for option, setting in (("gateway_port", "DANCU_PAYMENT_GATEWAY_URL"),
                                ("agency_port", "DANCU_AGENCY_SOCIAL_INSURANCE_URL")):
            port = opts[option]
            if port is None:
                continue
            if not 0 < port < 65536:
                raise CommandError(_("--%(name)s %(value)s: cần một cổng từ 1 đến 65535")
                                   % {"name": option.replace("_", "-"), "value": port})
            url = urlsplit(getattr(settings, setting))
            moved = url._replace(netloc=f"{url.hostname or '127.0.0.1'}:{port}").geturl()
            setattr(settings, setting, moved)
            os.environ[setting] = moved

    def _beside(self, children: Children, opts: dict[str, Any]) -> None:
        """The worker, the sandbox payment gateway (docs/payments.md) and the social-insurance
        agency's stand-in (docs/exchange.md) beside the server, so that background tasks, the
        portal's online payment and the interconnected birth and death bundles work in the
        demo. The worker prints only its warnings and errors unless ``--verbose``."""
        console = Console(highlight=False)
        children.start("worker", "--verbosity", "1" if opts["verbose"] else "0")
        console.print(_("✓ Tiến trình nền (dancu worker): chạy bên cạnh máy chủ.") + " " + (
            _("In từng tác vụ (--verbose).") if opts["verbose"]
            else _("Chỉ in cảnh báo và lỗi; --verbose để xem từng tác vụ.")))
        for name, base_url, argv in (
                (_("Cổng thanh toán thử nghiệm"), settings.DANCU_PAYMENT_GATEWAY_URL,
                 ("gateway", "serve", "--ipn-url", f"http://{opts['bind']}/payments/ipn")),
                (_("Hệ thống bảo hiểm xã hội thử nghiệm"), settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL,
                 ("agency", "serve", "social-insurance"))):
            url = urlsplit(base_url)
            if url.hostname not in ("127.0.0.1", "localhost") or not url.port:
                continue
            if not _port_free(url.hostname, url.port):
                console.print(_("%(name)s: cổng %(port)s đã có tiến trình khác dùng; không chạy thêm.")
                              % {"name": name, "port": url.port})
                continue
            children.start(*argv, "--host", url.hostname, "--port", str(url.port), "--quiet")
            console.print(_("✓ %(name)s: %(url)s") % {"name": name, "url": base_url})

    def _set_up(self, opts: dict[str, Any]) -> None:
        if settings.PRODUCTION:
            raise CommandError(_("dancu demo tạo mật khẩu ai cũng biết: không chạy ở chế độ production."))
        if opts["workers"] < 1:
            raise CommandError(_("--%(name)s %(value)s: ít nhất là 1") % {"name": "workers",
                                                                        "value": opts["workers"]})
        if not opts["no_serve"]:
            ensure_free(opts["bind"])  # before minutes of set-up, not after
        console = Console(highlight=False)
        console.print(_("[bold]dancu demo[/] — cơ sở dữ liệu: %(name)s")
                      % {"name": settings.DATABASES["default"]["NAME"]})
        call_command("migrate", interactive=False, verbosity=0)
        console.print(_("✓ Đã cập nhật cấu trúc cơ sở dữ liệu."))
        from dancu.geo.services import load_admin_units

        counts = load_admin_units()
        console.print(_("✓ Đơn vị hành chính: %(units)s đơn vị (trước và sau 2025), %(conversions)s "
                        "dòng chuyển đổi xã cũ → mới.")
                      % {"units": number(counts["units"]), "conversions": number(counts["conversions"])})
        province = AdminUnit.objects.filter(code_system=CodeSystem.V2025, level=Level.PROVINCE,
                                            code=opts["province"]).first()
        if province is None:
            raise CommandError(_("--province %(code)s: không có tỉnh/thành phố (2025) nào mã này.")
                               % {"code": opts["province"]})
        existing = Citizen.objects.filter(current_province=province).count()
        if existing == 0:
            from dancu.population.generator import generate_population

            generate_population(size=opts["size"], seed=opts["seed"], province=province, progress=True)
            console.print(_("✓ Đã tạo dân cư tổng hợp của %(province)s.") % {"province": province.name})
        else:
            console.print(ngettext(
                "✓ Đã có %(n)s công dân ở %(province)s: không tạo thêm.",
                "✓ Đã có %(n)s công dân ở %(province)s: không tạo thêm.", existing)
                % {"n": number(existing), "province": province.name})
        logins = self._officers(province)
        citizen_login = self._eid_account(province)
        # #12: the citizen portal (/dich-vu-cong/) as a relying party of dancu's OIDC provider.
        from dancu.accounts.actor import system_actor
        from dancu.publicservices.portal.client import setup_portal

        port = opts["bind"].rsplit(":", 1)[-1]
        setup_portal(system_actor("demo"), base_urls=[f"http://{opts['bind']}", f"http://localhost:{port}"])
        console.print(_("✓ Cổng Dịch vụ công: http://%(bind)s/dich-vu-cong/") % {"bind": opts["bind"]})
        self._working_group(console, opts["bind"])
        self._dossiers(console, province, opts["bind"], citizen_login)
        self._print(console, province, logins, citizen_login, opts)

    def _officers(self, province: AdminUnit) -> list[tuple[str, str, str]]:
        busiest = (Citizen.objects.filter(current_province=province)
                   .values("current_commune").annotate(n=Count("id")).order_by("-n").first())
        commune = AdminUnit.objects.get(pk=busiest["current_commune"]) if busiest else \
            AdminUnit.objects.filter(province=province, level=Level.COMMUNE).order_by("code").first()
        wanted = [
            ("demo.xa", Role.COMMUNE_POLICE, commune),
            ("demo.tinh", Role.PROVINCE_POLICE, province),
            ("demo.bo", Role.MINISTRY_ADMIN, None),  # a ministry officer, not a Django superuser
            ("demo.kiemtra", Role.AUDITOR, None),
            ("demo.tuphap", Role.COMMUNE_JUSTICE, commune),  # births, deaths, marriages (#12)
            ("demo.motcua", Role.COUNTER, commune),  # the one-stop counter: intake, hand-over (#12)
        ]
        out = []
        User = get_user_model()
        for username, role, unit in wanted:
            profile = OfficerProfile.objects.filter(user__username=username).first()
            if profile is None:
                if User.objects.filter(username=username).exists():
                    raise CommandError(_("Tài khoản %(username)s đã có nhưng không phải cán bộ.")
                                       % {"username": username})
                profile = accounts.create_officer(username, DEMO_PASSWORD, role, jurisdiction=unit,
                                                  display_name=username)
            out.append((username, str(profile.get_role_display()),
                        profile.jurisdiction.name if profile.jurisdiction else _("Toàn quốc")))
        return out

    def _working_group(self, console: Console, bind: str) -> None:
        """#14: the working group of the demo commune (demo.xa its secretary), a plan and tasks in
        each status — once."""
        import datetime as dt

        from django.utils import timezone

        from dancu.accounts.actor import system_actor
        from dancu.workgroups import services as workgroups
        from dancu.workgroups.models import WorkingGroup

        commune = OfficerProfile.objects.get(user__username="demo.xa").jurisdiction
        assert commune is not None  # demo.xa is a commune officer (_officers)
        group = WorkingGroup.objects.filter(unit=commune).first()
        if group is None:
            actor, today = system_actor("demo"), timezone.localdate()
            group = workgroups.create_group(actor, unit=commune, name=f"Tổ công tác Đề án 06 {commune.name}",
                                            decision_ref="Quyết định 125/QĐ-UBND")
            workgroups.save_member(actor, group, full_name="Nguyễn Văn An", role="head",
                                   position="Chủ tịch UBND", agency=commune.name)
            workgroups.save_member(actor, group, full_name="demo.xa", role="secretary",
                                   position="Cán bộ Công an", agency=commune.name, username="demo.xa")
            plan = workgroups.save_plan(actor, group, title=f"Kế hoạch triển khai Đề án 06 năm {today.year}",
                                        year=today.year)
            workgroups.save_task(actor, plan, kind="general", owner_agency="UBND", recurring=True,
                                 title="Tuyên truyền, hướng dẫn kích hoạt tài khoản định danh điện tử")
            workgroups.save_task(actor, plan, kind="specific", owner_agency="Bộ phận một cửa",
                                 title="Tỷ lệ hồ sơ nộp trực tuyến đạt 80%", target_code="online_dossiers",
                                 target_value="80", deadline=dt.date(today.year, 12, 31))
            workgroups.save_task(actor, plan, kind="specific", owner_agency="Công an xã",  # left late
                                 title="Làm sạch dữ liệu dân cư", deadline=today - dt.timedelta(days=5))
            workgroups.mark_done(actor, workgroups.save_task(
                actor, plan, kind="specific", owner_agency="Công an xã", title="Rà soát người từ 14 tuổi",
                deadline=today + dt.timedelta(days=20)), evidence="Biên bản rà soát số 1")
        console.print(_("✓ Tổ công tác Đề án 06: http://%(bind)s/to-cong-tac/%(pk)s/")
                      % {"bind": bind, "pk": group.pk})

    def _dossiers(self, console: Console, province: AdminUnit, bind: str, citizen_login: str | None) -> None:
        """Six months of public-service dossiers and e-ID registrations, and today's, made once
        through the real services (``dancu.demo.seed``); the registry snapshot of the KPIs
        (``kpi.snapshot_registry``) and, after a seed, the province's data-quality tallies
        (``quality.recompute``: the seed's registry changes are dated in the past, where the
        worker's refresh would not look for them), so that the dashboards show it all at once."""
        from dancu.demo.seed import seed_dossiers
        from dancu.kpi.services import snapshot_registry
        from dancu.quality.services import recompute

        started = time.monotonic()
        seeded = seed_dossiers(province, password=DEMO_PASSWORD, eid_citizen=citizen_login,
                               base_url=f"http://{bind}")
        snapshot_registry()
        if seeded.made:
            recompute(province.pk)
        by_status = seeded.by_status
        decided = {name: by_status.get(name, 0) for name in ("approved", "refused", "withdrawn")}
        counts = {"total": number(seeded.dossiers), "online": number(seeded.online),
                  "counter": number(seeded.counter), "open": number(seeded.dossiers - sum(decided.values())),
                  "bundles": number(seeded.bundles), "seconds": f"{time.monotonic() - started:.0f}",
                  **{name: number(n) for name, n in decided.items()}}
        if seeded.made:
            console.print(_("✓ Đã tạo %(total)s hồ sơ dịch vụ công mẫu (%(seconds)s giây).") % counts)
        console.print(_("✓ Hồ sơ dịch vụ công: %(total)s (%(online)s trực tuyến, %(counter)s tại quầy) — "
                        "%(approved)s đã duyệt, %(refused)s từ chối, %(withdrawn)s đã rút, "
                        "%(open)s đang xử lý; %(bundles)s hồ sơ liên thông khai sinh, khai tử.") % counts)
        self._history(console, province)
        console.print(_("✓ Chỉ số Đề án 06: http://%(bind)s/chi-so/   Một cửa: http://%(bind)s/mot-cua/")
                      % {"bind": bind})

    def _history(self, console: Console, province: AdminUnit) -> None:
        """What the dashboards show of the last six months (``kpi.selectors.figures``, read as the
        province police)."""
        from django.utils import timezone

        from dancu.demo.clock import month_starts
        from dancu.demo.seed import MONTHS
        from dancu.kpi.selectors import figures, parse_period

        profile = OfficerProfile.objects.get(user__username="demo.tinh")
        today = timezone.localdate()
        period = parse_period(f"{month_starts(today, MONTHS)[0]}..{today}")
        shown = figures(accounts.actor_for_profile(profile, source="system", source_ref="dancu demo"),
                        unit=province, period=period)

        def percent(code: str) -> str:
            ratio = shown[code].ratio
            return "—" if ratio is None else f"{ratio:.0%}"

        decided, on_time = shown["on_time"].denominator or 0, shown["on_time"].numerator or 0
        console.print(_("✓ Sáu tháng qua ở %(province)s: %(decided)s hồ sơ đã giải quyết, %(late)s trễ hạn "
                        "(đúng hạn %(on_time)s); thanh toán trực tuyến %(online_payment)s; tài khoản định "
                        "danh điện tử: %(eid)s công dân.")
                      % {"province": province.name, "decided": number(decided),
                         "late": number(decided - on_time), "on_time": percent("on_time"),
                         "online_payment": percent("online_payment"),
                         "eid": number(shown["eid_activated"].numerator or 0)})

    def _eid_account(self, province: AdminUnit) -> str | None:
        """A living adult of the busiest commune with a level-2 e-ID account (made through the
        same services as a real registration: registry check, OTP from the outbox, counter)."""
        import datetime as dt

        from dancu.accounts.services import actor_for_profile
        from dancu.eid.models import EidAccount
        from dancu.eid.services.applications import confirm_level1_application, submit_level1_application
        from dancu.eid.services.level2 import enrol_level2
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
        result = submit_level1_application(
            personal_id=person.personal_id, full_name=person.full_name,
            birth_date=dt.date(person.birth_year, person.birth_month or 1, person.birth_day or 1),
            phone="0912000000", portrait=b"\x89PNG\r\n\x1a\n" + bytes(64), channel="web")
        if result.refused or result.challenge is None:
            return None
        code = latest_code(result.challenge.phone) or ""
        confirm_level1_application(result.application.pk, result.challenge.pk, code, DEMO_PASSWORD)
        enrol_level2(actor_for_profile(officer, source="system", source_ref="dancu demo"),
                     person.personal_id, card_checked=True, device_reference="DEMO-ABIS",
                     capture_reference="DEMO-CAPTURE")
        return person.personal_id

    def _print(self, console: Console, province: AdminUnit, logins: list[tuple[str, str, str]],
               citizen_login: str | None, opts: dict[str, Any]) -> None:
        total = Citizen.objects.count()
        living = Citizen.objects.filter(current_province=province, life_status="living").count()
        deceased = Citizen.objects.filter(life_status="deceased").count()
        console.print(ngettext(
            "Cơ sở dữ liệu có %(total)s công dân: %(living)s đang sống ở %(province)s, %(deceased)s đã mất.",
            "Cơ sở dữ liệu có %(total)s công dân: %(living)s đang sống ở %(province)s, %(deceased)s đã mất.",
            total) % {"total": number(total), "living": number(living), "province": province.name,
                      "deceased": number(deceased)})
        table = Table(title=_("Tài khoản cán bộ — mật khẩu: %(password)s") % {"password": DEMO_PASSWORD})
        for col in (_("Tên đăng nhập"), _("Vai trò"), _("Địa bàn")):
            table.add_column(col)
        for row in logins:
            table.add_row(*row)
        console.print(table)
        console.print(_("Lần đăng nhập đầu tiên, mỗi cán bộ quét mã QR bằng một ứng dụng xác thực (TOTP); "
                        "từ đó đăng nhập bằng mật khẩu và mã 6 chữ số của ứng dụng."))
        base = f"http://{opts['bind']}"
        if citizen_login:
            console.print(_("[bold]Công dân (e-ID mức 2):[/] số định danh %(id)s, mật khẩu %(password)s "
                            "— đăng nhập ở %(url)s (mã OTP: dancu eid outbox)")
                          % {"id": citizen_login, "password": DEMO_PASSWORD, "url": f"{base}/eid/login/"})
        pages = {"console": f"{base}/", "api": f"{base}/api/v1/docs"}
        if opts["no_serve"]:
            serve = "dancu serve" + ("" if opts["bind"] == "127.0.0.1:8000" else f" --bind {opts['bind']}")
            console.print(_("Chưa có máy chủ (--no-serve). Để mở bảng điều khiển, chạy: [bold]%(command)s[/] "
                            "rồi vào %(console)s (tài liệu API: %(api)s).") % {"command": serve, **pages})
        else:
            console.print(_("[bold green]Bảng điều khiển:[/] %(console)s   [bold]Tài liệu API:[/] %(api)s   "
                            "(Ctrl+C để dừng)") % pages)
