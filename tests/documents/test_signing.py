"""Signed results: pyHanko validates them against the development CA, a standard validator
(poppler's pdfsig) too; one byte changed and both say no; the QR code holds the verify URL."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import load_pem_x509_certificate
from django.core.exceptions import ImproperlyConfigured

from dancu.audit.models import AuditEvent
from dancu.documents import pki, render, selectors, services, signing
from tests.documents.helpers import have, run
from tests.eid_helpers import person
from tests.parallel import frequent_thread_switches

LINES = [("Họ và tên", "Nguyễn Thị Hoà"), ("Nơi tạm trú", "12 Lê Lợi, Phường Hạc Thành, Tỉnh Thanh Hóa"),
         ("Thời hạn tạm trú", "đến 06/12/2028")]


@pytest.fixture
def owner(commune_officer, geo):
    return person(commune_officer, geo.hac_thanh)


@pytest.fixture
def result(commune_officer, owner):
    return services.issue_signed_result(commune_officer, owner=owner, title="Xác nhận đăng ký tạm trú",
                                        reference="DC-20261206-000001", lines=LINES,
                                        issuer="Công an Phường Hạc Thành")


def _altered(content: bytes) -> bytes:
    changed = bytearray(content)
    changed[len(content) // 4] ^= 0x01  # inside the signed byte range (the page, the font)
    return bytes(changed)


def test_a_result_is_a_signed_pdf_that_pyhanko_validates(result, owner) -> None:
    content = bytes(result.content)
    assert content.startswith(b"%PDF-") and result.signed and result.kind == "result"
    assert result.sha256 == hashlib.sha256(content).hexdigest()
    check = signing.check_pdf(content)
    assert check.valid and check.intact and check.trusted, check
    assert check.signer == pki.AGENCY_NAME
    verdict = selectors.verify(result.code)
    assert verdict.verdict == "genuine" and verdict.signature_valid
    assert selectors.verify(result.code, content).genuine
    event = AuditEvent.objects.get(action="document.issue_result")
    assert event.personal_id == owner.personal_id and event.reason == "DC-20261206-000001"


def test_one_byte_changed_is_altered(result) -> None:
    altered = _altered(bytes(result.content))
    check = signing.check_pdf(altered)
    assert not check.valid and not check.intact
    verdict = selectors.verify(result.code, altered)
    assert verdict.verdict == "altered" and verdict.hash_matches is False and not verdict.genuine


def test_a_bytes_appended_or_a_truncated_copy_is_altered(result) -> None:
    content = bytes(result.content)
    assert selectors.verify(result.code, content + b"\n% appended\n").verdict == "altered"
    assert selectors.verify(result.code, content[:-100]).verdict == "altered"
    assert selectors.verify(result.code, b"not a pdf").verdict == "altered"


def test_a_stored_copy_changed_in_the_database_is_altered(result) -> None:
    type(result).objects.filter(pk=result.pk).update(content=_altered(bytes(result.content)))
    assert selectors.verify(result.code).verdict == "altered"


def test_an_unknown_code_and_an_upload_are_unknown(commune_officer, owner) -> None:
    assert selectors.verify("ZZZZZZZZZZZZ").verdict == "unknown"
    assert selectors.verify("../../etc").verdict == "unknown"
    from tests.documents.helpers import pdf_bytes
    upload = services.store_upload(commune_officer, owner=owner, filename="a.pdf", content=pdf_bytes(),
                                   field="f")
    assert selectors.verify(upload.code).verdict == "unknown"  # a citizen's upload is not public


@pytest.mark.skipif(not have("pdfsig"), reason="poppler-utils (pdfsig) is not installed")
def test_pdfsig_a_standard_validator_accepts_the_signature_and_refuses_one_byte_changed(result, tmp_path):
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(bytes(result.content))
    bad.write_bytes(_altered(bytes(result.content)))
    out = run("pdfsig", str(good)).stdout.decode()
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Total document signed" in out and "ETSI.CAdES.detached" in out
    out_bad = run("pdfsig", str(bad)).stdout.decode()
    assert "Signature is Valid." not in out_bad, out_bad


@pytest.mark.skipif(not (have("pdfsig") and have("certutil")), reason="poppler-utils/libnss3-tools absent")
def test_pdfsig_trusts_the_signer_once_the_development_root_is_installed(result, tmp_path) -> None:
    """As on an agency's machine where the root is installed: the whole chain validates."""
    nss = tmp_path / "nss"
    nss.mkdir()
    assert run("certutil", "-N", "-d", f"sql:{nss}", "--empty-password").returncode == 0
    added = run("certutil", "-A", "-d", f"sql:{nss}", "-n", "dancu-dev-root", "-t", "C,C,C",
                "-i", str(pki.pki_dir() / pki.ROOT_CERT))
    assert added.returncode == 0, added.stderr
    good = tmp_path / "good.pdf"
    good.write_bytes(bytes(result.content))
    out = run("pdfsig", "-nssdir", f"sql:{nss}", str(good)).stdout.decode()
    assert "Signature is Valid." in out and "Certificate Validation: Certificate is Trusted." in out, out


@pytest.mark.skipif(not (have("pdftoppm") and have("zbarimg")), reason="poppler-utils/zbar-tools absent")
def test_the_qr_code_decodes_to_the_verify_url(result, tmp_path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(bytes(result.content))
    rendered = run("pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "page"))
    assert rendered.returncode == 0, rendered.stderr
    out = run("zbarimg", "--quiet", "--raw", str(tmp_path / "page.png"))
    assert out.stdout.decode().strip() == f"http://127.0.0.1:8000/verify/{result.code}/"


def test_the_qr_payload_follows_the_public_url(settings) -> None:
    settings.DANCU_PUBLIC_URL = "https://dichvucong.example.vn/"
    assert render.verify_url("ABCDEFGHJK23") == "https://dichvucong.example.vn/verify/ABCDEFGHJK23/"


@pytest.mark.skipif(not have("pdftotext"), reason="poppler-utils (pdftotext) is not installed")
def test_vietnamese_text_survives_in_the_pdf(result, tmp_path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(bytes(result.content))
    text = run("pdftotext", str(pdf), "-").stdout.decode()
    assert "Nguyễn Thị Hoà" in text and "Phường Hạc Thành" in text and result.code in text


def test_the_development_keys_are_private_to_the_owner(result) -> None:
    directory = pki.pki_dir()
    for name in (pki.ROOT_KEY, pki.AGENCY_KEY):
        assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600


def test_a_receipt_may_be_unsigned_and_still_verifies_by_its_hash(commune_officer, owner) -> None:
    receipt = services.issue_receipt(commune_officer, owner=owner, title="Biên nhận hồ sơ",
                                     reference="DC-20261206-000002", lines=[("Lệ phí", "15.000 đồng")],
                                     issuer="Bộ phận một cửa Phường Hạc Thành", sign=False)
    assert not receipt.signed and receipt.kind == "receipt"
    assert selectors.verify(receipt.code).verdict == "genuine"
    assert selectors.verify(receipt.code, _altered(bytes(receipt.content))).verdict == "altered"


def test_production_needs_the_public_url_for_the_qr_code(settings) -> None:
    settings.PRODUCTION = True
    settings.DANCU_PUBLIC_URL = ""
    with pytest.raises(ImproperlyConfigured):
        render.verify_url("ABCDEFGHJK23")
    settings.PRODUCTION = False
    assert render.verify_url("ABCDEFGHJK23") == "http://127.0.0.1:8000/verify/ABCDEFGHJK23/"


def test_production_never_makes_a_development_ca(settings, tmp_path) -> None:
    settings.PRODUCTION = True
    settings.DANCU_DOCUMENTS_SIGNER_PKCS12 = ""
    settings.DANCU_DOCUMENTS_PKI_DIR = tmp_path / "pki"
    with pytest.raises(ImproperlyConfigured):
        pki.signer()
    assert not (tmp_path / "pki").exists()


def test_production_signs_with_the_agencys_pkcs12_and_trusts_the_configured_roots(
        settings, tmp_path, commune_officer, owner) -> None:
    # An agency certificate as a national CA would issue it: here, the development CA's, in a
    # PKCS#12 file with a passphrase, and its root as the configured trust root.
    directory = pki.ensure_dev_ca(tmp_path / "national")
    key = serialization.load_pem_private_key((directory / pki.AGENCY_KEY).read_bytes(), password=None)
    cert = load_pem_x509_certificate((directory / pki.AGENCY_CERT).read_bytes())
    root = load_pem_x509_certificate((directory / pki.ROOT_CERT).read_bytes())
    p12 = tmp_path / "agency.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"agency", key, cert, [root], serialization.BestAvailableEncryption(b"mat-khau-p12")))  # type: ignore[arg-type]
    settings.PRODUCTION = True
    settings.DANCU_PUBLIC_URL = "https://dichvucong.example.vn"
    settings.DANCU_DOCUMENTS_SIGNER_PKCS12 = str(p12)
    settings.DANCU_DOCUMENTS_SIGNER_PASSPHRASE = "mat-khau-p12"
    settings.DANCU_DOCUMENTS_TRUST_ROOTS = str(directory / pki.ROOT_CERT)
    document = services.issue_signed_result(commune_officer, owner=owner, title="Giấy xác nhận",
                                            reference="DC-20261206-000003", lines=LINES, issuer="Công an")
    assert selectors.verify(document.code).genuine
    # A root the verifier does not trust: valid signature, untrusted signer → not genuine.
    other = pki.ensure_dev_ca(tmp_path / "other")
    settings.DANCU_DOCUMENTS_TRUST_ROOTS = str(other / pki.ROOT_CERT)
    check = signing.check_pdf(bytes(document.content))
    assert check.intact and not check.trusted and not check.valid
    assert selectors.verify(document.code).verdict == "altered"


def test_two_processes_starting_together_make_one_development_ca(tmp_path) -> None:
    """The CA is made under a file lock: two callers at once (threads here; flock is per open
    file, so processes behave the same) end with one root and one agency certificate."""
    from concurrent.futures import ThreadPoolExecutor

    directory = tmp_path / "pki"
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(lambda _: pki.ensure_dev_ca(directory), range(2)))
    assert made == [directory, directory]
    agency = load_pem_x509_certificate((directory / pki.AGENCY_CERT).read_bytes())
    root = load_pem_x509_certificate((directory / pki.ROOT_CERT).read_bytes())
    agency.verify_directly_issued_by(root)  # the agency certificate is the root's, not another run's
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith(".")) == sorted(
        [pki.ROOT_CERT, pki.ROOT_KEY, pki.AGENCY_CERT, pki.AGENCY_KEY])


def test_threads_signing_and_checking_at_once_all_succeed() -> None:
    """Several threads of one process signing and checking results at the same moment (a server's
    request threads): each signature valid, none failing inside asn1crypto. The signer was shared
    by the threads, and asn1crypto re-encodes the development certificate's IssuerSerial (128
    bytes long) in place at every signature (see ``pki.signer``)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.utils import timezone

    def sign_and_check(i: int) -> bool:
        pdf = render.render_pdf(code=f"TEST{i:08d}", title="Xác nhận", issuer="Công an Phường Hạc Thành",
                                heading=services.NATIONAL_HEADING, lines=LINES, reference=f"DC-{i}",
                                issued_at=timezone.now(), labels=services.PDF_LABELS)
        return signing.check_pdf(signing.sign_pdf(pdf, signer_name="Công an", reason="Thử")).valid

    assert sign_and_check(0)  # the process has signed before, as a running server has
    with frequent_thread_switches(), ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(sign_and_check, range(1, 13)))
    assert outcomes == [True] * 12
