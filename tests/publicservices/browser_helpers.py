"""Steps the public-services browser tests share (the Chromium set-up and the officer's sign-in
are every browser test's: tests/browser.py)."""

from __future__ import annotations

import re
from typing import Any


def live_portal(live_server_url: str, settings: Any, tmp_path: Any, monkeypatch: Any) -> None:
    """The portal registered as a relying party of the live server's provider, the catalog
    seeded again (a transactional test's flush emptied the migration's rows)."""
    from dancu.accounts.actor import system_actor
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Procedure
    from dancu.publicservices.portal import rp
    from dancu.publicservices.portal.client import setup_portal

    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("DANCU_PORTAL_CLIENT_ID", raising=False)
    sync_catalog(Procedure)
    setup_portal(system_actor("test"), base_urls=[live_server_url])
    rp.clear_cache()  # the portal reaches the provider over real HTTP (rp.HttpTransport)


def citizen_sign_in(page: Any, personal_id: str, password: str, phone: str) -> None:
    """At dancu's provider, from its login page: the password, the SMS step-up to level 2, the
    consent."""
    from tests.eid_helpers import last_code

    page.wait_for_url(re.compile(r".*/eid/login/.*"))
    page.fill("input[name=personal_id]", personal_id)
    page.fill("input[name=password]", password)
    page.locator("[data-testid=login-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/eid/step-up/.*"))
    page.locator("[data-testid=step-up-sms] button[type=submit]").click()
    page.wait_for_selector("#id_sms_code")
    page.fill("#id_sms_code", last_code(phone))
    page.locator("#id_sms_code").press("Enter")
    page.wait_for_selector("[data-testid=consent-form]")
