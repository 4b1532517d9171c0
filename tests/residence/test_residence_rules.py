"""Residence rules of issue #11: the console's arrival check-in, temporary absence at the
commune of permanent residence, expiry of temporary residence, household numbering."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.core.worker import run_until_idle
from dancu.population.bulk import import_file
from dancu.population.models import Citizen
from dancu.residence import services as residence
from dancu.residence.models import Household, HouseholdCounter, Registration, ResidenceKind
from tests.factories import officer_actor
from tests.population.test_console import _resident


@pytest.mark.parametrize(("number", "message"), [
    ("03819000000", "Số định danh phải gồm đúng 12 chữ số."),
    ("03819000000x", "Số định danh phải gồm đúng 12 chữ số."),
    ("999190000001", "Mã tỉnh 999 trong số định danh không có trong danh mục."),
    ("038190999999", "Không tìm thấy công dân."),
])
def test_arrival_with_a_bad_or_unknown_number_says_so_beside_the_field(officer_client, geo,
                                                                        number, message) -> None:
    response = officer_client.get(reverse("residence:arrival"),
                                  {"personal_id": number, "kind": "temporary"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-field-error="personal_id"' in page and message in page
    assert f'value="{number}"' in page  # the number stays in the field to be corrected
    if message == "Không tìm thấy công dân.":  # the look-up by card number is audited
        assert AuditEvent.objects.filter(action="citizen.view.not_found", subject_id=number,
                                         actor_label="ca.hacthanh").exists()


def test_arrival_of_a_known_person_goes_to_the_form(officer_client, geo, ministry_admin) -> None:
    newcomer = _resident(ministry_admin, geo.hong_ha)
    response = officer_client.get(reverse("residence:arrival"),
                                  {"personal_id": newcomer.personal_id, "kind": "stay"})
    assert response.status_code == 302
    assert response["Location"] == reverse("residence:stay", args=[newcomer.personal_id])
    missing_kind = officer_client.get(reverse("residence:arrival"),
                                      {"personal_id": newcomer.personal_id})
    assert missing_kind.status_code == 400 and 'data-field-error="kind"' in missing_kind.content.decode()


def _living_temporarily_in_hong_ha(geo, commune_officer, ministry_admin) -> Citizen:
    """Permanent residence in Phường Hạc Thành, temporary residence in Hồng Hà (lives there now)."""
    person = _resident(commune_officer, geo.hac_thanh)
    today = timezone.localdate()
    residence.register_temporary(ministry_admin, person.personal_id, commune=geo.hong_ha,
                                 address="3 Hàng Bài", started_on=today - dt.timedelta(days=10),
                                 expires_on=today + dt.timedelta(days=300), reason="Đi làm")
    person.refresh_from_db()
    assert person.current_commune == geo.hong_ha
    return person


def test_absence_is_declared_by_the_commune_of_permanent_residence(officer_client, client, geo,
                                                                   commune_officer,
                                                                   ministry_admin) -> None:
    """The console asks the service's rule (the permanent commune), not the current place."""
    person = _living_temporarily_in_hong_ha(geo, commune_officer, ministry_admin)
    url = reverse("residence:absence", args=[person.personal_id])
    today = timezone.localdate()
    assert officer_client.get(url).status_code == 200
    done = officer_client.post(url, {"case": "long_absence", "started_on": today.isoformat(),
                                     "expires_on": "", "destination": "Hà Nội",
                                     "reason": "Khai báo tạm vắng"})
    assert done.status_code == 302
    assert Registration.objects.filter(citizen=person, kind=ResidenceKind.TEMPORARY_ABSENCE,
                                       commune=geo.hac_thanh).exists()
    # the police of where the person lives now may not: a refusal before any read, audited
    hong_ha = officer_actor("ca.hongha", "commune_police", geo.hong_ha)
    client.force_login(get_user_model().objects.get(username=hong_ha.label))
    refused = client.get(url)
    assert refused.status_code == 403
    assert AuditEvent.objects.filter(action="residence.absence.denied", actor_label="ca.hongha",
                                     personal_id=person.personal_id).exists()
    assert not AuditEvent.objects.filter(action__startswith="citizen.view",
                                         actor_label="ca.hongha").exists()


def test_registrations_are_ended_by_the_commune_where_they_are_registered(
        officer_client, client, geo, commune_officer, ministry_admin) -> None:
    person = _living_temporarily_in_hong_ha(geo, commune_officer, ministry_admin)
    permanent = Registration.objects.get(citizen=person, kind=ResidenceKind.PERMANENT)
    temporary = Registration.objects.get(citizen=person, kind=ResidenceKind.TEMPORARY)
    today = timezone.localdate()
    # Hạc Thành may not end the temporary residence registered in Hồng Hà…
    assert officer_client.get(reverse("residence:end", args=[person.personal_id, temporary.pk])
                              ).status_code == 403
    # …but ends its own permanent registration although the person lives in Hồng Hà now
    end = reverse("residence:end", args=[person.personal_id, permanent.pk])
    assert officer_client.get(end).status_code == 200
    done = officer_client.post(end, {"ended_on": today.isoformat(), "end_reason": "left",
                                     "reason": "Chuyển đi"})
    assert done.status_code == 302
    permanent.refresh_from_db()
    assert permanent.ended_on == today


# --- household numbers ---------------------------------------------------------------------

def test_an_imported_household_number_does_not_block_new_households(geo, commune_officer,
                                                                    ministry_admin) -> None:
    """'…-000002' imported into an empty commune: count() + 1 gave 2 for ever."""
    head = _resident(ministry_admin, geo.hong_ha)
    Household.objects.create(number=f"{geo.hac_thanh.code}-000002", commune=geo.hac_thanh,
                             address="1 Lê Lợi", head=head, created_at=timezone.now())
    numbers = {_household_of(_resident(commune_officer, geo.hac_thanh)) for _ in range(3)}
    assert numbers == {f"{geo.hac_thanh.code}-00000{n}" for n in (3, 4, 5)}
    assert HouseholdCounter.objects.get(commune=geo.hac_thanh).last_number == 5


def test_a_number_taken_past_the_counter_is_passed_over(geo, commune_officer, ministry_admin) -> None:
    first = _household_of(_resident(commune_officer, geo.hac_thanh))
    assert first == f"{geo.hac_thanh.code}-000001"
    head = _resident(ministry_admin, geo.hong_ha)
    Household.objects.create(number=f"{geo.hac_thanh.code}-000002", commune=geo.hac_thanh,
                             address="1 Lê Lợi", head=head, created_at=timezone.now())
    assert _household_of(_resident(commune_officer, geo.hac_thanh)) == f"{geo.hac_thanh.code}-000003"


def test_the_import_moves_the_counter_past_its_numbers(geo, commune_officer, tmp_path) -> None:
    from tests.population.test_import_export import AS_OF, family_rows, write_csv

    assert _household_of(_resident(commune_officer, geo.hac_thanh)) == f"{geo.hac_thanh.code}-000001"
    rows = family_rows()
    for row in rows:
        row["household_number"] = f"{geo.hac_thanh.code}-000007"
    write_csv(tmp_path / "in.csv", rows)
    assert import_file(tmp_path / "in.csv", progress=False, today=AS_OF).created == 3
    assert HouseholdCounter.objects.get(commune=geo.hac_thanh).last_number == 7
    assert _household_of(_resident(commune_officer, geo.hac_thanh)) == f"{geo.hac_thanh.code}-000008"


def _household_of(citizen: Citizen) -> str:
    return Registration.objects.get(citizen=citizen, kind=ResidenceKind.PERMANENT).household.number


# --- expiry of temporary residence -----------------------------------------------------------

def _expired_yesterday(person: Citizen) -> Registration:
    """Time passes: the temporary residence's last day was yesterday (nobody touched the record)."""
    temporary = Registration.objects.get(citizen=person, kind=ResidenceKind.TEMPORARY)
    Registration.objects.filter(pk=temporary.pk).update(
        expires_on=timezone.localdate() - dt.timedelta(days=1))
    return temporary


def test_an_expired_temporary_residence_stops_being_the_current_place_by_itself(
        officer_client, client, geo, commune_officer, ministry_admin) -> None:
    """The worker's daily job applies the expiry: the commune of permanent residence opens the
    record again, the commune of the expired stay no longer can."""
    person = _living_temporarily_in_hong_ha(geo, commune_officer, ministry_admin)
    temporary = _expired_yesterday(person)
    assert run_until_idle(periodic=["residence.apply_expiries"]) == 1  # the day's run
    page = officer_client.get(reverse("population:detail", args=[person.personal_id])
                              + "?reason=Xác minh")
    assert page.status_code == 200
    person.refresh_from_db()
    assert (person.current_commune, person.current_province) == (geo.hac_thanh, geo.hac_thanh.province)
    event = AuditEvent.objects.get(action="residence.expire", personal_id=person.personal_id)
    assert event.actor_label == "residence.expiry" and event.subject_id == str(temporary.pk)
    assert event.before == {"current_commune": geo.hong_ha.qualified_code}
    assert event.after == {"current_commune": geo.hac_thanh.qualified_code}
    hong_ha = officer_actor("ca.hongha", "commune_police", geo.hong_ha)
    client.force_login(get_user_model().objects.get(username=hong_ha.label))
    assert client.get(reverse("population:detail", args=[person.personal_id])
                      + "?reason=Xác minh").status_code == 403
    # …but Hồng Hà's police may still close (or renew) the registration they made
    end = reverse("residence:end", args=[person.personal_id, temporary.pk])
    assert client.get(end).status_code == 200
    # once a day: the job is not due again today, and a second run changes nothing
    assert run_until_idle(periodic=["residence.apply_expiries"]) == 0
    assert residence.apply_expiries() == 0
    assert AuditEvent.objects.filter(action="residence.expire").count() == 1


def test_expiry_only_moves_people_whose_stay_expired(geo, commune_officer, ministry_admin) -> None:
    expired = _living_temporarily_in_hong_ha(geo, commune_officer, ministry_admin)
    _expired_yesterday(expired)
    staying = _living_temporarily_in_hong_ha(geo, commune_officer, ministry_admin)
    today = timezone.localdate()
    Registration.objects.filter(citizen=staying, kind=ResidenceKind.TEMPORARY).update(expires_on=today)
    assert residence.apply_expiries(today) == 1
    expired.refresh_from_db()
    staying.refresh_from_db()
    assert expired.current_commune == geo.hac_thanh and staying.current_commune == geo.hong_ha
    assert residence.apply_expiries(today + dt.timedelta(days=1)) == 1  # its last day was today


def test_a_residence_form_reads_the_person_under_their_own_purpose(officer_client, geo,
                                                                    commune_officer) -> None:
    """A purpose stated for one person is never the purpose of reading another: the residence
    forms read a person under the purpose confirmed for them, else the form's own."""
    from dancu.population.views import detail_url
    from dancu.residence.views import FORM_READ_REASON

    first = _resident(commune_officer, geo.hac_thanh)
    other = _resident(commune_officer, geo.hac_thanh, full_name="Trần Thị Bích",
                      birth_date="1985-03-04", sex="female")
    assert officer_client.get(detail_url(first.personal_id, "Xác minh hồ sơ A")).status_code == 200
    assert officer_client.get(reverse("residence:absence", args=[other.personal_id])).status_code == 200
    read = AuditEvent.objects.filter(personal_id=other.personal_id,
                                     action__startswith="citizen.view").latest("pk")
    assert read.reason == FORM_READ_REASON
    # once a purpose is confirmed for that person, their forms read under it
    assert officer_client.get(detail_url(other.personal_id, "Xác minh hồ sơ B")).status_code == 200
    officer_client.get(reverse("residence:absence", args=[other.personal_id]))
    read = AuditEvent.objects.filter(personal_id=other.personal_id,
                                     action__startswith="citizen.view").latest("pk")
    assert read.reason == "Xác minh hồ sơ B"
