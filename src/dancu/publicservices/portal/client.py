"""The portal as a relying party of dancu's own OpenID Connect provider: its registration
(client + agreement) and where its credentials are kept.

``setup_portal`` is idempotent: it registers the client the first time, and afterwards brings
the agreement (purpose, scopes, validity) and the redirect URIs up to date. The secret is
stored only hashed by the provider, so the portal keeps its own copy in
``DATA_DIR/portal-oidc.json`` (mode 0600); if that file is lost or belongs to another client,
the secret is rotated. ``DANCU_PORTAL_CLIENT_ID`` / ``DANCU_PORTAL_CLIENT_SECRET`` in the
environment override the file (a deployment's secret store)."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import get_application_model

from dancu.accounts.actor import Actor
from dancu.oidc import services as oidc

PORTAL_NAME = "Cổng Dịch vụ công dancu"
PORTAL_ORGANISATION = "Bộ Công an — Trung tâm dữ liệu quốc gia về dân cư"
PORTAL_PURPOSE = "Đăng nhập Cổng Dịch vụ công để nộp, theo dõi hồ sơ thủ tục hành chính và nhận kết quả"
# Data minimisation: the ID number (to find the person's record) and the name to greet them.
PORTAL_SCOPES = ["openid", "identity", "profile"]
CALLBACK_PATH = "/dich-vu-cong/dang-nhap/xong/"
HOME_PATH = "/dich-vu-cong/"
VALID_DAYS = 5 * 365


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


def credentials_file() -> Path:
    return Path(settings.DATA_DIR) / "portal-oidc.json"


def credentials() -> Credentials | None:
    """The portal's client credentials: the environment, else the file setup-portal wrote."""
    env_id = os.environ.get("DANCU_PORTAL_CLIENT_ID")
    env_secret = os.environ.get("DANCU_PORTAL_CLIENT_SECRET")
    if env_id and env_secret:
        return Credentials(env_id, env_secret)
    try:
        data = json.loads(credentials_file().read_text())
        return Credentials(str(data["client_id"]), str(data["client_secret"]))
    except (OSError, ValueError, KeyError):
        return None


def _write(creds: Credentials) -> None:
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"client_id": creds.client_id, "client_secret": creds.client_secret}, fh)
    os.replace(tmp, path)


@dataclass(frozen=True)
class SetupResult:
    client_id: str
    created: bool
    secret_rotated: bool
    redirect_uris: list[str]


def setup_portal(actor: Actor, *, base_urls: list[str]) -> SetupResult:
    """Registers or updates the portal's client and agreement (idempotent). ``base_urls``: the
    portal's origins (``https://dichvucong.example.vn``); each gets the callback
    ``/dich-vu-cong/dang-nhap/xong/`` (and the home page as post-logout URI). URIs registered
    earlier are kept, so running it for a second origin adds that one."""
    bases = [b.rstrip("/") for b in base_urls if b.strip()]
    callbacks = [b + CALLBACK_PATH for b in bases]
    homes = [b + HOME_PATH for b in bases]
    Application = get_application_model()
    app = Application.objects.filter(name=PORTAL_NAME).order_by("pk").first()
    valid_until = timezone.now() + dt.timedelta(days=VALID_DAYS)
    if app is None:
        new = oidc.create_client(
            actor, name=PORTAL_NAME, organisation=PORTAL_ORGANISATION, purpose=PORTAL_PURPOSE,
            scopes=PORTAL_SCOPES, redirect_uris=callbacks, post_logout_redirect_uris=homes,
            valid_until=valid_until, contact_name="Trung tâm dữ liệu quốc gia về dân cư",
            contact_email="dichvucong@dancu.example.vn", reference="TT-DVC-01",
        )
        _write(Credentials(new.client_id, new.client_secret))
        return SetupResult(new.client_id, True, False, callbacks)
    known = credentials()
    rotate = known is None or known.client_id != app.client_id
    redirects = list(dict.fromkeys([*app.redirect_uris.split(), *callbacks]))
    logouts = list(dict.fromkeys([*app.post_logout_redirect_uris.split(), *homes]))
    updated = oidc.update_client(
        actor, app.client_id, purpose=PORTAL_PURPOSE, scopes=PORTAL_SCOPES, redirect_uris=redirects,
        post_logout_redirect_uris=logouts, valid_until=valid_until, rotate_secret=rotate,
    )
    if rotate:
        _write(Credentials(updated.client_id, updated.client_secret))
    return SetupResult(app.client_id, False, rotate, redirects)
