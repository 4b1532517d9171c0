"""Steps the public-services browser tests share (the Chromium fixtures themselves come from
tests/population/test_browser.py, as in every browser test)."""

from __future__ import annotations

import re
from typing import Any

import pyotp

OFFICER_PASSWORD = "mật-khẩu-thử-123"  # set by tests.factories.officer_actor


def officer_sign_in(page: Any, url: str, username: str, *, landing: str) -> None:
    """Open ``url`` (a page behind the officer sign-in, or the sign-in itself), sign in with the
    password and the authenticator app's code (read from the enrolment page's key), and wait for
    the URL that matches ``landing``."""
    page.goto(url)
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_url(re.compile(r"/accounts/login/second-factor/"))
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("Mã từ ứng dụng xác thực").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(landing))
