"""The issue's journey in headless Chromium, against a live server and the sandbox payment
gateway in its own process (real HTTP both ways):

a citizen signs in to the portal through dancu's OpenID Connect provider (password + SMS step-up
to level 2, consent), registers temporary residence online with an attachment, pays through the
sandbox gateway; an officer of the competent commune requests a supplement at the one-stop
counter pages (/mot-cua/); the citizen answers; the officer approves; the registry shows the new
residence with the dossier code; the signed result verifies on /verify/<code>/ and fails after one
byte is changed. Screenshots (desktop and a 390 px phone) go to DANCU_SCREENSHOT_DIR (default
/tmp/shots-portal)."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.browser import BROWSER, no_sideways_scroll, officer_sign_in
from tests.payments.helpers import running_gateway
from tests.publicservices.portal_helpers import PDF

pytestmark = BROWSER

SHOTS = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or tempfile.gettempdir()) / "shots-portal"
PASSWORD = "Hoa-sen-2024!"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
GATEWAY_PORT = int(os.environ.get("DANCU_TEST_GATEWAY_PORT", "18121"))


@pytest.fixture
def gateway(tmp_path, settings):
    """``dancu gateway serve`` as a subprocess (its own SQLite file); dancu points at it."""
    with running_gateway(tmp_path / "gw", GATEWAY_PORT) as url:
        settings.DANCU_PAYMENT_GATEWAY_URL = url
        yield url


@pytest.fixture
def journey(transactional_db, live_server, otp_without_waits, settings, tmp_path, monkeypatch):
    from dancu.accounts.actor import system_actor
    from dancu.eid import services as eid
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Procedure
    from dancu.publicservices.portal import rp
    from dancu.publicservices.portal.client import setup_portal
    from tests.eid_helpers import level1_account, person
    from tests.factories import mini_geo, officer_actor

    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("DANCU_PORTAL_CLIENT_ID", raising=False)
    sync_catalog(Procedure)  # an earlier transactional test's flush emptied the seeded catalog
    geo = mini_geo()
    hac = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    officer_actor("ca.dongson", "commune_police", geo.dong_son)
    citizen = person(hac, geo.hac_thanh)
    account = level1_account(citizen, phone="0912345678", password=PASSWORD)
    eid.enrol_level2(hac, citizen.personal_id, card_checked=True, device_reference="d", capture_reference="c")
    setup_portal(system_actor("test"), base_urls=[live_server.url])
    rp.clear_cache()  # the portal reaches the provider over real HTTP (rp.HttpTransport)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {"url": live_server.url, "citizen": citizen, "geo": geo, "phone": account.phone}
    rp.clear_cache()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_temporary_residence_online_end_to_end(browser, journey, gateway):
    from dancu.audit.models import AuditEvent
    from dancu.publicservices.models import Dossier
    from dancu.residence.models import Registration
    from tests.eid_helpers import last_code

    base, citizen = journey["url"], journey["citizen"]
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()

    # The catalog, searched without diacritics; the procedure page.
    page.goto(base + "/dich-vu-cong/")
    assert page.locator("html").get_attribute("lang") == "vi"
    _shot(page, "catalog-desktop")
    page.fill("#q", "tam tru")
    page.locator("[data-testid=catalog-search] button").click()
    page.get_by_test_id("proc-dang-ky-tam-tru").click()
    assert "1.004194" in page.get_by_test_id("procedure").inner_text()
    _shot(page, "procedure-desktop")
    page.get_by_test_id("apply").click()

    # Sign-in at dancu's provider: password, then the SMS code (the procedure needs level 2), consent.
    page.wait_for_url(re.compile(r".*/eid/login/.*"))
    assert "Cổng Dịch vụ công" in page.locator("[data-testid=relying-party]").inner_text()
    page.fill("input[name=personal_id]", citizen.personal_id)
    page.fill("input[name=password]", PASSWORD)
    page.locator("[data-testid=login-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/eid/step-up/.*"))
    page.locator("[data-testid=step-up-sms] button[type=submit]").click()
    page.wait_for_selector("#id_sms_code")
    page.fill("#id_sms_code", last_code(journey["phone"]))
    page.locator("#id_sms_code").press("Enter")
    page.wait_for_selector("[data-testid=consent-form]")
    assert "Cổng Dịch vụ công" in page.locator("[data-testid=rp-purpose]").inner_text()
    page.locator("[data-testid=consent-allow]").click()

    # The form: registry data read-only, the rest entered; a PDF attached.
    page.wait_for_url(re.compile(r".*/dich-vu-cong/thu-tuc/dang-ky-tam-tru/nop/$"))
    assert page.get_by_test_id("registry-full_name").inner_text() == citizen.full_name
    assert page.locator("input[name='data-full_name']").count() == 0
    _shot(page, "apply-desktop")
    today = dt.date.today()
    page.fill("#id_data-commune", "2025:14797")
    page.fill("#id_data-address", "Số 12, đường Lê Lợi")
    page.fill("#id_data-started_on", today.isoformat())
    page.fill("#id_data-expires_on", (today + dt.timedelta(days=365)).isoformat())
    page.select_option("#id_data-housing", "own")
    # first a file whose content is not a PDF: the form comes back with the error beside the field
    not_a_pdf = {"name": "so-do.pdf", "mimeType": "application/pdf", "buffer": b"GIF89a not a pdf"}
    page.set_input_files("#file-legal_place", files=[not_a_pdf])
    page.get_by_test_id("submit").click()
    assert page.locator("[data-field-error='file-legal_place']").is_visible()
    _shot(page, "apply-error-desktop")
    page.set_input_files("#file-legal_place", files=[{"name": "so-do.pdf", "mimeType": "application/pdf",
                                                      "buffer": PDF}])
    page.get_by_test_id("submit").click()

    # The receipt with the dossier code; pay through the sandbox gateway.
    page.wait_for_url(re.compile(r".*/dich-vu-cong/ho-so/DC-\d{8}-\d{6}/bien-nhan/$"))
    code = page.get_by_test_id("dossier-code").inner_text().strip()
    assert Dossier.objects.filter(code=code, applicant=citizen).count() == 1
    _shot(page, "receipt-desktop")
    page.get_by_test_id("pay").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/.*"))
    assert page.get_by_test_id("gw-amount").inner_text() == "7,000 VND"
    _shot(page, "gateway-desktop")
    page.get_by_test_id("gw-success").click()
    page.wait_for_url(re.compile(rf".*/dich-vu-cong/ho-so/{code}/da-thanh-toan/.*"))
    assert page.get_by_test_id("paid-page").get_attribute("data-paid") == "1"
    assert "/payments/" in page.get_by_test_id("payment-receipt").get_attribute("href")
    _shot(page, "paid-desktop")
    assert Dossier.objects.get(code=code).paid

    # The officer of the competent commune asks for a supplement at the one-stop counter pages.
    officer_ctx = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    officer_ctx.set_default_timeout(20_000)
    officer = officer_ctx.new_page()
    officer_sign_in(officer, base + "/accounts/login/", "ca.dongson", landing=r"/citizens/$")
    officer.goto(f"{base}/mot-cua/ho-so/{code}/")
    officer.locator("[data-testid=supplement-form] textarea").fill("Bổ sung tờ khai CT01")
    officer.get_by_test_id("supplement").click()
    officer.wait_for_load_state()
    assert Dossier.objects.get(code=code).status == "supplement"

    # The citizen sees it (inbox and dossier page) and answers with the declaration attached.
    page.goto(base + "/dich-vu-cong/thong-bao/")
    assert code in page.get_by_test_id("inbox").inner_text()
    _shot(page, "inbox-desktop")
    page.goto(f"{base}/dich-vu-cong/ho-so/{code}/")
    assert "Bổ sung tờ khai CT01" in page.get_by_test_id("events").inner_text()
    page.fill("#id_note", "Đã bổ sung tờ khai CT01")
    page.set_input_files("#file-declaration", files=[{"name": "ct01.pdf", "mimeType": "application/pdf",
                                                      "buffer": PDF}])
    page.get_by_test_id("supplement-submit").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("dossier").get_attribute("data-status") == "accepted"

    # The officer approves: the registry changes in the same transaction, citing the dossier code.
    officer.goto(f"{base}/mot-cua/ho-so/{code}/")
    officer.get_by_test_id("approve").click()
    officer.wait_for_load_state()
    assert Dossier.objects.get(code=code).status == "approved"
    _shot(officer, "counter-approved-desktop")
    registration = Registration.objects.get(citizen=citizen, kind="temporary", ended_on__isnull=True)
    assert registration.commune == journey["geo"].dong_son and registration.address == "Số 12, đường Lê Lợi"
    assert AuditEvent.objects.filter(source="dossier", source_ref=code, reason__contains=code).exists()
    officer.goto(f"{base}/citizens/{citizen.personal_id}/?reason=Ki%E1%BB%83m+tra+h%E1%BB%93+s%C6%A1")
    assert "Số 12, đường Lê Lợi" in officer.get_by_test_id("residence").inner_text()
    assert code in officer.get_by_test_id("history").inner_text()
    _shot(officer, "registry-history-desktop")

    # The citizen's dossier: every step with its time, the signed result, the rating.
    page.goto(f"{base}/dich-vu-cong/ho-so/{code}/")
    steps = page.get_by_test_id("events").locator("li")
    assert steps.count() >= 5
    _shot(page, "dossier-desktop")
    result = page.request.get(f"{base}/dich-vu-cong/ho-so/{code}/ket-qua/")
    assert result.ok and result.headers["content-type"] == "application/pdf"
    pdf = result.body()
    verify_url = page.get_by_test_id("result-verify").get_attribute("href")
    page.get_by_test_id("rating").locator("input[value='5']").check()
    page.get_by_test_id("rate-submit").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("rated").inner_text() == "5/5"

    # The public verification page: genuine; the same file with one byte changed: altered.
    page.goto(base + verify_url)
    assert page.get_by_test_id("verdict").get_attribute("data-verdict") == "genuine"
    page.set_input_files("[data-testid=verify-form] input[type=file]",
                         files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    page.locator("[data-testid=verify-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("verdict").get_attribute("data-verdict") == "genuine"
    _shot(page, "verify-genuine-desktop")
    altered = bytearray(pdf)
    altered[len(altered) // 2] ^= 0x01
    page.set_input_files("[data-testid=verify-form] input[type=file]",
                         files=[{"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                 "buffer": bytes(altered)}])
    page.locator("[data-testid=verify-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("verdict").get_attribute("data-verdict") == "altered"
    _shot(page, "verify-altered-desktop")

    # The same pages on a 390 px phone (the same signed-in session): nothing scrolls sideways.
    phone_ctx = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, device_scale_factor=1)
    phone_ctx.add_cookies(context.cookies())
    phone = phone_ctx.new_page()
    for name, path in [("catalog", "/dich-vu-cong/"), ("procedure", "/dich-vu-cong/thu-tuc/dang-ky-tam-tru/"),
                       ("apply", "/dich-vu-cong/thu-tuc/dang-ky-tam-tru/nop/"),
                       ("dossiers", "/dich-vu-cong/ho-so/"), ("dossier", f"/dich-vu-cong/ho-so/{code}/"),
                       ("receipt", f"/dich-vu-cong/ho-so/{code}/bien-nhan/"),
                       ("inbox", "/dich-vu-cong/thong-bao/")]:
        phone.goto(base + path)
        _shot(phone, f"{name}-phone")
        no_sideways_scroll(phone, PHONE["width"])
    # English on request.
    with phone.expect_navigation():
        phone.get_by_test_id("language").select_option("en")
    assert phone.locator("html").get_attribute("lang") == "en"
    _shot(phone, "inbox-phone-en")
    for ctx in (context, officer_ctx, phone_ctx):
        ctx.close()
