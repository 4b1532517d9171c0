"""dancu's ``exchange.services.call`` against the real social-insurance stand-in, a process of
its own on a free port: answers verified and logged, replays from the log, retries that resend
the same bytes, an agency down, forged answers refused."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from dancu.audit.models import AuditEvent
from dancu.exchange import protocol
from dancu.exchange.models import ExchangeAttempt, ExchangeMessage
from dancu.exchange.services import AgencyUnavailable, call

pytestmark = pytest.mark.django_db(transaction=True)


def child(personal_id: str = "001226000123", born: dt.date | None = None) -> dict:
    born = born or dt.date.today() - dt.timedelta(days=30)
    return {"personal_id": personal_id, "full_name": "Nguyễn Văn An", "birth_date": born.isoformat(),
            "sex": "M", "province_code": "01", "address": "Số 1 phố Hàng Bạc, Hoàn Kiếm, Hà Nội",
            "guardian_personal_id": "001190000456"}


def issue(actor, body: dict, message_id: str | None = None):
    return call(actor, agency="social_insurance", service="health_card.issue",
                message_id=message_id or str(uuid.uuid4()), body=body, personal_id=body["personal_id"],
                purpose="Cấp thẻ BHYT cho trẻ dưới 6 tuổi (liên thông khai sinh)")


def unique_pid() -> str:
    return f"0012{uuid.uuid4().int % 10**8:08d}"


def test_a_card_is_issued_the_answer_verified_logged_and_audited(social_insurance, flow_actor) -> None:
    pid = unique_pid()
    answer = issue(flow_actor, child(pid))
    card = answer.body["card_number"]
    assert answer.ok and card.startswith("TE101") and len(card) == 15
    born = dt.date.fromisoformat(child(pid)["birth_date"])
    assert answer.body["valid_from"] == born.isoformat()
    assert answer.body["valid_to"] == (born.replace(year=born.year + 6) - dt.timedelta(days=1)).isoformat()
    message = ExchangeMessage.objects.get(message_id=answer.message_id)
    assert (message.status, message.answer_status, message.attempts) == ("answered", "ok", 1)
    assert message.answer_jws == answer.answer_jws and message.personal_id == pid
    payload = protocol.verify(answer.answer_jws, protocol.load_key(social_insurance.public_key))
    assert payload["request_sha256"] == protocol.sha256(message.request_jws)
    assert ExchangeAttempt.objects.filter(message=message, http_status=200).count() == 1
    actions = list(AuditEvent.objects.filter(personal_id=pid).order_by("id").values_list("action", "reason"))
    assert [a for a, _ in actions] == ["exchange.send", "exchange.answer"]
    assert all(reason.startswith("Cấp thẻ BHYT") for _, reason in actions)


def test_a_repeated_call_is_answered_from_the_log_without_http(social_insurance, flow_actor) -> None:
    body = child(unique_pid())
    first = issue(flow_actor, body)
    before = social_insurance.state()["requests_logged"]
    again = issue(flow_actor, body, first.message_id)
    assert again == first
    assert social_insurance.state()["requests_logged"] == before
    assert ExchangeAttempt.objects.filter(message__message_id=first.message_id).count() == 1


def test_agency_down_raises_agency_unavailable_and_logs_the_attempt(social_insurance, flow_actor,
                                                                    settings) -> None:
    from tests.payments.helpers import free_port

    settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL = f"http://127.0.0.1:{free_port()}"
    body, message_id = child(unique_pid()), str(uuid.uuid4())
    for _ in range(2):
        with pytest.raises(AgencyUnavailable) as down:
            issue(flow_actor, body, message_id)
        assert down.value.message_id == message_id and down.value.http_status is None
    message = ExchangeMessage.objects.get(message_id=message_id)
    assert (message.status, message.attempts) == ("failed", 2) and "Connection refused" in message.last_error
    assert ExchangeAttempt.objects.filter(message=message, http_status=None).count() == 2
    sent = message.request_jws
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL = social_insurance.url  # back up: the same bytes
    answer = issue(flow_actor, body, message_id)
    assert answer.ok
    message.refresh_from_db()
    assert message.request_jws == sent and message.attempts == 3 and message.status == "answered"
    assert AuditEvent.objects.filter(action="exchange.send", subject_id=message_id).count() == 1


def test_an_answer_signed_by_another_key_is_refused_and_logged(social_insurance, flow_actor, settings,
                                                              tmp_path) -> None:
    other = tmp_path / "other.public.jwk"
    protocol.load_or_create_key(tmp_path / "other.jwk", other)
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_KEY = other
    body, message_id = child(unique_pid()), str(uuid.uuid4())
    with pytest.raises(AgencyUnavailable) as forged:
        issue(flow_actor, body, message_id)
    assert forged.value.http_status == 200 and "E_SIGNATURE" in forged.value.reason
    message = ExchangeMessage.objects.get(message_id=message_id)
    assert message.status == "failed" and message.answer_jws == ""
    attempt = ExchangeAttempt.objects.get(message=message)
    assert attempt.http_status == 200 and attempt.answer_sha256 and "E_SIGNATURE" in attempt.error
    assert not AuditEvent.objects.filter(action="exchange.answer", subject_id=message_id).exists()
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_KEY = social_insurance.public_key
    first = issue(flow_actor, body, message_id)  # the agency replays its stored answer: now it verifies
    assert first.ok and protocol.sha256(first.answer_jws) == attempt.answer_sha256


def test_a_message_id_cannot_be_reused_for_another_request(social_insurance, flow_actor) -> None:
    from dancu.core.errors import Conflict, DomainError

    body = child(unique_pid())
    first = issue(flow_actor, body)
    with pytest.raises(Conflict) as reused:  # another person
        issue(flow_actor, child(unique_pid()), first.message_id)
    assert reused.value.code == "E_MESSAGE_ID_REUSED"
    with pytest.raises(Conflict):  # another service
        call(flow_actor, agency="social_insurance", service="funeral_allowance.decide",
             message_id=first.message_id, body=body, personal_id=body["personal_id"], purpose="x")
    # the same person's data corrected between two tries: the first request stands
    assert issue(flow_actor, {**body, "full_name": "Nguyễn Văn Ân"}, first.message_id) == first
    for bad in ({"message_id": "not-a-uuid"}, {"agency": "tax"}, {"service": "../x"},
                {"personal_id": "1" * 13},
                {"personal_id": "00122600012\x00"}, {"personal_id": 1}, {"purpose": ""}, {"purpose": "a\x00"},
                {"body": []}, {"body": {"x": "a\x00"}}, {"body": {"x": object()}}):
        with pytest.raises(DomainError):
            call(flow_actor, **{"agency": "social_insurance", "service": "health_card.issue",
                                "message_id": str(uuid.uuid4()), "body": {}, "purpose": "x", **bad})


def test_call_refuses_to_run_inside_a_transaction(social_insurance, flow_actor) -> None:
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError):
        issue(flow_actor, child(unique_pid()))
    assert not ExchangeMessage.objects.exists()


def test_concurrent_calls_of_one_message_store_one_answer_and_the_agency_one_card(
        social_insurance, flow_actor) -> None:
    from tests.parallel import run_parallel

    body, message_id = child(unique_pid()), str(uuid.uuid4())
    before = social_insurance.state()["cards"]
    answers = []
    assert run_parallel(lambda i: answers.append(issue(flow_actor, body, message_id)), 4) == []
    assert len({a.answer_jws for a in answers}) == 1 and len(answers) == 4
    message = ExchangeMessage.objects.get(message_id=message_id)
    assert message.status == "answered" and message.answer_jws == answers[0].answer_jws
    assert social_insurance.state()["cards"] == before + 1
    assert AuditEvent.objects.filter(action="exchange.send", subject_id=message_id).count() == 1
    assert AuditEvent.objects.filter(action="exchange.answer", subject_id=message_id).count() == 1


def test_the_log_shows_a_message_as_proof(social_insurance, flow_actor) -> None:
    import io
    import json

    from django.core.management import call_command

    answer = issue(flow_actor, child(unique_pid()))
    out = io.StringIO()
    call_command("exchange", "show", answer.message_id, stdout=out)
    shown = json.loads(out.getvalue())
    assert shown["answer_jws"] == answer.answer_jws and shown["tries"][0]["http_status"] == 200
    assert shown["request_sha256"] == protocol.sha256(shown["request_jws"])


def test_a_key_is_made_once_without_django(tmp_path) -> None:
    assert protocol.main(["key", str(tmp_path / "k.jwk")]) == 0
    assert (tmp_path / "k.public.jwk").exists()
    assert protocol.main(["key", str(tmp_path / "k.jwk")]) == 1
    assert protocol.main(["nonsense"]) == 2


def test_an_answer_that_is_not_http_is_unavailable_not_a_crash(social_insurance, flow_actor,
                                                               settings) -> None:
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def garbage() -> None:
        for reply in (b"garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", b""):
            conn, _ = server.accept()
            conn.recv(65536)
            conn.sendall(reply)
            conn.close()

    thread = threading.Thread(target=garbage, daemon=True)
    thread.start()
    settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL = f"http://127.0.0.1:{server.getsockname()[1]}"
    body, message_id = child(unique_pid()), str(uuid.uuid4())
    errors = []
    for _ in range(3):
        with pytest.raises(AgencyUnavailable) as bad:
            issue(flow_actor, body, message_id)
        errors.append(bad.value.reason)
    thread.join(timeout=10)
    server.close()
    # Closing with part of the request unread may reset the connection before the client reads
    # the bad reply: either way the call is unavailable, logged, never a crash.
    reset = "ConnectionResetError"
    assert any(k in errors[0] for k in ("BadStatusLine", reset)), errors
    assert any(k in errors[1] for k in ("IncompleteRead", reset)), errors
    assert any(k in errors[2] for k in ("RemoteDisconnected", reset)), errors
    assert ExchangeMessage.objects.get(message_id=message_id).attempts == 3
