"""GET /api/v1/kpi/figures and /kpi/index with officers' tokens: the area applies, bad input is
a 4xx naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from dancu.accounts import auth
from dancu.accounts import services as accounts
from tests.kpi.test_tallies import mixed_workload
from tests.publicservices.conftest import today

pytestmark = pytest.mark.django_db


def _token(username: str, role: str, unit=None) -> dict[str, str]:
    profile = accounts.create_officer(username, None, role, jurisdiction=unit)
    return {"Authorization": f"Bearer {accounts.issue_api_token(profile, 'kpi test')}"}


@pytest.fixture
def client(settings) -> Client:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    auth.token_cache.clear()
    return Client()


def test_figures_and_index_by_api(world, client):
    mixed_workload(world)
    month = f"{today():%Y-%m}"
    commune = _token("svc.kpi.hacthanh", "service", world.geo.hac_thanh)
    resp = client.get("/api/v1/kpi/figures", {"unit": "2025:14758", "period": month}, headers=commune)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    figures = {f["code"]: f for f in body["figures"]}
    assert (figures["online_dossiers"]["numerator"], figures["online_dossiers"]["denominator"]) == (4, 5)
    assert figures["online_dossiers"]["source"] == "events" and body["period"]["kind"] == "month"
    kinds = {code: f["kind"] for code, f in figures.items()}
    assert [kinds[c] for c in ("submitted", "online_dossiers", "rating_average")] == [
        "count", "ratio", "average"]
    resp = client.get("/api/v1/kpi/index", {"unit": "2025:14758", "period": month}, headers=commune)
    assert (
        resp.status_code == 200 and resp.json()["total"] == 79.83 and resp.json()["grade"]["code"] == "good"
    )
    # Beyond the area, bad input, no token.
    resp = client.get("/api/v1/kpi/figures", {"unit": "2025:38", "period": month}, headers=commune)
    assert resp.status_code == 403 and resp.json()["field"] == "unit"
    resp = client.get("/api/v1/kpi/figures", {"period": month}, headers=commune)
    assert resp.status_code == 403
    for params, field in (
        ({"period": "2026-13"}, "period"),
        ({"period": month, "unit": "2025:9"}, "unit"),
        ({"period": month, "unit": "2025:14758", "procedure": "x"}, "procedure"),
        ({}, "period"),
        ({"period": "9" * 40}, "period"),
        ({"period": month, "unit": "2025:" + "1" * 30}, "unit"),
        ({"period": month, "procedure": "1" * 30}, "procedure"),
    ):
        for operation in ("figures", "index"):  # one query schema (kpi.api.ScopeQuery): the same answers
            resp = client.get(f"/api/v1/kpi/{operation}", {"unit": "2025:14758", **params}, headers=commune)
            assert 400 <= resp.status_code < 500, (operation, params, resp.content)
            assert resp.json()["field"] == field, (operation, params, resp.content)
    assert client.get("/api/v1/kpi/figures", {"period": month}).status_code == 401
    nation = _token("svc.kpi.quocgia", "service")
    resp = client.get("/api/v1/kpi/index", {"period": str(today().year)}, headers=nation)
    assert resp.status_code == 200 and resp.json()["unit"] is None
