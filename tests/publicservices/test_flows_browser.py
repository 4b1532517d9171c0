"""The birth bundle's journey in headless Chromium, against a live server and the social-insurance
stand-in in its own process: a parent signs in to the portal (e-ID level 2) and submits the
bundle once; the commune's civil-status officer finds the step in their queue at /mot-cua/ and
registers the birth; the worker (``advance_flow``, run here in the test's process) obtains the
child's health-insurance card from the agency; the commune police register the residence; the
parent's status page shows every agency's step with its result — the child's personal ID, the
residence, the card number and its validity. Screenshots (desktop and a 390 px phone) go to
DANCU_SCREENSHOT_DIR (default /tmp)/shots-flows."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.browser import BROWSER, no_sideways_scroll, officer_sign_in
from tests.publicservices.browser_helpers import citizen_sign_in, live_portal
from tests.publicservices.portal_helpers import PDF

pytestmark = BROWSER

SHOTS = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or tempfile.gettempdir()) / "shots-flows"
PASSWORD = "Hoa-sen-2024!"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BIRTH = "lien-thong-khai-sinh-thuong-tru-bhyt"


@pytest.fixture
def journey(transactional_db, live_server, otp_without_waits, agency, settings, tmp_path, monkeypatch):
    from dancu.eid import services as eid
    from dancu.publicservices.portal import rp
    from tests.eid_helpers import level1_account
    from tests.factories import mini_geo, officer_actor
    from tests.publicservices.conftest import resident

    live_portal(live_server.url, settings, tmp_path, monkeypatch)
    geo = mini_geo()
    police = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    officer_actor("tp.hacthanh", "commune_justice", geo.hac_thanh)
    parent = resident(geo.hac_thanh, name="Nguyễn Thị Hoa", birth="1994-04-04", sex="F")
    account = level1_account(parent, phone="0912345678", password=PASSWORD)
    eid.enrol_level2(
        police, parent.personal_id, card_checked=True, device_reference="d", capture_reference="c"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {"url": live_server.url, "parent": parent, "phone": account.phone}
    rp.clear_cache()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_birth_bundle_in_the_browser(browser, journey):
    from dancu.core.worker import run_until_idle
    from dancu.publicservices.models import Dossier, DossierStep

    base = journey["url"]
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()

    # One submission, on the portal.
    page.goto(f"{base}/dich-vu-cong/thu-tuc/{BIRTH}/")
    page.get_by_test_id("apply").click()
    citizen_sign_in(page, journey["parent"].personal_id, PASSWORD, journey["phone"])
    page.locator("[data-testid=consent-allow]").click()
    page.wait_for_url(re.compile(rf".*/dich-vu-cong/thu-tuc/{BIRTH}/nop/$"))
    born = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    page.fill("#id_data-child_full_name", "Nguyễn Minh Khôi")
    page.fill("#id_data-child_birth_date", born)
    page.select_option("#id_data-child_sex", "M")
    page.fill("#id_data-child_ethnicity", "01")
    page.set_input_files(
        "#file-birth_certificate",
        files=[{"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    _shot(page, "apply-birth-bundle-desktop")
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r".*/dich-vu-cong/ho-so/DC-\d{8}-\d{6}/bien-nhan/$"))
    code = page.get_by_test_id("dossier-code").inner_text().strip()
    assert DossierStep.objects.filter(dossier__code=code).count() == 3
    page.goto(f"{base}/dich-vu-cong/ho-so/{code}/")
    steps = page.get_by_test_id("flow-step")
    assert steps.count() == 3
    assert steps.nth(0).get_attribute("data-status") == "ready"
    _shot(page, "bundle-submitted-desktop")

    # The civil-status officer: the step in their queue, the step panel, the decision.
    justice_ctx = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    justice_ctx.set_default_timeout(20_000)
    justice = justice_ctx.new_page()
    officer_sign_in(justice, base + "/accounts/login/", "tp.hacthanh", landing=r".*")
    justice.goto(f"{base}/mot-cua/")
    row = justice.locator(f"[data-testid=step-row][data-code='{code}']")
    assert row.get_attribute("data-key") == "birth_registration"
    _shot(justice, "counter-step-queue-desktop")
    row.locator("a").click()
    panel = justice.get_by_test_id("steps")
    assert panel.locator("[data-testid=step-approve]").count() == 1  # only their own step
    assert justice.get_by_test_id("approve").count() == 0  # the bundle is not approved whole
    _shot(justice, "counter-step-panel-desktop")
    justice.get_by_test_id("step-approve").click()
    justice.wait_for_load_state()
    assert (
        justice.locator("[data-testid=step][data-key=birth_registration]").get_attribute("data-status")
        == "done"
    )

    # The worker: the health-insurance card from the social-insurance agency.
    run_until_idle(periodic=False)
    card = DossierStep.objects.get(dossier__code=code, key="health_card")
    assert card.status == "done", card.last_error

    # The commune police register the child's residence.
    police_ctx = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, device_scale_factor=1)
    police_ctx.set_default_timeout(20_000)
    police = police_ctx.new_page()
    officer_sign_in(police, base + "/accounts/login/", "ca.hacthanh", landing=r".*")
    police.goto(f"{base}/mot-cua/ho-so/{code}/")
    _shot(police, "counter-step-panel-phone")
    no_sideways_scroll(police, PHONE["width"])
    police.get_by_test_id("step-approve").click()
    police.wait_for_load_state()
    run_until_idle(periodic=False)
    assert Dossier.objects.get(code=code).status == "approved"

    # The parent's status page: every agency's result.
    child = DossierStep.objects.get(dossier__code=code, key="birth_registration").result["child_personal_id"]
    page.goto(f"{base}/dich-vu-cong/ho-so/{code}/")
    assert page.get_by_test_id("dossier").get_attribute("data-status") == "approved"
    results = page.get_by_test_id("flow-result").all_inner_texts()
    assert len(results) == 3
    assert child in results[0]
    valid_to = dt.date.fromisoformat(card.result["valid_to"]).strftime("%d/%m/%Y")
    assert card.result["card_number"] in results[2] and valid_to in results[2]
    _shot(page, "bundle-done-desktop")
    phone_ctx = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, device_scale_factor=1)
    phone_ctx.add_cookies(context.cookies())
    phone = phone_ctx.new_page()
    phone.goto(f"{base}/dich-vu-cong/ho-so/{code}/")
    _shot(phone, "bundle-done-phone")
    no_sideways_scroll(phone, PHONE["width"])
    for ctx in (context, justice_ctx, police_ctx, phone_ctx):
        ctx.close()
