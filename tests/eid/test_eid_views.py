"""The e-ID pages (citizen and officer) and the `dancu eid` command, through Django's test
client on the real database."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.core import crypto
from dancu.eid import selectors as eid_selectors
from dancu.eid import services as eid
from dancu.eid import sessions
from dancu.eid.models import (
    AccountStatus,
    Device,
    EidAccount,
    EidApplication,
    LoginEvent,
    SmsMessage,
)
from dancu.residence import services as residence
from tests.eid_helpers import JPEG, PASSWORD, PNG, last_code, level1_account
from tests.factories import citizen_raw

PHONE = "+84912345678"


@pytest.fixture(autouse=True)
def _eid_settings(settings, tmp_path, otp_without_waits):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def hoa(geo, commune_officer):
    """Nguyễn Thị Hoà, 17/05/1990, permanent resident of Phường Hạc Thành."""
    return residence.register_new_resident(commune_officer, citizen_raw(), commune=geo.hac_thanh,
                                           address="12 Lê Lợi", started_on=dt.date(2024, 1, 5),
                                           reason="Dữ liệu thử").citizen


@pytest.fixture
def account(hoa):
    return level1_account(hoa)


def _sign_in(client, account, methods=("pwd",)) -> None:
    """The session eid.sessions.establish makes, without going through the login page."""
    client.force_login(account.user, backend=sessions.BACKEND)
    session = client.session
    session[sessions.SESSION_KEY] = {"account": account.pk, "methods": list(methods),
                                     "auth_time": int(timezone.now().timestamp())}
    session.save()


def _officer(client, actor) -> None:
    client.force_login(get_user_model().objects.get(username=actor.label))


def _register_data(hoa, **overrides):
    data = {"personal_id": hoa.personal_id, "full_name": "Nguyễn Thị Hoà", "birth_date": "17/05/1990",
            "phone": "0912 345 678", "email": "hoa@example.vn",
            "portrait": SimpleUploadedFile("me.jpg", JPEG, content_type="image/jpeg")}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _field_errors(response) -> dict[str, str]:
    """data-field-error markers of the page: field name → message text."""
    import re

    body = response.content.decode()
    return {m.group(1): m.group(2) for m in re.finditer(
        r'data-field-error="([^"]+)">([^<]*)<', body)}


# ---- registration ---------------------------------------------------------------------------------

def test_register_confirm_and_land_on_the_self_service_page(client, hoa) -> None:
    page = client.get(reverse("eid:register"))
    body = page.content.decode()
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in body
    assert 'class="topbar"' not in body and "eid-bar" in body  # the citizen's layout, not the console's
    response = client.post(reverse("eid:register"), _register_data(hoa))
    assert response.status_code == 302 and response["Location"] == reverse("eid:register-confirm")
    app = EidApplication.objects.get()
    assert (app.channel, app.status, app.phone) == ("web", "pending", PHONE)
    confirm = client.get(reverse("eid:register-confirm"))
    assert "+8491••••678" in confirm.content.decode()
    done = client.post(reverse("eid:register-confirm"),
                       {"otp": last_code(PHONE), "password": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("eid:me")
    account = EidAccount.objects.get(personal_id=hoa.personal_id)
    assert client.session[sessions.SESSION_KEY]["methods"] == ["pwd"]
    me = client.get(reverse("eid:me"))
    body = me.content.decode()
    for text in ("Nguyễn Thị Hoà", hoa.personal_id, "17/05/1990", "Nữ", "Phường Hạc Thành, Tỉnh Thanh Hóa",
                 "Mức 1", "Đang hoạt động", "Đã tạo tài khoản định danh điện tử mức 1.",
                 'data-testid="consents-link"', "Mức xác thực 1", "đã xác thực bằng mật khẩu"):
        assert text in body, text
    assert AuditEvent.objects.filter(action="citizen.view.self", personal_id=hoa.personal_id,
                                     actor_label=f"citizen:{hoa.personal_id}").exists()
    assert account.user_id == int(client.session["_auth_user_id"])


@pytest.mark.parametrize(("overrides", "field", "text"), [
    ({"portrait": None}, "portrait", "Cần ảnh chân dung."),
    ({"portrait": SimpleUploadedFile("a.gif", b"GIF89a" + b"\x00" * 40)}, "portrait", "JPEG hoặc PNG"),
    ({"portrait": SimpleUploadedFile("big.png", PNG + b"\x00" * (2 * 1024 * 1024))}, "portrait",
     "không được quá 2 MB"),
    ({"phone": "12345"}, "phone", "Số điện thoại di động không hợp lệ"),
    ({"birth_date": "1990-17-05"}, "birth_date", ""),
    ({"personal_id": "03819012345"}, "personal_id", ""),
    ({"full_name": ""}, "full_name", ""),
    ({"email": "not-an-email"}, "email", ""),
])
def test_register_bad_input_names_the_field_and_writes_nothing(client, hoa, overrides, field, text) -> None:
    response = client.post(reverse("eid:register"), _register_data(hoa, **overrides))
    assert response.status_code == 200
    errors = _field_errors(response)
    assert field in errors, errors
    assert text in errors[field]
    assert not EidApplication.objects.exists() and not SmsMessage.objects.exists()


def test_register_refusal_shows_the_registry_reason(client, hoa) -> None:
    response = client.post(reverse("eid:register"), _register_data(hoa, full_name="Nguyễn Thị Hòa"))
    body = response.content.decode()
    assert response.status_code == 422 and 'data-testid="refusal"' in body
    assert "không khớp với Cơ sở dữ liệu quốc gia về dân cư" in body and "E_REGISTRY_MISMATCH" in body
    assert EidApplication.objects.get().status == "refused" and not SmsMessage.objects.exists()


def test_register_confirm_errors(client, hoa) -> None:
    assert client.get(reverse("eid:register-confirm"))["Location"] == reverse("eid:register")
    client.post(reverse("eid:register"), _register_data(hoa))
    code = last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    url = reverse("eid:register-confirm")
    good = {"password": PASSWORD, "password2": PASSWORD}
    assert "otp" in _field_errors(client.post(url, {"otp": wrong, **good}))
    mismatch = client.post(url, {"otp": code, "password": PASSWORD, "password2": PASSWORD + "x"})
    assert "Hai mật khẩu không giống nhau." in _field_errors(mismatch)["password2"]
    weak = client.post(url, {"otp": code, "password": "short", "password2": "short"})
    assert "password" in _field_errors(weak)
    assert "otp" in _field_errors(client.post(url, {"otp": "12", **good}))
    assert not EidAccount.objects.exists()
    assert client.post(url, {"otp": code, "password": PASSWORD, "password2": PASSWORD}).status_code == 302


# ---- sign-in ------------------------------------------------------------------------------------

def test_login_goes_to_a_local_next_only(client, account) -> None:
    url = reverse("eid:login")
    page = client.get(url, {"next": "/eid/me/?page=1"})
    assert 'value="/eid/me/?page=1"' in page.content.decode()
    response = client.post(url, {"personal_id": account.personal_id, "password": PASSWORD,
                                 "next": "/eid/me/?page=1"})
    assert response.status_code == 302 and response["Location"] == "/eid/me/?page=1"
    assert client.session[sessions.SESSION_KEY]["methods"] == ["pwd"]
    client.post(reverse("eid:logout"))
    evil = client.post(url + "?next=https://evil.example/x",
                       {"personal_id": account.personal_id, "password": PASSWORD})
    assert evil["Location"] == reverse("eid:me")
    event = LoginEvent.objects.filter(account=account, outcome="success").latest("id")
    assert event.ip == "127.0.0.1"


def test_a_login_writes_its_session_once_and_keeps_no_fixation(client, account) -> None:
    """The session row is written once, with the login's record (one statement on PostgreSQL, one
    transaction elsewhere; no key look-up, no INSERT-then-UPDATE), an earlier session's key stops
    working, and a citizen's login is its LoginEvent (no last_login UPDATE)."""
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(reverse("eid:login"))
    pre = client.session  # an anonymous session that exists before the login
    pre["pre_login"] = True
    pre.save()
    old_key = pre.session_key
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("eid:login"), {"personal_id": account.personal_id,
                                                      "password": PASSWORD})
    assert response.status_code == 302
    session_sql = [q["sql"].split()[0] for q in queries if "django_session" in q["sql"]]
    if connection.vendor == "postgresql":
        # the old session read and deleted; the new one inserted by the login's one statement (a
        # prepared statement, which goes through Django's cursor and so is in its query log)
        assert session_sql == ["SELECT", "DELETE", "WITH"]
        login_sql = [q["sql"] for q in queries if "eid_loginevent" in q["sql"]]
        assert len(login_sql) == 1 and "INSERT INTO django_session" in login_sql[0]
    else:  # in the login's transaction (test_a_login_whose_session_cannot_be_written_…)
        assert session_sql == ["SELECT", "DELETE", "INSERT"]
    assert not any('"auth_user"' in q["sql"] and q["sql"].startswith("UPDATE") for q in queries)
    account.refresh_from_db()
    assert account.failed_logins == 0  # the attempt's slot, taken before the hash, is given back
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key and not Session.objects.filter(session_key=old_key).exists()
    saved = Session.objects.get(session_key=new_key).get_decoded()
    assert saved["pre_login"] is True and saved[sessions.SESSION_KEY]["account"] == account.pk
    assert client.get(reverse("eid:me")).status_code == 200
    account.user.refresh_from_db()
    assert account.user.last_login is None  # the citizen's logins are LoginEvent rows
    assert LoginEvent.objects.filter(account=account, outcome="success").count() == 1


@pytest.mark.django_db(transaction=True)  # autocommit, as served: a failed statement fails alone
def test_a_login_whose_session_cannot_be_written_records_nothing(client, account, monkeypatch) -> None:
    """The session row and the login's record are written together or not at all: a session key
    already taken (the 1-in-2^160 draw, forced) fails the login with neither written."""
    from django.contrib.sessions.models import Session

    from dancu.core.session_store import SessionStore

    taken = SessionStore()
    taken["x"] = 1
    taken.save()
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: taken.session_key)
    client.raise_request_exception = False
    response = client.post(reverse("eid:login"), {"personal_id": account.personal_id, "password": PASSWORD})
    assert response.status_code == 500
    assert not LoginEvent.objects.filter(account=account, outcome="success").exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == [taken.session_key]
    assert "sessionid" not in response.cookies
    account.refresh_from_db()
    assert account.failed_logins == 1  # the attempt stays counted, as one whose process died


def test_logging_in_again_changes_the_key_and_ends_the_earlier_session(client, account) -> None:
    """The same citizen logging in again (OIDC prompt=login, max_age): a new key, the earlier
    session's row gone — Django's login() alone would keep the key for the same user."""
    from django.contrib.sessions.models import Session
    from django.test import Client

    form = {"personal_id": account.personal_id, "password": PASSWORD}
    assert client.post(reverse("eid:login"), form).status_code == 302
    first = client.cookies["sessionid"].value
    assert client.post(reverse("eid:login"), form).status_code == 302
    second = client.cookies["sessionid"].value
    assert second != first
    assert list(Session.objects.values_list("session_key", flat=True)) == [second]
    old = Client()
    old.cookies["sessionid"] = first
    assert old.get(reverse("eid:me")).status_code == 302  # to the login page
    assert client.get(reverse("eid:me")).status_code == 200
    assert LoginEvent.objects.filter(account=account, outcome="success").count() == 2


def test_a_login_with_another_session_engine_saves_the_session_as_django_does(client, account,
                                                                              settings) -> None:
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    form = {"personal_id": account.personal_id, "password": PASSWORD}
    assert client.post(reverse("eid:login"), form).status_code == 302
    assert client.get(reverse("eid:me")).status_code == 200
    assert LoginEvent.objects.filter(account=account, outcome="success").count() == 1


def test_a_session_written_with_a_record_is_saved_again_only_when_it_changed(db) -> None:
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dancu.core.session_store import SessionStore

    store = SessionStore()
    store["a"] = 1
    row = store.new_row()
    row.insert()
    row.written()
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert len(queries) == 0 and store.session_key == row.session_key
    store["a"] = 2
    store.save()
    assert Session.objects.get(session_key=row.session_key).get_decoded() == {"a": 2}
    assert Session.objects.count() == 1


def test_an_officer_login_still_records_last_login(client, commune_officer) -> None:
    from tests.factories import sign_in

    assert sign_in(client, "ca.hacthanh").status_code == 302
    assert get_user_model().objects.get(username="ca.hacthanh").last_login is not None


def test_a_session_key_drawn_twice_is_drawn_again(db, monkeypatch) -> None:
    """Keys are drawn without a look-up; the primary key refuses a duplicate and Django's
    create() draws again (the 1-in-2^160 case, forced here)."""
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.models import Session

    from dancu.core.session_store import SessionStore

    first = SessionStore()
    first["n"] = 1
    first.save()
    assert len(first.session_key) == 32 and set(first.session_key) <= set(VALID_KEY_CHARS)
    assert len({SessionStore()._get_new_session_key() for _ in range(1000)}) == 1000
    draws = iter([first.session_key, "k" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(draws))
    second = SessionStore()
    second["n"] = 2
    second.save()
    assert second.session_key == "k" * 32
    assert {s.session_key: s.get_decoded()["n"] for s in Session.objects.all()} == {
        first.session_key: 1, "k" * 32: 2}


def test_login_records_the_client_of_an_authorize_url(client, account) -> None:
    nxt = "/oidc/authorize/?client_id=portal-123&response_type=code"
    response = client.post(reverse("eid:login") + "?next=" + nxt.replace("&", "%26").replace("?", "%3F"),
                           {"personal_id": account.personal_id, "password": PASSWORD})
    assert response["Location"] == nxt
    assert LoginEvent.objects.filter(account=account, client_id="portal-123").exists()


def test_a_relying_partys_name_is_read_once_per_cache_lifetime(db, monkeypatch) -> None:
    """The login page and each login from a relying party name it: one query per cache lifetime,
    a rename shows after it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dancu.eid import selectors
    from tests.oidc_helpers import make_client

    rp = make_client()
    clock = {"now": 1000.0}
    monkeypatch.setattr(selectors._relying_party_names, "clock", lambda: clock["now"])
    assert selectors.relying_party_name(rp.client_id) == "Bệnh viện Hữu nghị"
    type(rp.application).objects.filter(pk=rp.application.pk).update(name="Bệnh viện mới")
    with CaptureQueriesContext(connection) as queries:
        assert selectors.relying_party_name(rp.client_id) == "Bệnh viện Hữu nghị"
        assert selectors.relying_party_name("no-such-client") == ""
        assert selectors.relying_party_name("no-such-client") == ""
    assert len(queries) == 1  # the unknown client, once
    clock["now"] += 31
    assert selectors.relying_party_name(rp.client_id) == "Bệnh viện mới"


def test_wrong_passwords_then_the_lock(client, account) -> None:
    url = reverse("eid:login")
    for _ in range(4):
        bad = client.post(url, {"personal_id": account.personal_id, "password": "wrong-password"})
        assert bad.status_code == 200 and "Số định danh hoặc mật khẩu không đúng." in bad.content.decode()
    fifth = client.post(url, {"personal_id": account.personal_id, "password": "wrong-password"})
    assert "Nhập sai mật khẩu 5 lần liên tiếp: tài khoản tạm khóa đến" in fifth.content.decode()
    locked = client.post(url, {"personal_id": account.personal_id, "password": PASSWORD})
    assert "Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần" in locked.content.decode()
    assert sessions.SESSION_KEY not in client.session
    unknown = client.post(url, {"personal_id": "038190999999", "password": PASSWORD})
    assert "Số định danh hoặc mật khẩu không đúng." in unknown.content.decode()
    missing = client.post(url, {"personal_id": "", "password": ""})
    assert {"personal_id", "password"} <= set(_field_errors(missing))


def test_suspended_account_cannot_sign_in_and_loses_its_session(client, account, commune_officer) -> None:
    _sign_in(client, account)
    assert client.get(reverse("eid:me")).status_code == 200
    eid.suspend_account(commune_officer, account.personal_id, reason="Nghi bị chiếm đoạt")
    assert client.get(reverse("eid:me")).status_code == 302
    page = client.post(reverse("eid:login"), {"personal_id": account.personal_id, "password": PASSWORD})
    assert "Tài khoản đang bị tạm dừng." in page.content.decode()


def test_self_service_needs_a_citizen_session(client, account, commune_officer) -> None:
    for name in ("eid:me", "eid:step-up"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("eid:login") + "?next=")
    _officer(client, commune_officer)  # an officer's session is not a citizen's
    assert client.get(reverse("eid:me")).status_code == 302
    assert client.get(reverse("eid:logout")).status_code == 405
    _sign_in(client, account)
    assert client.post(reverse("eid:logout")).status_code == 302
    assert client.get(reverse("eid:me")).status_code == 302


# ---- self-service ------------------------------------------------------------------------------

def test_login_history_is_paginated_newest_first(client, account) -> None:
    for _ in range(25):
        eid.authenticate_password(account.personal_id, PASSWORD, client_name="Cổng dịch vụ công")
    eid.authenticate_password(account.personal_id, "wrong-password")
    _sign_in(client, account)
    first = client.get(reverse("eid:me")).content.decode()
    assert first.count('data-outcome="') == 20 and first.index('data-outcome="bad_password"') < first.index(
        'data-outcome="success"')
    assert "Cổng dịch vụ công" in first and 'data-testid="history-next"' in first
    second = client.get(reverse("eid:me"), {"page": "2"}).content.decode()
    assert second.count('data-outcome="') == 6


def test_release_a_device(client, account, hoa, geo, commune_officer) -> None:
    eid.authenticate_password(account.personal_id, PASSWORD, device_id="phone-A", device_name="Galaxy A54")
    device = Device.objects.get(account=account)
    _sign_in(client, account)
    assert "Galaxy A54" in client.get(reverse("eid:me")).content.decode()
    nam = residence.register_new_resident(
        commune_officer, citizen_raw(full_name="Lê Văn Nam", sex="M"), commune=geo.hac_thanh,
        address="3 Trần Phú", started_on=dt.date(2024, 1, 5), reason="Dữ liệu thử").citizen
    other = level1_account(nam, phone="0987654321")
    eid.authenticate_password(other.personal_id, PASSWORD, device_id="phone-B")
    foreign = Device.objects.get(account=other)
    refused = client.post(reverse("eid:device-release", args=[foreign.pk]), follow=True)
    assert "Không tìm thấy thiết bị." in refused.content.decode()
    assert Device.objects.get(pk=foreign.pk).released_at is None
    assert client.get(reverse("eid:device-release", args=[device.pk])).status_code == 405
    done = client.post(reverse("eid:device-release", args=[device.pk]), follow=True)
    assert "Đã gỡ thiết bị khỏi tài khoản." in done.content.decode()
    device.refresh_from_db()
    assert device.released_at is not None and device.release_reason == "by_owner"


def test_totp_enrolment_needs_the_phone_proven_first(client, account) -> None:
    _sign_in(client, account)  # password only
    assert 'data-testid="totp-begin"' in client.get(reverse("eid:me")).content.decode()
    for name in ("eid:totp-begin", "eid:totp-confirm"):
        response = client.post(reverse(name), {"code": "123456"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("eid:step-up") + "?need=sms")
    account.refresh_from_db()
    assert not account.totp_secret_enc
    url = response["Location"]
    page = client.get(url).content.decode()  # a level-1 account too: the phone, not a level
    assert 'data-testid="step-up-sms"' in page and 'data-testid="level-cap"' not in page
    assert 'data-testid="step-up-totp"' not in page
    client.post(url, {"action": "send_sms"})
    done = client.post(url, {"action": "sms", "code": last_code(PHONE)})
    assert done.status_code == 302 and done["Location"] == reverse("eid:me") + "#totp"
    assert client.get(url)["Location"] == reverse("eid:me") + "#totp"  # proven: straight on
    assert client.post(reverse("eid:totp-begin"))["Location"] == reverse("eid:me") + "#totp"
    account.refresh_from_db()
    assert account.totp_secret_enc


def test_totp_enrolment_then_step_up_with_it(client, account, commune_officer) -> None:
    _sign_in(client, account, methods=("pwd", "sms"))
    client.post(reverse("eid:totp-begin"))
    page = client.get(reverse("eid:me")).content.decode()
    assert "otpauth://totp/" in page
    account.refresh_from_db()
    secret = crypto.decrypt(account.totp_secret_enc)
    assert secret in page
    totp = pyotp.TOTP(secret)
    not_now = "000000" if totp.now() != "000000" else "111111"
    wrong = client.post(reverse("eid:totp-confirm"), {"code": not_now}, follow=True)
    assert "Mã từ ứng dụng xác thực không đúng." in wrong.content.decode()
    ok = client.post(reverse("eid:totp-confirm"), {"code": totp.now()}, follow=True)
    assert "Đã bật xác thực bằng ứng dụng (TOTP)." in ok.content.decode()
    account.refresh_from_db()
    assert account.has_totp
    eid.enrol_level2(commune_officer, account.personal_id, card_checked=True, device_reference="d",
                     capture_reference="c")
    _sign_in(client, account)  # a new session, password only
    url = reverse("eid:step-up") + "?level=2&next=/eid/me/"
    assert 'data-testid="step-up-totp"' in client.get(url).content.decode()
    next_code = totp.at(timezone.now() + dt.timedelta(seconds=30))
    done = client.post(url, {"action": "totp", "code": next_code})
    assert done.status_code == 302 and done["Location"] == "/eid/me/"
    assert client.session[sessions.SESSION_KEY]["methods"] == ["otp", "pwd"]
    assert client.get(url)["Location"] == "/eid/me/"  # level 2 reached: straight on


def test_sms_step_up_on_a_level2_account(client, account, commune_officer) -> None:
    eid.enrol_level2(commune_officer, account.personal_id, card_checked=True, device_reference="d",
                     capture_reference="c")
    _sign_in(client, account)
    url = reverse("eid:step-up") + "?level=2&next=/eid/me/"
    page = client.get(url).content.decode()
    assert 'data-testid="step-up-sms"' in page and 'data-testid="level-cap"' not in page
    no_code_yet = client.post(url, {"action": "sms", "code": "123456"})
    assert "Hãy bấm gửi mã trước." in no_code_yet.content.decode()
    sent = client.post(url, {"action": "send_sms"})
    assert sent.status_code == 302 and sent["Location"] == url
    code = last_code(PHONE)
    wrong = client.post(url, {"action": "sms", "code": "000000" if code != "000000" else "111111"})
    assert "Mã xác thực không đúng." in _field_errors(wrong)["code"]
    bad_shape = client.post(url, {"action": "sms", "code": "12a"})
    assert "code" in _field_errors(bad_shape)
    done = client.post(url, {"action": "sms", "code": code})
    assert done.status_code == 302 and done["Location"] == "/eid/me/"
    assert client.session[sessions.SESSION_KEY]["methods"] == ["pwd", "sms"]
    me = client.get(reverse("eid:me")).content.decode()
    assert "Mức xác thực 2" in me and "đã xác thực bằng mật khẩu, mã SMS" in me
    biometric = client.get(reverse("eid:step-up") + "?level=3").content.decode()
    assert "Mức 3 và 4 cần yếu tố sinh trắc học" in biometric


def test_a_level1_account_is_told_it_cannot_reach_level2(client, account) -> None:
    _sign_in(client, account)
    page = client.get(reverse("eid:step-up") + "?level=2&next=https://evil.example/")
    body = page.content.decode()
    assert 'data-testid="level-cap"' in body and 'href="/eid/me/"' in body  # the foreign next is dropped
    assert 'data-testid="step-up-sms"' not in body  # an SMS would not raise it


# ---- recovery ----------------------------------------------------------------------------------

def test_recovery_says_the_same_whether_or_not_it_matched(client, account) -> None:
    url = reverse("eid:recover")
    mismatch = client.post(url, {"personal_id": account.personal_id, "phone": "0999999999"})
    assert mismatch["Location"] == reverse("eid:recover-confirm")
    text_mismatch = client.get(reverse("eid:recover-confirm")).content.decode()
    assert not SmsMessage.objects.filter(body__contains="Khôi phục").exists()
    wrong = client.post(reverse("eid:recover-confirm"),
                        {"otp": "123456", "password": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026"})
    answer_mismatch = _field_errors(wrong)["otp"]
    assert "Mã xác thực không đúng" in answer_mismatch
    client.post(url, {"personal_id": account.personal_id, "phone": "0912345678"})
    text_match = client.get(reverse("eid:recover-confirm")).content.decode()
    wrong_code = "000000" if last_code(PHONE) != "000000" else "111111"
    for _ in range(6):  # past the attempt limit: still the same answer as the mismatch
        new_password = {"password": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026"}
        wrong = client.post(reverse("eid:recover-confirm"), {"otp": wrong_code, **new_password})
        assert _field_errors(wrong)["otp"] == answer_mismatch
    sentence = "mã xác thực đã được gửi tới {}."
    assert sentence.format("+8499••••999") in text_mismatch and sentence.format("+8491••••678") in text_match
    # A second request inside the resend delay keeps the code already sent, and says nothing more.
    client.post(url, {"personal_id": account.personal_id, "phone": "0912345678"})
    code = last_code(PHONE)
    done = client.post(reverse("eid:recover-confirm"),
                       {"otp": code, "password": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026"})
    assert done.status_code == 302 and done["Location"] == reverse("eid:login")
    assert eid.authenticate_password(account.personal_id, "Mat-khau-moi-2026").ok


def test_recovery_resend_limit_is_not_disclosed(client, account, settings) -> None:
    settings.DANCU_OTP_RESEND_SECONDS = 60
    url = reverse("eid:recover")
    client.post(url, {"personal_id": account.personal_id, "phone": "0912345678"})
    code = last_code(PHONE)
    again = client.post(url, {"personal_id": account.personal_id, "phone": "0912345678"})
    assert again.status_code == 302  # no "wait 60 seconds": that would confirm the pair matched
    done = client.post(reverse("eid:recover-confirm"),
                       {"otp": code, "password": "Mat-khau-moi-2026", "password2": "Mat-khau-moi-2026"})
    assert done.status_code == 302


def test_recovery_bad_input_names_the_field(client, account) -> None:
    bad = client.post(reverse("eid:recover"), {"personal_id": account.personal_id, "phone": "12"})
    assert "phone" in _field_errors(bad)
    missing = client.post(reverse("eid:recover"), {"phone": "0912345678"})
    assert "personal_id" in _field_errors(missing)
    assert client.get(reverse("eid:recover-confirm"))["Location"] == reverse("eid:recover")
    client.post(reverse("eid:recover"), {"personal_id": account.personal_id, "phone": "0912345678"})
    weak = client.post(reverse("eid:recover-confirm"), {"otp": last_code(PHONE), "password": "abc",
                                                        "password2": "abc"})
    assert "password" in _field_errors(weak)


# ---- officer console ---------------------------------------------------------------------------

def test_officer_looks_up_enrols_level2_and_changes_status(client, commune_officer, account) -> None:
    _officer(client, commune_officer)
    assert 'data-testid="nav-eid"' in client.get(reverse("eid:officer")).content.decode()
    lookup = client.get(reverse("eid:officer"), {"personal_id": account.personal_id, "reason": "Cấp mức 2"})
    body = lookup.content.decode()
    assert lookup.status_code == 200 and "Mức 1" in body and 'data-testid="level2-form"' in body
    assert AuditEvent.objects.filter(action="citizen.view", personal_id=account.personal_id,
                                     actor_label="ca.hacthanh", reason="Cấp mức 2").exists()
    enrol = reverse("eid:officer-level2", args=[account.personal_id]) + "?reason=C%E1%BA%A5p"
    unchecked = client.post(enrol, {"device_reference": "ABIS-07", "capture_reference": "CAP-1"})
    assert unchecked.status_code == 400 and "card_checked" in _field_errors(unchecked)
    no_device = client.post(enrol, {"card_checked": "on", "capture_reference": "CAP-1"})
    assert "device_reference" in _field_errors(no_device)
    done = client.post(enrol, {"card_checked": "on", "device_reference": "ABIS-07",
                               "capture_reference": "CAP-1"})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert "Đã nâng tài khoản định danh điện tử lên mức 2." in page and "ABIS-07" in page
    account.refresh_from_db()
    assert account.level == 2
    status_url = reverse("eid:officer-status", args=[account.personal_id])
    no_reason = client.post(status_url, {"action": "suspend", "reason": ""})
    assert no_reason.status_code == 400 and "Cần nêu lý do." in _field_errors(no_reason)["reason"]
    bad_action = client.post(status_url, {"action": "delete", "reason": "x"})
    assert "action" in _field_errors(bad_action)
    client.post(status_url, {"action": "suspend", "reason": "Nghi bị chiếm đoạt"})
    account.refresh_from_db()
    assert account.status == AccountStatus.SUSPENDED and account.status_reason == "Nghi bị chiếm đoạt"
    conflict = client.post(status_url, {"action": "suspend", "reason": "lần nữa"})
    assert conflict.status_code == 409
    assert "Tài khoản không ở trạng thái hoạt động." in conflict.content.decode()
    client.post(status_url, {"action": "reinstate", "reason": "Đã xác minh"})
    client.post(status_url, {"action": "revoke", "reason": "Theo đề nghị"})
    account.refresh_from_db()
    assert account.status == AccountStatus.REVOKED
    actions = set(AuditEvent.objects.filter(personal_id=account.personal_id).values_list("action", flat=True))
    assert {"eid.account.level2", "eid.account.suspend", "eid.account.reinstate",
            "eid.account.revoke"} <= actions


def test_counter_account_for_a_person_without_one(client, commune_officer, hoa) -> None:
    _officer(client, commune_officer)
    page = client.get(reverse("eid:officer"), {"personal_id": hoa.personal_id, "reason": "Cấp mức 2"})
    assert 'data-testid="eid-no-account"' in page.content.decode()
    enrol = reverse("eid:officer-level2", args=[hoa.personal_id])
    no_phone = client.post(enrol, {"card_checked": "on", "device_reference": "d", "capture_reference": "c"})
    assert "phone" in _field_errors(no_phone)
    client.post(enrol, {"card_checked": "on", "device_reference": "d", "capture_reference": "c",
                        "phone": "0912000111"})
    account = EidAccount.objects.get(personal_id=hoa.personal_id)
    assert account.level == 2 and not account.has_password


def test_officer_outside_the_area_or_read_only(client, province_officer, auditor, geo, ministry_admin,
                                               account) -> None:
    other = residence.register_new_resident(ministry_admin, citizen_raw(full_name="Phạm Quốc Bảo", sex="M",
                                                                        birth_registration_unit="legacy:01"),
                                            commune=geo.hong_ha, address="1 Hàng Bài",
                                            started_on=dt.date(2024, 1, 5), reason="Dữ liệu thử").citizen
    _officer(client, province_officer)
    refused = client.get(reverse("eid:officer"), {"personal_id": other.personal_id, "reason": "Kiểm tra"})
    assert refused.status_code == 403 and "Công dân này ngoài địa bàn của bạn." in refused.content.decode()
    assert "Phạm Quốc Bảo" not in refused.content.decode()
    assert AuditEvent.objects.filter(action="citizen.view.denied", personal_id=other.personal_id).exists()
    unknown = client.get(reverse("eid:officer"), {"personal_id": "038190000000", "reason": "Kiểm tra"})
    assert unknown.status_code == 404
    no_reason = client.get(reverse("eid:officer"), {"personal_id": account.personal_id, "reason": ""})
    assert no_reason.status_code == 400 and "reason" in _field_errors(no_reason)
    # Province police may change status but not enrol level 2 (commune police only).
    page = client.get(reverse("eid:officer"), {"personal_id": account.personal_id, "reason": "Kiểm tra"})
    assert 'data-testid="level2-form"' not in page.content.decode()
    enrol = client.post(reverse("eid:officer-level2", args=[account.personal_id]),
                        {"card_checked": "on", "device_reference": "d", "capture_reference": "c"})
    assert enrol.status_code == 403 and "Chỉ công an cấp xã" in enrol.content.decode()
    client.logout()
    _officer(client, auditor)
    page = client.get(reverse("eid:officer"), {"personal_id": account.personal_id, "reason": "Thanh tra"})
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="status-form"' not in body
    assert 'data-testid="nav-eid"' in body  # the page opens to auditors (read-only), so the nav offers it
    write = client.post(reverse("eid:officer-status", args=[account.personal_id]),
                        {"action": "suspend", "reason": "x"})
    assert write.status_code == 403
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_officer_pages_need_an_officer(client, account) -> None:
    response = client.get(reverse("eid:officer"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    _sign_in(client, account)  # a citizen is not an officer
    assert client.get(reverse("eid:officer")).status_code == 403
    assert client.get(reverse("eid:outbox")).status_code == 403


def test_sms_outbox_page_for_ministry_admins(client, ministry_admin, commune_officer, account) -> None:
    _officer(client, commune_officer)
    assert client.get(reverse("eid:outbox")).status_code == 403
    client.logout()
    _officer(client, ministry_admin)
    page = client.get(reverse("eid:outbox"))
    assert page.status_code == 200 and PHONE in page.content.decode()
    filtered = client.get(reverse("eid:outbox"), {"phone": "0987654321", "last": "5"})
    assert "Chưa có tin nhắn nào." in filtered.content.decode()
    bad = client.get(reverse("eid:outbox"), {"phone": "12", "last": "0"})
    assert bad.status_code == 400 and {"phone", "last"} & set(_field_errors(bad))
    assert AuditEvent.objects.filter(action="eid.outbox.view", actor_label="bo.quantri").count() == 2


def test_eid_outbox_command(account) -> None:
    out = StringIO()
    call_command("eid", "outbox", "--phone", "0912 345 678", "--last", "3", stdout=out)
    assert PHONE in out.getvalue() and last_code(PHONE) in out.getvalue()
    empty = StringIO()
    call_command("eid", "outbox", "--phone", "0987654321", stdout=empty)
    assert "No SMS to +84987654321." in empty.getvalue()
    with pytest.raises(CommandError, match="--phone"):
        call_command("eid", "outbox", "--phone", "12")
    with pytest.raises(CommandError, match="--last"):
        call_command("eid", "outbox", "--last", "0")
    assert AuditEvent.objects.filter(action="eid.outbox.view", actor_label="cli:eid").exists()


def test_citizen_pages_in_english(client, account) -> None:
    client.cookies["django_language"] = "en"
    page = client.get(reverse("eid:login")).content.decode()
    assert '<html lang="en">' in page and "Sign in with your electronic identification account" in page
    wrong = client.post(reverse("eid:login"), {"personal_id": account.personal_id, "password": "nope-nope"})
    assert "ID number or password is incorrect." in wrong.content.decode()


def test_the_password_minimum_is_one_number_for_help_rule_and_schema(client, account) -> None:
    """The help text, the rule and the API schema all say eid.services.CITIZEN_PASSWORD_MIN_LENGTH
    (8: OWASP ASVS 5.0 V6.2.1) — the help text once said 10 while the rule took 8."""
    n = eid.CITIZEN_PASSWORD_MIN_LENGTH
    assert n == 8
    client.post(reverse("eid:recover"), {"personal_id": account.personal_id, "phone": "0912345678"})
    page = client.get(reverse("eid:recover-confirm")).content.decode()
    assert f"Ít nhất {n} ký tự; không dùng mật khẩu phổ biến." in page and "10 ký tự" not in page
    short = "Qx7#pLm9zK"[:n - 1]
    refused = client.post(reverse("eid:recover-confirm"),
                          {"otp": last_code(PHONE), "password": short, "password2": short})
    assert _field_errors(refused)["password"].endswith(f"Mật khẩu cần ít nhất {n} ký tự.")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("eid:recover-confirm")).content.decode()
    assert f"At least {n} characters; no common passwords." in page
    enough = "Qx7#pLm9zK"[:n]
    done = client.post(reverse("eid:recover-confirm"),
                       {"otp": last_code(PHONE), "password": enough, "password2": enough})
    assert done.status_code == 302 and eid.authenticate_password(account.personal_id, enough).ok
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("ConfirmIn", "RecoveryConfirmIn"):
        assert schemas[name]["properties"]["password"]["minLength"] == n, name


def test_the_officer_page_reads_a_person_under_their_own_purpose(client, commune_officer, geo,
                                                                 account) -> None:
    """A purpose stated for one person is not reused for another opened by URL: an action on
    another person's account reads it under the page's own purpose (or one confirmed for them)."""
    other = residence.register_new_resident(
        commune_officer, citizen_raw(full_name="Trần Văn Bình", birth_date="1980-02-03", sex="male"),
        commune=geo.hac_thanh, address="3 Lê Lợi", started_on=dt.date(2024, 1, 5),
        reason="Dữ liệu thử").citizen
    _officer(client, commune_officer)
    client.get(reverse("eid:officer"), {"personal_id": account.personal_id, "reason": "Xác minh A"})
    refused = client.post(reverse("eid:officer-status", args=[other.personal_id]), {"action": "suspend"})
    assert refused.status_code == 400
    read = AuditEvent.objects.filter(action="citizen.view", personal_id=other.personal_id).latest("pk")
    assert read.reason == eid_selectors.OFFICER_LOOKUP_REASON
    client.get(reverse("eid:officer"), {"personal_id": other.personal_id, "reason": "Xác minh B"})
    client.post(reverse("eid:officer-status", args=[other.personal_id]), {"action": "suspend"})
    read = AuditEvent.objects.filter(action="citizen.view", personal_id=other.personal_id).latest("pk")
    assert read.reason == "Xác minh B"
