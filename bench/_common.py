"""What the benchmark scripts share: a fresh PostgreSQL registry, Django set up on it, and the
timer (wall p50/p95 and CPU per call)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], n: int) -> dict[str, float]:
    """Wall p50/p95 (ms) and this process's CPU (ms) per call over ``n`` calls (one warm-up)."""
    fn()
    walls, cpus = [], []
    for _ in range(n):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    walls.sort()
    return {"p50": statistics.median(walls), "p95": walls[max(0, round(0.95 * n) - 1)],
            "cpu": statistics.mean(cpus), "n": n}


def prepare_registry(url: str, size: int, reuse: bool) -> None:
    """Drop and re-create the database named in ``url`` and fill it with ``size`` synthetic
    citizens (seed 1); with ``reuse``, use it as it is."""
    if reuse:
        return
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([sys.executable, "-m", "dancu.cli", "migrate", "-v0"], env=env, check=True)
    subprocess.run([sys.executable, "-m", "dancu.cli", "population", "generate", "--size", str(size),
                    "--seed", "1", "--no-progress"], env=env, check=True)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()


# Citizens as the e-ID app signs them in, for the ``publicservices`` API: a level-1 e-ID
# account (bench only: the OTP read from the SMS outbox) and an access token of scope
# ``publicservices`` minted directly (the code flow is bench_auth's subject). A snippet for
# ``dancu shell -c``: it defines ``citizen_token(citizen, n) -> str | None`` (None: the account
# was refused, e.g. a minor) — the caller chooses the citizens and prints what it needs.
CITIZEN_TOKENS = r'''
import datetime as dt, json, secrets
from django.conf import settings
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from dancu.core.errors import DomainError
from dancu.eid.models import EidAccount
from dancu.population.models import Citizen
from tests.eid_helpers import level1_account
from tests.oidc_helpers import make_client

settings.DANCU_OTP_RESEND_SECONDS = 0
app = make_client("openid publicservices").application


def citizen_token(citizen, n):
    account = EidAccount.objects.filter(citizen=citizen).first()
    if account is None:
        try:  # one phone number a citizen (the OTP's hourly limit is per number)
            account = level1_account(citizen, phone=f"09{citizen.pk % 10**8:08d}")
        except (AssertionError, DomainError):
            return None
    raw = secrets.token_urlsafe(32)
    get_access_token_model().objects.create(
        user=account.user, application=app, token=raw, scope="openid publicservices",
        expires=timezone.now() + dt.timedelta(hours=2))
    return raw
'''
