"""store_upload and record_use: the sniffing matrix, nothing written on a refusal, the refusal
audited naming the field; reuse counted once per dossier."""

from __future__ import annotations

import hashlib

import pytest

from dancu.audit.models import AuditEvent
from dancu.core.errors import DomainError
from dancu.documents import selectors, services
from dancu.documents.models import Document, DocumentUse
from tests.documents.helpers import jpeg_bytes, pdf_bytes, png_bytes
from tests.eid_helpers import person


@pytest.fixture
def owner(commune_officer, geo):
    return person(commune_officer, geo.hac_thanh)


def test_an_upload_is_kept_with_its_sniffed_type_and_hash(commune_officer, owner) -> None:
    content = png_bytes()
    document = services.store_upload(commune_officer, owner=owner, filename="C:\\scan\\Ảnh chân dung.png",
                                     content=content, field="components.portrait", declared_type="image/png")
    document.refresh_from_db()
    assert document.media_type == "image/png" and document.kind == "upload"
    assert document.sha256 == hashlib.sha256(content).hexdigest() and document.size == len(content)
    assert bytes(document.content) == content
    assert document.filename == "Ảnh chân dung.png"
    assert len(document.code) == 12 and document.owner == owner
    event = AuditEvent.objects.get(action="document.store")
    assert event.personal_id == owner.personal_id and event.subject_id == document.code


def test_an_extensionless_file_is_taken_by_its_content(commune_officer, owner) -> None:
    document = services.store_upload(commune_officer, owner=owner, filename="scan", content=jpeg_bytes(),
                                     field="f", declared_type="application/octet-stream")
    assert document.media_type == "image/jpeg"


MATRIX = [
    # (filename, content, declared type, expected code)
    ("giay-to.png", pdf_bytes, None, "E_FILE_TYPE"),                      # PDF named .png
    ("anh.jpg", png_bytes, "image/jpeg", "E_FILE_TYPE"),                  # PNG named and declared JPEG
    ("anh.png", png_bytes, "image/jpeg", "E_FILE_TYPE"),                  # declared type lies
    ("ho-so.pdf", lambda: b"MZ\x90\x00" + b"\x00" * 500, "application/pdf", "E_FILE_TYPE"),  # exe as .pdf
    ("ho-so.pdf", lambda: pdf_bytes()[:-200], "application/pdf", "E_FILE_TYPE"),  # truncated PDF
    ("anh.jpg", lambda: jpeg_bytes()[:-10], "image/jpeg", "E_FILE_TYPE"),  # truncated JPEG
    ("ghi-chu.txt", pdf_bytes, None, "E_FILE_TYPE"),                      # an extension not ours
    ("trang.html", lambda: b"<html></html>", "text/html", "E_FILE_TYPE"),
    ("rong.pdf", lambda: b"", "application/pdf", "E_FILE_EMPTY"),
    ("scan.pdf\x00.exe", pdf_bytes, "application/pdf", "E_FILE_NAME"),   # NUL in the name
    ("scan\x1b.pdf", pdf_bytes, "application/pdf", "E_FILE_NAME"),       # a control character
]


@pytest.mark.parametrize(("filename", "make", "declared", "code"), MATRIX)
def test_refused_uploads_name_the_field_and_write_nothing(commune_officer, owner, filename, make, declared,
                                                          code) -> None:
    with pytest.raises(DomainError) as err:
        services.store_upload(commune_officer, owner=owner, filename=filename, content=make(),
                              field="components.proof", declared_type=declared)
    assert err.value.code == code and err.value.field == "components.proof"
    assert Document.objects.count() == 0
    refusal = AuditEvent.objects.get(action="document.store.denied")
    assert refusal.details["code"] == code and refusal.details["field"] == "components.proof"
    assert refusal.personal_id == owner.personal_id


def test_an_oversized_file_is_refused(commune_officer, owner, settings) -> None:
    content = pdf_bytes()
    settings.DANCU_UPLOAD_MAX_BYTES = len(content) - 1
    with pytest.raises(DomainError) as err:
        services.store_upload(commune_officer, owner=owner, filename="a.pdf", content=content, field="file")
    assert err.value.code == "E_FILE_TOO_LARGE" and err.value.field == "file"
    settings.DANCU_UPLOAD_MAX_BYTES = len(content)
    assert services.store_upload(commune_officer, owner=owner, filename="a.pdf", content=content,
                                 field="file").size == len(content)


def test_the_default_limit_is_five_mebibytes(commune_officer, owner) -> None:
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024) + b"\n%%EOF\n"
    with pytest.raises(DomainError) as err:
        services.store_upload(commune_officer, owner=owner, filename="big.pdf", content=big, field="file")
    assert err.value.code == "E_FILE_TOO_LARGE"


def test_a_use_is_recorded_once_per_dossier_and_reuse_is_counted(commune_officer, owner) -> None:
    document = services.store_upload(commune_officer, owner=owner, filename="a.pdf", content=pdf_bytes(),
                                     field="file")
    assert services.record_use(commune_officer, document, reference="DC-20261206-000001", purpose="đính kèm")
    assert not services.record_use(commune_officer, document, reference="DC-20261206-000001", purpose="lại")
    assert DocumentUse.objects.filter(document=document).count() == 1
    assert selectors.reuse_counts() == {"documents_reused": 0, "reuses": 0}
    assert services.record_use(commune_officer, document, reference="DC-20261207-000009", purpose="dùng lại")
    assert selectors.use_count(document) == 2
    assert selectors.reuse_counts() == {"documents_reused": 1, "reuses": 1}
    assert AuditEvent.objects.filter(action="document.use").count() == 2
    assert [d.use_count for d in selectors.documents_of(owner)] == [2]
