"""The dashboards in headless Chromium (Debian's /usr/bin/chromium) against a live server: the
ministry's officer signs in and drills down nation → province → commune → procedure → the
dossiers behind a number → the counter's dossier page, on a 1280 px desktop and a 390 px phone
(nothing scrolls sideways, the charts fit the screen, each chart has its table). Screenshots go
to /tmp/shots-kpi/ (or DANCU_SCREENSHOT_DIR) for a human to look at. See
tests/browser.py for why DJANGO_ALLOW_ASYNC_UNSAFE is set while this runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import BROWSER, no_sideways_scroll, officer_sign_in

pytestmark = BROWSER
SHOTS = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or "/tmp/shots-kpi")  # noqa: S108


@pytest.fixture
def world(transactional_db, live_server, settings):
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Procedure
    from tests.factories import mini_geo
    from tests.kpi.dashboard_world import build

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sync_catalog(Procedure)  # a transactional test's flush removed the migration's rows
    world = _outside_the_event_loop(lambda: build(_with_more_communes(mini_geo())))
    return {"url": live_server.url, "world": world}


MORE_COMMUNES = 20  # Thanh Hóa's ranking gets 22 rows: a phone folds all but the first and last five


def _with_more_communes(geo):
    """Communes with no dossiers beside the world's two, so that the province's ranking is long."""
    from dancu.geo.models import CodeSystem, Level
    from tests.factories import _unit

    for n in range(MORE_COMMUNES):
        _unit(CodeSystem.V2025, Level.COMMUNE, f"9{n:04d}", f"Xã Thử Nghiệm {n + 1}", "Xã", geo.thanh_hoa)
    return geo


def _ranking_folds_on_a_phone(page) -> None:
    """On a phone the ranking's table shows its first and last five rows, the rest behind "Xem
    tất cả N xã/phường" (a <details>): the page is shorter by at least a line a folded row, and
    the summary opens every row. A desktop shows every row and no summary."""
    table = page.get_by_test_id("chart-ranking-table")
    rows = table.locator("tbody tr:not(.fold-toggle)")
    total = rows.count()
    assert total == 2 + MORE_COMMUNES
    toggle = page.get_by_test_id("chart-ranking-all")
    assert all(row.is_visible() for row in rows.all()) and not toggle.is_visible()  # the desktop
    page.set_viewport_size({"width": 390, "height": 844})
    folded = page.evaluate("document.documentElement.scrollHeight")
    assert [row.is_visible() for row in rows.all()] == [True] * 5 + [False] * (total - 10) + [True] * 5
    assert toggle.inner_text().startswith(f"Xem tất cả {total} xã/phường")
    page.screenshot(path=str(SHOTS / "2-province-phone-folded.png"), full_page=True)
    toggle.locator("summary").click()
    assert all(row.is_visible() for row in rows.all())
    unfolded = page.evaluate("document.documentElement.scrollHeight")
    assert unfolded - folded >= 40 * (total - 10), (folded, unfolded)
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "2-province-phone-unfolded.png"), full_page=True)
    toggle.locator("summary").click()  # closed again for the next steps
    page.set_viewport_size({"width": 1280, "height": 900})


def _outside_the_event_loop(work):
    """Approving signs the result with pyHanko, which runs its own asyncio loop: not possible
    in this thread, where Playwright's loop runs. The data is built in a thread of its own
    (committed: the test is transactional), whose connection is closed at the end."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run():
        try:
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _fits_the_phone(page) -> None:
    no_sideways_scroll(page)
    for box in page.locator("figure.chart-svg svg").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().width)"):
        assert 0 < box <= 390


def _shoot(page, name: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    if width <= 400:
        _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / f"{name}-{'desktop' if width > 400 else 'phone'}.png"), full_page=True)


def test_drill_down_on_desktop_and_phone(browser, world) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = world["url"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    officer_sign_in(page, base + "/chi-so/", "bo.quantri", landing=r"/chi-so/$")
    assert page.get_by_test_id("kpi-title").inner_text().startswith("Toàn quốc")
    assert page.get_by_test_id("chart-groups-table").is_visible()
    for width in (1280, 390):
        _shoot(page, "1-nation", width)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_test_id("chart-ranking-table").get_by_role("link", name="Tỉnh Thanh Hóa").click()
    page.wait_for_url(re.compile(r"unit=2025%3A38"))
    assert "Tỉnh Thanh Hóa" in page.get_by_test_id("kpi-title").inner_text()
    _ranking_folds_on_a_phone(page)
    for width in (1280, 390):
        _shoot(page, "2-province", width)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_test_id("chart-ranking-table").get_by_role("link", name="Phường Hạc Thành").click()
    page.wait_for_url(re.compile(r"unit=2025%3A14758"))
    crumbs = page.get_by_test_id("crumbs").inner_text()
    assert "Toàn quốc" in crumbs and "Tỉnh Thanh Hóa" in crumbs
    for width in (1280, 390):
        _shoot(page, "3-commune", width)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_test_id("chart-ranking-table").locator("a[href*='/thu-tuc/1.010123/']").click()
    page.wait_for_url(re.compile(r"/chi-so/thu-tuc/1\.010123/"))
    # the period selector: a quarter, then back to the month
    page.get_by_test_id("period").select_option(index=0)
    page.get_by_test_id("period-form").get_by_role("button").click()
    page.wait_for_url(re.compile(r"period="))
    for width in (1280, 390):
        _shoot(page, "4-procedure", width)
    page.set_viewport_size({"width": 1280, "height": 900})

    # the same procedure in the province: its communes ranked on it, chart and table
    page.get_by_test_id("procedure-levels").get_by_role("link", name="Tỉnh Thanh Hóa").click()
    page.wait_for_url(re.compile(r"/chi-so/thu-tuc/1\.010123/\?unit=2025%3A38"))
    ranking = page.get_by_test_id("chart-ranking")
    assert "thủ tục" in ranking.get_by_role("heading").inner_text()
    assert ranking.locator("figure.chart-svg svg").is_visible()
    table = ranking.get_by_test_id("chart-ranking-table")
    assert table.get_by_role("link", name="Phường Hạc Thành").is_visible()
    for width in (1280, 390):
        _shoot(page, "4b-procedure-province", width)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_test_id("chart-ranking-table").get_by_role("link", name="Phường Hạc Thành").click()
    page.wait_for_url(re.compile(r"/chi-so/thu-tuc/1\.010123/\?unit=2025%3A14758"))

    page.locator("[data-testid^=drill-]").first.click()
    page.wait_for_url(re.compile(r"/chi-so/ho-so/"))
    rows = page.get_by_test_id("dossier-row")
    assert rows.count() >= 1
    for width in (1280, 390):
        _shoot(page, "5-dossiers", width)
    page.set_viewport_size({"width": 1280, "height": 900})
    code = rows.first.get_attribute("data-code")
    rows.first.get_by_role("link", name=code).click()
    page.wait_for_url(re.compile(rf"/mot-cua/ho-so/{code}/$"))
    assert page.get_by_test_id("dossier-code").inner_text() == code

    # English
    page.goto(base + "/chi-so/")
    page.get_by_test_id("language").select_option("en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert "Dossier digitisation" in page.content()
    for width in (1280, 390):
        _shoot(page, "6-nation-en", width)
    context.close()


def test_a_commune_officer_on_a_phone(browser, world) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = world["url"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    officer_sign_in(page, base + "/chi-so/", "ca.hacthanh", landing=r"/chi-so/$")
    assert "Phường Hạc Thành" in page.get_by_test_id("kpi-title").inner_text()
    _shoot(page, "7-commune-officer", 390)
    response = page.goto(base + "/chi-so/?unit=2025:38")
    assert response is not None and response.status == 403
    context.close()
