"""The working-group pages through Django's request stack: jurisdiction, forms and their
refusals, issuing a report and downloading the same bytes later."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.workgroups import services
from dancu.workgroups.models import ManualFigure, Member, Report, Task
from tests.factories import officer_actor, officer_login
from tests.workgroups.conftest import day


@pytest.fixture
def province_client(client, province_officer):
    officer_login(client, province_officer)
    return client


def test_the_list_shows_the_groups_of_the_area_only(client, geo, group, province_officer):
    services.create_group(officer_actor("ca.hanoi", "province_police", geo.ha_noi), unit=geo.hong_ha,
                          name="Tổ công tác phường Hồng Hà")
    officer_login(client, officer_actor("ca.hac", "commune_police", geo.hac_thanh))
    body = client.get(reverse("workgroups:list")).content.decode()
    assert group.name in body and "Hồng Hà" not in body
    assert 'data-testid="create-group"' not in body  # a commune officer does not create groups


def test_outside_the_area_the_group_page_is_refused_and_audited(client, geo, group):
    officer_login(client, officer_actor("ca.dongson", "commune_police", geo.dong_son))
    response = client.get(reverse("workgroups:group", args=[group.pk]))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="workgroup.read.denied", actor_label="ca.dongson").count() == 1
    assert client.get(reverse("workgroups:reports", args=[group.pk])).status_code == 403
    assert client.get(reverse("workgroups:group", args=[group.pk + 999])).status_code == 404


def test_a_reader_sees_the_group_but_no_forms(client, commune_officer, group):
    officer_login(client, commune_officer)
    page = client.get(reverse("workgroups:group", args=[group.pk]))
    assert page.status_code == 200 and 'data-testid="add-plan"' not in page.content.decode()
    assert client.get(reverse("workgroups:plan_add", args=[group.pk])).status_code == 403
    reports = client.get(reverse("workgroups:reports", args=[group.pk]))
    assert reports.status_code == 200 and 'data-testid="issue-form"' not in reports.content.decode()
    forged = client.post(reverse("workgroups:reports", args=[group.pk]), {"kind": "monthly",
                                                                          "day": "2026-11-01"})
    assert forged.status_code == 403 and not Report.objects.exists()
    assert AuditEvent.objects.filter(action="workgroup.report.issue.denied").count() == 1


def test_create_a_group_and_fill_it_through_the_pages(province_client, geo, fake_figures):
    c = province_client
    form = c.get(reverse("workgroups:create"))
    assert "Phường Đông Sơn" in form.content.decode()  # the province and its communes offered
    r = c.post(reverse("workgroups:create"), {"unit": geo.dong_son.qualified_code,
                                              "name": "Tổ công tác Đông Sơn",
                                              "decision_ref": "QĐ 7/QĐ-UBND"})
    assert r.status_code == 302
    pk = int(r["Location"].rstrip("/").rsplit("/", 1)[-1])
    refused = c.post(reverse("workgroups:create"), {"unit": geo.hong_ha.qualified_code, "name": "X"})
    assert refused.status_code == 400  # not one of the choices offered
    assert c.post(reverse("workgroups:member_add", args=[pk]), {
        "full_name": "Nguyễn Văn Trưởng", "role": "head", "position": "Chủ tịch UBND",
        "agency": "UBND phường",
        "username": ""}).status_code == 302
    bad = c.post(reverse("workgroups:member_add", args=[pk]), {"full_name": "A", "role": "head",
                                                               "username": "khong.co"})
    assert bad.status_code == 400 and "Không có tài khoản cán bộ này." in bad.content.decode()
    assert Member.objects.filter(group_id=pk).count() == 1
    assert c.post(reverse("workgroups:plan_add", args=[pk]), {"title": "Kế hoạch 2026",
                                                              "year": "2026"}).status_code == 302
    plan_id = c.get(reverse("workgroups:group", args=[pk])).context["v"].plans[0].plan.pk
    assert c.post(reverse("workgroups:task_add", args=[pk, plan_id]), {
        "kind": "specific", "title": "Rà soát dữ liệu", "owner_agency": "Công an phường",
        "deadline": "2026-01-15"}).status_code == 302
    too_big = c.post(reverse("workgroups:task_add", args=[pk, plan_id]), {
        "kind": "specific", "title": "T", "owner_agency": "CA", "target_code": "online_dossiers",
        "target_value": "1" + "0" * 30})
    assert too_big.status_code == 400 and Task.objects.count() == 1
    page = c.get(reverse("workgroups:group", args=[pk])).content.decode()
    assert 'data-late="1"' in page and "⚠" in page
    task = Task.objects.get()
    assert c.post(reverse("workgroups:task_done", args=[pk, task.pk]), {"evidence": ""}).status_code == 400
    assert c.post(reverse("workgroups:task_done", args=[pk, task.pk]),
                  {"evidence": "Biên bản rà soát số 3"}).status_code == 302
    assert 'data-status="done"' in c.get(reverse("workgroups:group", args=[pk])).content.decode()
    no_source = c.post(reverse("workgroups:manual_add", args=[pk]), {
        "code": "pilot_models", "label": "Mô hình điểm", "period_start": "2026-11-01",
        "period_end": "2026-11-30", "value": "2", "source": ""})
    assert no_source.status_code == 400 and not ManualFigure.objects.exists()
    assert c.post(reverse("workgroups:manual_add", args=[pk]), {
        "code": "pilot_models", "label": "Mô hình điểm", "period_start": "2026-11-01",
        "period_end": "2026-11-30", "value": "2", "source": "Báo cáo UBND phường"}).status_code == 302
    assert "nhập tay — nguồn: Báo cáo UBND phường, người nhập: ca.thanhhoa" in \
        c.get(reverse("workgroups:group", args=[pk])).content.decode()


def test_issue_and_download_the_same_bytes_after_the_data_moved_on(province_client, group, province_officer,
                                                                   fake_figures):
    c = province_client
    r = c.post(reverse("workgroups:reports", args=[group.pk]), {"kind": "fifteen_day", "day": "2026-11-20"})
    assert r.status_code == 302
    report = Report.objects.get()
    assert (report.period_start, report.period_end) == (day("2026-11-16"), day("2026-11-30"))
    again = c.post(reverse("workgroups:reports", args=[group.pk]), {"kind": "fifteen_day",
                                                                    "day": "2026-11-30"})
    assert again.status_code == 409 and "đã được ban hành" in again.content.decode()
    first = c.get(reverse("workgroups:report_download", args=[group.pk, report.pk, "pdf"]))
    assert first["Content-Type"] == "application/pdf" and first.content.startswith(b"%PDF-")

    plan = services.save_plan(province_officer, group, title="Kế hoạch", year=2026)
    services.save_task(province_officer, plan, kind="general", title="Nhiệm vụ mới", owner_agency="CA",
                       recurring=True)
    fake_figures["figures"][0]["ratio"] = 0.1
    for fmt in ("pdf", "xlsx"):
        later = c.get(reverse("workgroups:report_download", args=[group.pk, report.pk, fmt]))
        assert later.status_code == 200
        assert hashlib.sha256(later.content).hexdigest() == getattr(report, f"{fmt}_sha256")
        assert later["X-Content-SHA256"] == getattr(report, f"{fmt}_sha256")
    assert later.content == bytes(report.xlsx)
    assert c.get(reverse("workgroups:report_download", args=[group.pk, report.pk, "docx"])).status_code == 404
    assert AuditEvent.objects.filter(action="workgroup.report.download").count() == 3


def test_bad_dates_and_kinds_are_a_400(province_client, group):
    r = province_client.post(reverse("workgroups:reports", args=[group.pk]), {"kind": "weekly",
                                                                              "day": "2026-13-01"})
    assert r.status_code == 400
    r = province_client.post(reverse("workgroups:manual_add", args=[group.pk]), {
        "code": "x y", "label": "L", "period_start": "2026-11-30", "period_end": "2026-11-01",
        "value": "1e999", "source": "S"})
    assert r.status_code == 400


def test_evidence_file_kept_in_the_document_store_and_read_audited(province_client, group, province_officer,
                                                                   commune_officer, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    plan = services.save_plan(province_officer, group, title="Kế hoạch", year=2026)
    task = services.save_task(province_officer, plan, kind="specific", title="Rà soát", owner_agency="CA")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    not_pdf = SimpleUploadedFile("bien-ban.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    r = province_client.post(reverse("workgroups:task_done", args=[group.pk, task.pk]),
                             {"evidence": "Biên bản", "attachment": not_pdf})
    assert r.status_code == 400 and Task.objects.get().done_at is None  # refused with its field
    r = province_client.post(reverse("workgroups:task_done", args=[group.pk, task.pk]), {
        "evidence": "Biên bản", "attachment": SimpleUploadedFile("bien-ban.pdf", pdf, "application/pdf")})
    assert r.status_code == 302
    officer_login(client, commune_officer)  # a reader of the group reads the evidence too
    got = client.get(reverse("workgroups:task_evidence", args=[group.pk, task.pk]))
    assert got.status_code == 200 and got.content == pdf
    assert AuditEvent.objects.filter(action="document.read", reason=f"TCT-NV-{task.pk}").count() == 1


def test_huge_or_unknown_ids_are_a_404_never_a_500(province_client, group):
    huge = 10**22
    for url in (reverse("workgroups:group", args=[huge]), reverse("workgroups:reports", args=[huge]),
                reverse("workgroups:task_edit", args=[group.pk, huge]),
                reverse("workgroups:plan_edit", args=[group.pk, huge]),
                reverse("workgroups:member_edit", args=[group.pk, huge]),
                reverse("workgroups:report_download", args=[group.pk, huge, "pdf"])):
        assert province_client.get(url).status_code == 404, url


def test_edit_the_group_and_a_member_who_leaves_loses_the_rights(province_client, group, province_officer,
                                                                 commune_officer, client):
    member = services.save_member(province_officer, group, full_name="Lê Văn Tổ", role="secretary",
                                  username="ca.hacthanh")
    from dancu.workgroups.selectors import can_manage

    assert can_manage(commune_officer, group)  # the secretary manages, until they leave
    r = province_client.post(reverse("workgroups:edit", args=[group.pk]),
                             {"name": "Tổ công tác phường Hạc Thành", "decision_ref": "QĐ 9"})
    assert r.status_code == 302
    r = province_client.post(reverse("workgroups:member_edit", args=[group.pk, member.pk]), {
        "full_name": "Lê Văn Tổ", "role": "secretary", "username": "ca.hacthanh", "active": ""})
    assert r.status_code == 302 and not Member.objects.get().active
    officer_login(client, commune_officer)
    assert client.get(reverse("workgroups:edit", args=[group.pk])).status_code == 403
    page = client.get(reverse("workgroups:group", args=[group.pk])).content.decode()
    assert "Tổ công tác phường Hạc Thành" in page and 'data-testid="add-plan"' not in page
    events = AuditEvent.objects.filter(action__in=["workgroup.update", "workgroup.member.update"])
    assert {e.action for e in events} == {"workgroup.update", "workgroup.member.update"}


def test_correct_a_report_through_the_pages_the_list_shows_the_version_in_force_and_its_history(
        province_client, group, province_officer, commune_officer, fake_figures):
    c = client = province_client  # one test client: signed in as the province officer, then another
    assert c.post(reverse("workgroups:reports", args=[group.pk]), {"kind": "monthly",
                                                                   "day": "2026-11-20"}).status_code == 302
    v1 = Report.objects.get()
    url = reverse("workgroups:report_correct", args=[group.pk, v1.pk])
    form = c.get(url)
    assert form.status_code == 200 and "01/BC-TCT" in form.content.decode()
    no_reason = c.post(url, {"reason": "  "})
    assert no_reason.status_code == 400 and Report.objects.count() == 1
    assert c.post(url, {"reason": "Số liệu hồ sơ trực tuyến bị tính thiếu"}).status_code == 302
    v2 = Report.objects.get(version=2)
    again = c.post(url, {"reason": "Sửa lần nữa"})  # v1 is no longer the version in force
    assert again.status_code == 409 and "v2" in again.content.decode()

    page = c.get(reverse("workgroups:reports", args=[group.pk])).content.decode()
    assert page.count('data-testid="report-period"') == 1
    assert f'data-number="{v2.number}" data-version="2" data-current="1"' in page
    assert f'data-number="{v1.number}" data-version="1" data-current="0"' in page
    assert (f"đã được thay thế bởi v2 ngày {timezone.localtime(v2.issued_at):%d/%m/%Y} "
            "(Số liệu hồ sơ trực tuyến bị tính thiếu)") in page
    assert page.count('data-testid="correct"') == 1  # only the version in force is corrected
    old = c.get(reverse("workgroups:report_download", args=[group.pk, v1.pk, "pdf"]))
    assert old.status_code == 200 and old.content == bytes(v1.pdf)
    assert c.get(reverse("workgroups:report_correct", args=[group.pk, 10**22])).status_code == 404

    officer_login(client, commune_officer)  # a reader sees the history, corrects nothing
    body = client.get(reverse("workgroups:reports", args=[group.pk])).content.decode()
    assert "đã được thay thế bởi v2" in body and 'data-testid="correct"' not in body
    assert client.post(reverse("workgroups:report_correct", args=[group.pk, v2.pk]),
                       {"reason": "x"}).status_code == 403


def test_a_manual_figure_is_corrected_through_a_new_entry_the_earlier_shown_superseded(
        province_client, group, province_officer):
    first = services.enter_manual_figure(
        province_officer, group, code="pilot_models", label="Số mô hình điểm", period_start=day("2026-11-01"),
        period_end=day("2026-11-30"), value="3", source="Báo cáo UBND phường số 45")
    page = province_client.get(reverse("workgroups:group", args=[group.pk])).content.decode()
    assert f"?dinh-chinh={first.pk}" in page
    form = province_client.get(reverse("workgroups:manual_add", args=[group.pk]), {"dinh-chinh": first.pk})
    assert form.status_code == 200 and 'value="pilot_models"' in form.content.decode()
    assert 'value="2026-11-01"' in form.content.decode() and "không sửa được" in form.content.decode()
    assert province_client.get(reverse("workgroups:manual_add", args=[group.pk]),
                               {"dinh-chinh": "abc"}).status_code == 404
    assert province_client.post(reverse("workgroups:manual_add", args=[group.pk]), {
        "code": "pilot_models", "label": "Số mô hình điểm", "period_start": "2026-11-01",
        "period_end": "2026-11-30", "value": "4", "source": "Công văn 9/UBND"}).status_code == 302
    page = province_client.get(reverse("workgroups:group", args=[group.pk])).content.decode()
    assert page.count('data-current="1"') == 1 and page.count('data-current="0"') == 1
    assert "đã bị thay thế: ca.thanhhoa đính chính lúc" in page
    assert ManualFigure.objects.count() == 2 and ManualFigure.objects.get(pk=first.pk).value == 3
