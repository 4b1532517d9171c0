"""The counter pages in headless Chromium (Debian's /usr/bin/chromium) against a live server:
an officer signs in (password + TOTP), opens the queue, sees the deadline flags in words,
opens a dossier, accepts it and approves it; the queue and the dossier page are usable on a
390 px phone (nothing scrolls sideways). Screenshots go to /tmp/shots-counter/ (or
DANCU_SCREENSHOT_DIR) for a human to look at. See tests/browser.py for why
DJANGO_ALLOW_ASYNC_UNSAFE is set while this module runs."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from tests.browser import BROWSER, no_sideways_scroll, officer_sign_in

pytestmark = BROWSER
SHOTS = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or "/tmp/shots-counter")  # noqa: S108


@pytest.fixture
def world(transactional_db, live_server, settings):
    from django.utils import timezone

    from dancu.accounts.actor import system_actor
    from dancu.publicservices import services
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Dossier, Procedure
    from dancu.residence import services as residence
    from tests.factories import citizen_raw, mini_geo, officer_actor

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sync_catalog(Procedure)  # a transactional test's flush removed the migration's rows
    geo = mini_geo()
    officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    counter = officer_actor("mc.hacthanh", "counter", geo.hac_thanh)
    seed = system_actor("test:seed")
    names = ["Trần Thị Lan", "Lê Văn Bình", "Nguyễn Thị Hoà", "Phạm Minh Đức", "Vũ Thị Ngọc Ánh"]
    people = [residence.register_new_resident(
        seed, citizen_raw(full_name=n), commune=geo.hac_thanh, address=f"Số {i + 3} Lê Lợi",
        started_on=dt.date(2020, 1, 1), reason="Dữ liệu thử").citizen for i, n in enumerate(names)]
    codes = []
    for i, person in enumerate(people):
        d = services.submit(counter, procedure_code="1.010123" if i % 2 == 0 else "1.003666",
                            applicant_personal_id=person.personal_id, relation="self",
                            data={"purpose": "Bổ sung hồ sơ vay vốn ngân hàng"}, components={},
                            channel="counter")
        codes.append(d.code)
    today = timezone.localdate()
    Dossier.objects.filter(code=codes[1]).update(due_on=today - dt.timedelta(days=2))
    Dossier.objects.filter(code=codes[2]).update(due_on=today)
    from dancu.publicservices.services import corrections
    from tests.publicservices.conftest import as_citizen

    filed = corrections.request_correction(
        as_citizen(people[0]), people[0], "birth_date", "18/05/1990", "giấy khai sinh",
        procedure=Procedure.objects.get(slug="dang-ky-tam-tru"))
    return {"url": live_server.url, "codes": codes, "correction": filed.pk}


def _sign_in(page, base: str, username: str) -> None:
    officer_sign_in(page, base + "/mot-cua/", username, landing=r"/mot-cua/$")


def test_queue_and_dossier_on_desktop_and_phone(browser, world) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base, codes = world["url"], world["codes"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    _sign_in(page, base, "ca.hacthanh")
    rows = page.get_by_test_id("queue-row")
    assert rows.count() == 5
    assert rows.first.get_attribute("data-code") == codes[1]  # the overdue one first (by deadline)
    assert "Quá hạn" in rows.first.inner_text()
    assert "Sắp đến hạn" in rows.nth(1).inner_text()
    assert page.get_by_test_id("nav-counter").is_visible()
    page.screenshot(path=str(SHOTS / "queue-desktop.png"), full_page=True)

    page.get_by_role("link", name=codes[0]).click()
    page.wait_for_url(re.compile(rf"/mot-cua/ho-so/{codes[0]}/$"))
    assert page.get_by_test_id("dossier-status").inner_text() == "Đã nộp"
    page.get_by_test_id("accept").click()
    page.wait_for_url(re.compile(rf"/mot-cua/ho-so/{codes[0]}/$"))
    assert page.get_by_test_id("dossier-status").inner_text() == "Đã tiếp nhận"
    page.screenshot(path=str(SHOTS / "dossier-desktop.png"), full_page=True)
    page.get_by_test_id("approve").click()
    page.wait_for_url(re.compile(rf"/mot-cua/ho-so/{codes[0]}/$"))
    assert page.get_by_test_id("dossier-status").inner_text() == "Đã giải quyết"
    assert page.get_by_test_id("result-link").is_visible()
    page.screenshot(path=str(SHOTS / "dossier-approved-desktop.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/mot-cua/")
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "queue-phone.png"), full_page=True)
    page.goto(base + f"/mot-cua/ho-so/{codes[1]}/")
    no_sideways_scroll(page)
    assert page.get_by_test_id("accept").is_visible()
    page.screenshot(path=str(SHOTS / "dossier-phone.png"), full_page=True)

    # the correction requests of the area, and one of them (the "báo sai" of the portal)
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(base + "/mot-cua/dieu-chinh/")
        assert page.get_by_test_id("correction-row").count() == 1
        if width == 390:
            no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"corrections-{name}.png"), full_page=True)
        page.goto(base + f"/mot-cua/dieu-chinh/{world['correction']}/")
        assert "18/05/1990" in page.content()
        radio = page.locator("input[type=radio]").first.bounding_box()
        label = page.get_by_text("Đã điều chỉnh trong cơ sở dữ liệu").bounding_box()
        # each radio button beside its label, not stretched above it
        assert radio and label and radio["width"] < 40 and abs(radio["y"] - label["y"]) < 20
        if width == 390:
            no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"correction-{name}.png"), full_page=True)
    context.close()


def test_intake_at_the_counter_prints_a_receipt(browser, world) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    from dancu.population.models import Citizen

    person = Citizen.objects.order_by("pk").first()
    base = world["url"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    _sign_in(page, base, "mc.hacthanh")
    page.get_by_test_id("intake-link").click()
    page.get_by_label("Thủ tục").select_option("1.010123")
    page.get_by_label("Số định danh của người nộp").fill(person.personal_id)
    page.get_by_role("button", name="Tìm công dân").click()
    page.get_by_test_id("intake-applicant").wait_for()
    page.locator("[name=data__purpose]").fill("Xin việc làm")
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "intake-phone.png"), full_page=True)
    page.get_by_test_id("intake-submit").click()
    page.wait_for_url(re.compile(r"/bien-nhan/$"))
    code = page.get_by_test_id("receipt-code").inner_text().strip()
    assert re.fullmatch(r"DC-\d{8}-\d{6}", code)
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "receipt-phone.png"), full_page=True)
    context.close()
