"""What the benchmark scripts share: a fresh PostgreSQL registry and Django set up on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
