"""The registry pre-fill reads residence only when the procedure pre-fills an address
(bench/bench_submission.py: two statements of a notification of stay's sixteen)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from dancu.publicservices import selectors
from tests.publicservices.conftest import slug


def test_prefill_without_address_fields_reads_no_residence(world):
    stay = slug("thong-bao-luu-tru")
    assert selectors.RESIDENCE_FIELDS.isdisjoint(stay.registry_fields)
    alice = world.alice
    with CaptureQueriesContext(connection) as queries:
        values = selectors.prefill(stay, alice)
    assert len(queries) == 0
    full = selectors.registry_values(alice)
    assert values == {name: full[name] for name in stay.registry_fields}
    assert values["personal_id"] == alice.personal_id


def test_prefill_with_address_fields_still_reads_the_registrations(world):
    temporary = slug("dang-ky-tam-tru")
    values = selectors.prefill(temporary, world.alice)
    assert values["permanent_address"] and "Đường Lê Lợi" in values["permanent_address"]
    assert values["current_address"] == values["permanent_address"]
