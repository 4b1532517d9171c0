"""Working groups through their services: who may read and manage, tasks and their status,
figures entered by hand, and reports frozen when issued."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.core.errors import Conflict, DomainError, OutOfJurisdiction
from dancu.workgroups import selectors, services
from dancu.workgroups.models import Report
from tests.factories import officer_actor
from tests.workgroups.conftest import day


def test_who_reads_and_who_manages(geo, group, province_officer, commune_officer, ministry_admin, auditor):
    other_commune = officer_actor("ca.dongson", "commune_police", geo.dong_son)
    ha_noi = officer_actor("ca.hanoi", "province_police", geo.ha_noi)
    assert selectors.can_manage(province_officer, group) and selectors.can_manage(ministry_admin, group)
    assert selectors.can_read(commune_officer, group) and not selectors.can_manage(commune_officer, group)
    assert selectors.can_read(auditor, group) and not selectors.can_manage(auditor, group)
    for outsider in (other_commune, ha_noi):
        assert not selectors.can_read(outsider, group)
        with pytest.raises(OutOfJurisdiction):
            selectors.get_group(outsider, group.pk)
    assert AuditEvent.objects.filter(action="workgroup.read.denied", actor_label="ca.hanoi").exists()
    assert list(selectors.groups_for(commune_officer)) == [group]
    assert list(selectors.groups_for(other_commune)) == []
    assert list(selectors.groups_for(ha_noi)) == []


def test_the_head_member_manages_the_group_and_a_commune_officer_cannot_create_one(
        geo, group, province_officer, commune_officer):
    with pytest.raises(OutOfJurisdiction):
        services.create_group(commune_officer, unit=geo.hac_thanh, name="Tổ khác")
    with pytest.raises(OutOfJurisdiction):
        services.save_plan(commune_officer, group, title="Kế hoạch 2026", year=2026)
    assert AuditEvent.objects.filter(action="workgroup.plan.denied", actor_label="ca.hacthanh").count() == 1
    member = services.save_member(province_officer, group, full_name="Lê Văn Tổ", role="head",
                                  position="Trưởng Công an phường", agency="Công an phường Hạc Thành",
                                  username="ca.hacthanh")
    assert selectors.can_manage(commune_officer, group)
    plan = services.save_plan(commune_officer, group, title="Kế hoạch 2026", year=2026)
    assert plan.group == group
    services.save_member(province_officer, group, member=member, full_name="Lê Văn Tổ", role="member",
                         username="ca.hacthanh")
    assert not selectors.can_manage(commune_officer, group)
    event = AuditEvent.objects.filter(action="workgroup.member.update").get()
    assert event.before["role"] == "head" and event.after["role"] == "member"


def test_a_group_is_of_a_province_or_a_commune_of_2025(geo, province_officer):
    with pytest.raises(DomainError) as err:
        services.create_group(province_officer, unit=geo.legacy_commune, name="Tổ")
    assert err.value.field == "unit"
    province_group = services.create_group(province_officer, unit=geo.thanh_hoa, name="Tổ công tác tỉnh")
    with pytest.raises(Conflict):
        services.create_group(province_officer, unit=geo.thanh_hoa, name="Tổ công tác tỉnh")
    commune = officer_actor("ca.hac2", "commune_police", geo.hac_thanh)
    assert not selectors.can_read(commune, province_group)


def _plan_with_tasks(actor, group):
    plan = services.save_plan(actor, group, title="Kế hoạch triển khai Đề án 06 năm 2026", year=2026)
    late = services.save_task(actor, plan, kind="specific", title="Làm sạch dữ liệu dân cư",
                              owner_agency="Công an phường", deadline=day("2026-11-10"))
    regular = services.save_task(actor, plan, kind="general", title="Tuyên truyền định danh điện tử",
                                 owner_agency="UBND phường", recurring=True)
    by_target = services.save_task(actor, plan, kind="specific", title="Tỷ lệ hồ sơ trực tuyến ≥ 80%",
                                   owner_agency="Bộ phận một cửa", deadline=day("2026-12-31"),
                                   target_code="online_dossiers", target_value="80")
    unmet = services.save_task(actor, plan, kind="specific", title="200 hồ sơ định danh điện tử",
                               owner_agency="Công an phường", deadline=day("2026-12-31"),
                               target_code="submitted", target_value="200")
    return plan, {"late": late, "regular": regular, "by_target": by_target, "unmet": unmet}


def test_statuses_computed_with_the_target_figures(group, province_officer, fake_figures):
    _plan, tasks = _plan_with_tasks(province_officer, group)
    view = selectors.group_view(province_officer, group, today=day("2026-11-20"))
    status = {r.task.pk: r for pv in view.plans for r in pv.rows}
    assert status[tasks["late"].pk].status.code == "late" and status[tasks["late"].pk].status.late
    assert status[tasks["regular"].pk].status.code == "regular"
    hit = status[tasks["by_target"].pk]
    assert hit.status.code == "done" and hit.status.by_target
    assert status[tasks["by_target"].pk].target_actual == 90.0
    assert status[tasks["unmet"].pk].status.code == "in_progress"
    assert status[tasks["unmet"].pk].target_actual == 120.0
    assert view.counts == {"late": 1, "in_progress": 1, "regular": 1, "done": 1}
    # targets read over the plan's year to date, one call for the procedure-less targets
    assert fake_figures["calls"] == [(group.unit.pk, day("2026-01-01"), day("2026-11-20"), None)]

    services.mark_done(province_officer, tasks["late"], evidence="Đã rà soát 1.200 hồ sơ, biên bản số 5")
    view = selectors.group_view(province_officer, group, today=day("2026-11-20"))
    row = next(r for pv in view.plans for r in pv.rows if r.task.pk == tasks["late"].pk)
    assert row.status.code == "done" and not row.status.late and row.status.done_late
    with pytest.raises(Conflict):
        services.mark_done(province_officer, tasks["late"], evidence="lại")


def test_a_task_target_needs_both_code_and_value_and_bad_numbers_are_refused(group, province_officer):
    plan = services.save_plan(province_officer, group, title="KH", year=2026)
    with pytest.raises(DomainError) as err:
        services.save_task(province_officer, plan, kind="specific", title="T", owner_agency="CA",
                           target_code="online_dossiers")
    assert err.value.field == "target_value"
    for bad in ("1e400", "nan", "abc", "99999999999999999999"):
        with pytest.raises(DomainError) as err:
            services.save_task(province_officer, plan, kind="specific", title="T", owner_agency="CA",
                               target_code="online_dossiers", target_value=bad)
        assert err.value.field == "target_value"
    with pytest.raises(DomainError) as err:
        services.save_task(province_officer, plan, kind="other", title="T", owner_agency="CA")
    assert err.value.field == "kind"


def test_a_manual_figure_needs_its_source_and_records_who_entered_it(group, province_officer):
    with pytest.raises(DomainError) as err:
        services.enter_manual_figure(province_officer, group, code="pilot_models", label="Mô hình điểm",
                                     period_start=day("2026-11-01"), period_end=day("2026-11-30"),
                                     value="3", source="  ")
    assert err.value.field == "source"
    figure = services.enter_manual_figure(
        province_officer, group, code="pilot_models", label="Số mô hình điểm", period_start=day("2026-11-01"),
        period_end=day("2026-11-30"), value="3", unit_label="mô hình", source="Báo cáo của UBND phường số 45")
    assert figure.entered_by == "ca.thanhhoa" and figure.entered_by_user_id == province_officer.user_id
    assert "nguồn: Báo cáo của UBND phường số 45, người nhập: ca.thanhhoa" in services.manual_marker(figure)


def _issue(actor, group, kind="monthly", on="2026-11-20"):
    return services.issue_report(actor, group, kind=kind, day=day(on))


def test_an_issued_report_is_frozen_identical_after_the_data_moved_on(
        group, province_officer, fake_figures, client):
    _plan, tasks = _plan_with_tasks(province_officer, group)
    services.enter_manual_figure(
        province_officer, group, code="pilot_models", label="Số mô hình điểm", period_start=day("2026-11-01"),
        period_end=day("2026-11-30"), value="3", source="Báo cáo của UBND phường số 45")
    report = _issue(province_officer, group)
    assert (report.period_start, report.period_end, report.number) == (day("2026-11-01"), day("2026-11-30"),
                                                                       "01/BC-TCT")
    pdf, xlsx = bytes(report.pdf), bytes(report.xlsx)
    assert pdf.startswith(b"%PDF-") and zipfile.is_zipfile(io.BytesIO(xlsx))
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    assert hashlib.sha256(xlsx).hexdigest() == report.xlsx_sha256
    snap = report.snapshot
    assert snap["figures"]["figures"][0]["code"] == "online_dossiers"
    assert snap["manual"][0]["marker"].startswith(
        "nhập tay — nguồn: Báo cáo của UBND phường số 45, người nhập:")
    assert {r["title"]: r["status"] for r in snap["tasks"]["rows"]}["Tỷ lệ hồ sơ trực tuyến ≥ 80%"] == "done"
    assert AuditEvent.objects.filter(action="workgroup.report.issue", subject_id=str(report.pk)).exists()

    # the data moves on: figures fall, a task is done, another figure entered by hand
    fake_figures["figures"][0].update(numerator=10, ratio=0.2)
    services.mark_done(province_officer, tasks["late"], evidence="Biên bản số 7")
    services.enter_manual_figure(
        province_officer, group, code="pilot_models", label="Số mô hình điểm (bổ sung)",
        period_start=day("2026-11-01"), period_end=day("2026-11-30"), value="5", source="Công văn 9")
    live = services.build_snapshot(province_officer, group, kind="monthly", start=report.period_start,
                                   end=report.period_end, today=timezone.localdate())
    assert live["figures"]["figures"][0]["ratio"] == 0.2  # it did move
    # the second entry of the same code and period corrects the first: it is the one used
    assert [m["value"] for m in live["manual"]] == ["5.00"]
    assert [e["value"] for e in live["manual"][0]["supersedes"]] == ["3.00"]

    stored = Report.objects.get(pk=report.pk)
    for fmt, original in (("pdf", pdf), ("xlsx", xlsx)):
        _r, content = selectors.report_file(province_officer, group, report.pk, fmt)
        assert content == original
        assert hashlib.sha256(content).hexdigest() == getattr(stored, f"{fmt}_sha256")
    assert stored.snapshot == snap
    assert AuditEvent.objects.filter(action="workgroup.report.download").count() == 2


def test_one_report_per_period_numbered_in_sequence(group, province_officer, fake_figures, commune_officer):
    first = _issue(province_officer, group, "fifteen_day", "2026-11-03")
    assert (first.period_start, first.period_end) == (day("2026-11-01"), day("2026-11-15"))
    with pytest.raises(Conflict) as err:
        _issue(province_officer, group, "fifteen_day", "2026-11-15")
    assert err.value.code == "E_REPORT_EXISTS"
    second = _issue(province_officer, group, "fifteen_day", "2026-11-16")
    assert (second.period_start, second.period_end, second.number) == (day("2026-11-16"), day("2026-11-30"),
                                                                       "02/BC-TCT")
    monthly = _issue(province_officer, group, "monthly", "2026-11-16")
    assert monthly.number == "03/BC-TCT"
    with pytest.raises(DomainError) as err:
        _issue(province_officer, group, "monthly", (timezone.localdate() + dt.timedelta(days=40)).isoformat())
    assert err.value.code == "E_PERIOD_FUTURE"
    with pytest.raises(OutOfJurisdiction):
        _issue(commune_officer, group, "monthly", "2026-10-01")
    assert AuditEvent.objects.filter(action="workgroup.report.issue.denied").count() == 1


def test_an_issued_report_cannot_be_updated_nor_deleted_in_the_database(group, province_officer,
                                                                        fake_figures):
    report = _issue(province_officer, group)
    with pytest.raises(DatabaseError), transaction.atomic():
        Report.objects.filter(pk=report.pk).update(pdf=b"%PDF-forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        Report.objects.filter(pk=report.pk).delete()
    assert bytes(Report.objects.get(pk=report.pk).pdf) == bytes(report.pdf)


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_of_the_same_period_make_one_report(fake_figures):
    from tests.factories import mini_geo
    from tests.parallel import run_parallel

    geo = mini_geo()
    officer = officer_actor("ca.thanhhoa", "province_police", geo.thanh_hoa)
    group = services.create_group(officer, unit=geo.hac_thanh, name="Tổ công tác")
    errors = run_parallel(lambda i: _issue(officer, group, "monthly", "2026-11-0" + str(i + 1)), 4)
    assert Report.objects.filter(group=group).count() == 1
    assert len(errors) == 3, errors
    assert all(isinstance(e, Conflict) and e.code == "E_REPORT_EXISTS" for e in errors), errors
