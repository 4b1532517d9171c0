"""No reference paid twice, no success recorded twice — with real concurrent writers: threads,
each with its own database connection (on PostgreSQL in CI: row locks and the partial unique
index decide; on SQLite, its exclusive write transactions)."""

from __future__ import annotations

import pytest

from dancu.payments import services
from dancu.payments.models import GatewayMessage, Payment, Status
from tests.parallel import run_parallel
from tests.payments.helpers import answer

pytestmark = pytest.mark.slow
RETURN = "http://portal.example/x"


def test_the_same_notification_at_once_from_many_writers_records_one_success(
    transactional_db, citizen, payer, successes
) -> None:
    payment, _ = services.start_payment(
        citizen, reference="DC-1", amount_vnd=50_000, payer=payer, return_url=RETURN
    )
    params = answer(payment)
    codes: list[str] = []
    errors = run_parallel(lambda i: codes.append(services.handle_callback(params, kind="ipn").code), 8)
    assert errors == []
    assert sorted(codes) == ["00"] + ["02"] * 7
    assert Payment.objects.get(pk=payment.pk).status == Status.SUCCEEDED
    assert successes == [(payment.pk, True)]
    assert GatewayMessage.objects.filter(direction="in", outcome="00 succeeded").count() == 1


def test_attempts_for_one_reference_paid_at_once_record_one_success_and_the_rest_for_refund(
    transactional_db, citizen, payer, successes
) -> None:
    attempts = [
        services.start_payment(citizen, reference="DC-2", amount_vnd=30_000, payer=payer, return_url=RETURN)[
            0
        ]
        for _ in range(6)
    ]
    codes: list[str] = []
    errors = run_parallel(
        lambda i: codes.append(
            services.handle_callback(
                answer(attempts[i], vnp_TransactionNo=str(14_000_100 + i)), kind="ipn"
            ).code
        ),
        6,
    )
    assert errors == [] and codes == ["00"] * 6
    rows = Payment.objects.filter(reference="DC-2")
    assert rows.filter(status=Status.SUCCEEDED).count() == 1
    assert rows.filter(status=Status.FAILED, refund_due=True).count() == 5
    assert len(successes) == 1 and successes[0][0] == rows.get(status=Status.SUCCEEDED).pk
