"""eKYC verification over HTTP with a client-credentials token."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from dancu.audit.models import AuditEvent
from dancu.eid import services as eid
from dancu.oidc.models import Agreement, RateWindow
from dancu.population import services as population
from tests.eid_helpers import level1_account, person
from tests.oidc_helpers import make_client
from tests.parallel import run_parallel

pytestmark = pytest.mark.usefixtures("otp_without_waits")


@pytest.fixture
def hoa(geo, commune_officer):
    return person(commune_officer, geo.hac_thanh)


def _token(client: Client, app) -> str:
    basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    response = client.post(
        "/oidc/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    return response.json()["access_token"]


@pytest.fixture
def bank(client, db):
    app = make_client("ekyc", grant="client-credentials")
    return app, _token(client, app)


def _verify(client: Client, token: str, **body):
    payload = {
        "personal_id": "",
        "full_name": "",
        "birth_date": "1990-05-17",
        "purpose": "Mở tài khoản",
    } | body
    return client.post(
        "/api/v1/ekyc/verify", payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_match_no_match_deceased_and_account_locked(client, bank, hoa, commune_officer) -> None:
    _, token = bank
    ok = _verify(client, token, personal_id=hoa.personal_id, full_name="NGUYỄN THỊ HOÀ")
    assert ok.status_code == 200 and ok.json() == {"result": "match"}
    assert (
        _verify(client, token, personal_id=hoa.personal_id, full_name="Nguyễn Thị Hoa").json()["result"]
        == "no_match"
    )
    assert _verify(client, token, personal_id="038190000001", full_name="X").json()["result"] == "no_match"
    level1_account(hoa)
    eid.suspend_account(commune_officer, hoa.personal_id, reason="Nghi bị chiếm đoạt")
    locked = _verify(client, token, personal_id=hoa.personal_id, full_name=hoa.full_name)
    assert locked.json() == {"result": "account_locked"}
    population.correct_citizen(
        commune_officer,
        hoa.personal_id,
        {"life_status": "deceased", "death_date": "2026-11-01"},
        reason="khai tử",
    )
    assert _verify(client, token, personal_id=hoa.personal_id, full_name=hoa.full_name).json() == {
        "result": "deceased"
    }
    events = AuditEvent.objects.filter(action="ekyc.verify")
    assert events.count() == 5 and all(e.source == "rp" and e.reason == "Mở tài khoản" for e in events)
    assert {e.details["result"] for e in events} == {"match", "no_match", "account_locked", "deceased"}


def test_bad_input_and_missing_or_wrong_tokens(client, bank, hoa) -> None:
    _, token = bank
    bad = _verify(client, token, personal_id="12ab", full_name=hoa.full_name)
    assert bad.status_code == 422 and bad.json()["field"] == "personal_id"
    date = _verify(
        client, token, personal_id=hoa.personal_id, full_name=hoa.full_name, birth_date="1990-02-30"
    )
    assert date.status_code == 422 and date.json()["field"] == "birth_date"
    assert _verify(client, "nope", personal_id=hoa.personal_id, full_name="x").status_code == 401
    # A token without the ekyc scope (a citizen-login client) is refused.
    other = make_client("openid profile")
    assert other.client_id
    Agreement.objects.filter(application__client_id=bank[0].client_id).update(valid_until="2000-01-01T00:00Z")
    assert _verify(client, token, personal_id=hoa.personal_id, full_name="x").status_code == 401


def test_rate_limit_per_client(client, bank, hoa) -> None:
    app, token = bank
    Agreement.objects.filter(application=app.application).update(ekyc_per_minute=3)
    codes = [
        _verify(client, token, personal_id=hoa.personal_id, full_name=hoa.full_name).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = _verify(client, token, personal_id=hoa.personal_id, full_name=hoa.full_name)
    assert limited.json()["code"] == "E_RATE_LIMITED" and 0 < int(limited["Retry-After"]) <= 60
    assert AuditEvent.objects.filter(action="ekyc.verify").count() == 3  # refused calls read nothing


@pytest.mark.django_db(transaction=True)
def test_rate_window_counts_every_concurrent_call_once() -> None:
    """Parallel writers on the same window: the UPSERT loses no increment."""
    from dancu.oidc.ekyc import _count_call

    def work(_i: int) -> None:
        for _ in range(10):
            _count_call("bank-x")

    assert run_parallel(work, 4) == []
    assert sum(RateWindow.objects.filter(client_id="bank-x").values_list("count", flat=True)) == 40
