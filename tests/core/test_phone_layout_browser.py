"""The console on a phone (390 px wide, an iPhone 12–15): no page scrolls sideways; wide tables
scroll inside their own box. Screenshots (desktop and phone) are left in DANCU_SCREENSHOT_DIR
or the temporary directory for a human to look at."""

from __future__ import annotations

import pytest

from tests.browser import BROWSER, SHOTS, no_sideways_scroll, officer_sign_in
from tests.population.test_browser import world  # noqa: F401  (the fixture)

pytestmark = BROWSER

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(params=["phone", "desktop"])
def sized_page(request, browser):
    size = PHONE if request.param == "phone" else DESKTOP
    context = browser.new_context(viewport=size, locale="vi-VN", is_mobile=request.param == "phone",
                                  device_scale_factor=1)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield request.param, page
    context.close()


def _assert_every_cell_seen(page, table: str, width: int) -> None:
    """Every cell of the table is on the screen: none cut off at the edge of a scrolling box."""
    beyond = page.evaluate("""([table, width]) => [...document.querySelectorAll(`[data-testid=${table}] td`)]
        .filter(td => td.getBoundingClientRect().right > width).map(td => td.innerText)""", [table, width])
    assert beyond == []


def test_search_results_and_the_quality_report_fit_a_phone(sized_page, world) -> None:  # noqa: F811  (the imported fixture)
    kind, page = sized_page
    width = PHONE["width"] if kind == "phone" else DESKTOP["width"]
    base = world["url"]
    officer_sign_in(page, base + "/", "bo.quantri", landing=r"/citizens/$")
    page.goto(base + "/citizens/?q=nguyen&reason=Ki%E1%BB%83m+tra+b%E1%BB%91+c%E1%BB%A5c")
    assert page.get_by_test_id("results").is_visible()
    page.screenshot(path=SHOTS / f"search-{kind}.png", full_page=True)
    no_sideways_scroll(page, width)
    _assert_every_cell_seen(page, "results", width)
    page.goto(base + "/accounts/officers/")  # the other list table (table.stack)
    assert page.get_by_test_id("officers").is_visible()
    page.screenshot(path=SHOTS / f"officers-{kind}.png", full_page=True)
    no_sideways_scroll(page, width)
    _assert_every_cell_seen(page, "officers", width)

    from dancu.quality import services as quality

    quality.recompute_all()  # the tallies the report reads (the worker's job)
    page.goto(base + "/quality/")
    assert page.get_by_test_id("quality-summary").is_visible()
    page.screenshot(path=SHOTS / f"quality-{kind}.png", full_page=True)
    no_sideways_scroll(page, width)
    _every_unit_figure_reachable(page, kind)


def _every_unit_figure_reachable(page, kind: str) -> None:
    """The per-unit table: a desktop shows a column per check; a phone one short row per unit
    (name, records, failures: at most three lines), the failed checks behind its <details> —
    the same numbers as the columns."""
    thanh_hoa = page.get_by_test_id("quality-units").locator('tr[data-unit="2025:38"]')
    columns = thanh_hoa.locator("td[data-check]")
    failing = {code: n for code, n in columns.evaluate_all(
        "tds => tds.map(td => [td.dataset.check, td.textContent.trim()])") if n != "0"}
    assert failing, "the residents fail some check (e.g. no place of origin)"
    issues = thanh_hoa.locator("td.unit-issues")
    if kind == "desktop":
        assert columns.first.is_visible() and not issues.is_visible()
        return
    assert not any(cell.is_visible() for cell in columns.all())
    heights = page.get_by_test_id("quality-units").locator("tbody tr").evaluate_all(
        "trs => trs.map(tr => tr.getBoundingClientRect().height)")
    assert heights and max(heights) <= 90, heights
    issues.locator("summary").click()
    listed = dict(issues.locator("li").evaluate_all(
        "lis => lis.map(li => [li.dataset.check, li.lastChild.textContent.replace(':', '').trim()])"))
    assert listed == failing


def test_authenticator_setup_on_a_phone_shows_the_qr_code(sized_page, transactional_db, live_server,
                                                          settings, tmp_path) -> None:
    """A citizen turns on an authenticator app: the page shows the QR code (inline SVG, nothing
    fetched from elsewhere) within the screen."""
    import datetime as dt
    import re

    from dancu.residence import services as residence
    from tests.eid_helpers import PASSWORD, last_code, level1_account
    from tests.factories import citizen_raw, mini_geo, officer_actor

    settings.MEDIA_ROOT = tmp_path / "media"
    geo = mini_geo()
    officer = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    hoa = residence.register_new_resident(officer, citizen_raw(), commune=geo.hac_thanh, address="12 Lê Lợi",
                                          started_on=dt.date(2024, 1, 5), reason="Dữ liệu thử").citizen
    account = level1_account(hoa)
    kind, page = sized_page
    width = PHONE["width"] if kind == "phone" else DESKTOP["width"]
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto(live_server.url + "/eid/login/")
    page.get_by_label("Số định danh cá nhân").fill(account.personal_id)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/eid/me/$"))
    page.get_by_test_id("totp-begin").click()  # a possession factor first: the SMS code
    page.get_by_test_id("step-up-sms").get_by_role("button").click()
    page.get_by_test_id("step-up-sms").get_by_label("Mã gồm 6 chữ số").fill(last_code("+84912345678"))
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url(re.compile(r"/eid/me/"))
    page.get_by_test_id("totp-begin").click()
    qr = page.get_by_test_id("totp-qr").locator("svg")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 120 and box["x"] + box["width"] <= width
    page.get_by_test_id("totp").screenshot(path=SHOTS / f"eid-totp-{kind}.png")
    no_sideways_scroll(page, width)
    assert outside == []
