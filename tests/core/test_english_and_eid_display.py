"""What a person reads: English without gaps (plurals, each word in its sense, stored refusal
texts, each language named in its own name), the citizen's page without protocol jargon, the
authenticator app's QR code, and an officer's e-ID page that offers only what applies."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse

from dancu.eid import services as eid
from dancu.eid.models import EidApplication
from tests.eid.test_eid_views import (  # noqa: F401 — fixtures
    _eid_settings,
    _officer,
    _sign_in,
    account,
    hoa,
)
from tests.eid_helpers import PNG, level1_account
from tests.population.test_console import _detail, _resident


def _english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _options(html: str) -> list[str]:
    menu = re.search(r'<select name="language".*?</select>', html, re.S)
    assert menu, html
    return re.findall(r">([^<>]+)</option>", menu.group(0))


@pytest.mark.parametrize("english", [False, True])
def test_the_language_menu_names_each_language_in_its_own_name(client, geo, english) -> None:
    if english:
        _english(client)
    page = client.get(reverse("accounts:login")).content.decode()
    assert _options(page) == ["Tiếng Việt", "English"]


def test_one_child_is_a_child_in_english(client, geo, commune_officer, hoa) -> None:  # noqa: F811
    _resident(commune_officer, geo.hac_thanh, full_name="Trần Minh Khôi", sex="M", birth_date="2015-03",
              mother_id=hoa.personal_id)
    _officer(client, commune_officer)
    _english(client)
    one = client.get(_detail(hoa.personal_id)).content.decode()
    assert "<dt>Child</dt>" in one and "<dt>Children</dt>" not in one
    _resident(commune_officer, geo.hac_thanh, full_name="Trần Minh Khoa", sex="M", birth_date="2017-06",
              mother_id=hoa.personal_id)
    two = client.get(_detail(hoa.personal_id)).content.decode()
    assert "<dt>Children</dt>" in two


def test_me_page_says_how_the_person_signed_in_in_words(client, account) -> None:  # noqa: F811
    _sign_in(client, account, methods=("pwd", "sms"))
    page = client.get(reverse("eid:me")).content.decode()
    assert "urn:vn:dancu" not in page and "acr=" not in page and "amr=" not in page
    session = re.search(r'data-testid="session-level">(.*?)</dd>', page, re.S).group(1)
    assert "đã xác thực bằng mật khẩu, mã SMS" in " ".join(session.split())
    _english(client)
    page = client.get(reverse("eid:me")).content.decode()
    session = re.search(r'data-testid="session-level">(.*?)</dd>', page, re.S).group(1)
    assert "signed in with password, SMS code" in " ".join(session.split())
    methods = re.search(r'data-testid="methods">(.*?)</dd>', page, re.S).group(1)
    assert methods == "Password, SMS code"


def test_authenticator_setup_shows_a_qr_code_of_the_link(client, account) -> None:  # noqa: F811
    _sign_in(client, account, methods=("pwd", "sms"))
    assert client.post(reverse("eid:totp-begin")).status_code == 302
    page = client.get(reverse("eid:me")).content.decode()
    uri = re.search(r'data-testid="totp-uri">([^<]+)<', page).group(1)
    assert uri.startswith("otpauth://totp/")
    figure = re.search(r'data-testid="totp-qr">(.*?)</figure>', page, re.S).group(1).strip()
    assert figure.startswith("<svg") and "<path" in figure and "http" not in figure
    import segno

    expected = segno.make(uri.replace("&amp;", "&"), error="m").svg_inline(
        scale=4, omitsize=True, dark="#000", light="#fff", title="Mã QR để thêm vào ứng dụng xác thực",
        svgclass="qr")
    assert figure == expected  # the QR code of the very link shown beside it


def test_officer_page_offers_only_what_applies(client, commune_officer, account) -> None:  # noqa: F811
    _officer(client, commune_officer)
    level1 = client.get(reverse("eid:officer"), {"personal_id": account.personal_id, "reason": "Cấp mức 2"})
    body = level1.content.decode()
    assert 'data-testid="level2-form"' in body
    status_box = re.search(r'<select name="action".*?</select>', body, re.S).group(0)
    assert re.findall(r'<option value="(\w*)"[^>]*selected', status_box) == [""]  # no action chosen
    # nothing chosen: refused, naming the field, nothing changed
    refused = client.post(reverse("eid:officer-status", args=[account.personal_id]),
                          {"action": "", "reason": "x"})
    assert refused.status_code == 400 and 'data-field-error="action"' in refused.content.decode()
    account.refresh_from_db()
    assert account.status == "active"

    eid.enrol_level2(commune_officer, account.personal_id, card_checked=True, device_reference="d",
                     capture_reference="c")
    level2 = client.get(reverse("eid:officer"), {"personal_id": account.personal_id, "reason": "Kiểm tra"})
    assert level2.status_code == 200 and 'data-testid="level2-form"' not in level2.content.decode()


def test_officer_reads_a_stored_refusal_in_english(client, commune_officer, hoa) -> None:  # noqa: F811
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name="Người Khác",
                                           birth_date=dt.date(1990, 5, 17), phone="0912345678",
                                           portrait=PNG, channel="web")
    assert result.refused
    assert EidApplication.objects.get(pk=result.application.pk).reason.startswith("Thông tin khai báo")
    level1_account(hoa)
    _officer(client, commune_officer)
    _english(client)
    page = client.get(reverse("eid:officer"), {"personal_id": hoa.personal_id, "reason": "Check"})
    body = page.content.decode()
    assert "The details given do not match the national population database." in body
    assert "Thông tin khai báo" not in body
    assert "<th>Outcome</th>" in body and "<th>Results</th>" not in body  # of one application
