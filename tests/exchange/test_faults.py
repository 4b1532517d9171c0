"""The stand-in's faults, each in a process of its own: unavailable (503 before doing anything),
the answer lost after the work was committed ("did it happen?"), slow past dancu's timeout, and
kill -9 in the middle of requests. Whatever happens, a retry with the same message id gets the
one card, and the agency's database holds each message entirely or not at all."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid

import pytest

from dancu.exchange.models import ExchangeAttempt, ExchangeMessage
from dancu.exchange.services import AgencyUnavailable
from tests.exchange.helpers import point_dancu_at, running_agency
from tests.exchange.test_call import child, issue, unique_pid

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_unavailable_then_up_the_retry_gets_the_card(tmp_path, settings, flow_actor) -> None:
    with running_agency(tmp_path / "si", "--fail-rate", "1") as agency:
        point_dancu_at(agency, settings)
        body, message_id = child(unique_pid()), str(uuid.uuid4())
        with pytest.raises(AgencyUnavailable) as down:
            issue(flow_actor, body, message_id)
        assert down.value.http_status == 503
        assert agency.state()["messages"] == 0 and agency.state()["faults"] == 1
        agency.restart()
        assert issue(flow_actor, body, message_id).ok
        assert agency.state()["cards"] == 1


@pytest.mark.parametrize("mode", ["503", "truncate"])
def test_a_lost_answer_the_retry_gets_the_same_card_not_a_second(tmp_path, settings, flow_actor,
                                                                  mode) -> None:
    with running_agency(tmp_path / "si", "--lose-answer-rate", "1", "--lose-answer-mode", mode) as agency:
        point_dancu_at(agency, settings)
        body, message_id = child(unique_pid()), str(uuid.uuid4())
        for _ in range(2):
            with pytest.raises(AgencyUnavailable):
                issue(flow_actor, body, message_id)
        state = agency.state()
        assert (state["cards"], state["messages"], state["replays"]) == (1, 1, 1)  # done once, replayed once
        assert state["faults"] == 2
        agency.restart()
        answer = issue(flow_actor, body, message_id)
        stored = (
            sqlite3.connect(agency.db)
            .execute("SELECT answer_jws FROM message WHERE message_id = ?", (message_id,))
            .fetchone()[0]
        )
        assert answer.answer_jws == stored and agency.state()["cards"] == 1
        tries = list(ExchangeAttempt.objects.filter(message__message_id=message_id).order_by("id"))
        assert [bool(t.error) for t in tries] == [True, True, False] and tries[-1].http_status == 200
        if mode == "503":
            assert [t.http_status for t in tries[:2]] == [503, 503]
        else:
            assert all(t.http_status == 200 and "IncompleteRead" in t.error for t in tries[:2])


def test_slower_than_the_timeout_is_unavailable_then_answered(tmp_path, settings, flow_actor) -> None:
    settings.DANCU_EXCHANGE_HTTP_TIMEOUT = 0.5
    with running_agency(tmp_path / "si", "--delay-ms", "1500") as agency:
        point_dancu_at(agency, settings)
        body, message_id = child(unique_pid()), str(uuid.uuid4())
        with pytest.raises(AgencyUnavailable) as slow:
            issue(flow_actor, body, message_id)
        assert "timed out" in slow.value.reason
        settings.DANCU_EXCHANGE_HTTP_TIMEOUT = 10
        answer = issue(flow_actor, body, message_id)
        assert answer.ok and agency.state()["cards"] == 1


def test_kill_9_during_requests_leaves_every_message_whole(tmp_path, settings, flow_actor) -> None:
    """Requests in flight when the process is killed: afterwards each message the agency knows has
    its card, each card its message, and every retry completes with exactly one card per child."""
    with running_agency(tmp_path / "si") as agency:
        point_dancu_at(agency, settings)
        settings.DANCU_EXCHANGE_HTTP_TIMEOUT = 5
        work = [(child(unique_pid()), str(uuid.uuid4())) for _ in range(40)]
        stop = threading.Event()

        def send() -> None:
            from django.db import connection

            try:
                for body, message_id in work:
                    if stop.is_set():
                        return
                    with contextlib.suppress(AgencyUnavailable):
                        issue(flow_actor, body, message_id)
            finally:
                connection.close()

        for _round in range(3):
            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(0.4 + _round * 0.3)
            agency.kill()
            stop.set()
            sender.join(timeout=60)
            stop.clear()
            db = sqlite3.connect(agency.db)
            orphans = db.execute(
                "SELECT COUNT(*) FROM card c LEFT JOIN message m ON m.message_id = c.message_id "
                "WHERE m.message_id IS NULL"
            ).fetchone()[0]
            missing = db.execute(
                "SELECT COUNT(*) FROM message m LEFT JOIN card c ON c.message_id = m.message_id "
                "WHERE c.message_id IS NULL AND m.status = 'ok'"
            ).fetchone()[0]
            db.close()
            assert (orphans, missing) == (0, 0)
            agency.start()
        for body, message_id in work:  # every retry completes
            assert issue(flow_actor, body, message_id).ok
        state = agency.state()
        assert state["cards"] == len(work) and state["duplicate_cards"] == 0
        assert ExchangeMessage.objects.filter(status="answered").count() == len(work)
