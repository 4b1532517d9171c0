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
        server.wait(timeout=30)
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
    counts = re.search(r"Cơ sở dữ liệu có ([\d.]+) công dân: ([\d.]+) đang sống ở .+, ([\d.]+) đã mất", out)
    assert counts, out
    total, living, deceased = (int(g.replace(".", "")) for g in counts.groups())
    assert total == 300 and living > 0 and living + deceased <= total
    # Vietnamese only: no raw Python data, no English sentence; and how to serve, since it does not
    assert "{" not in out and not re.search(r"\b(citizens|database|living|deceased|Console)\b", out), out
    assert "Chưa có máy chủ (--no-serve)" in out and "chạy: dancu serve rồi vào http://127.0.0.1:8000/" in out

    again = subprocess.run([*DANCU, "demo", "--no-serve", "--bind", "127.0.0.1:8471"],
                           env=_env(tmp_path, DANCU_LANGUAGE="en"), capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    out = " ".join(again.stdout.split())
    assert "citizens already in" in out and "not generating again" in out
    assert "Officer accounts — password: demo-dancu-2026" in out and "Nationwide" in out
    assert "authenticator app (TOTP)" in out
    assert "run dancu serve --bind 127.0.0.1:8471 and go to http://127.0.0.1:8471/" in out
    # English only: the Vietnamese left are the names of places and people
    assert not re.search(r"công dân|mật khẩu|máy chủ|Toàn quốc|Công an", out), out
    # the ministry's demo account is a ministry officer, not a Django superuser
    code = ("import django; django.setup(); from django.contrib.auth.models import User; "
            "u = User.objects.get(username='demo.bo'); print(u.is_superuser, u.officer.role)")
    who = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=_env(tmp_path, DJANGO_SETTINGS_MODULE="dancu.settings"))
    assert who.stdout.split() == ["False", "ministry_admin"], who.stderr


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
