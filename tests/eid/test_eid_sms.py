"""The SMS gateway interface: the production HTTP backend against a stand-in gateway on
localhost (the one outer edge faked), and the development outbox."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dancu.core.errors import DomainError
from dancu.eid import services as eid
from dancu.eid.models import EidApplication, OtpChallenge, SmsMessage
from dancu.eid.sms import SmsError, latest_code, send_sms
from dancu.eid.views.common import start_recovery_without_disclosure
from tests.eid.test_eid_views import _eid_settings  # noqa: F401  (autouse fixture: media in tmp)
from tests.eid_helpers import PNG, level1_account, person


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[dict, str]] = []
    status = 202

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Gateway.received.append((body, self.headers.get("Authorization", "")))
        self.send_response(_Gateway.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def gateway(settings):
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.received, _Gateway.status = [], 202
    settings.DANCU_SMS_BACKEND = "http"
    settings.DANCU_SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/sms"
    settings.DANCU_SMS_HTTP_TOKEN = "gw-secret"
    yield _Gateway
    server.shutdown()
    server.server_close()


def test_http_backend_posts_to_the_gateway_and_records_the_message(db, gateway) -> None:
    message = send_sms("+84912345678", "Mã xác thực dancu của bạn là 123456")
    assert gateway.received == [({"to": "+84912345678", "text": "Mã xác thực dancu của bạn là 123456"},
                                 "Bearer gw-secret")]
    assert (message.backend, message.status) == ("http", "sent")


def test_gateway_failure_is_recorded_and_raised(db, gateway) -> None:
    gateway.status = 503
    with pytest.raises(SmsError):
        send_sms("+84912345678", "x")
    failed = SmsMessage.objects.get()
    assert failed.status == "failed" and "503" in failed.error


def test_outbox_keeps_the_message_and_its_code(db) -> None:
    message = send_sms("+84912000111", "Mã xác thực dancu của bạn là 654321 (Đăng ký tài khoản)")
    assert (message.backend, message.status) == ("outbox", "outbox")
    assert latest_code("+84912000111") == "654321" and latest_code("+84900000000") is None


# ---- a gateway failure inside a service: a clear error, nothing half-done, the failure on record ----

@pytest.fixture
def hoa(geo, commune_officer):
    return person(commune_officer, geo.hac_thanh)  # Nguyễn Thị Hoà, 17/05/1990


def test_a_failed_gateway_leaves_nothing_of_the_registration_but_the_failure(hoa, gateway, tmp_path) -> None:
    gateway.status = 503
    with pytest.raises(DomainError) as err:
        eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                      birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    assert (err.value.code, err.value.field, err.value.status) == ("E_SMS_FAILED", "phone", 503)
    assert not EidApplication.objects.exists() and not OtpChallenge.objects.exists()
    assert not any((tmp_path / "media").rglob("*.png"))  # no portrait kept without its application
    failed = SmsMessage.objects.get()
    assert (failed.to, failed.status) == ("+84912345678", "failed") and "503" in failed.error
    gateway.status = 202  # the gateway is back: the same registration goes through
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                           birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    assert result.challenge is not None and list(SmsMessage.objects.values_list("status", flat=True)
                                                 .order_by("id")) == ["failed", "sent"]


def test_the_api_answers_503_with_the_reason(client, hoa, gateway) -> None:
    gateway.status = 500
    response = client.post("/api/v1/eid/registrations", {
        "personal_id": hoa.personal_id, "full_name": "Nguyễn Thị Hoà", "birth_date": "1990-05-17",
        "phone": "0912345678", "portrait": SimpleUploadedFile("me.png", PNG, content_type="image/png")})
    assert response.status_code == 503
    assert (response.json()["code"], response.json()["field"]) == ("E_SMS_FAILED", "phone")
    assert SmsMessage.objects.get().status == "failed"


def test_recovery_says_nothing_more_when_the_gateway_fails(hoa, gateway) -> None:
    level1_account(hoa)
    gateway.status = 503
    assert start_recovery_without_disclosure(hoa.personal_id, "0912345678") is None
    assert not OtpChallenge.objects.filter(purpose="recovery").exists()
    assert SmsMessage.objects.filter(status="failed").count() == 1
