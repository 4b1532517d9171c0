"""Registering and correcting citizens through the service layer, on the real database."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from dancu.audit.models import AuditEvent
from dancu.audit.selectors import history_of
from dancu.core.errors import Conflict, DomainError, NotFound, OutOfJurisdiction
from dancu.population import domain, selectors, services
from dancu.population.models import Citizen
from tests.factories import citizen_raw


def test_register_allocates_a_consistent_id_and_audits(geo, commune_officer) -> None:
    c = services.register_citizen(commune_officer, citizen_raw(), commune=geo.hac_thanh,
                                  reason="Đăng ký khai sinh")
    assert c.personal_id.startswith("038190") and len(c.personal_id) == 12
    assert domain.check_personal_id(c.personal_id, birth_year=1990, sex="F") == []
    assert (c.current_commune, c.current_province) == (geo.hac_thanh, geo.thanh_hoa)
    event = AuditEvent.objects.get(action="citizen.create")
    assert event.actor_label == "ca.hacthanh" and event.after["full_name"] == "Nguyễn Thị Hoà"
    assert event.reason == "Đăng ký khai sinh" and event.before is None


def test_2025_birth_place_uses_the_province_code(geo, commune_officer) -> None:
    c = services.register_citizen(
        commune_officer, citizen_raw(birth_registration_unit="2025:14758", birth_date="2025-08",
                                     sex="M"), commune=geo.hac_thanh, reason="khai sinh")
    assert c.personal_id.startswith("038225")
    assert (c.birth_year, c.birth_month, c.birth_day) == (2025, 8, None)


def test_decomposed_name_is_stored_nfc_and_searchable_without_diacritics(geo, commune_officer) -> None:
    decomposed = unicodedata.normalize("NFD", "Đặng Thị Ngọc Ánh")
    c = services.register_citizen(commune_officer, citizen_raw(full_name=decomposed),
                                  commune=geo.hac_thanh, reason="x")
    c.refresh_from_db()
    assert c.full_name == unicodedata.normalize("NFC", "Đặng Thị Ngọc Ánh")
    assert c.name_key == "dang thi ngoc anh"
    page = selectors.search_citizens(commune_officer, query="dang thi ngoc")
    assert [r.personal_id for r in page.results] == [c.personal_id]
    assert c.given_key == "anh"
    page = selectors.search_citizens(commune_officer, query="Ánh")
    assert [r.personal_id for r in page.results] == [c.personal_id]


def test_every_bad_field_is_named(geo, commune_officer) -> None:
    with pytest.raises(DomainError) as err:
        services.register_citizen(
            commune_officer,
            citizen_raw(full_name="", birth_date="2001-02-30", sex="X", ethnicity="99",
                        birth_registration_unit="2025:99999", personal_id="0381900000"),
            commune=geo.hac_thanh, reason="x")
    fields = {(e.field, e.code) for e in err.value.errors}
    assert ("full_name", "E_REQUIRED") in fields
    assert ("birth_date", "E_DATE_INVALID") in fields
    assert ("sex", "E_SEX_INVALID") in fields
    assert ("ethnicity", "E_ETHNICITY_UNKNOWN") in fields
    assert ("birth_registration_unit", "E_UNIT_UNKNOWN") in fields
    assert ("personal_id", "E_ID_NUMBER_FORMAT") in fields
    assert Citizen.objects.count() == 0


def test_given_id_must_match_birth_place_and_birth_year(geo, commune_officer) -> None:
    with pytest.raises(DomainError) as err:
        services.register_citizen(commune_officer, citizen_raw(personal_id="001190123456"),
                                  commune=geo.hac_thanh, reason="x")
    assert err.value.errors[0].code == "E_ID_NUMBER_BIRTH_PLACE"
    with pytest.raises(DomainError) as err:
        services.register_citizen(commune_officer, citizen_raw(personal_id="038185123456"),
                                  commune=geo.hac_thanh, reason="x")
    assert err.value.errors[0].code == "E_ID_NUMBER_BIRTH_YEAR"


def test_commune_officer_cannot_register_or_read_outside_their_commune(
        geo, commune_officer, province_officer, ministry_admin) -> None:
    with pytest.raises(OutOfJurisdiction):
        services.register_citizen(commune_officer, citizen_raw(), commune=geo.hong_ha, reason="x")
    c = services.register_citizen(ministry_admin, citizen_raw(), commune=geo.dong_son, reason="x")
    with pytest.raises(OutOfJurisdiction):
        selectors.get_citizen(commune_officer, c.personal_id)
    assert AuditEvent.objects.filter(action="citizen.view.denied", personal_id=c.personal_id).exists()
    assert selectors.get_citizen(province_officer, c.personal_id) == c
    assert selectors.search_citizens(commune_officer, query=c.personal_id).results == []


def test_auditor_reads_but_cannot_write(geo, ministry_admin, auditor) -> None:
    c = services.register_citizen(ministry_admin, citizen_raw(), commune=geo.dong_son, reason="x")
    assert selectors.get_citizen(auditor, c.personal_id, reason="kiểm tra").pk == c.pk
    with pytest.raises(OutOfJurisdiction) as err:
        services.correct_citizen(auditor, c.personal_id, {"religion": "01"}, reason="x")
    assert err.value.code == "E_ROLE_READ_ONLY"


def test_correction_is_versioned_with_before_and_after(geo, commune_officer) -> None:
    c = services.register_citizen(commune_officer, citizen_raw(), commune=geo.hac_thanh, reason="x")
    services.correct_citizen(commune_officer, c.personal_id, {"full_name": "Nguyễn Thị Hòa Bình"},
                             reason="QĐ 12/2026 cải chính hộ tịch", expected_version=1)
    c.refresh_from_db()
    assert c.version == 2 and c.name_key == "nguyen thi hoa binh"
    change = history_of(c.personal_id).first()
    assert change.before["full_name"] == "Nguyễn Thị Hoà"
    assert change.after["full_name"] == "Nguyễn Thị Hòa Bình"
    assert change.reason == "QĐ 12/2026 cải chính hộ tịch"
    with pytest.raises(Conflict):
        services.correct_citizen(commune_officer, c.personal_id, {"religion": "01"},
                                 reason="y", expected_version=1)


def test_correction_cannot_contradict_the_id_number(geo, commune_officer) -> None:
    c = services.register_citizen(commune_officer, citizen_raw(), commune=geo.hac_thanh, reason="x")
    with pytest.raises(DomainError) as err:
        services.correct_citizen(commune_officer, c.personal_id, {"sex": "M"}, reason="y")
    assert err.value.errors[0].code == "E_ID_NUMBER_SEX"
    with pytest.raises(DomainError) as err:
        services.correct_citizen(commune_officer, c.personal_id, {"personal_id": "x"}, reason="y")
    assert err.value.code == "E_FIELD_NOT_CORRECTABLE"


def test_family_links_and_death(geo, commune_officer) -> None:
    mother = services.register_citizen(commune_officer, citizen_raw(birth_date="1965"),
                                       commune=geo.hac_thanh, reason="x")
    child = services.register_citizen(
        commune_officer, citizen_raw(full_name="Lê Văn Nam", sex="M", birth_date="1992-01-02",
                                     mother_id=mother.personal_id),
        commune=geo.hac_thanh, reason="x")
    assert child.mother == mother
    with pytest.raises(DomainError) as err:
        services.register_citizen(
            commune_officer, citizen_raw(birth_date="1950", mother_id=child.personal_id),
            commune=geo.hac_thanh, reason="x")
    assert err.value.errors[0].code == "E_PARENT_YOUNGER"
    with pytest.raises(DomainError) as err:
        services.correct_citizen(commune_officer, mother.personal_id, {"life_status": "deceased"},
                                 reason="trích lục khai tử")
    assert err.value.errors[0].field == "death_date"
    services.correct_citizen(commune_officer, mother.personal_id,
                             {"life_status": "deceased", "death_date": "2026-01-05"},
                             reason="trích lục khai tử", today=dt.date(2026, 11, 1))
    mother.refresh_from_db()
    assert mother.life_status == "deceased" and mother.death_date == dt.date(2026, 1, 5)


def test_unknown_citizen_read_is_audited(geo, commune_officer) -> None:
    with pytest.raises(NotFound):
        selectors.get_citizen(commune_officer, "038190000001")
    assert AuditEvent.objects.filter(action="citizen.view.not_found").count() == 1


def test_new_resident_gets_household_and_residence_atomically(geo, commune_officer) -> None:
    from dancu.residence import selectors as residence
    from dancu.residence import services as residence_services

    reg = residence_services.register_new_resident(
        commune_officer, citizen_raw(), commune=geo.hac_thanh, address="12 Lê Lợi",
        started_on=dt.date(2026, 1, 2), reason="đăng ký thường trú")
    member = residence.current_household(reg.citizen)
    assert member.relationship == "head" and member.household.head == reg.citizen
    with pytest.raises(DomainError):
        residence_services.register_new_resident(
            commune_officer, citizen_raw(full_name="Trần Văn B", sex="M"), commune=geo.hac_thanh,
            address="1 Lê Lợi", started_on=dt.date(2026, 1, 2), reason="x",
            household_number="nope", relationship="child")
    assert Citizen.objects.count() == 1  # the failed residence left no half-written person


@pytest.mark.parametrize(("query", "found"), [
    ("nguyen an", True), ("Nguyễn Văn An", True), ("NGUYEN VAN A", True), ("nguyễn", True),
    ("an", True), ("nguyen anh", False), ("guyen", False), ("nguyen binh", False),
    ("van an", False),  # a middle name is not where a search starts
])
def test_name_search_matches_words_ignoring_accents(geo, commune_officer, query, found) -> None:
    c = services.register_citizen(commune_officer, citizen_raw(full_name="Nguyễn Văn An", sex="M"),
                                  commune=geo.hac_thanh, reason="x")
    services.register_citizen(commune_officer, citizen_raw(full_name="Trần Thị Bình"),
                              commune=geo.hac_thanh, reason="x")
    ids = [r.personal_id for r in selectors.search_citizens(commune_officer, query=query).results]
    assert ids == ([c.personal_id] if found else [])


def _refused(actor, pid: str, changes: dict[str, str]) -> DomainError:
    with pytest.raises(DomainError) as err:
        services.correct_citizen(actor, pid, changes, reason="Trích lục hộ tịch")
    return err.value


def test_a_correction_is_checked_on_the_record_as_it_will_be(geo, commune_officer) -> None:
    """Born 25/12/1990; a death on 01/01/1980 is refused whether it arrives with the status
    or alone, and so is a birth date moved after a death already recorded. Nothing is written."""
    c = services.register_citizen(commune_officer, citizen_raw(birth_date="1990-12-25"),
                                  commune=geo.hac_thanh, reason="khai sinh")
    err = _refused(commune_officer, c.personal_id, {"life_status": "deceased", "death_date": "1980-01-01"})
    assert [(e.code, e.field) for e in err.errors] == [("E_DEATH_BEFORE_BIRTH", "death_date")]
    services.correct_citizen(commune_officer, c.personal_id,
                             {"life_status": "deceased", "death_date": "2020-03-04"}, reason="khai tử")
    # only the death date changes: compared with the birth date on record
    err = _refused(commune_officer, c.personal_id, {"death_date": "01/01/1980"})
    assert [(e.code, e.field) for e in err.errors] == [("E_DEATH_BEFORE_BIRTH", "death_date")]
    # only the birth date changes: compared with the death date on record, named on the birth date
    err = _refused(commune_officer, c.personal_id, {"birth_date": "2021-01-01"})
    assert ("E_DEATH_BEFORE_BIRTH", "birth_date") in [(e.code, e.field) for e in err.errors]
    c.refresh_from_db()
    assert (c.birth_year, c.death_date, c.version) == (1990, dt.date(2020, 3, 4), 2)
    assert AuditEvent.objects.filter(action="citizen.update").count() == 1
    # a birth date still before the death is accepted, a partial one too
    services.correct_citizen(commune_officer, c.personal_id, {"birth_date": "1990-12"}, reason="x")
    c.refresh_from_db()
    assert (c.birth_year, c.birth_month, c.birth_day) == (1990, 12, None)


def test_a_correction_keeps_the_other_rules_of_the_whole_record(geo, commune_officer) -> None:
    """Setting only the death date of a living person, or clearing a required field, is refused;
    undoing a death clears its date."""
    c = services.register_citizen(commune_officer, citizen_raw(), commune=geo.hac_thanh, reason="x")
    err = _refused(commune_officer, c.personal_id, {"death_date": "2020-01-01"})
    assert [(e.code, e.field) for e in err.errors] == [("E_DEATH_DATE_LIVING", "death_date")]
    err = _refused(commune_officer, c.personal_id, {"full_name": ""})
    assert [(e.code, e.field) for e in err.errors] == [("E_REQUIRED", "full_name")]
    services.correct_citizen(commune_officer, c.personal_id,
                             {"life_status": "deceased", "death_date": "2020-01-01"}, reason="khai tử")
    services.correct_citizen(commune_officer, c.personal_id, {"life_status": "living"}, reason="nhầm")
    c.refresh_from_db()
    assert (c.life_status, c.death_date, c.full_name) == ("living", None, "Nguyễn Thị Hoà")


def test_search_ranks_exact_names_first_and_counts_the_results(geo, commune_officer) -> None:
    """'Nguyễn Văn Ân' typed: that name first, then the same name without diacritics, then the
    prefix matches; 'le an': 'Lê An' before 'Lê A An'. The count covers every page."""
    def person(name: str, serial: int) -> str:
        return services.register_citizen(commune_officer, citizen_raw(full_name=name, sex="M"),
                                         commune=geo.hac_thanh, reason="x",
                                         serial_source=lambda: serial).personal_id

    an, an_hat = person("Nguyễn Văn An", 1), person("Nguyễn Văn Ân", 999999)
    an_khang, anh = person("Nguyễn Văn An Khang", 2), person("Nguyễn Văn Anh", 3)
    le_a_an, le_an = person("Lê A An", 4), person("Lê An", 5)

    def search(query: str, **kw) -> selectors.SearchPage:
        return selectors.search_citizens(commune_officer, query=query, **kw)

    assert [c.personal_id for c in search("nguyễn văn ân").results] == [an_hat, an, an_khang, anh]
    assert [c.personal_id for c in search("Nguyen Van An").results][2:] == [an_khang, anh]
    assert [c.personal_id for c in search("le an").results] == [le_an, le_a_an]
    first, last = search("nguyen van an", page_size=3), search("nguyen van an", page_size=3, page=2)
    assert (first.count, first.has_next, last.count, len(last.results)) == (4, True, 4, 1)
    assert (search("nguyen van an", page_size=3, page=5).count, search("le an").count) == (4, 2)
