"""The `dancu` command as a newcomer and an operator use it: real subprocesses."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dancu.exchange import protocol as exchange_protocol

DANCU = [sys.executable, "-m", "dancu.cli"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DANCU_ENV")}
    env.update(DANCU_DATA_DIR=str(tmp_path), **extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_production_mode_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    proc = subprocess.run([*DANCU, "check"], env=_env(tmp_path, DANCU_ENV="production"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "DANCU_SECRET_KEY" in proc.stderr and "DATABASE_URL" in proc.stderr


def test_settings_refuse_weak_password_hashing_and_a_production_without_signing_key(tmp_path: Path) -> None:
    weak = subprocess.run([*DANCU, "check"], env=_env(tmp_path, DANCU_EID_ARGON2_MEMORY_KIB="1024"),
                          capture_output=True, text=True, timeout=60)
    assert weak.returncode != 0 and "OWASP" in weak.stderr
    production = _env(tmp_path, DANCU_ENV="production", DANCU_SECRET_KEY="k" * 40,
                      DANCU_ALLOWED_HOSTS="example.vn", DATABASE_URL=f"sqlite:///{tmp_path}/p.sqlite3",
                      DANCU_OIDC_SUBJECT_SALT="s" * 40, DANCU_PAYMENT_SECRET="p" * 40,
                      DANCU_EXCHANGE_KEY_FILE=str(tmp_path / "x" / "dancu.jwk"),
                      DANCU_AGENCY_SOCIAL_INSURANCE_KEY=str(tmp_path / "x" / "bhxh.public.jwk"))
    exchange_protocol.load_or_create_key(tmp_path / "x" / "dancu.jwk")
    exchange_protocol.load_or_create_key(tmp_path / "x" / "bhxh.jwk", tmp_path / "x" / "bhxh.public.jwk")
    no_key = subprocess.run([*DANCU, "check"], env=production, capture_output=True, text=True, timeout=60)
    assert no_key.returncode != 0 and "dancu oidc keys rotate" in no_key.stderr
    made = subprocess.run([*DANCU, "oidc", "keys", "rotate"], capture_output=True, text=True, timeout=60,
                          env=dict(production, DANCU_OIDC_ALLOW_NO_KEY="1"))
    assert made.returncode == 0, made.stderr
    assert subprocess.run([*DANCU, "check"], env=production, capture_output=True, text=True,
                          timeout=60).returncode == 0
    # dancu's exchange key and the agency's public key are given, never made, in production
    for name in ("DANCU_EXCHANGE_KEY_FILE", "DANCU_AGENCY_SOCIAL_INSURANCE_KEY"):
        for value in ("", str(tmp_path / "missing.jwk")):
            no_file = subprocess.run([*DANCU, "check"], env=dict(production, **{name: value}),
                                     capture_output=True, text=True, timeout=60)
            assert no_file.returncode != 0 and name in no_file.stderr
    assert not (tmp_path / "missing.jwk").exists()
    # The secret of pairwise subject identifiers is one of the secrets production needs.
    for salt in ("", "short"):
        no_salt = subprocess.run([*DANCU, "check"], env=dict(production, DANCU_OIDC_SUBJECT_SALT=salt),
                                 capture_output=True, text=True, timeout=60)
        assert no_salt.returncode != 0 and "DANCU_OIDC_SUBJECT_SALT" in no_salt.stderr
    # So is the payment gateway's shared secret (HMAC-SHA512 of every gateway message).
    for secret in ("", "short"):
        no_secret = subprocess.run([*DANCU, "check"], env=dict(production, DANCU_PAYMENT_SECRET=secret),
                                   capture_output=True, text=True, timeout=60)
        assert no_secret.returncode != 0 and "DANCU_PAYMENT_SECRET" in no_secret.stderr


def test_the_wsgi_module_loads_the_views_and_freezes_what_start_up_made(tmp_path: Path) -> None:
    """What a server worker imports: the URL conf and its views are loaded at start (not on the
    first request), then moved out of the cyclic collector's reach (gc.freeze)."""
    code = ("import gc, sys; before = gc.get_freeze_count(); import dancu.wsgi; "
            "print(before, gc.get_freeze_count(), 'dancu.eid.views.citizen' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    before, frozen, views_loaded = proc.stdout.split()
    assert before == "0" and int(frozen) > 10_000 and views_loaded == "True"


def test_django_commands_pass_through(tmp_path: Path) -> None:
    proc = subprocess.run([*DANCU, "showmigrations", "population"], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "0001_initial" in proc.stdout


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_serve_answers_http(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([*DANCU, "migrate", "-v0"], env=env, check=True, timeout=120)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([*DANCU, "serve", "--bind", f"localhost:{port}", "--workers", "2"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/accounts/login/", timeout=2) as r:
                    assert r.status == 200
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "Đăng nhập" in body, (tmp_path / "serve.log").read_text()
        # a worker that dies is started again, and the server keeps answering
        workers = _children(server.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _children(server.pid)
            if len(now) == 2 and workers[0] not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and workers[0] not in now, (tmp_path / "serve.log").read_text()
        with urllib.request.urlopen(f"http://localhost:{port}/accounts/login/", timeout=5) as r:
            assert r.status == 200
    finally:
        server.terminate()
        server.wait(timeout=90)  # granian drains its workers; slow on a loaded machine
        log.close()


@pytest.mark.parametrize(("argv", "extra", "message"), [
    (["--bind", "8000"], {}, "--bind '8000': expected HOST:PORT"),
    (["--bind", "localhost:http"], {}, "--bind 'localhost:http': expected HOST:PORT"),
    (["--bind", "no-such-host.invalid:8000"], {}, "cannot resolve the host 'no-such-host.invalid'"),
    (["--bind", "unix:"], {}, "expected unix:/path/to/socket"),
    (["--workers", "0"], {}, "--workers 0: must be at least 1"),
    ([], {"DANCU_WORKERS": "many"}, "argument --workers: invalid int value: 'many'"),
    (["--bind", "8000"], {"DANCU_LANGUAGE": ""}, "--bind '8000': cần dạng HOST:PORT"),
    ([], {"DANCU_LANGUAGE": "fr"}, "DANCU_LANGUAGE='fr': expected one of vi, en"),
])
def test_serve_refuses_bad_options_by_name(tmp_path: Path, argv: list[str], extra: dict[str, str],
                                           message: str) -> None:
    """In English with DANCU_LANGUAGE=en, in Vietnamese by default."""
    proc = subprocess.run([*DANCU, "serve", *argv], env=_env(tmp_path, **{"DANCU_LANGUAGE": "en", **extra}),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr


@pytest.mark.parametrize("reuseport", [True, False])
def test_serve_refuses_a_port_already_in_use(tmp_path: Path, reuseport: bool) -> None:
    """granian binds with SO_REUSEPORT: without the check a second server would start on a port
    another one (granian, here a socket with the same option, or any other) listens on."""
    with socket.socket() as taken:
        if reuseport:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([*DANCU, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                              env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"cổng {port} đang được dùng" in proc.stderr and "--bind 127.0.0.1:" in proc.stderr
    assert "phục vụ tại" not in proc.stdout


def test_serve_binds_addresses_host_names_and_unix_sockets() -> None:
    from dancu.core.management.commands.serve import bind_arguments

    assert bind_arguments("[::1]:8000") == {"address": "::1", "port": 8000}
    assert bind_arguments("127.0.0.1:80") == {"address": "127.0.0.1", "port": 80}
    assert bind_arguments("localhost:8000")["address"] in ("127.0.0.1", "::1")
    assert bind_arguments("unix:/run/dancu.sock") == {"uds": Path("/run/dancu.sock")}


@pytest.mark.slow
def test_demo_sets_up_a_province_and_prints_logins_in_one_language(tmp_path: Path) -> None:
    proc = subprocess.run([*DANCU, "demo", "--no-serve", "--size", "300", "--seed", "7"],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    for login in ("demo.xa", "demo.tinh", "demo.bo", "demo.kiemtra", "demo.tuphap", "demo.motcua"):
        assert login in out
    assert "Công dân (e-ID mức 2): số định danh" in out  # a demo citizen with a level-2 e-ID account
    assert "ứng dụng xác thực (TOTP)" in out  # officers enrol their second factor at the first sign-in
    assert "✓ Tổ công tác Đề án 06: http://127.0.0.1:8000/to-cong-tac/" in out  # #14: a working group
    counts = re.search(r"Cơ sở dữ liệu có ([\d.]+) công dân: ([\d.]+) đang sống ở .+, ([\d.]+) đã mất", out)
    assert counts, out
    total, living, deceased = (int(g.replace(".", "")) for g in counts.groups())
    born = _demo_dossiers(tmp_path)["born"]  # a demo birth bundle's first step registered the child
    assert total == 300 + born and born >= 1 and living > 0 and living + deceased <= total
    # Vietnamese only: no raw Python data, no English sentence; and how to serve, since it does not
    assert "{" not in out and not re.search(r"\b(citizens|database|living|deceased|Console)\b", out), out
    assert "Chưa có máy chủ (--no-serve)" in out and "chạy: dancu serve rồi vào http://127.0.0.1:8000/" in out
    # public-service dossiers made once through the services, in the summary and in the KPI tallies
    made = re.search(r"✓ Đã tạo (\d+) hồ sơ dịch vụ công mẫu", out)
    assert made, out
    assert "✓ Chỉ số Đề án 06: http://127.0.0.1:8000/chi-so/" in out
    seed = _demo_dossiers(tmp_path)
    assert seed["dossiers"] == int(made.group(1)) >= 20
    assert {"approved", "refused", "withdrawn", "submitted", "accepted"} <= set(seed["statuses"]), seed
    assert seed["channels"] == ["counter", "online"] and seed["bundles"] >= 2 and seed["rated"] >= 1
    assert seed["steps_done"] >= 1  # a bundle's first step decided: the worker carries it on
    assert seed["results_signed"] == seed["statuses"]["approved"] + seed["steps_done"]
    # the KPI tallies counted every transition (the dossier_event signal), the registry snapshot ran
    assert seed["tally"] == {"submitted": seed["dossiers"], "approved": seed["statuses"]["approved"],
                             "refused": seed["statuses"]["refused"],
                             "withdrawn": seed["statuses"]["withdrawn"]}, seed
    assert seed["registry_rows"] > 0
    # the demo's e-ID citizen is alive (no death bundle about them) and has dossiers to see online
    holder = re.search(r"Công dân \(e-ID mức 2\): số định danh (\d{12})", out)
    assert holder and seed["eid_holder_dossiers"][holder.group(1)] == ["accepted", "approved"], seed
    # the dashboards have a history (docs/demo.md): six months of dossiers made under the demo's
    # clock, some decided late, some fees paid online, e-ID accounts in the demo commune, the
    # registry snapshots taken meanwhile — and the KPI tallies agree with the raw events
    kpi = seed["kpi"]
    assert sum(1 for n in kpi["submitted_by_month"] if n) >= 5, kpi  # this month and the five before
    assert kpi["oldest_submission_days"] > 120, kpi
    assert 0 < kpi["on_time"][0] < kpi["on_time"][1], kpi  # decided on time / decided: some late
    assert 0 < kpi["online_payment"] < 1, kpi  # online and at the counter
    assert 0 < kpi["online_dossiers"] < 1, kpi
    assert kpi["eid_home"] >= 0.3 and kpi["eid_province"] > 0 and kpi["eid_level2_home"] > 0, kpi
    assert kpi["eid_applicants_home"] > kpi["eid_active_home"], kpi  # some applications refused
    assert kpi["eid_trend_home"][0] < kpi["eid_trend_home"][-1], kpi  # the accounts grew month by month
    assert "✓ Sáu tháng qua ở Tỉnh Thanh Hóa:" in out and "trễ hạn" in out, out
    for check in (["kpi", "check"], ["quality", "check", "--province", "38"]):
        agree = subprocess.run([*DANCU, *check], env=_env(tmp_path), capture_output=True, text=True,
                               timeout=300)
        assert agree.returncode == 0, agree.stdout + agree.stderr

    again = subprocess.run([*DANCU, "demo", "--no-serve", "--bind", "127.0.0.1:8471"],
                           env=_env(tmp_path, DANCU_LANGUAGE="en"), capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    out = " ".join(again.stdout.split())
    assert "citizens already in" in out and "not generating again" in out
    assert "Officer accounts — password: demo-dancu-2026" in out and "Nationwide" in out
    assert "authenticator app (TOTP)" in out
    assert "Project 06 working group: http://127.0.0.1:8471/to-cong-tac/" in out  # set up once, shown again
    assert "run dancu serve --bind 127.0.0.1:8471 and go to http://127.0.0.1:8471/" in out
    # the dossiers are not made twice: the same counts, shown again
    assert "sample public-service dossiers" not in out, out
    assert f"Public-service dossiers: {seed['dossiers']} (" in out, out
    assert _demo_dossiers(tmp_path) == seed
    # English only: the Vietnamese left are the names of places and people
    assert not re.search(r"công dân|mật khẩu|máy chủ|Toàn quốc|Công an", out), out
    # the ministry's demo account is a ministry officer, not a Django superuser
    code = ("import django; django.setup(); from django.contrib.auth.models import User; "
            "u = User.objects.get(username='demo.bo'); print(u.is_superuser, u.officer.role)")
    who = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=_env(tmp_path, DJANGO_SETTINGS_MODULE="dancu.settings"))
    assert who.stdout.split() == ["False", "ministry_admin"], who.stderr


def _demo_dossiers(tmp_path: Path) -> dict:
    """What the demo's database holds of dossiers, results and KPI tallies (read in a subprocess)."""
    code = """
import json, django
django.setup()
from django.db.models import Count, Sum
from dancu.documents.models import Document
from dancu.eid.models import EidAccount
from dancu.kpi.models import DossierTally, RegistryTally
from dancu.publicservices.models import Dossier, DossierStep

dossiers = Dossier.objects.all()


def kpi():  # what the province's and the demo commune's dashboards read (kpi.selectors)
    from django.utils import timezone
    from dancu.accounts.models import OfficerProfile
    from dancu.accounts.services import actor_for_profile
    from dancu.kpi.selectors import figures, parse_period, trend

    police = OfficerProfile.objects.get(user__username="demo.tinh")
    actor = actor_for_profile(police, source="system", source_ref="test")
    province, home = police.jurisdiction, OfficerProfile.objects.get(user__username="demo.xa").jurisdiction
    today = timezone.localdate()
    period = parse_period(f"{today - timezone.timedelta(days=200)}..{today}")
    shown, local = figures(actor, unit=province, period=period), figures(actor, unit=home, period=period)
    oldest = dossiers.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    return {
        "submitted_by_month": [p.value for p in trend(actor, unit=province, metric="submitted", count=6)],
        "oldest_submission_days": (timezone.now() - oldest).days,
        "on_time": [shown["on_time"].numerator, shown["on_time"].denominator],
        "online_payment": shown["online_payment"].ratio, "online_dossiers": shown["online_dossiers"].ratio,
        "eid_province": shown["eid_activated"].ratio, "eid_home": local["eid_activated"].ratio,
        "eid_level2_home": local["eid_level2"].ratio, "eid_active_home": local["eid_activated"].numerator,
        "eid_applicants_home": local["eid_applications"].numerator,
        "eid_trend_home": [p.value for p in trend(actor, unit=home, metric="eid_activated", count=6)],
    }


tally = DossierTally.objects.aggregate(*(Sum(f) for f in ("submitted", "approved", "refused", "withdrawn")))
print(json.dumps({
    "dossiers": dossiers.count(),
    "statuses": dict(dossiers.values_list("status").annotate(n=Count("id")).order_by()),
    "channels": sorted(set(dossiers.values_list("channel", flat=True))),
    "bundles": dossiers.exclude(procedure__steps=[]).count(),
    "rated": dossiers.filter(rating__isnull=False).count(),
    "steps_done": DossierStep.objects.filter(status="done", result_document__isnull=False).count(),
    "results_signed": Document.objects.filter(kind="result").count(),
    "tally": {k.removesuffix("__sum"): v for k, v in tally.items()},
    "registry_rows": RegistryTally.objects.count(),
    "born": DossierStep.objects.filter(key="birth_registration", status="done").count(),
    "eid_active": EidAccount.objects.filter(status="active").count(),
    "eid_holder_dossiers": {
        pid: sorted(dossiers.filter(applicant__personal_id=pid).values_list("status", flat=True))
        for pid in dossiers.filter(idempotency_key__startswith="demo-seed-eid")
        .values_list("applicant__personal_id", flat=True)},
    "kpi": kpi(),
}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=_env(tmp_path, DJANGO_SETTINGS_MODULE="dancu.settings"))
    assert proc.returncode == 0, proc.stderr
    import json

    return json.loads(proc.stdout)


@pytest.mark.slow
def test_demo_refuses_a_taken_port_before_setting_up(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([*DANCU, "demo", "--bind", f"127.0.0.1:{port}"], env=_env(tmp_path),
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and f"cổng {port} đang được dùng" in proc.stderr, proc.stderr
    assert "Đã cập nhật" not in proc.stdout
