"""Officers: the management screens and their rules, the sign-in with a second factor, lock-out
and session expiry, the locked-down admin, and the audit of every refusal — through the real
HTTP stack (Django's test client) and the real database."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import path, reverse
from django.utils import timezone

from dancu import urls as dancu_urls
from dancu.accounts import services as accounts
from dancu.accounts.models import ApiToken, OfficerProfile
from dancu.audit.models import AuditEvent
from dancu.core.errors import OutOfJurisdiction
from dancu.population import services as population
from dancu.population.models import Citizen
from tests.factories import OFFICER_PASSWORD, citizen_raw, officer_login, sign_in, totp_code

NEW_PASSWORD = "một-mật-khẩu-mới-456"


def _profile(username: str) -> OfficerProfile:
    return OfficerProfile.objects.select_related("user", "jurisdiction").get(user__username=username)


def _create(client, **overrides):
    data = {"username": "ca.dongson", "display_name": "Cán bộ Đông Sơn", "role": "commune_police",
            "unit": "2025:14797", "password": OFFICER_PASSWORD, "reason": "Điều động"}
    data.update(overrides)
    return client.post(reverse("accounts:officer_new"), data)


# ---- 1. Officers managed in the console --------------------------------------------------------

def test_ministry_admin_manages_an_officer_through_the_screens(client, geo, ministry_admin,
                                                               province_officer) -> None:
    officer_login(client, ministry_admin)
    assert 'data-testid="nav-officers"' in client.get(reverse("population:search")).content.decode()
    assert _create(client).status_code == 302
    new = _profile("ca.dongson")
    assert (new.role, new.jurisdiction, new.user.is_superuser) == ("commune_police", geo.dong_son, False)
    created = AuditEvent.objects.get(action="account.create", subject_id=str(new.pk))
    assert created.actor_label == "bo.quantri" and created.after["jurisdiction"] == "2025:14797"
    assert created.before is None

    listing = client.get(reverse("accounts:officers"), {"role": "commune_police", "unit": "2025:38"})
    body = listing.content.decode()
    assert listing.status_code == 200 and "ca.dongson" in body and "ca.thanhhoa" not in body
    suspended = client.get(reverse("accounts:officers"), {"state": "suspended"}).content.decode()
    assert "ca.dongson" not in suspended

    edit = reverse("accounts:officer_edit", args=[new.pk])
    assert client.post(edit, {"role": "province_police", "unit": "2025:38", "display_name": "",
                              "reason": "Điều động lên tỉnh"}).status_code == 302
    update = AuditEvent.objects.get(action="account.update")
    assert update.before["role"] == "commune_police" and update.after["role"] == "province_police"
    assert update.after["jurisdiction"] == "2025:38" and update.reason == "Điều động lên tỉnh"

    status = reverse("accounts:officer_status", args=[new.pk])
    assert client.post(status, {"action": "suspend", "reason": "Nghỉ việc"}).status_code == 302
    assert not _profile("ca.dongson").user.is_active
    assert AuditEvent.objects.get(action="account.suspend").after["active"] is False
    assert "ca.dongson" in client.get(reverse("accounts:officers"), {"state": "suspended"}).content.decode()
    assert client.post(status, {"action": "reactivate"}).status_code == 302
    assert _profile("ca.dongson").user.is_active

    reset = reverse("accounts:officer_password", args=[new.pk])
    weak = client.post(reset, {"password": "123"})
    assert weak.status_code == 400 and 'data-field-error="password"' in weak.content.decode()
    assert client.post(reset, {"password": NEW_PASSWORD, "reset_second_factor": "on"}).status_code == 302
    assert _profile("ca.dongson").user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="account.password_reset").count() == 1


def test_a_form_error_names_the_field_and_writes_nothing(client, geo, ministry_admin) -> None:
    officer_login(client, ministry_admin)
    unknown = _create(client, unit="2025:99999")
    assert unknown.status_code == 400 and 'data-field-error="unit"' in unknown.content.decode()
    wrong_level = _create(client, unit="2025:38")  # commune police need a commune
    assert wrong_level.status_code == 400 and 'data-field-error="unit"' in wrong_level.content.decode()
    taken = _create(client, username="bo.quantri", role="auditor", unit="")
    assert taken.status_code == 400 and 'data-field-error="username"' in taken.content.decode()
    assert not OfficerProfile.objects.filter(user__username="ca.dongson").exists()
    assert not AuditEvent.objects.filter(action="account.create", actor_label="bo.quantri").exists()


def test_a_province_officer_grants_no_more_than_they_hold(client, geo, province_officer,
                                                         ministry_admin) -> None:
    hanoi = accounts.create_officer("ca.hongha", OFFICER_PASSWORD, "commune_police", jurisdiction=geo.hong_ha)
    officer_login(client, province_officer)
    listing = client.get(reverse("accounts:officers")).content.decode()
    assert "ca.thanhhoa" in listing and "ca.hongha" not in listing and "bo.quantri" not in listing

    above = _create(client, role="ministry_admin", unit="")
    assert above.status_code == 403
    outside = _create(client, unit=geo.hong_ha.qualified_code)
    assert outside.status_code == 403
    assert not OfficerProfile.objects.filter(user__username="ca.dongson").exists()
    denied = AuditEvent.objects.filter(action="account.create.denied").order_by("id")
    assert [e.details["code"] for e in denied] == ["E_ROLE_ABOVE_OWN", "E_JURISDICTION"]
    assert all(e.actor_label == "ca.thanhhoa" for e in denied)
    assert not AuditEvent.objects.filter(action="console.page.denied").exists()  # recorded once

    # an officer of another province, or one above them, is out of reach
    assert client.get(reverse("accounts:officer_edit", args=[hanoi.pk])).status_code == 403
    admin_pk = _profile("bo.quantri").pk
    assert client.post(reverse("accounts:officer_status", args=[admin_pk]),
                       {"action": "suspend"}).status_code == 403
    assert _profile("bo.quantri").user.is_active
    # within the province: allowed
    assert _create(client).status_code == 302


def test_no_self_escalation(client, geo, province_officer, ministry_admin) -> None:
    me = _profile("ca.thanhhoa")
    officer_login(client, province_officer)
    page = client.post(reverse("accounts:officer_edit", args=[me.pk]),
                       {"role": "ministry_admin", "unit": ""})
    assert page.status_code == 403
    assert _profile("ca.thanhhoa").role == "province_police"
    event = AuditEvent.objects.get(action="account.update.denied")
    assert event.details["code"] == "E_SELF_CHANGE" and event.actor_label == "ca.thanhhoa"
    # their own page offers no form that would be refused: it shows the role and area
    own = client.get(reverse("accounts:officer_edit", args=[me.pk])).content.decode()
    assert 'data-testid="officer-own"' in own and 'data-testid="officer-form"' not in own
    assert 'data-testid="officer-status"' not in own and "Tỉnh Thanh Hóa" in own
    # the ministry's administrator cannot suspend themselves either
    officer_login(client, ministry_admin)
    assert client.post(reverse("accounts:officer_status", args=[_profile("bo.quantri").pk]),
                       {"action": "suspend"}).status_code == 403
    assert _profile("bo.quantri").user.is_active


@pytest.mark.parametrize("who", ["commune_officer", "auditor"])
def test_officers_who_manage_no_one_are_refused_the_screens(client, geo, who, request) -> None:
    actor = request.getfixturevalue(who)
    officer_login(client, actor)
    assert client.get(reverse("accounts:officers")).status_code == 403
    assert _create(client).status_code == 403
    events = AuditEvent.objects.filter(action="console.page.denied", actor_label=actor.label)
    assert [e.details["code"] for e in events] == ["E_ROLE", "E_ROLE"]


def test_the_cli_goes_through_the_same_services(geo, ministry_admin) -> None:
    call_command("officer", "create", "ca.dongson", "--role", "commune_police", "--unit", "2025:14797",
                 "--password-stdin", stdin=io.StringIO(OFFICER_PASSWORD + "\n"), stdout=io.StringIO())
    call_command("officer", "update", "ca.dongson", "--role", "province_police", "--unit", "2025:38",
                 stdout=io.StringIO())
    call_command("officer", "suspend", "ca.dongson", stdout=io.StringIO())
    profile = _profile("ca.dongson")
    assert (profile.role, profile.jurisdiction, profile.user.is_active) == ("province_police", geo.thanh_hoa,
                                                                             False)
    events = {e.action: e for e in AuditEvent.objects.filter(actor_label="cli:officer")}
    assert set(events) == {"account.create", "account.update", "account.suspend"}
    assert events["account.update"].before["role"] == "commune_police"
    token_out = io.StringIO()
    call_command("officer", "token", "create", "bo.quantri", "--name", "thử", stdout=token_out,
                 stderr=io.StringIO())
    row = ApiToken.objects.get()
    call_command("officer", "token", "revoke", str(row.pk), stdout=io.StringIO())
    assert AuditEvent.objects.filter(action__in=["account.token.create", "account.token.revoke"],
                                     actor_label="cli:officer").count() == 2


def test_nobody_becomes_a_superuser(geo) -> None:
    profile = accounts.create_officer("demo.bo", OFFICER_PASSWORD, "ministry_admin", is_staff=True)
    assert profile.user.is_staff and not profile.user.is_superuser
    assert AuditEvent.objects.get(action="account.create").actor_label == "system:accounts"


# ---- 2. Sign-in with a second factor; lock-out; session expiry ----------------------------------

def test_the_first_sign_in_enrols_the_authenticator_app(client, commune_officer) -> None:
    step1 = client.post(reverse("accounts:login"), {"username": "ca.hacthanh", "password": OFFICER_PASSWORD})
    assert step1.status_code == 302 and step1["Location"] == reverse("accounts:second_factor")
    # the password alone opens nothing
    assert client.get(reverse("population:search")).status_code == 302
    page = client.get(reverse("accounts:second_factor"))
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body and 'data-testid="totp-qr"' in body
    assert 'data-testid="totp-secret"' in body and "cdn" not in body.lower()
    wrong = client.post(reverse("accounts:second_factor"), {"code": "000000"})
    assert wrong.status_code == 400 and 'data-field-error="code"' in wrong.content.decode()
    code = totp_code("ca.hacthanh")
    right = client.post(reverse("accounts:second_factor"), {"code": code})
    assert right.status_code == 302 and right["Location"] == reverse("population:search")
    assert client.get(reverse("population:search")).status_code == 200
    assert _profile("ca.hacthanh").has_totp
    assert {"account.totp_enrol", "account.login", "account.login.totp_wrong"} <= set(
        AuditEvent.objects.values_list("action", flat=True))
    # the next sign-in asks for a code only, and a code is good once
    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": "ca.hacthanh", "password": OFFICER_PASSWORD})
    assert "<svg" not in client.get(reverse("accounts:second_factor")).content.decode()
    replay = client.post(reverse("accounts:second_factor"), {"code": code})
    assert replay.status_code == 400 and "Mã này đã được dùng." in replay.content.decode()
    assert client.post(reverse("accounts:second_factor"),
                       {"code": totp_code("ca.hacthanh")}).status_code == 302


def test_a_session_signed_in_with_the_password_alone_is_refused(client, ministry_admin) -> None:
    """What Django's admin login or a citizen's login would give: the model backend."""
    client.force_login(get_user_model().objects.get(username="bo.quantri"),
                       backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("population:search"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.get(action="console.page.denied").details["reason"] == "no second factor"
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_account(client, commune_officer, settings) -> None:
    for _ in range(4):
        bad = client.post(reverse("accounts:login"), {"username": "ca.hacthanh",
                                                      "password": "sai-mat-khau-1"})
        assert bad.status_code == 400 and "không đúng" in bad.content.decode()
    fifth = client.post(reverse("accounts:login"), {"username": "ca.hacthanh", "password": "sai-mat-khau-1"})
    assert "tạm khóa" in fifth.content.decode()
    locked = client.post(reverse("accounts:login"), {"username": "ca.hacthanh", "password": OFFICER_PASSWORD})
    assert locked.status_code == 400 and "tạm khóa" in locked.content.decode()
    assert AuditEvent.objects.filter(action="account.login.password_wrong").count() == 5
    # the lock ends by itself
    OfficerProfile.objects.filter(user__username="ca.hacthanh").update(
        locked_until=timezone.now() - timezone.timedelta(seconds=1))
    assert sign_in(client, "ca.hacthanh").status_code == 302


def test_wrong_codes_count_towards_the_lock_out(client, commune_officer) -> None:
    sign_in(client, "ca.hacthanh")  # enrolled
    client.post(reverse("accounts:logout"))
    client.post(reverse("accounts:login"), {"username": "ca.hacthanh", "password": OFFICER_PASSWORD})
    for _ in range(5):
        client.post(reverse("accounts:second_factor"), {"code": "000000"})
    assert _profile("ca.hacthanh").locked_until > timezone.now()
    locked = client.post(reverse("accounts:login"), {"username": "ca.hacthanh", "password": OFFICER_PASSWORD})
    assert "tạm khóa" in locked.content.decode()


def _age_session(client, **seconds: float) -> None:
    session = client.session
    data = session["dancu_officer"]
    session["dancu_officer"] = {key: data[key] - seconds.get(key, 0) for key in data}
    session.save()


def test_an_idle_session_ends(client, commune_officer, settings) -> None:
    settings.DANCU_OFFICER_IDLE_MINUTES = 30
    sign_in(client, "ca.hacthanh")
    assert client.get(reverse("population:search")).status_code == 200
    _age_session(client, seen=29 * 60)
    assert client.get(reverse("population:search")).status_code == 200
    _age_session(client, seen=31 * 60)
    assert client.get(reverse("population:search")).status_code == 302
    assert client.get(reverse("population:search")).status_code == 302  # signed out


def test_a_session_ends_after_its_absolute_lifetime(client, commune_officer, settings) -> None:
    settings.DANCU_OFFICER_SESSION_HOURS = 8
    sign_in(client, "ca.hacthanh")
    _age_session(client, auth_time=8 * 3600 + 1)
    response = client.get(reverse("population:search"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_suspended_officer_is_signed_out_at_the_next_request(client, commune_officer,
                                                               ministry_admin) -> None:
    sign_in(client, "ca.hacthanh")
    accounts.set_officer_active(ministry_admin, _profile("ca.hacthanh").pk, False)
    assert client.get(reverse("population:search")).status_code == 302
    refused = client.post(reverse("accounts:login"), {"username": "ca.hacthanh",
                                                      "password": OFFICER_PASSWORD})
    assert refused.status_code == 400


# ---- 3. The admin: off unless asked, read-only, no accounts or tokens --------------------------

# dancu's URLs with the admin mounted, as DANCU_ADMIN=1 does (settings are read once, at import)
urlpatterns = [*dancu_urls.urlpatterns, path("admin/", admin.site.urls)]


def test_the_admin_is_off_by_default(client, ministry_admin) -> None:
    officer_login(client, ministry_admin)
    assert client.get("/admin/").status_code == 404


@pytest.mark.urls("tests.accounts.test_officers")
def test_the_admin_is_read_only_without_accounts_or_tokens(client, geo, settings) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    staff = accounts.create_officer("demo.bo", OFFICER_PASSWORD, "ministry_admin", is_staff=True)
    # a password alone (the admin's own login form) does not open it
    client.force_login(staff.user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/")["Location"].startswith("/accounts/login/")
    officer_login(client, "demo.bo")
    index = client.get("/admin/")
    assert index.status_code == 200
    for hidden in ("/admin/auth/user/", "/admin/auth/group/", "/admin/oauth2_provider/accesstoken/",
                   "/admin/oauth2_provider/application/", "/admin/oauth2_provider/refreshtoken/"):
        assert client.get(hidden).status_code == 404, hidden
    assert client.get("/admin/geo/adminunit/").status_code == 200
    assert client.get("/admin/geo/adminunit/add/").status_code == 403
    unit = geo.hac_thanh
    before = unit.name
    client.post(f"/admin/geo/adminunit/{unit.pk}/change/", {"name": "Đổi tên"})
    unit.refresh_from_db()
    assert unit.name == before
    assert client.post(f"/admin/geo/adminunit/{unit.pk}/delete/", {"post": "yes"}).status_code == 403
    assert not get_user_model().objects.filter(is_superuser=True).exists()


# ---- 4. Every refusal leaves an audit row ------------------------------------------------------

def test_an_anonymous_visit_to_an_officer_page_is_audited(client, geo) -> None:
    response = client.get(reverse("population:search"))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="console.page.denied")
    assert event.actor_label == "anonymous" and event.details["path"] == reverse("population:search")


def test_a_citizen_opening_an_officer_page_is_refused_and_audited(client, geo) -> None:
    citizen = get_user_model().objects.create_user("eid-001090000001", password=OFFICER_PASSWORD)
    client.force_login(citizen, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("eid:outbox")).status_code == 403
    event = AuditEvent.objects.get(action="console.page.denied")
    assert (event.source, event.actor_id) == ("citizen", citizen.pk)


def test_an_auditors_write_attempts_are_audited(client, geo, auditor) -> None:
    officer_login(client, auditor)
    assert client.get(reverse("population:create")).status_code == 403
    assert AuditEvent.objects.filter(action="console.page.denied", actor_label="kiem.tra").count() == 1
    with pytest.raises(OutOfJurisdiction):
        population.register_citizen(auditor, citizen_raw(), commune=geo.hac_thanh, reason="thử")
    event = AuditEvent.objects.get(action="citizen.create.denied")
    assert event.details["code"] == "E_ROLE_READ_ONLY" and event.reason == "thử"
    assert not Citizen.objects.exists()


def test_refused_outbox_and_relying_party_pages_are_audited_once(client, geo, commune_officer) -> None:
    officer_login(client, commune_officer)
    assert client.get(reverse("eid:outbox")).status_code == 403
    assert client.get("/relying-parties/").status_code == 403
    assert list(AuditEvent.objects.filter(action__endswith=".denied").order_by("id")
                .values_list("action", flat=True)) == ["eid.outbox.view.denied", "console.page.denied"]


def test_creating_a_person_outside_ones_area_is_a_403_with_an_audit_row(client, geo, commune_officer) -> None:
    from tests.population.test_console import _create_form

    officer_login(client, commune_officer)
    response = client.post(reverse("population:create"),
                           _create_form(geo, commune=geo.hong_ha.qualified_code))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="citizen.create.denied")
    assert event.details == {"code": "E_JURISDICTION", "field": "commune", "commune": "2025:00097"}
    assert not Citizen.objects.exists()
    assert not AuditEvent.objects.filter(action="console.page.denied").exists()


def test_a_refused_csv_export_is_audited_as_an_export(client, geo, commune_officer) -> None:
    officer_login(client, commune_officer)
    assert client.get(reverse("quality:report_csv"), {"province": "2025:38"}).status_code == 403
    assert list(AuditEvent.objects.filter(action__endswith=".denied").values_list("action", flat=True)) == [
        "quality.report.export.denied"]


def test_a_session_clock_is_written_at_most_once_a_minute(client, commune_officer) -> None:
    sign_in(client, "ca.hacthanh")
    seen = client.session["dancu_officer"]["seen"]
    client.get(reverse("population:search"))
    assert client.session["dancu_officer"]["seen"] == seen
    assert time.time() - seen < 60


def test_the_officer_pages_speak_english_when_chosen(client, geo, ministry_admin, settings) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Step 1/2: password." in client.get(reverse("accounts:login")).content.decode()
    client.post(reverse("accounts:login"), {"username": "bo.quantri", "password": OFFICER_PASSWORD})
    assert "has no authenticator app yet" in client.get(reverse("accounts:second_factor")).content.decode()
    officer_login(client, ministry_admin)
    page = client.get(reverse("accounts:officer_new")).content.decode()
    assert "Create an officer account" in page and "Area (2025 unit code)" in page
    refused = _create(client, role="auditor", unit="2025:99999").content.decode()
    assert "Tạo tài khoản" not in refused


def test_the_officer_screens_answer_bad_input_with_4xx(client, geo, ministry_admin) -> None:
    """Huge ids and page numbers, unknown units and roles: a 4xx naming nothing half-written,
    never a 5xx (PostgreSQL refuses integers past its range)."""
    officer_login(client, ministry_admin)
    huge = "9" * 25
    assert client.get(f"/accounts/officers/{huge}/").status_code == 404
    for action in ("status", "password"):
        response = client.post(f"/accounts/officers/{huge}/{action}/",
                               {"action": "suspend", "password": "x" * 12})
        assert response.status_code == 404, action
    for query in ({"page": huge}, {"page": "-1"}, {"unit": "2025:" + "9" * 15}, {"role": "god"},
                  {"q": "x" * 500}):
        assert client.get(reverse("accounts:officers"), query).status_code in (200, 400), query
    before = get_user_model().objects.count()
    bad = client.post(reverse("accounts:officer_new"), {"username": "a" * 151, "role": "god",
                                                       "unit": "2025:" + "9" * 30, "password": "p"})
    assert bad.status_code == 400 and get_user_model().objects.count() == before
