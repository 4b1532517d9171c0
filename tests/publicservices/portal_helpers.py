"""Helpers for the portal's tests: its OIDC client registered, the provider reached through
Django's test client (the same views a real HTTP call reaches), a citizen signed in."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from dancu.accounts.actor import system_actor
from dancu.publicservices.portal import rp
from dancu.publicservices.portal.client import setup_portal
from tests.oidc_helpers import query_of, sign_in


class TestClientTransport:
    """Calls the provider's discovery, JWKS and token views through Django's test client."""

    def __init__(self) -> None:
        self.client = Client()
        self.calls: list[str] = []

    def _path(self, url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else ""), parts.netloc

    def get_json(self, url: str) -> dict[str, Any]:
        path, host = self._path(url)
        self.calls.append(f"GET {path}")
        response = self.client.get(path, HTTP_HOST=host)
        assert response.status_code == 200, response.content[:300]
        return response.json()

    def post_form(self, url: str, data: dict[str, str], auth: tuple[str, str]) -> tuple[int, dict[str, Any]]:
        import base64

        path, host = self._path(url)
        self.calls.append(f"POST {path}")
        basic = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        response = self.client.post(path, data, HTTP_HOST=host, HTTP_AUTHORIZATION=basic)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return response.status_code, body


@pytest.fixture
def portal_rp(db, settings, tmp_path, monkeypatch):
    """The portal registered (credentials in a temporary DATA_DIR) and its transport swapped."""
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("DANCU_PORTAL_CLIENT_ID", raising=False)
    monkeypatch.delenv("DANCU_PORTAL_CLIENT_SECRET", raising=False)
    result = setup_portal(system_actor("test"), base_urls=["http://testserver"])
    transport = TestClientTransport()
    monkeypatch.setattr(rp, "transport", transport)
    rp.clear_cache()
    yield result
    rp.clear_cache()


def portal_sign_in(client: Client, account: Any, *, methods: tuple[str, ...] = ("pwd",),
                   next_url: str = "/dich-vu-cong/", loa: int = 1) -> Any:
    """The citizen signs in to the provider (an e-ID session), then to the portal through the
    whole code flow (consenting if asked); returns the callback's response."""
    sign_in(client, account, methods)
    query = f"?next={next_url}" + (f"&loa={loa}" if loa > 1 else "")
    response = client.get("/dich-vu-cong/dang-nhap/" + query)
    assert response.status_code == 302, response.content[:300]
    authorize = response["Location"]
    response = client.get(authorize)
    if response.status_code == 200 and "form" in (response.context or {}):  # the consent screen
        form = response.context["form"]
        data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
        data["allow"] = "true"
        response = client.post(authorize, data)
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    parts = urlsplit(location)
    if parts.path != "/dich-vu-cong/dang-nhap/xong/":
        return response
    return client.get(parts.path, query_of(location))


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def temporary_residence_form(**overrides: str) -> dict[str, str]:
    """A valid temporary residence application (Đông Sơn, 2025:14797, one year, own home)."""
    import datetime as dt

    from django.utils import timezone

    start = timezone.localdate()
    data = {
        "relation": "self",
        "subject_personal_id": "",
        "data-commune": "2025:14797",
        "data-address": "Số 12, đường Lê Lợi",
        "data-started_on": start.isoformat(),
        "data-expires_on": (start + dt.timedelta(days=365)).isoformat(),
        "data-housing": "own",
        "data-host_personal_id": "",
        "idempotency_key": "k-" + start.isoformat() + "-0001",
    }
    data.update(overrides)
    return data
