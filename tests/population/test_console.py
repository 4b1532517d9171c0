"""The officer console through Django's test client, on the real database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.population.models import Citizen
from dancu.residence import services as residence
from dancu.residence.models import Household, Registration
from tests.factories import citizen_raw, sign_in

PASSWORD = "mật-khẩu-thử-123"  # what tests.factories.officer_actor sets


def _resident(actor, commune, **overrides) -> Citizen:
    reg = residence.register_new_resident(actor, citizen_raw(**overrides), commune=commune,
                                          address="12 Lê Lợi", started_on=dt.date(2024, 1, 5),
                                          reason="Dữ liệu thử")
    return reg.citizen


@pytest.fixture
def hoa(geo, commune_officer) -> Citizen:
    return _resident(commune_officer, geo.hac_thanh)


def _detail(pid: str, reason: str = "Xác minh hồ sơ") -> str:
    return reverse("population:detail", args=[pid]) + f"?reason={reason}"


def test_console_pages_need_a_signed_in_officer(client, geo) -> None:
    response = client.get(reverse("population:search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    page = client.get(reverse("accounts:login"))
    assert "Đăng nhập cán bộ" in page.content.decode()


def test_sign_in_and_out(client, commune_officer) -> None:
    response = sign_in(client, "ca.hacthanh", PASSWORD)  # password, then the TOTP code
    assert response.status_code == 302 and response["Location"] == reverse("population:search")
    page = client.get(reverse("population:search"))
    assert page.status_code == 200 and "Phường Hạc Thành" in page.content.decode()
    assert client.get(reverse("accounts:logout")).status_code == 405  # never by a link
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("population:search")).status_code == 302


def test_wrong_password_and_non_officer_accounts_are_refused(client, geo) -> None:
    bad = client.post(reverse("accounts:login"), {"username": "nobody", "password": "x" * 12})
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in bad.content.decode()
    get_user_model().objects.create_user("plain.user", password=PASSWORD)
    refused = client.post(reverse("accounts:login"), {"username": "plain.user", "password": PASSWORD})
    assert refused.status_code == 400  # the same answer as a wrong password: no account enumeration
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in refused.content.decode()
    client.force_login(get_user_model().objects.get(username="plain.user"))
    page = client.get(reverse("population:search"))
    assert page.status_code == 403 and "không phải tài khoản cán bộ" in page.content.decode()


def test_search_by_name_without_diacritics_is_audited_with_its_reason(officer_client, hoa) -> None:
    url = reverse("population:search")
    missing_reason = officer_client.get(url, {"q": "nguyen thi hoa"})
    assert "Cần nêu lý do tra cứu." in missing_reason.content.decode()
    assert not AuditEvent.objects.filter(action="citizen.search").exists()
    page = officer_client.get(url, {"q": "nguyen thi hoa", "birth_year": "1990", "reason": "Xác minh cư trú"})
    body = page.content.decode()
    assert "Nguyễn Thị Hoà" in body and hoa.personal_id in body and "17/05/1990" in body
    event = AuditEvent.objects.get(action="citizen.search")
    assert event.reason == "Xác minh cư trú" and event.details["results"] == [hoa.personal_id]
    none = officer_client.get(url, {"q": "nguyen thi hoa", "birth_year": "1991", "reason": "x"})
    assert 'data-testid="no-results"' in none.content.decode()


def test_search_pages_through_results(officer_client, geo, commune_officer, settings) -> None:
    settings.DANCU_PAGE_SIZE = 2
    for name in ("Lê Văn An", "Lê Văn Bình", "Lê Văn Cường"):
        _resident(commune_officer, geo.hac_thanh, full_name=name, sex="M")
    first = officer_client.get(reverse("population:search"), {"q": "le van", "reason": "Rà soát"})
    assert "Lê Văn An" in first.content.decode() and "Lê Văn Cường" not in first.content.decode()
    second = officer_client.get(reverse("population:search"),
                                {"q": "le van", "reason": "Rà soát", "page": "2"})
    assert "Lê Văn Cường" in second.content.decode() and "Lê Văn An" not in second.content.decode()
    # the number of results, on every page; exact matches first
    for response in (first, second):
        assert '<p data-testid="result-count">3 kết quả.' in response.content.decode()
    exact = _resident(commune_officer, geo.hac_thanh, full_name="Lê Văn", sex="M")
    body = officer_client.get(reverse("population:search"), {"q": "Lê Văn", "reason": "Rà soát"})
    body = body.content.decode()
    assert body.index(exact.personal_id) < body.index("Lê Văn An") and "4 kết quả." in body


def test_citizen_page_shows_the_record_and_audits_the_reason(officer_client, geo, commune_officer,
                                                             hoa) -> None:
    child = _resident(commune_officer, geo.hac_thanh, full_name="Trần Minh Khôi", sex="M",
                      birth_date="2015-03", mother_id=hoa.personal_id, ethnicity="06", religion="02")
    page = officer_client.get(_detail(hoa.personal_id, "Giải quyết thủ tục"))
    body = page.content.decode()
    assert page.status_code == 200
    for text in ("Nguyễn Thị Hoà", "17/05/1990", "Nữ", "Kinh", "Tỉnh Thanh Hóa", "Trần Minh Khôi",
                 "12 Lê Lợi", "Thường trú", "Chủ hộ", "Đăng ký công dân", "Giải quyết thủ tục"):
        assert text in body, text
    assert reverse("population:detail", args=[child.personal_id]) in body
    event = AuditEvent.objects.filter(action="citizen.view", personal_id=hoa.personal_id).get()
    assert event.reason == "Giải quyết thủ tục" and event.actor_label == "ca.hacthanh"
    # the child's page: partial birth date, ethnicity and religion by name, link to the mother
    child_page = officer_client.get(_detail(child.personal_id, "Giải quyết thủ tục")).content.decode()
    assert "03/2015" in child_page and "Mường" in child_page and "Công giáo" in child_page
    assert reverse("population:detail", args=[hoa.personal_id]) in child_page


def test_citizen_page_asks_for_a_reason_first(officer_client, hoa) -> None:
    page = officer_client.get(reverse("population:detail", args=[hoa.personal_id]))
    assert "Lý do tra cứu" in page.content.decode() and hoa.full_name not in page.content.decode()
    assert not AuditEvent.objects.filter(action="citizen.view").exists()


def test_out_of_jurisdiction_is_refused_and_audited(officer_client, geo, ministry_admin) -> None:
    other = _resident(ministry_admin, geo.hong_ha, full_name="Phạm Quốc Bảo", sex="M",
                      birth_registration_unit="legacy:01")
    page = officer_client.get(_detail(other.personal_id))
    assert page.status_code == 403
    body = page.content.decode()
    assert "Công dân này ngoài địa bàn của bạn." in body and "Phạm Quốc Bảo" not in body
    assert AuditEvent.objects.filter(action="citizen.view.denied", personal_id=other.personal_id,
                                     actor_label="ca.hacthanh", reason="Xác minh hồ sơ").exists()
    assert officer_client.get(reverse("population:correct", args=[other.personal_id])).status_code == 403
    unknown = officer_client.get(_detail("038190000000"))
    assert unknown.status_code == 404 and "Không tìm thấy công dân." in unknown.content.decode()


def _create_form(geo, **overrides) -> dict[str, str]:
    data = {"full_name": "Võ Thị Lan", "birth_date": "02/09/1995", "sex": "F", "ethnicity": "01",
            "religion": "00", "nationality": "VN", "birth_registration_unit": "legacy:38",
            "marital_status": "single", "commune": geo.hac_thanh.qualified_code,
            "address": "5 Trần Phú", "started_on": "2025-08-01", "relationship": "head",
            "reason": "Đăng ký thường trú lần đầu"}
    data.update(overrides)
    return data


def test_create_with_errors_names_the_fields_and_writes_nothing(officer_client, geo) -> None:
    # Hồng Hà is not in the commune officer's area: a refusal (403, audited), not a form error
    # (tests/accounts/test_officers.py::test_creating_a_person_outside_ones_area_is_a_403_with_an_audit_row)
    response = officer_client.post(reverse("population:create"), _create_form(
        geo, birth_date="30/02/2001", father_id="123", commune=geo.hong_ha.qualified_code))
    assert response.status_code == 403
    unknown = officer_client.post(reverse("population:create"), _create_form(geo, commune="2025:99999"))
    assert unknown.status_code == 200 and 'data-field-error="commune"' in unknown.content.decode()
    response = officer_client.post(reverse("population:create"),
                                   _create_form(geo, birth_date="30/02/2001", father_id="123"))
    body = response.content.decode()
    assert 'data-field-error="birth_date"' in body and "Ngày sinh không hợp lệ" in body
    assert 'data-field-error="father_id"' in body and "12 chữ số" in body
    # a missing field (checked by the form) does not hide the other fields' errors
    response = officer_client.post(reverse("population:create"),
                                   _create_form(geo, sex="", full_name="Lê 3", birth_date="31/02/2001"))
    body = response.content.decode()
    for name in ("sex", "full_name", "birth_date"):
        assert f'data-field-error="{name}"' in body, name
    assert not Citizen.objects.exists() and not Registration.objects.exists()
    assert not Household.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["citizen.create", "residence.permanent"]).exists()
    assert AuditEvent.objects.filter(action="citizen.create.denied").count() == 1
    # the household-number error comes from the residence service, after the citizen was
    # written inside the same transaction: the whole transaction is rolled back.
    response = officer_client.post(reverse("population:create"),
                                   _create_form(geo, household_number="99999-000001", relationship="child"))
    assert 'data-field-error="household_number"' in response.content.decode()
    assert not Citizen.objects.exists()


def test_create_registers_citizen_and_residence(officer_client, geo) -> None:
    form = officer_client.get(reverse("population:create")).content.decode()
    assert "Phường Hạc Thành" in form and "Phường Hồng Hà" not in form
    response = officer_client.post(reverse("population:create"), _create_form(geo))
    assert response.status_code == 302
    citizen = Citizen.objects.get()
    assert citizen.full_name == "Võ Thị Lan" and citizen.current_commune == geo.hac_thanh
    assert (citizen.birth_year, citizen.birth_month, citizen.birth_day) == (1995, 9, 2)
    assert response["Location"].startswith(reverse("population:detail", args=[citizen.personal_id]))
    page = officer_client.get(response["Location"])
    body = page.content.decode()
    assert "Đã đăng ký công dân Võ Thị Lan" in body and "5 Trần Phú" in body
    assert Household.objects.get().head == citizen


def test_national_officer_picks_province_then_commune(client, geo, ministry_admin) -> None:
    client.force_login(get_user_model().objects.get(username=ministry_admin.label))
    url = reverse("population:create")
    typed = client.get(url).content.decode()
    assert 'placeholder="2025:00097"' in typed
    listed = client.get(url, {"province": "01"}).content.decode()
    assert "Phường Hồng Hà" in listed and "Phường Hạc Thành" not in listed
    response = client.post(url + "?province=01", _create_form(
        geo, commune=geo.hong_ha.qualified_code, birth_registration_unit="legacy:01"))
    assert response.status_code == 302
    assert Citizen.objects.get().current_commune == geo.hong_ha


def test_read_only_roles_cannot_open_write_pages(client, auditor, hoa) -> None:
    client.force_login(get_user_model().objects.get(username=auditor.label))
    assert client.get(reverse("population:create")).status_code == 403
    assert client.get(reverse("population:correct", args=[hoa.personal_id])).status_code == 403
    assert client.get(reverse("residence:temporary", args=[hoa.personal_id])).status_code == 403
    page = client.get(_detail(hoa.personal_id)).content.decode()
    assert hoa.full_name in page and 'data-testid="correct-link"' not in page


def _correct_form(c: Citizen, **overrides) -> dict[str, str]:
    data = {"full_name": c.full_name, "birth_date": c.birth_display, "sex": c.sex,
            "ethnicity": c.ethnicity, "religion": c.religion, "nationality": c.nationality,
            "birth_registration_unit": c.birth_registration_unit.qualified_code, "origin_unit": "",
            "marital_status": c.marital_status, "life_status": c.life_status, "death_date": "",
            "old_id_number": "", "father_id": "", "mother_id": "", "spouse_id": "",
            "expected_version": str(c.version), "reason": ""}
    data.update(overrides)
    return data


def test_correction_is_saved_with_its_reason_and_shown_in_history(officer_client, hoa) -> None:
    url = reverse("population:correct", args=[hoa.personal_id])
    form = officer_client.get(url).content.decode()
    assert 'value="Nguyễn Thị Hoà"' in form and 'value="17/05/1990"' in form
    no_reason = officer_client.post(url, _correct_form(hoa, full_name="Nguyễn Thị Hòa"))
    assert 'data-field-error="reason"' in no_reason.content.decode()
    response = officer_client.post(url, _correct_form(
        hoa, full_name="Nguyễn Thị Hòa", birth_date="1990-05-17",
        reason="Quyết định 12/QĐ-UBND cải chính hộ tịch"))
    assert response.status_code == 302
    hoa.refresh_from_db()
    assert hoa.full_name == "Nguyễn Thị Hòa" and hoa.version == 2
    event = AuditEvent.objects.get(action="citizen.update")
    # only the changed field was sent (the same birth date, written differently, is no change)
    changed = {k for k in event.after if event.before[k] != event.after[k]}
    assert changed == {"full_name", "version"}
    page = officer_client.get(_detail(hoa.personal_id)).content.decode()
    assert "Đã lưu điều chỉnh: Họ và tên." in page
    assert "Quyết định 12/QĐ-UBND cải chính hộ tịch" in page
    assert "Nguyễn Thị Hoà</td>" in page and "Nguyễn Thị Hòa</td>" in page


def test_correction_on_a_stale_version_is_a_conflict(officer_client, hoa, commune_officer) -> None:
    from dancu.population import services

    stale = _correct_form(hoa, marital_status="married", reason="Giấy chứng nhận kết hôn")
    services.correct_citizen(commune_officer, hoa.personal_id, {"religion": "01"}, reason="Khác")
    response = officer_client.post(reverse("population:correct", args=[hoa.personal_id]), stale)
    assert response.status_code == 409
    assert "Hồ sơ vừa được người khác cập nhật" in response.content.decode()
    hoa.refresh_from_db()
    assert hoa.marital_status != "married" and hoa.version == 2


def test_correction_errors_from_the_service_name_the_field(officer_client, hoa) -> None:
    response = officer_client.post(reverse("population:correct", args=[hoa.personal_id]), _correct_form(
        hoa, life_status="deceased", reason="Trích lục khai tử"))
    body = response.content.decode()
    assert 'data-field-error="death_date"' in body and "Người đã chết cần có ngày chết." in body


def test_temporary_residence_longer_than_two_years_is_refused(client, geo, hoa, province_officer) -> None:
    officer_client = client
    client.force_login(get_user_model().objects.get(username=province_officer.label))
    url = reverse("residence:temporary", args=[hoa.personal_id])
    start = timezone.localdate()
    response = officer_client.post(url, {
        "commune": geo.dong_son.qualified_code, "address": "8 Bà Triệu", "started_on": start.isoformat(),
        "expires_on": (start + dt.timedelta(days=3 * 365)).isoformat(), "reason": "Thuê nhà"})
    body = response.content.decode()
    assert 'data-field-error="expires_on"' in body and "tối đa 2 năm" in body
    assert not Registration.objects.filter(kind="temporary").exists()
    response = officer_client.post(url, {
        "commune": geo.dong_son.qualified_code, "address": "8 Bà Triệu", "started_on": start.isoformat(),
        "expires_on": (start + dt.timedelta(days=365)).isoformat(), "reason": "Thuê nhà"})
    assert response.status_code == 302
    page = officer_client.get(response["Location"]).content.decode()
    assert "Đã đăng ký tạm trú." in page and "8 Bà Triệu" in page and "Tạm trú" in page


def test_absence_renewal_and_end_of_registration(officer_client, geo, hoa, commune_officer) -> None:
    today = timezone.localdate()
    absence = officer_client.post(reverse("residence:absence", args=[hoa.personal_id]), {
        "case": "long_absence", "started_on": today.isoformat(), "expires_on": "",
        "destination": "Hàn Quốc", "reason": "Đi lao động"})
    assert absence.status_code == 302
    temp = residence.register_temporary(commune_officer, hoa.personal_id, commune=geo.hac_thanh,
                                        address="3 Hai Bà Trưng", started_on=today,
                                        expires_on=today + dt.timedelta(days=200), reason="Thuê nhà")
    renew = officer_client.post(reverse("residence:renew", args=[hoa.personal_id, temp.pk]), {
        "expires_on": (today + dt.timedelta(days=600)).isoformat(), "reason": "Gia hạn hợp đồng"})
    assert renew.status_code == 302
    new = Registration.objects.get(kind="temporary", ended_on__isnull=True)
    assert new.renewed_from_id == temp.pk
    end = officer_client.post(reverse("residence:end", args=[hoa.personal_id, new.pk]), {
        "ended_on": today.isoformat(), "end_reason": "left", "reason": "Đã chuyển đi"})
    assert end.status_code == 302
    page = officer_client.get(end["Location"]).content.decode()
    assert "Đã kết thúc đăng ký cư trú." in page and "Tạm vắng" in page and "Hàn Quốc" in page
    assert officer_client.get(reverse("residence:end", args=[hoa.personal_id, new.pk])).status_code == 404


def test_english_can_be_chosen(officer_client, hoa) -> None:
    vi = officer_client.get(reverse("population:search")).content.decode()
    assert "Tra cứu công dân" in vi and 'lang="vi"' in vi
    response = officer_client.post(reverse("set_language"),
                                   {"language": "en", "next": reverse("population:search")})
    assert response.status_code == 302
    en = officer_client.get(reverse("population:search")).content.decode()
    assert 'lang="en"' in en and "Search citizens" in en and "Purpose of look-up" in en
    assert "Tra cứu công dân" not in en
    page = officer_client.get(_detail(hoa.personal_id)).content.decode()
    assert "Date of birth" in page and "Female" in page and "Change history" in page
    refused = officer_client.get(reverse("population:correct", args=["038190000000"]))
    assert "Citizen not found." in refused.content.decode()


def test_person_arriving_from_another_area_can_be_registered(officer_client, geo, ministry_admin,
                                                             auditor, client) -> None:
    """A Hà Nội resident rents a room in Phường Hạc Thành: the Hạc Thành police find them by the
    number on their card (not by search), register the temporary residence, and the person is
    theirs from then on. The read is audited as an arrival."""
    newcomer = _resident(ministry_admin, geo.hong_ha, full_name="Phạm Văn Tới", sex="M")
    search = officer_client.get(reverse("population:search")).content.decode()
    assert 'data-testid="arrival-form"' in search
    go = officer_client.get(reverse("residence:arrival"),
                            {"personal_id": newcomer.personal_id, "kind": "temporary"})
    url = reverse("residence:temporary", args=[newcomer.personal_id])
    assert go.status_code == 302 and go["Location"] == url
    form = officer_client.get(url)
    assert form.status_code == 200 and "Phạm Văn Tới" in form.content.decode()
    assert AuditEvent.objects.filter(action="citizen.view.arrival", personal_id=newcomer.personal_id,
                                     actor_label="ca.hacthanh").exists()
    # the person's page itself stays closed until they live here
    assert officer_client.get(_detail(newcomer.personal_id)).status_code == 403
    today = timezone.localdate()
    done = officer_client.post(url, {
        "commune": geo.hac_thanh.qualified_code, "address": "5 Phan Chu Trinh",
        "started_on": today.isoformat(), "expires_on": (today + dt.timedelta(days=300)).isoformat(),
        "reason": "Thuê nhà"})
    assert done.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.current_commune == geo.hac_thanh
    assert officer_client.get(_detail(newcomer.personal_id)).status_code == 200
    # read-only roles get no such door
    client.force_login(get_user_model().objects.get(username=auditor.label))
    assert client.get(reverse("residence:temporary", args=[newcomer.personal_id])).status_code == 403
    assert client.get(reverse("residence:arrival"),
                      {"personal_id": newcomer.personal_id, "kind": "temporary"}).status_code == 403
    client.force_login(get_user_model().objects.get(username="ca.hacthanh"))
    bad = client.get(reverse("residence:arrival"), {"personal_id": "123", "kind": "temporary"})
    assert bad.status_code == 400 and 'data-field-error="personal_id"' in bad.content.decode()


def test_correction_refuses_a_death_before_the_birth(officer_client, hoa, commune_officer) -> None:
    """The console's correction is checked on the record as it will be: a death before the
    recorded birth (with the status, or alone), a birth moved after the recorded death."""
    from dancu.population import services

    url = reverse("population:correct", args=[hoa.personal_id])
    response = officer_client.post(url, _correct_form(hoa, life_status="deceased", death_date="01/01/1980",
                                                      reason="Trích lục khai tử"))
    body = response.content.decode()
    assert 'data-field-error="death_date"' in body and "Ngày chết trước ngày sinh." in body
    services.correct_citizen(commune_officer, hoa.personal_id,
                             {"life_status": "deceased", "death_date": "2020-03-04"}, reason="khai tử")
    hoa.refresh_from_db()
    form = _correct_form(hoa, life_status="deceased", death_date="04/03/2020", reason="Cải chính")
    response = officer_client.post(url, {**form, "death_date": "01/01/1980"})
    assert 'data-field-error="death_date"' in response.content.decode()
    response = officer_client.post(url, {**form, "birth_date": "01/01/2021"})
    body = response.content.decode()
    assert 'data-field-error="birth_date"' in body and "Ngày chết trước ngày sinh." in body
    hoa.refresh_from_db()
    assert (hoa.birth_year, hoa.death_date, hoa.version) == (1990, dt.date(2020, 3, 4), 2)


def test_an_impossible_date_is_named_on_the_first_submit_with_the_form_to_use(officer_client, hoa) -> None:
    """31/02/1990 is refused with the reason still missing, and the message names dd/mm/yyyy."""
    url = reverse("population:correct", args=[hoa.personal_id])
    body = officer_client.post(url, _correct_form(hoa, birth_date="31/02/1990")).content.decode()
    assert 'data-field-error="reason"' in body
    assert 'data-field-error="birth_date"' in body
    assert "Ngày sinh không hợp lệ: 31/02/1990 không có trên lịch." in body
    body = officer_client.post(url, _correct_form(hoa, birth_date="1990/02/03")).content.decode()
    assert "nhập dd/mm/yyyy" in body and "YYYY-MM-DD" not in body
    dead = _correct_form(hoa, life_status="deceased", death_date="31/02/2020")
    body = officer_client.post(url, dead).content.decode()
    assert 'data-field-error="death_date"' in body and "nhập dd/mm/yyyy" in body
    officer_client.post(reverse("set_language"), {"language": "en", "next": url})
    body = officer_client.post(url, _correct_form(hoa, birth_date="31/02/1990")).content.decode()
    assert "Invalid date of birth: there is no 31/02/1990 in the calendar." in body
    body = officer_client.post(url, _correct_form(hoa, birth_date="1990/02/03")).content.decode()
    assert "Invalid date of birth: enter dd/mm/yyyy" in body
    body = officer_client.post(reverse("population:create"), {"birth_date": "31/02/1990"}).content.decode()
    assert "Invalid date of birth: there is no 31/02/1990 in the calendar." in body
    hoa.refresh_from_db()
    assert hoa.version == 1


def test_each_person_opened_needs_a_purpose_stated_for_them(officer_client, geo, commune_officer,
                                                            hoa) -> None:
    """Opening B by URL after A: the purpose form, with A's purpose offered, and no read of B
    until the officer confirms it; reopening a person uses the purpose stated for them."""
    other = _resident(commune_officer, geo.hac_thanh, full_name="Lê Văn Bình", sex="M")
    assert officer_client.get(_detail(hoa.personal_id, "Giải quyết thủ tục")).status_code == 200
    page = officer_client.get(reverse("population:detail", args=[other.personal_id]))
    body = page.content.decode()
    assert page.status_code == 200 and "Lê Văn Bình" not in body
    assert 'data-testid="remembered-reason"' in body and 'value="Giải quyết thủ tục"' in body
    views_of_b = AuditEvent.objects.filter(personal_id=other.personal_id, action__startswith="citizen.view")
    assert not views_of_b.exists()
    body = officer_client.get(_detail(other.personal_id, "Xác minh cư trú")).content.decode()
    assert "Lê Văn Bình" in body
    assert [e.reason for e in views_of_b] == ["Xác minh cư trú"]
    # each person keeps the purpose stated for them
    again = officer_client.get(reverse("population:detail", args=[hoa.personal_id])).content.decode()
    assert "Nguyễn Thị Hoà" in again
    reads = AuditEvent.objects.filter(personal_id=hoa.personal_id, action="citizen.view")
    assert [e.reason for e in reads] == ["Giải quyết thủ tục"] * 2
    # the correction form of a person never opened reads under the edit purpose, not A's
    third = _resident(commune_officer, geo.hac_thanh, full_name="Đào Thị Cúc")
    officer_client.get(reverse("population:correct", args=[third.personal_id]))
    assert AuditEvent.objects.get(personal_id=third.personal_id, action="citizen.edit").reason \
        == "Điều chỉnh thông tin công dân"
