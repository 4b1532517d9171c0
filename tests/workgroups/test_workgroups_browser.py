"""The working-group pages in headless Chromium (Debian's /usr/bin/chromium) against a live
server: province police sign in (password + TOTP), open their groups, see the tasks with their
status and the late flag, add a task, mark one done with its evidence, enter a figure by hand
with its source, issue a 15-day report and download it; the pages are usable on a 390 px phone
(nothing scrolls sideways). Screenshots go to /tmp/shots-workgroups/ (or DANCU_SCREENSHOT_DIR)
for a human to look at. The kpi figures are a stand-in here (tests/workgroups/conftest.py);
test_with_kpi.py uses the real ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path

import pytest

from tests.browser import BROWSER, no_sideways_scroll, officer_sign_in

pytestmark = BROWSER
SHOTS = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or "/tmp/shots-workgroups")  # noqa: S108


@pytest.fixture
def world(transactional_db, live_server, fake_figures):
    from django.utils import timezone

    from dancu.workgroups import services
    from tests.factories import mini_geo, officer_actor

    geo = mini_geo()
    province = officer_actor("ca.thanhhoa", "province_police", geo.thanh_hoa)
    officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    group = services.create_group(province, unit=geo.hac_thanh, name="Tổ công tác Đề án 06 phường Hạc Thành",
                                  decision_ref="Quyết định 125/QĐ-UBND ngày 03/3/2026")
    for name, role, position in (("Lê Văn Hùng", "head", "Chủ tịch UBND phường"),
                                 ("Trần Thị Mai", "deputy", "Trưởng Công an phường"),
                                 ("Phạm Quốc Bảo", "secretary", "Cán bộ Văn phòng UBND")):
        services.save_member(province, group, full_name=name, role=role, position=position,
                             agency="Phường Hạc Thành", username="ca.hacthanh" if role == "secretary" else "")
    today = timezone.localdate()
    plan = services.save_plan(province, group, title=f"Kế hoạch triển khai Đề án 06 năm {today.year}",
                              year=today.year, reference="KH 15/KH-TCT")
    services.save_task(province, plan, kind="general", title="Tuyên truyền, hướng dẫn người dân kích hoạt "
                       "tài khoản định danh điện tử", owner_agency="Công an phường", recurring=True)
    services.save_task(province, plan, kind="specific", title="Làm sạch dữ liệu dân cư của tổ dân phố 5",
                       owner_agency="Công an phường", deadline=today - dt.timedelta(days=3))
    services.save_task(province, plan, kind="specific", title="Tỷ lệ hồ sơ nộp trực tuyến đạt 80%",
                       owner_agency="Bộ phận một cửa", deadline=dt.date(today.year, 12, 31),
                       target_code="online_dossiers", target_value="80")
    return {"url": live_server.url, "group": group.pk}


def test_group_tasks_manual_figure_and_report_on_desktop_and_phone(browser, world) -> None:
    from django.utils import timezone

    from dancu.workgroups.models import Plan, Report

    SHOTS.mkdir(parents=True, exist_ok=True)
    base, pk = world["url"], world["group"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN",
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    officer_sign_in(page, base + "/to-cong-tac/", "ca.thanhhoa", landing=r"/to-cong-tac/$")
    assert page.get_by_test_id("group-row").count() == 1
    page.screenshot(path=str(SHOTS / "list-desktop.png"), full_page=True)
    page.get_by_role("link", name="Tổ công tác Đề án 06 phường Hạc Thành").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/$"))
    rows = page.get_by_test_id("task-row")
    assert rows.count() == 3
    statuses = {rows.nth(i).get_attribute("data-status") for i in range(3)}
    assert statuses == {"regular", "late", "done"}
    late = page.locator('[data-testid=task-row][data-late="1"]')
    assert late.count() == 1 and "⚠ Trễ hạn" in late.inner_text()

    # a new task, then the late one reported done with its evidence
    page.get_by_test_id("add-task").click()
    page.get_by_label("Nội dung nhiệm vụ").fill("Số hóa hồ sơ, kết quả giải quyết TTHC")
    page.get_by_label("Cơ quan chủ trì").fill("Bộ phận một cửa")
    page.get_by_label("Thời hạn").fill("2099-06-30")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/$"))
    assert page.get_by_test_id("task-row").count() == 4
    late.get_by_test_id("mark-done").click()
    page.get_by_label("Kết quả, minh chứng").fill("Đã rà soát 1.240 nhân khẩu; biên bản số 12/BB-CA")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/$"))
    assert page.locator('[data-testid=task-row][data-late="1"]').count() == 0

    # a figure with no operational source: its source and who entered it
    page.get_by_test_id("add-manual").click()
    page.get_by_label("Mã số liệu").fill("pilot_models")
    page.get_by_label("Tên số liệu").fill("Mô hình điểm “Tổ dân phố số”")
    today = timezone.localdate()
    page.get_by_label("Từ ngày").fill(today.replace(day=1).isoformat())
    page.get_by_label("Đến ngày").fill(today.isoformat())
    page.get_by_label("Giá trị").fill("2")
    page.get_by_label("Đơn vị tính").fill("mô hình")
    page.get_by_test_id("save").click()  # no source: refused beside the field
    assert page.locator("[data-field-error=source]").is_visible()
    page.get_by_label("Nguồn số liệu").fill("Báo cáo số 45/BC-UBND của UBND phường")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/$"))
    assert "nhập tay — nguồn: Báo cáo số 45/BC-UBND của UBND phường, người nhập: ca.thanhhoa" in \
        page.get_by_test_id("manual").inner_text()
    page.screenshot(path=str(SHOTS / "group-desktop.png"), full_page=True)

    # issue the 15-day report and download it
    page.get_by_test_id("reports-link").click()
    page.get_by_label("Loại báo cáo").select_option("fifteen_day")
    page.get_by_test_id("issue").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/bao-cao/$"))
    assert page.get_by_test_id("report-row").count() == 1
    page.screenshot(path=str(SHOTS / "reports-desktop.png"), full_page=True)
    report = Report.objects.get()
    for fmt in ("pdf", "xlsx"):
        with page.expect_download() as info:
            page.get_by_test_id(fmt).click()
        path = info.value.path()
        data = Path(path).read_bytes()
        (SHOTS / f"report.{fmt}").write_bytes(data)
        assert hashlib.sha256(data).hexdigest() == getattr(report, f"{fmt}_sha256")

    page.set_viewport_size({"width": 390, "height": 844})
    for url, name in ((f"/to-cong-tac/{pk}/", "group"), (f"/to-cong-tac/{pk}/bao-cao/", "reports"),
                      ("/to-cong-tac/", "list")):
        page.goto(base + url)
        no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.goto(base + f"/to-cong-tac/{pk}/ke-hoach/{Plan.objects.get().pk}/nhiem-vu/them/")
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "task-form-phone.png"), full_page=True)

    # English, selectable (the language menu of every page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + f"/to-cong-tac/{pk}/")
    with page.expect_navigation():
        page.get_by_test_id("language").select_option("en")
    assert page.get_by_role("heading", name="Plans and tasks").is_visible()
    assert "Regular" in page.locator('[data-testid=task-row][data-status="regular"]').inner_text()
    assert "entered by hand — source:" in page.get_by_test_id("manual").inner_text()
    page.screenshot(path=str(SHOTS / "group-desktop-en.png"), full_page=True)
    context.close()


def test_correct_a_figure_and_an_issued_report_on_desktop_and_phone(browser, world) -> None:
    """Correct a figure entered by hand (a new entry; the earlier one shown superseded), issue a
    monthly report, correct it with its reason: the list shows v2 in force and v1 replaced (by
    v2, on its date, why), v1 still downloads byte for byte."""
    from django.utils import timezone

    from dancu.accounts import services as accounts
    from dancu.accounts.models import OfficerProfile
    from dancu.workgroups import services
    from dancu.workgroups.models import Report, WorkingGroup

    SHOTS.mkdir(parents=True, exist_ok=True)
    base, pk = world["url"], world["group"]
    province = accounts.actor_for_profile(OfficerProfile.objects.get(user__username="ca.thanhhoa"))
    today = timezone.localdate()
    services.enter_manual_figure(province, WorkingGroup.objects.get(pk=pk), code="pilot_models",
                                 label="Mô hình điểm “Tổ dân phố số”", period_start=today.replace(day=1),
                                 period_end=today, value="2", unit_label="mô hình",
                                 source="Báo cáo số 45/BC-UBND của UBND phường")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN",
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    officer_sign_in(page, base + f"/to-cong-tac/{pk}/", "ca.thanhhoa", landing=rf"/to-cong-tac/{pk}/$")
    page.get_by_test_id("correct-manual").click()
    assert page.get_by_label("Mã số liệu").input_value() == "pilot_models"
    page.get_by_label("Giá trị").fill("3")
    page.get_by_label("Nguồn số liệu").fill("Công văn số 9/UBND bổ sung báo cáo 45")
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/$"))
    manual = page.get_by_test_id("manual")
    assert "3,00 mô hình" in manual.locator('[data-current="1"]').inner_text()
    assert "đã bị thay thế: ca.thanhhoa đính chính lúc" in manual.locator('[data-current="0"]').inner_text()
    manual.screenshot(path=str(SHOTS / "manual-corrected-desktop.png"))

    page.get_by_test_id("reports-link").click()
    page.get_by_label("Loại báo cáo").select_option("monthly")
    page.get_by_test_id("issue").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/bao-cao/$"))
    v1 = Report.objects.get()

    page.get_by_test_id("correct").click()
    assert v1.number in page.get_by_role("heading", level=1).inner_text()
    page.get_by_test_id("save").click()  # no reason: refused beside the field
    assert page.locator("[data-field-error=reason]").is_visible()
    page.get_by_label("Lý do đính chính").fill("Số hồ sơ trực tuyến bị tính thiếu do chưa đồng bộ "
                                               "dữ liệu của Bộ phận một cửa")
    page.screenshot(path=str(SHOTS / "correct-form-desktop.png"), full_page=True)
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(rf"/to-cong-tac/{pk}/bao-cao/$"))
    rows = page.get_by_test_id("report-row")
    assert rows.count() == 2
    current = page.locator('[data-testid=report-row][data-current="1"]')
    assert current.get_attribute("data-version") == "2" and "thay thế v1" in current.inner_text()
    replaced = page.locator('[data-testid=report-row][data-current="0"]')
    assert "đã được thay thế bởi v2 ngày" in replaced.inner_text()
    page.screenshot(path=str(SHOTS / "reports-corrected-desktop.png"), full_page=True)
    with page.expect_download() as info:
        replaced.get_by_test_id("pdf").click()
    assert hashlib.sha256(Path(info.value.path()).read_bytes()).hexdigest() == v1.pdf_sha256
    with page.expect_download() as info:
        current.get_by_test_id("pdf").click()
    (SHOTS / "report-v2.pdf").write_bytes(Path(info.value.path()).read_bytes())

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "reports-corrected-phone.png"), full_page=True)
    page.goto(base + f"/to-cong-tac/{pk}/")
    no_sideways_scroll(page)
    page.get_by_test_id("manual").screenshot(path=str(SHOTS / "manual-corrected-phone.png"))
    page.goto(base + f"/to-cong-tac/{pk}/bao-cao/")
    with page.expect_navigation():
        page.get_by_test_id("language").select_option("en")
    assert "replaced by v2 on" in page.locator('[data-testid=report-row][data-current="0"]').inner_text()
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "reports-corrected-phone-en.png"), full_page=True)
    context.close()
