"""The exchange log pages: the ministry's administrators and auditors read it; reading a message
(its person's data) is audited; other officers are refused; no exchange, no 5xx."""

from __future__ import annotations

import uuid

import pytest

from dancu.audit.models import AuditEvent
from tests.exchange.test_call import child, issue, unique_pid
from tests.factories import officer_login

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_auditor_reads_the_log_and_a_message_the_read_audited(client, auditor, social_insurance,
                                                                 flow_actor) -> None:
    pid = unique_pid()
    answer = issue(flow_actor, child(pid))
    officer_login(client, auditor)
    page = client.get("/trao-doi/")
    assert page.status_code == 200 and answer.message_id in page.content.decode()
    assert 'data-testid="nav-exchange"' in page.content.decode()
    assert pid not in page.content.decode()  # the list shows no personal data
    # Statuses and the agency in words, not codes (Vietnamese by default).
    assert "Đã trả lời · chấp nhận" in page.content.decode() and "Bảo hiểm xã hội" in page.content.decode()
    assert client.get("/trao-doi/?status=answered").status_code == 200
    assert client.get("/trao-doi/?status=%00x").status_code in (200, 400)
    detail = client.get(f"/trao-doi/{answer.message_id}/")
    text = detail.content.decode()
    assert detail.status_code == 200 and pid in text and answer.body["card_number"] in text
    assert answer.answer_jws in text
    seen = AuditEvent.objects.get(action="exchange.message.view", personal_id=pid)
    assert seen.actor_label == auditor.label and seen.reason
    assert client.get(f"/trao-doi/{uuid.uuid4()}/").status_code == 404
    assert client.get("/trao-doi/not-a-uuid/").status_code == 404


def test_other_officers_are_refused(client, commune_officer) -> None:
    officer_login(client, commune_officer)
    assert client.get("/trao-doi/").status_code == 403
    assert 'data-testid="nav-exchange"' not in client.get("/citizens/").content.decode()
    client.logout()
    assert client.get("/trao-doi/").status_code == 302  # to the sign-in page
