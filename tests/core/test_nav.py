"""The console's navigation shows a page exactly when the page admits the officer
(``dancu.nav`` asks each page's own ``officer_required`` rule): for every role, signed in through
the real pages (password + TOTP), each link in the nav answers 200 over HTTP from a live server,
and each page left out answers 403 — never a link to a refusal, never a page hidden that opens."""

from __future__ import annotations

import re

import pytest
import requests
from django.conf import settings
from django.test import Client

from dancu.accounts.models import Role
from dancu.nav import PAGES

NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def officers(transactional_db):
    """One officer of each role, committed for the live server."""
    from tests.factories import mini_geo, officer_actor

    geo = mini_geo()
    area = {
        "commune_police": geo.hac_thanh,
        "commune_justice": geo.hac_thanh,
        "counter": geo.hac_thanh,
        "province_police": geo.thanh_hoa,
    }
    return {role: officer_actor(f"nav.{role}", role, area.get(role)).label for role in Role.values}


def _signed_in(username: str) -> requests.Session:
    """The console's sign-in pages (password, then the authenticator's code), then the session
    cookie handed to an HTTP client of the live server."""
    from tests.factories import sign_in

    client = Client()
    assert sign_in(client, username).status_code == 302
    http = requests.Session()
    http.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return http


def test_every_nav_link_opens_and_every_page_left_out_refuses(officers, live_server) -> None:
    from django.urls import reverse

    seen = {}
    for role, username in officers.items():
        http = _signed_in(username)
        home = http.get(live_server.url + "/citizens/", timeout=30)
        assert home.status_code == 200
        (nav,) = NAV.findall(home.text)
        shown = seen[role] = set(HREF.findall(nav))
        for url in (reverse(name) for name in PAGES.values()):
            status = http.get(live_server.url + url, timeout=30, allow_redirects=False).status_code
            if url in shown:
                assert status == 200, f"{role}: the nav links {url}, which answers {status}"
            else:
                assert status == 403, f"{role}: the nav hides {url}, which answers {status}"

    # what the pages' rules come to, spelled out so that the test cannot pass vacuously
    def having(url: str) -> set[str]:
        return {role for role, shown in seen.items() if url in shown}

    assert having("/accounts/officers/") == {"ministry_admin", "province_police"}
    assert having("/trao-doi/") == {"ministry_admin", "auditor"}
    assert having("/citizens/new/") == {"commune_police", "province_police", "ministry_admin"}
    assert having("/chi-so/") == set(Role.values) - {"service"}
    assert having("/to-cong-tac/") == having("/citizens/") == set(Role.values)
