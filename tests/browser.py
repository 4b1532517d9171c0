"""What every headless-Chromium test shares: Debian's /usr/bin/chromium, the marks, the
``browser`` fixture (one Chromium per module; tests/conftest.py makes it available everywhere)
and the officer's sign-in through the console's pages.

Playwright's sync API runs an asyncio event loop in the test thread; Django then refuses ORM
calls from that thread ("You cannot call this from an async context") although they are plain
synchronous calls made between browser steps. DJANGO_ALLOW_ASYNC_UNSAFE switches that check
off while a module's browser runs; the live server answers requests in its own thread, where
the check never fired.

A module of browser tests starts with ``pytestmark = BROWSER`` and asks for ``browser``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

NO_CHROMIUM = shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists()
BROWSER = [
    pytest.mark.browser,
    # A newcomer without Debian's chromium skips these; CI (CI=true) installs it and must not skip.
    pytest.mark.skipif(
        NO_CHROMIUM and os.environ.get("CI") != "true",
        reason="needs /usr/bin/chromium (apt-get install chromium)",
    ),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots for a human to look at (layout check), not compared by the tests.
SHOTS = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or tempfile.gettempdir())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, the ORM's async check off while it runs (see the
    module docstring)."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def officer_sign_in(page: Any, url: str, username: str, *, landing: str) -> None:
    """Open ``url`` (a page behind the officer sign-in, or the sign-in itself), sign in with the
    password (tests.factories.officer_actor's) and, on the first sign-in's enrolment page, the
    authenticator app's code (the "phone" reads the key shown beside the QR code); wait for the
    URL that matches ``landing``."""
    from tests.factories import OFFICER_PASSWORD

    page.goto(url)
    assert "/accounts/login/" in page.url
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_url(re.compile(r"/accounts/login/second-factor/"))
    assert page.get_by_test_id("totp-qr").locator("svg").is_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("Mã từ ứng dụng xác thực").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(landing))


def no_sideways_scroll(page: Any, width: int = 390) -> None:
    """Nothing on the page is wider than the window (a 390 px phone unless told)."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: {scroll} px wide in a {width} px window"
