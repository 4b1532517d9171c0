"""A citizen's e-ID journey in headless Chromium at a phone's width, against a live server:
register at level 1 with a portrait, confirm with the OTP from the SMS outbox, land on the
self-service page, sign out, then five wrong passwords lock the account.

Uses tests/browser.py's set-up (Debian's /usr/bin/chromium; fails rather than skips under CI;
DJANGO_ALLOW_ASYNC_UNSAFE while the module runs, for the ORM calls between browser steps).
"""

from __future__ import annotations

import re

import pytest

from tests.browser import BROWSER, SHOTS

pytestmark = BROWSER

PHONE_VIEWPORT = {"width": 390, "height": 844}
PASSWORD = "Hoa-sen-2024!"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="vi-VN", is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def world(transactional_db, live_server, settings, tmp_path):
    """A resident committed for the live server; portraits under a temporary media root."""
    import datetime as dt

    from dancu.residence import services as residence
    from tests.factories import citizen_raw, mini_geo, officer_actor

    settings.MEDIA_ROOT = tmp_path / "media"
    geo = mini_geo()
    officer = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    hoa = residence.register_new_resident(officer, citizen_raw(), commune=geo.hac_thanh, address="12 Lê Lợi",
                                          started_on=dt.date(2024, 1, 5), reason="Dữ liệu thử").citizen
    return {"url": live_server.url, "hoa": hoa}


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_register_confirm_sign_out_and_lock_out_on_a_phone(page, world) -> None:
    from dancu.eid.models import EidAccount
    from tests.eid_helpers import JPEG, last_code

    base, hoa = world["url"], world["hoa"]
    page.goto(base + "/eid/register/")
    assert page.locator("html").get_attribute("lang") == "vi" and _fits_the_screen(page)
    page.get_by_label("Số định danh cá nhân").fill(hoa.personal_id)
    page.get_by_label("Họ và tên").fill("Nguyễn Thị Hoà")
    page.get_by_label("Ngày sinh").fill("17/05/1990")
    page.get_by_label("Số điện thoại di động").fill("0912 345 678")
    page.get_by_label("Ảnh chân dung").set_input_files(
        {"name": "chan-dung.jpg", "mimeType": "image/jpeg", "buffer": JPEG})
    page.screenshot(path=SHOTS / "eid-register.png", full_page=True)
    page.get_by_role("button", name="Tiếp tục").click()

    page.wait_for_url(re.compile(r"/eid/register/confirm/$"))
    assert "+8491••••678" in page.content()
    page.get_by_label("Mã xác thực (OTP)").fill(last_code("+84912345678"))
    page.get_by_label("Mật khẩu mới").fill(PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Tạo tài khoản").click()

    page.wait_for_url(re.compile(r"/eid/me/$"))
    assert page.get_by_test_id("me-name").inner_text() == "Nguyễn Thị Hoà"
    assert "Phường Hạc Thành" in page.get_by_test_id("residence").inner_text()
    assert "Mức 1" in page.get_by_test_id("account-level").inner_text()
    assert _fits_the_screen(page)
    page.screenshot(path=SHOTS / "eid-me.png", full_page=True)
    assert EidAccount.objects.get(personal_id=hoa.personal_id).has_password

    page.get_by_test_id("eid-logout").click()
    page.wait_for_url(re.compile(r"/eid/login/$"))
    for attempt in range(1, 6):
        page.get_by_label("Số định danh cá nhân").fill(hoa.personal_id)
        page.get_by_label("Mật khẩu").fill(f"sai-mat-khau-{attempt}")
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state()
        alert = page.get_by_role("alert").inner_text()
        if attempt < 5:
            assert "Số định danh hoặc mật khẩu không đúng." in alert
    assert "Nhập sai mật khẩu 5 lần liên tiếp: tài khoản tạm khóa đến" in alert
    page.screenshot(path=SHOTS / "eid-locked.png", full_page=True)
    assert EidAccount.objects.get(personal_id=hoa.personal_id).locked_until is not None
