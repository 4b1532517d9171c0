"""The console on a phone (390 px wide, an iPhone 12–15): no page scrolls sideways; wide tables
scroll inside their own box. Screenshots (desktop and phone) are left in DANCU_SCREENSHOT_DIR
or the temporary directory for a human to look at."""

from __future__ import annotations

import pytest

from tests.test_browser import (  # noqa: F401 — fixtures
    SHOTS,
    _allow_orm_beside_playwright,
    _sign_in,
    browser,
    pytestmark,
    world,
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(params=["phone", "desktop"])
def sized_page(request, browser):  # noqa: F811
    size = PHONE if request.param == "phone" else DESKTOP
    context = browser.new_context(viewport=size, locale="vi-VN", is_mobile=request.param == "phone",
                                  device_scale_factor=1)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield request.param, page
    context.close()


def _assert_no_sideways_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: {scroll} px wide in a {width} px window"


def test_search_results_and_the_quality_report_fit_a_phone(sized_page, world) -> None:  # noqa: F811
    kind, page = sized_page
    width = PHONE["width"] if kind == "phone" else DESKTOP["width"]
    base = world["url"]
    _sign_in(page, base, "bo.quantri")
    page.goto(base + "/citizens/?q=nguyen&reason=Ki%E1%BB%83m+tra+b%E1%BB%91+c%E1%BB%A5c")
    assert page.get_by_test_id("results").is_visible()
    page.screenshot(path=SHOTS / f"search-{kind}.png", full_page=True)
    _assert_no_sideways_scroll(page, width)
    # every cell of the results is on the screen: none cut off at the edge of a scrolling box
    beyond = page.evaluate("""(width) => [...document.querySelectorAll('[data-testid=results] td')]
        .filter(td => td.getBoundingClientRect().right > width).map(td => td.innerText)""", width)
    assert beyond == []

    page.goto(base + "/quality/")
    assert page.get_by_test_id("quality-summary").is_visible()
    page.screenshot(path=SHOTS / f"quality-{kind}.png", full_page=True)
    _assert_no_sideways_scroll(page, width)
