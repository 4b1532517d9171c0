"""The SMS gateway interface: the production HTTP backend against a stand-in gateway on
localhost (the one outer edge faked), and the development outbox."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dancu.eid.models import SmsMessage
from dancu.eid.sms import SmsError, latest_code, send_sms


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
