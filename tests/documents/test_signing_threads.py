"""Signatures from several threads of one process at once (the server runs 4 threads a process):
every one succeeds. The signer is shared by the process and asn1crypto's objects are not safe to
share between threads; before ``signing._SIGNING`` most of these signatures failed inside
asn1crypto (found by bench/bench_bundles.py: two officers deciding at once)."""

from __future__ import annotations

import sys
import threading

import pytest

from dancu.documents import signing
from tests.documents.helpers import pdf_bytes


@pytest.mark.slow
def test_signatures_in_several_threads_at_once_all_succeed(settings, tmp_path) -> None:
    settings.DANCU_DOCUMENTS_PKI_DIR = str(tmp_path / "pki")
    pdf = pdf_bytes()
    signing.sign_pdf(pdf, signer_name="Công an Phường Hạc Thành", reason="warm-up")  # the CA, once
    errors: list[BaseException] = []
    signed: list[bytes] = []
    barrier = threading.Barrier(4)

    def sign() -> None:
        barrier.wait()
        for _ in range(6):
            try:
                signed.append(signing.sign_pdf(pdf, signer_name="Công an Phường Hạc Thành", reason="test"))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows every run
    try:
        threads = [threading.Thread(target=sign) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(signed) == 24 and all(signing.check_pdf(s).valid for s in signed[:3])
