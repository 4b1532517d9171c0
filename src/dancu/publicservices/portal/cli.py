"""``dancu publicservices setup-portal``: the portal's subcommand (the command module adds it)."""

from __future__ import annotations

import os
from argparse import _SubParsersAction
from typing import Any

from django.core.management.base import CommandError

from dancu.accounts.actor import system_actor
from dancu.core.errors import DomainError
from dancu.publicservices.portal.client import credentials_file, setup_portal


def add_parser(sub: _SubParsersAction) -> None:
    parser = sub.add_parser("setup-portal", help="register or update the portal's OIDC client and agreement")
    parser.add_argument("--base-url", action="append", default=[],
                        help="the portal's origin, e.g. https://dichvucong.example.vn (repeatable); "
                             "default DANCU_PORTAL_URL or http://127.0.0.1:8000")


def handle(options: dict[str, Any], write: Any) -> None:
    bases = options.get("base_url") or [os.environ.get("DANCU_PORTAL_URL", "http://127.0.0.1:8000")]
    try:
        result = setup_portal(system_actor("cli:publicservices"), base_urls=bases)
    except DomainError as exc:
        raise CommandError(f"{exc.field or ''}: {exc.message}") from exc
    write(f"client_id: {result.client_id}")
    done = "updated; secret rotated" if result.secret_rotated else "updated"
    write("created" if result.created else done)
    write(f"redirect URIs: {' '.join(result.redirect_uris)}")
    write(f"credentials: {credentials_file()}")
