"""The public verification page (both languages, upload to compare), the JSON endpoint, the
owner's download and documents, and officers' audited reads."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.core.errors import DomainError, OutOfJurisdiction
from dancu.documents import selectors, services
from dancu.eid import sessions
from tests.documents.helpers import pdf_bytes
from tests.eid_helpers import level1_account, person


@pytest.fixture
def owner(commune_officer, geo):
    return person(commune_officer, geo.hac_thanh)


@pytest.fixture
def result(commune_officer, owner):
    return services.issue_signed_result(commune_officer, owner=owner, title="Xác nhận thông tin về cư trú",
                                        reference="DC-20261206-000001",
                                        lines=[("Họ và tên", owner.full_name)],
                                        issuer="Công an Phường Hạc Thành")


def _altered(content: bytes) -> bytes:
    changed = bytearray(content)
    changed[len(content) // 4] ^= 0x01
    return bytes(changed)


def _english(client) -> None:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


def test_the_verify_page_says_genuine_in_vietnamese(client, result, owner) -> None:
    response = client.get(f"/verify/{result.code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-verdict="genuine"' in html and "Văn bản là thật và chưa bị sửa đổi." in html
    assert "Xác nhận thông tin về cư trú" in html and "Công an Phường Hạc Thành" in html
    assert timezone.localtime(result.created_at).strftime("%d/%m/%Y") in html
    assert 'name="viewport"' in html and "https://" not in html.split("<body")[0]  # no CDN
    assert owner.personal_id not in html  # a public page: nothing personal


def test_the_verify_page_in_english(client, result) -> None:
    _english(client)
    html = client.get(f"/verify/{result.code}/").content.decode()
    assert '<html lang="en">' in html
    assert "The document is genuine and has not been altered." in html
    assert "Check an electronic document" in html


def test_uploading_a_copy_compares_it_byte_for_byte(client, result) -> None:
    same = SimpleUploadedFile("kq.pdf", bytes(result.content), content_type="application/pdf")
    html = client.post(f"/verify/{result.code}/", {"file": same}).content.decode()
    assert 'data-verdict="genuine"' in html and 'data-testid="doc-compared"' in html
    changed = SimpleUploadedFile("kq.pdf", _altered(bytes(result.content)), content_type="application/pdf")
    response = client.post(f"/verify/{result.code}/", {"file": changed})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-verdict="altered"' in html and "KHÔNG hợp lệ" in html
    _english(client)
    changed.seek(0)
    html = client.post(f"/verify/{result.code}/", {"file": changed}).content.decode()
    assert "NOT valid" in html


def test_an_unknown_code_is_404_with_the_verdict(client, db) -> None:
    response = client.get("/verify/ZZZZZZZZZZZZ/")
    assert response.status_code == 404
    assert 'data-verdict="unknown"' in response.content.decode()


def test_the_json_endpoint(client, result) -> None:
    body = client.get(f"/api/v1/documents/verify/{result.code}").json()
    assert body["verdict"] == "genuine" and body["genuine"] is True and body["signature_valid"] is True
    assert body["title"] == "Xác nhận thông tin về cư trú" and body["issuer"] == "Công an Phường Hạc Thành"
    assert body["sha256"] == result.sha256 and body["kind"] == "result"
    missing = client.get("/api/v1/documents/verify/ZZZZZZZZZZZZ")
    assert missing.status_code == 404 and missing.json()["code"] == "E_NOT_FOUND"
    bad = client.get("/api/v1/documents/verify/abc")
    assert bad.status_code == 422 and bad.json()["field"] == "code"


def test_the_openapi_document_describes_the_endpoint(client, db) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/documents/verify/{code}"]["get"]
    assert set(operation["responses"]) == {"200", "404", "422"}
    param = operation["parameters"][0]
    assert param["schema"]["pattern"] == selectors.CODE_PATTERN
    assert "security" not in operation  # public: no token


def _sign_in(client, account) -> None:
    client.force_login(account.user, backend=sessions.BACKEND)
    session = client.session
    session[sessions.SESSION_KEY] = {"account": account.pk, "methods": ["pwd"],
                                     "auth_time": int(timezone.now().timestamp())}
    session.save()


def test_the_owner_downloads_and_lists_their_documents(client, result, owner) -> None:
    _sign_in(client, level1_account(owner))
    response = client.get(f"/documents/{result.code}/download")
    assert response.status_code == 200 and response.content == bytes(result.content)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{result.code}.pdf"'
    assert AuditEvent.objects.filter(action="document.download", subject_id=result.code,
                                     source="citizen").count() == 1
    html = client.get("/documents/").content.decode()
    assert "Xác nhận thông tin về cư trú" in html and f"/verify/{result.code}/" in html


def test_someone_else_gets_404_and_a_visitor_the_sign_in_page(client, commune_officer, geo, result) -> None:
    response = client.get(f"/documents/{result.code}/download")
    assert response.status_code == 302 and response["Location"].startswith("/eid/login/")
    other = person(commune_officer, geo.hac_thanh, full_name="Trần Văn Nam", birth_date="1985-02-03", sex="M")
    _sign_in(client, level1_account(other, phone="0987654321"))
    assert client.get(f"/documents/{result.code}/download").status_code == 404
    assert client.get("/documents/NOPENOPENOPE/download").status_code == 404
    assert result.title not in client.get("/documents/").content.decode()


def test_an_officer_read_is_audited_with_its_purpose(commune_officer, province_officer, geo, owner) -> None:
    upload = services.store_upload(commune_officer, owner=owner, filename="a.pdf", content=pdf_bytes(),
                                   field="f")
    services.record_use(commune_officer, upload, reference="DC-20261206-000007", purpose="thành phần hồ sơ")
    document = selectors.open_for_officer(commune_officer, upload.code, purpose="DC-20261206-000007")
    assert document == upload
    event = AuditEvent.objects.get(action="document.read")
    assert event.personal_id == owner.personal_id and event.reason == "DC-20261206-000007"
    with pytest.raises(DomainError) as err:
        selectors.open_for_officer(commune_officer, upload.code, purpose="")
    assert err.value.code == "E_PURPOSE_REQUIRED"


def test_an_officer_outside_the_area_and_the_dossier_is_refused_and_audited(geo, owner) -> None:
    from tests.factories import officer_actor

    far = officer_actor("ca.honghà", "commune_police", geo.hong_ha)
    upload = services.store_upload(far, owner=owner, filename="a.pdf", content=pdf_bytes(), field="f")
    with pytest.raises(OutOfJurisdiction):
        selectors.open_for_officer(far, upload.code, purpose="DC-20261206-000099")
    refusal = AuditEvent.objects.get(action="document.read.denied")
    assert refusal.details["code"] == "E_OUT_OF_JURISDICTION" and refusal.subject_id == upload.code
