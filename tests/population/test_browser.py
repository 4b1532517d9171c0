"""Officer journeys in headless Chromium (Debian's /usr/bin/chromium) against a live server
(the set-up: tests/browser.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser import BROWSER, SHOTS, officer_sign_in

pytestmark = BROWSER


@pytest.fixture
def page(browser):
    # An English browser: the console must still start in Vietnamese.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def world(transactional_db, live_server):
    """The small unit tree, two officers and three residents, committed for the live server
    (the `geo` fixture needs `db`, whose data a live server cannot see)."""
    from dancu.residence import services as residence
    from tests.factories import citizen_raw, mini_geo, officer_actor

    geo = mini_geo()
    hac_thanh = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    ministry = officer_actor("bo.quantri", "ministry_admin", None)

    def resident(actor, commune, **raw):
        return residence.register_new_resident(actor, citizen_raw(**raw), commune=commune,
                                               address="12 Lê Lợi", started_on=dt.date(2024, 1, 5),
                                               reason="Dữ liệu thử").citizen

    hoa = resident(hac_thanh, geo.hac_thanh)
    resident(hac_thanh, geo.hac_thanh, full_name="Nguyễn Văn Hải", sex="M", birth_date="1988")
    other = resident(ministry, geo.hong_ha, full_name="Nguyễn Thị Hoa", birth_registration_unit="legacy:01")
    return {"url": live_server.url, "hoa": hoa, "other": other}


def _sign_in(page, base: str, username: str = "ca.hacthanh") -> None:
    officer_sign_in(page, base + "/", username, landing=r"/citizens/$")


def test_officer_finds_corrects_and_reads_history_then_switches_to_english(page, world) -> None:
    from dancu.audit.models import AuditEvent

    base, hoa = world["url"], world["hoa"]
    assert page.request.get(base + "/static/dancu/console.css").ok
    _sign_in(page, base)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Phường Hạc Thành" in page.get_by_test_id("who").inner_text()

    page.get_by_label("Số định danh hoặc họ tên").fill("nguyen thi hoa")
    page.get_by_label("Lý do tra cứu").fill("Xác minh cư trú")
    page.get_by_role("button", name="Tìm kiếm").click()
    results = page.get_by_test_id("results")
    assert results.get_by_text("Nguyễn Thị Hoà").is_visible()
    assert "Nguyễn Thị Hoa" not in results.inner_text()  # lives in Hà Nội, outside the commune
    results.get_by_role("link", name="Nguyễn Thị Hoà").click()

    page.wait_for_url(re.compile(hoa.personal_id))
    assert page.get_by_test_id("citizen-name").inner_text() == "Nguyễn Thị Hoà"
    assert "17/05/1990" in page.get_by_test_id("identity").inner_text()
    assert "12 Lê Lợi" in page.get_by_test_id("residence").inner_text()
    page.screenshot(path=SHOTS / "console.png", full_page=True)
    assert AuditEvent.objects.filter(action="citizen.view", personal_id=hoa.personal_id,
                                     reason="Xác minh cư trú").exists()

    page.get_by_test_id("correct-link").click()
    page.get_by_label("Tình trạng hôn nhân").select_option("married")
    page.get_by_label("Căn cứ/lý do điều chỉnh").fill("Giấy chứng nhận kết hôn số 45/2024")
    page.get_by_role("button", name="Lưu điều chỉnh").click()
    page.wait_for_url(re.compile(hoa.personal_id + r"/(\?.*)?$"))
    assert "Đã lưu điều chỉnh: Tình trạng hôn nhân." in page.locator(".messages").inner_text()
    assert "Xác minh cư trú" in page.get_by_test_id("lookup-reason").inner_text()  # still the purpose
    entry = page.locator('[data-action="citizen.update"]')
    assert "Giấy chứng nhận kết hôn số 45/2024" in entry.inner_text()
    assert entry.locator("td.before").inner_text() == "Chưa rõ"
    assert entry.locator("td.after").inner_text() == "Đã kết hôn"

    page.get_by_test_id("language").select_option("en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("heading", name="Change history").is_visible()
    assert "Date of birth" in page.get_by_test_id("identity").inner_text()
    assert "Married" in page.get_by_test_id("identity").inner_text()
    page.screenshot(path=SHOTS / "console-en.png", full_page=True)


def test_commune_officer_is_refused_a_person_of_another_commune(page, world) -> None:
    from dancu.audit.models import AuditEvent

    base, other = world["url"], world["other"]
    _sign_in(page, base)
    response = page.goto(f"{base}/citizens/{other.personal_id}/?reason=Ki%E1%BB%83m%20tra")
    assert response is not None and response.status == 403
    assert "Công dân này ngoài địa bàn của bạn." in page.get_by_test_id("forbidden").inner_text()
    assert "Nguyễn Thị Hoa" not in page.content()
    assert AuditEvent.objects.filter(action="citizen.view.denied", personal_id=other.personal_id,
                                     actor_label="ca.hacthanh", reason="Kiểm tra").exists()
