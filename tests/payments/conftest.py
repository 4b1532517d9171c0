"""Fixtures of the payment tests: a payer, a citizen actor, and the sandbox gateway as a real
subprocess (``dancu gateway serve``) on a free port, for the tests whose callbacks are real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dancu.accounts.actor import Actor
from dancu.payments.signals import payment_succeeded
from tests.payments.helpers import running_gateway


@pytest.fixture
def payer(geo, commune_officer):
    from tests.eid_helpers import person

    return person(commune_officer, geo.hac_thanh)


@pytest.fixture
def citizen(payer) -> Actor:
    return Actor(label=f"citizen:{payer.personal_id}", role="citizen", source="citizen", ip="203.0.113.7")


@pytest.fixture
def successes() -> Iterator[list[tuple[int, bool]]]:
    """Every payment_succeeded received: (payment id, sent inside a transaction?)."""
    from django.db import connection

    got: list[tuple[int, bool]] = []

    def receiver(sender, payment, **kwargs) -> None:
        got.append((payment.pk, connection.in_atomic_block))

    payment_succeeded.connect(receiver, weak=False, dispatch_uid="tests.payments")
    yield got
    payment_succeeded.disconnect(dispatch_uid="tests.payments")


@pytest.fixture(scope="session")
def sandbox_gateway(tmp_path_factory) -> Iterator[str]:
    """``dancu gateway serve`` in its own process; its base URL."""
    with running_gateway(tmp_path_factory.mktemp("gateway")) as url:
        yield url


@pytest.fixture
def gateway_url(sandbox_gateway, settings) -> str:
    settings.DANCU_PAYMENT_GATEWAY_URL = sandbox_gateway
    return sandbox_gateway
