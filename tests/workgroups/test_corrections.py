"""Corrected reports (báo cáo thay thế / đính chính) and corrected figures entered by hand: a
correction is a new row, the earlier one is never touched and stays downloadable, identical;
two officers correcting the same version at once make one correction."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from dancu.audit.models import AuditEvent
from dancu.core.errors import Conflict, DomainError, OutOfJurisdiction
from dancu.workgroups import selectors, services
from dancu.workgroups.models import ManualFigure, Report
from tests.factories import officer_actor
from tests.workgroups.conftest import day

REASON = "Số hồ sơ trực tuyến bị tính thiếu do chưa đồng bộ dữ liệu của Bộ phận một cửa"


def _pdf_text(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.pdf"
        path.write_bytes(content)
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def _issue(actor, group):
    return services.issue_report(actor, group, kind="monthly", day=day("2026-11-20"))


def test_a_correction_is_a_new_version_and_the_earlier_report_stays_identical(
        group, province_officer, fake_figures):
    v1 = _issue(province_officer, group)
    pdf1, xlsx1 = bytes(v1.pdf), bytes(v1.xlsx)
    fake_figures["figures"][0].update(numerator=48, ratio=0.96)  # the corrected figure

    v2 = services.issue_correction(province_officer, group, replaces=v1, reason=REASON)
    assert (v2.version, v2.replaces_id, v2.reason, v2.issued_by) == (2, v1.pk, REASON, "ca.thanhhoa")
    assert (v2.kind, v2.period_start, v2.period_end, v2.number) == (
        "monthly", day("2026-11-01"), day("2026-11-30"), "02/BC-TCT")
    assert v2.snapshot["correction"]["replaces"]["number"] == "01/BC-TCT"
    assert v2.snapshot["figures"]["figures"][0]["ratio"] == 0.96

    # the earlier report: the same row, the same bytes, downloadable; "replaced by" is a look-up
    old = Report.objects.get(pk=v1.pk)
    assert (bytes(old.pdf), bytes(old.xlsx), old.version, old.reason) == (pdf1, xlsx1, 1, "")
    assert old.replaced_by == v2
    for fmt, original in (("pdf", pdf1), ("xlsx", xlsx1)):
        _r, content = selectors.report_file(province_officer, group, v1.pk, fmt)
        assert content == original

    # the correction's files say what they replace and why
    text = _pdf_text(bytes(v2.pdf))
    assert "BÁO CÁO THAY THẾ — PHIÊN BẢN 2" in text
    assert "Thay thế Báo cáo số 01/BC-TCT (phiên bản 1) ban hành lúc" in text
    assert f"Lý do đính chính: {REASON}" in text
    assert "THAY THẾ" not in _pdf_text(pdf1)
    sheet = load_workbook(io.BytesIO(bytes(v2.xlsx)))["Chỉ tiêu"]
    lines = [row[0] for row in sheet.iter_rows(max_col=1, max_row=6, values_only=True)]
    assert lines[3:6] == ["BÁO CÁO THAY THẾ — PHIÊN BẢN 2", lines[4], f"Lý do đính chính: {REASON}"]
    assert lines[4].startswith("Thay thế Báo cáo số 01/BC-TCT (phiên bản 1)")
    ratio = next(c for c in sheet["E"] if c.value == 0.96)  # numbers stay numbers below the longer heading
    assert ratio.number_format == "0.00%" and sheet.cell(ratio.row, 1).value == "online_dossiers"

    event = AuditEvent.objects.get(action="workgroup.report.correct")
    assert event.reason == REASON and event.subject_id == str(v2.pk)
    assert event.details["replaces"] == v1.pk and event.details["version"] == 2

    # the list: the version in force per period, and its history
    [period] = selectors.report_history(group)
    assert period.current == v2 and period.history == [v1]
    assert period.history[0].successor == v2

    # a v3 corrects v2; v1 can no longer be corrected (409 naming the version that replaced it)
    v3 = services.issue_correction(province_officer, group, replaces=v2, reason="Bổ sung nhiệm vụ")
    assert (v3.version, v3.replaces_id, v3.number) == (3, v2.pk, "03/BC-TCT")
    with pytest.raises(Conflict) as err:
        services.issue_correction(province_officer, group, replaces=v1, reason="lại")
    assert err.value.code == "E_REPORT_REPLACED" and err.value.status == 409
    assert "v1" in str(err.value.message) and "v2" in str(err.value.message)
    # a first issue of the period stays refused
    with pytest.raises(Conflict) as err:
        _issue(province_officer, group)
    assert err.value.code == "E_REPORT_EXISTS"
    assert Report.objects.filter(group=group).count() == 3


def test_a_correction_needs_its_reason_and_the_right_to_issue_reports(
        group, province_officer, commune_officer, fake_figures):
    v1 = _issue(province_officer, group)
    for blank in ("", "   "):
        with pytest.raises(DomainError) as err:
            services.issue_correction(province_officer, group, replaces=v1, reason=blank)
        assert err.value.field == "reason"
    with pytest.raises(OutOfJurisdiction):  # a reader of the group does not issue reports
        services.issue_correction(commune_officer, group, replaces=v1, reason=REASON)
    assert AuditEvent.objects.filter(action="workgroup.report.correct.denied",
                                     actor_label="ca.hacthanh").count() == 1
    assert Report.objects.count() == 1


def test_the_database_keeps_one_successor_per_report_and_a_correction_has_its_reason(
        group, province_officer, fake_figures):
    v1 = _issue(province_officer, group)
    v2 = services.issue_correction(province_officer, group, replaces=v1, reason=REASON)
    row = {f: getattr(v2, f) for f in ("group_id", "kind", "period_start", "period_end", "issued_at",
                                       "issued_by", "snapshot", "pdf", "pdf_sha256", "xlsx", "xlsx_sha256")}
    # past the service (no lock, no check): the constraints alone refuse
    for extra in ({"seq": 50, "number": "50", "version": 3, "replaces": v1, "reason": "x"},  # 2nd successor
                  {"seq": 51, "number": "51", "version": 2, "replaces": v2, "reason": "x"},  # a 2nd v2
                  {"seq": 52, "number": "52", "version": 3, "replaces": v2, "reason": ""},  # no reason
                  {"seq": 53, "number": "53", "version": 1, "replaces": v2, "reason": "x"}):  # v1 replacing
        with pytest.raises(IntegrityError), transaction.atomic():
            Report.objects.create(**row, **extra)
    with pytest.raises(DatabaseError), transaction.atomic():
        Report.objects.filter(pk=v1.pk).update(reason="rewritten")


@pytest.mark.django_db(transaction=True)
def test_two_officers_correcting_the_same_version_at_once_make_one_v2(fake_figures):
    from tests.factories import mini_geo
    from tests.parallel import run_parallel

    geo = mini_geo()
    officers = [officer_actor("ca.thanhhoa", "province_police", geo.thanh_hoa),
                officer_actor("bo.quantri", "ministry_admin", None)]
    group = services.create_group(officers[0], unit=geo.hac_thanh, name="Tổ công tác")
    v1 = _issue(officers[0], group)
    errors = run_parallel(lambda i: services.issue_correction(officers[i % 2], group, replaces=v1,
                                                              reason=f"{REASON} ({i})"), 4)
    assert Report.objects.filter(group=group).count() == 2
    assert Report.objects.filter(replaces=v1, version=2).count() == 1
    assert len(errors) == 3, errors
    assert all(isinstance(e, Conflict) and e.code == "E_REPORT_REPLACED" and e.status == 409
               for e in errors), errors
    assert all("v2" in str(e.message) for e in errors if isinstance(e, Conflict))
    assert AuditEvent.objects.filter(action="workgroup.report.correct").count() == 1


# ---- figures entered by hand: never edited, corrected by a new entry ---------------------------

def _enter(actor, group, value, source="Báo cáo của UBND phường số 45"):
    return services.enter_manual_figure(
        actor, group, code="pilot_models", label="Số mô hình điểm", period_start=day("2026-11-01"),
        period_end=day("2026-11-30"), value=value, unit_label="mô hình", source=source)


def test_a_manual_figure_is_corrected_by_a_new_entry_the_latest_used(group, province_officer,
                                                                      ministry_admin, fake_figures):
    first = _enter(province_officer, group, "3")
    other = services.enter_manual_figure(  # another period: another figure
        province_officer, group, code="pilot_models", label="Số mô hình điểm", period_start=day("2026-10-01"),
        period_end=day("2026-10-31"), value="1", source="Báo cáo tháng 10")
    second = _enter(ministry_admin, group, "4", source="Công văn 9/UBND")
    lines = selectors.manual_figures(group)
    assert [(line.current, line.earlier) for line in lines] == [(second, [first]), (other, [])]
    assert lines[0].earlier[0].superseded_by == second
    event = AuditEvent.objects.filter(action="workgroup.manual_figure.enter", subject_id=str(second.pk)).get()
    assert event.details["supersedes"] == first.pk

    # never edited nor deleted, in the database itself
    with pytest.raises(DatabaseError), transaction.atomic():
        ManualFigure.objects.filter(pk=first.pk).update(value=9)
    with pytest.raises(DatabaseError), transaction.atomic():
        ManualFigure.objects.filter(pk=first.pk).delete()

    # a report uses the latest entry, marked as a correction of the earlier one
    report = _issue(province_officer, group)
    [item] = report.snapshot["manual"]
    assert item["value"] == "4.00" and item["entered_by"] == "bo.quantri"
    when = timezone.localtime(first.entered_at).strftime("%d/%m/%Y %H:%M")
    assert item["marker"] == (
        "nhập tay — nguồn: Công văn 9/UBND, người nhập: bo.quantri, "
        f"lúc {timezone.localtime(second.entered_at):%d/%m/%Y %H:%M}; "
        f"đính chính, thay giá trị 3.00 do ca.thanhhoa nhập lúc {when}")
    assert item["supersedes"][0]["value"] == "3.00"
    assert "đính chính, thay giá trị 3.00 do ca.thanhhoa" in _pdf_text(bytes(report.pdf))
