"""Officers approving different dossiers at the same moment, from several threads of one process
(granian serves each process's requests from several threads): every approval commits with its
own signed result.

The race this guards: pyHanko builds each signature's signing-certificate attribute from the
signer's parsed certificate, and asn1crypto re-encodes such a structure in place whenever its
length is 128 bytes (it takes the DER header ``81 80`` for an indefinite length) — the
development CA's IssuerSerial is exactly that. A signer shared by the process's threads had its
certificate's serial number set to None by one thread while another read it
(``TypeError … not NoneType``). Thread switches are made very frequent for the parallel part so
the window is hit on every run, not one run in several. (tests/documents/test_signing.py has the
same race without the database.)"""

from __future__ import annotations

import pytest

from dancu.documents import signing
from dancu.publicservices import services
from dancu.publicservices.models import Status
from tests.parallel import frequent_thread_switches, run_parallel
from tests.publicservices.conftest import as_citizen

pytestmark = pytest.mark.slow
WRITERS = 6


@pytest.fixture
def catalog(transactional_db) -> None:
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Procedure

    sync_catalog(Procedure)  # a transactional test's flush removed the migration's rows


def _accepted_confirmation(world, person):
    dossier = services.submit(as_citizen(person), procedure_code="xac-nhan-thong-tin-cu-tru",
                              applicant_personal_id=person.personal_id, data={"purpose": "Xin việc"})
    services.accept(world.police, dossier.code)
    return dossier


def test_concurrent_approvals_each_commit_a_signed_result(catalog, world):
    people = (world.alice, world.bob)
    # One approval first: the process has signed before, as a running server has.
    first = _accepted_confirmation(world, world.alice)
    services.approve(world.police, first.code)
    dossiers = [_accepted_confirmation(world, people[i % 2]) for i in range(WRITERS)]

    with frequent_thread_switches():
        errors = run_parallel(lambda i: services.approve(world.police, dossiers[i].code), WRITERS)

    assert errors == []
    approved = [type(d).objects.select_related("result_document").get(pk=d.pk) for d in dossiers]
    assert {d.status for d in approved} == {Status.APPROVED}
    assert len({d.result_document.code for d in approved}) == WRITERS
    for dossier in approved:
        check = signing.check_pdf(bytes(dossier.result_document.content))
        assert check.valid, check.reason
