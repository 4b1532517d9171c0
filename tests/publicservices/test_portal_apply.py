"""The citizen's application through the portal's pages (Django test client, real database):
the form from the JSON Schema pre-filled from the registry, declare-once, acting for someone,
attachments (sniffed, size-limited, or reused from the store), idempotent submit, receipt,
payment button, supplement answer, result download, rating, feedback, inbox. Bad input comes
back as the form with the error beside the field — never a 5xx, nothing half-written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dancu.documents import services as documents
from dancu.documents.models import Document
from dancu.eid import services as eid
from dancu.publicservices import services as ps
from dancu.publicservices.models import CorrectionRequest, Dossier, Feedback, Notification
from tests.eid_helpers import level1_account, person
from tests.factories import officer_actor
from tests.publicservices.portal_helpers import (  # noqa: F401 (fixture)
    PDF,
    portal_rp,
    portal_sign_in,
    temporary_residence_form,
)

APPLY = "/dich-vu-cong/thu-tuc/dang-ky-tam-tru/nop/"


@pytest.fixture
def world(geo, commune_officer, portal_rp):  # noqa: F811
    citizen = person(commune_officer, geo.hac_thanh)
    account = level1_account(citizen, phone="0912345678")
    eid.enrol_level2(commune_officer, citizen.personal_id, card_checked=True, device_reference="d",
                     capture_reference="c")
    ds_officer = officer_actor("ca.dongson", "commune_police", geo.dong_son)
    return {"citizen": citizen, "account": account, "officer": ds_officer, "geo": geo,
            "hac_officer": commune_officer}


@pytest.fixture
def signed_in(client, world):
    response = portal_sign_in(client, world["account"], methods=("pwd", "sms"), loa=2)
    assert response.status_code == 302
    return client


def _post(client: Client, data: dict[str, str], file: bytes | None = PDF, name: str = "giay-to.pdf"):
    payload: dict[str, object] = dict(data)
    if file is not None:
        payload["file-legal_place"] = SimpleUploadedFile(name, file, content_type="application/pdf")
    return client.post(APPLY, payload)


def test_form_is_prefilled_and_never_asks_for_registry_data(signed_in, world):
    page = signed_in.get(APPLY)
    assert page.status_code == 200
    html = page.content.decode()
    assert world["citizen"].full_name in html and world["citizen"].personal_id in html
    for registry_field in ("full_name", "personal_id", "birth_date", "permanent_address"):
        assert f'name="data-{registry_field}"' not in html
        assert f'data-testid="report-{registry_field}"' in html
    for entered in ("commune", "address", "started_on", "expires_on", "housing", "host_personal_id"):
        assert f'name="data-{entered}"' in html
    assert 'type="date"' in html and 'name="idempotency_key"' in html
    assert 'class="req"' in html  # required marks
    assert 'name="file-legal_place"' in html and 'enctype="multipart/form-data"' in html


def test_level_one_session_is_sent_to_step_up(client, world):
    portal_sign_in(client, world["account"])  # password only: assurance level 1
    response = client.get(APPLY)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/dich-vu-cong/dang-nhap/?next=") and "loa=2" in location


def test_submit_gives_receipt_with_code_and_payment_button(signed_in, world):
    response = _post(signed_in, temporary_residence_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    dossier = Dossier.objects.get()
    assert response["Location"] == f"/dich-vu-cong/ho-so/{dossier.code}/bien-nhan/"
    assert dossier.applicant == world["citizen"] and dossier.channel == "online"
    assert dossier.data["address"] == "Số 12, đường Lê Lợi" and "full_name" not in dossier.data
    assert dossier.component_rows.get().document.owner == world["citizen"]
    receipt = signed_in.get(response["Location"])
    html = receipt.content.decode()
    assert dossier.code in html and 'data-testid="pay"' in html and "7.000 ₫" in html
    # Idempotent: the same key (a double click) makes no second dossier and stores no second file.
    again = _post(signed_in, temporary_residence_form())
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert Dossier.objects.count() == 1 and Document.objects.count() == 1


def test_errors_beside_the_fields(signed_in, world):
    form = temporary_residence_form(**{"data-address": "", "data-started_on": "17/05/2025"})
    response = _post(signed_in, form)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field-error="data-address"' in html and 'data-field-error="data-started_on"' in html
    # What the citizen typed is kept.
    assert 'value="2025:14797"' in html
    assert Dossier.objects.count() == 0 and Document.objects.count() == 0


def test_law_rule_error_beside_the_field(signed_in, world):
    response = _post(signed_in, temporary_residence_form(**{"data-expires_on": "2099-01-01"}))
    assert response.status_code == 400
    assert 'data-field-error="data-expires_on"' in response.content.decode()
    assert Dossier.objects.count() == 0 and Document.objects.count() == 0  # the upload rolled back too


def test_forged_registry_field_is_refused(signed_in, world):
    response = _post(signed_in, temporary_residence_form(**{"data-full_name": "Người Khác"}))
    assert response.status_code == 400
    assert b'data-code="E_REGISTRY_FIELD"' in response.content
    assert Dossier.objects.count() == 0


def test_file_whose_content_is_not_its_type(signed_in, world):
    response = _post(signed_in, temporary_residence_form(), file=b"MZ\x90\x00 not a pdf", name="scan.pdf")
    assert response.status_code == 400
    assert 'data-field-error="file-legal_place"' in response.content.decode()
    assert Dossier.objects.count() == 0 and Document.objects.count() == 0


def test_oversized_file(signed_in, world, settings):
    settings.DANCU_UPLOAD_MAX_BYTES = 100
    response = _post(signed_in, temporary_residence_form(), file=PDF + b" " * 200)
    assert response.status_code == 400
    assert 'data-field-error="file-legal_place"' in response.content.decode()
    assert Dossier.objects.count() == 0


def test_missing_required_attachment(signed_in, world):
    response = _post(signed_in, temporary_residence_form(), file=None)
    assert response.status_code == 400
    assert 'data-field-error="file-legal_place"' in response.content.decode()


def test_reuse_from_my_document_store(signed_in, world):
    stored = documents.store_upload(ps_actor(world), owner=world["citizen"], filename="so-do.pdf",
                                    content=PDF, field="file")
    page = signed_in.get(APPLY)
    assert stored.code in page.content.decode()
    response = _post(signed_in, temporary_residence_form(**{"reuse-legal_place": stored.code}), file=None)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Dossier.objects.get().component_rows.get()
    assert row.document == stored and row.reused


def test_reuse_of_someone_elses_document_is_refused(signed_in, world, geo, commune_officer):
    other = person(commune_officer, geo.hac_thanh, full_name="Trần Văn Bình", birth_date="1985-01-02")
    theirs = documents.store_upload(ps_actor(world), owner=other, filename="x.pdf", content=PDF, field="file")
    response = _post(signed_in, temporary_residence_form(**{"reuse-legal_place": theirs.code}), file=None)
    assert response.status_code == 400 and 'data-field-error="file-legal_place"' in response.content.decode()


def test_acting_for_someone_without_the_right(signed_in, world, geo, commune_officer):
    stranger = person(commune_officer, geo.hac_thanh, full_name="Lê Văn Cường", birth_date="1980-03-04")
    form = temporary_residence_form(relation="parent", subject_personal_id=stranger.personal_id)
    response = _post(signed_in, form)
    assert response.status_code == 400
    assert b"subject_personal_id" in response.content
    assert Dossier.objects.count() == 0


def test_acting_for_needs_the_person(signed_in, world):
    response = _post(signed_in, temporary_residence_form(relation="parent"))
    assert response.status_code == 400
    assert 'data-field-error="subject_personal_id"' in response.content.decode()


def test_report_an_error_becomes_a_correction_request(signed_in, world):
    response = signed_in.post("/dich-vu-cong/thu-tuc/dang-ky-tam-tru/bao-sai/",
                              {"field": "birth_date", "proposed_value": "18/05/1990"})
    assert response.status_code == 302
    request = CorrectionRequest.objects.get()
    assert request.citizen == world["citizen"] and request.field == "birth_date"
    assert request.proposed_value == "18/05/1990" and request.status == "open"
    # A field that is not a registry field of the procedure is not taken (named in the refusal).
    response = signed_in.post("/dich-vu-cong/thu-tuc/dang-ky-tam-tru/bao-sai/",
                              {"field": "address", "proposed_value": "x"})
    assert response.status_code == 400
    assert 'data-field-error="field"' in response.content.decode()
    assert CorrectionRequest.objects.count() == 1
    # The form shows the field as reported (no second "báo sai" button for it).
    page = signed_in.get(APPLY).content.decode()
    assert 'data-testid="correction-open-birth_date"' in page
    assert 'data-testid="report-birth_date"' not in page
    assert 'data-testid="report-full_name"' in page
    # The citizen sees their request and its state in the inbox.
    inbox = signed_in.get("/dich-vu-cong/thong-bao/").content.decode()
    assert 'data-testid="correction" data-field="birth_date" data-status="open"' in inbox


def test_csrf_is_enforced(signed_in, world):
    client = Client(enforce_csrf_checks=True)
    client.cookies = signed_in.cookies  # the same signed-in session, but a form without its token
    assert client.get(APPLY).status_code == 200
    assert client.post(APPLY, temporary_residence_form()).status_code == 403
    assert Dossier.objects.count() == 0


def test_payment_button_goes_to_the_gateway(signed_in, world, settings):
    _post(signed_in, temporary_residence_form())
    dossier = Dossier.objects.get()
    response = signed_in.post(f"/dich-vu-cong/ho-so/{dossier.code}/thanh-toan/")
    assert response.status_code == 302
    assert response["Location"].startswith(settings.DANCU_PAYMENT_GATEWAY_URL)
    assert "vnp_Amount=700000" in response["Location"] and "vnp_SecureHash=" in response["Location"]


def ps_actor(world):
    from dancu.eid.services import citizen_actor

    return citizen_actor(world["citizen"].personal_id)


def test_dossier_life_supplement_result_rating_feedback_inbox(signed_in, world):
    _post(signed_in, temporary_residence_form())
    dossier = Dossier.objects.get()
    ps.mark_paid(world["officer"], dossier.code, amount_vnd=7000)
    ps.request_supplement(world["officer"], dossier.code, note="Bổ sung hợp đồng thuê nhà")
    legal_place = dossier.component_rows.get(key="legal_place").document_id
    page = signed_in.get(f"/dich-vu-cong/ho-so/{dossier.code}/")
    html = page.content.decode()
    assert 'data-testid="supplement"' in html and "Bổ sung hợp đồng thuê nhà" in html
    assert html.count("<li data-action=") >= 3  # submitted, paid, supplement requested — each with its time
    answer = signed_in.post(f"/dich-vu-cong/ho-so/{dossier.code}/", {
        "action": "supplement", "note": "Đã bổ sung",
        "file-declaration": SimpleUploadedFile("ct01.pdf", PDF, content_type="application/pdf")})
    assert answer.status_code == 302, answer.content.decode().split('data-testid="supplement"')[-1][:3000]
    dossier.refresh_from_db()
    assert dossier.status == "accepted" and dossier.component_rows.count() == 2
    assert dossier.component_rows.get(key="legal_place").document_id == legal_place  # kept, not re-sent
    ps.approve(world["officer"], dossier.code)
    page = signed_in.get(f"/dich-vu-cong/ho-so/{dossier.code}/")
    assert 'data-testid="result-download"' in page.content.decode()
    pdf = signed_in.get(f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    bad = signed_in.post(f"/dich-vu-cong/ho-so/{dossier.code}/", {"action": "rate", "rating": "9"})
    assert bad.status_code == 400
    rated = signed_in.post(f"/dich-vu-cong/ho-so/{dossier.code}/", {"action": "rate", "rating": "5"})
    assert rated.status_code == 302
    dossier.refresh_from_db()
    assert dossier.rating == 5
    complaint = signed_in.post(f"/dich-vu-cong/ho-so/{dossier.code}/",
                               {"action": "feedback", "kind": "complaint", "text": "Xử lý chậm quá"})
    assert complaint.status_code == 302
    assert Feedback.objects.get(dossier=dossier).kind == "complaint"
    mine = signed_in.get("/dich-vu-cong/ho-so/")
    assert dossier.code in mine.content.decode()
    assert Notification.objects.filter(citizen=world["citizen"], read_at__isnull=True).exists()
    inbox = signed_in.get("/dich-vu-cong/thong-bao/")
    assert inbox.status_code == 200 and dossier.code in inbox.content.decode()
    assert not Notification.objects.filter(citizen=world["citizen"], read_at__isnull=True).exists()


def test_someone_elses_dossier_is_not_found(signed_in, world, geo, commune_officer):
    _post(signed_in, temporary_residence_form())
    code = Dossier.objects.get().code
    other = level1_account(person(commune_officer, geo.hac_thanh, full_name="Phạm Thị Dung",
                                  birth_date="1992-02-02"), phone="0912345679")
    client = Client()
    portal_sign_in(client, other)
    assert client.get(f"/dich-vu-cong/ho-so/{code}/").status_code == 404
    assert client.get(f"/dich-vu-cong/ho-so/{code}/ket-qua/").status_code == 404
    assert client.post(f"/dich-vu-cong/ho-so/{code}/thanh-toan/").status_code == 404


def test_status_page_reads_the_citizen_once(signed_in, world):
    """The dossier page checks the dossier is the citizen's and then lists their documents:
    one read of the citizen's record per request, not one per use."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _post(signed_in, temporary_residence_form())
    code = Dossier.objects.get().code
    with CaptureQueriesContext(connection) as queries:
        page = signed_in.get(f"/dich-vu-cong/ho-so/{code}/")
    assert page.status_code == 200 and code in page.content.decode()
    citizen_reads = [q["sql"] for q in queries.captured_queries
                     if 'FROM "population_citizen"' in q["sql"] and '"personal_id" =' in q["sql"]]
    assert len(citizen_reads) == 1, citizen_reads
