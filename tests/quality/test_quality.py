"""The data-quality report (quality.selectors/views) on the real database.

Clean people are created through the population and residence services. The anomalies the
services would refuse are planted with direct ORM updates, which is how bad legacy data
arrives (old registers, bulk loads before validation existed); each is commented.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.accounts.models import OfficerProfile
from dancu.audit.models import AuditEvent
from dancu.core.errors import NotFound, OutOfJurisdiction
from dancu.core.text import search_key
from dancu.geo.models import AdminUnit
from dancu.population import services as population
from dancu.population.models import Citizen
from dancu.quality import selectors, services
from dancu.quality.checks import CHECKS
from dancu.residence import services as residence
from dancu.residence.models import Registration
from tests.factories import citizen_raw

TODAY = timezone.localdate()


@dataclass
class World:
    geo: object
    people: list[str] = field(default_factory=list)
    # check code -> {personal_id: 2025 commune (None: no current place)}
    expected: dict[str, dict[str, AdminUnit | None]] = field(default_factory=dict)

    def plant(self, code: str, pid: str, commune: AdminUnit | None) -> None:
        self.expected.setdefault(code, {})[pid] = commune


def _raw(commune: AdminUnit, name: str, birth: str, sex: str, **raw: str) -> dict[str, str]:
    values = {"full_name": name, "birth_date": birth, "sex": sex, "origin_unit": "legacy:38",
              "birth_registration_unit": "legacy:01" if commune.province.code == "01" else "legacy:38"}
    values.update(raw)
    return citizen_raw(**values)


def _citizen(actor: Actor, commune: AdminUnit, name: str, birth: str, sex: str = "F", **raw: str) -> Citizen:
    return population.register_citizen(actor, _raw(commune, name, birth, sex, **raw), commune=commune,
                                       reason="dữ liệu thử")


def _resident(actor: Actor, commune: AdminUnit, name: str, birth: str, sex: str = "F") -> Citizen:
    """A person with a permanent residence, heading a new household."""
    return residence.register_new_resident(
        actor, _raw(commune, name, birth, sex), commune=commune, address="12 Lê Lợi",
        started_on=dt.date(2020, 1, 1), reason="thường trú").citizen


def _legacy(pid: str, **fields: object) -> None:
    """Bad legacy data: written straight to the table, as an old bulk load did."""
    assert Citizen.objects.filter(personal_id=pid).update(**fields) == 1


def _clean_people(actor: Actor, geo: object) -> list[str]:
    """A population with no quality issue at all, through the services only."""
    hac, dong, hong = geo.hac_thanh, geo.dong_son, geo.hong_ha
    mother = _citizen(actor, hac, "Lê Thị Mai", "1985-03-02", old_id_number="123456789")
    child = _citizen(actor, hac, "Phạm Minh Khôi", f"{TODAY.year - 5}-01-10", sex="M",
                     mother_id=mother.personal_id)
    father = _citizen(actor, dong, "Trần Văn Bảo", "1978-07-01", sex="M")
    # Exactly 12 years older than the child: the parent rule's boundary, not an issue.
    son = _citizen(actor, dong, "Trần Quốc Cường", "1990-01-01", sex="M", father_id=father.personal_id)
    # Reaches 120 this year: the over-120 boundary, not an issue.
    old = _citizen(actor, dong, "Đỗ Thị Xuân", f"{TODAY.year - 120}")
    # Died on the day of birth: not before it.
    died = _citizen(actor, hong, "Vũ Đức Hải", "1990-05-17", sex="M")
    population.correct_citizen(actor, died.personal_id, {"life_status": "deceased",
                                                         "death_date": "1990-05-17"}, reason="khai tử")
    # Same name and birth date as another record but different parents: not a duplicate.
    twin_a = _citizen(actor, hong, "Ngô Thị Hoa", "2001-02-03", mother_id=mother.personal_id)
    twin_b = _citizen(actor, hong, "Ngô Thị Hoa", "2001-02-03")
    head = _resident(actor, hac, "Bùi Văn Long", "1970-01-01", sex="M")
    residence.register_temporary(actor, son.personal_id, commune=hac, address="5 Trần Phú",
                                 started_on=TODAY - dt.timedelta(days=30),
                                 expires_on=TODAY + dt.timedelta(days=300), reason="tạm trú")
    return [c.personal_id for c in (mother, child, father, son, old, died, twin_a, twin_b, head)]


@pytest.fixture
def clean(geo, ministry_admin) -> World:
    w = World(geo, _clean_people(ministry_admin, geo))
    services.recompute_all()  # the report reads the tallies
    return w


@pytest.fixture
def world(geo, ministry_admin) -> World:
    """The clean population plus one planted record per anomaly (some in several units)."""
    w = World(geo, _clean_people(ministry_admin, geo))
    actor, hac, dong, hong = ministry_admin, geo.hac_thanh, geo.dong_son, geo.hong_ha

    def person(commune: AdminUnit, name: str, birth: str = "1990-05-17", sex: str = "F", **raw: str) -> str:
        pid = _citizen(actor, commune, name, birth, sex, **raw).personal_id
        w.people.append(pid)
        return pid

    p = person(hac, "Hà Thị Ánh")
    _legacy(p, ethnicity="")
    w.plant("Q_MISSING_ETHNICITY", p, hac)
    p = person(hong, "Hà Thị Bích")
    _legacy(p, ethnicity="")
    w.plant("Q_MISSING_ETHNICITY", p, hong)
    p = person(hac, "Hà Thị Cúc")
    _legacy(p, religion="")
    w.plant("Q_MISSING_RELIGION", p, hac)
    p = person(dong, "Hà Thị Dung")
    _legacy(p, nationality="")
    w.plant("Q_MISSING_NATIONALITY", p, dong)
    # The origin is optional for the services: a missing one is valid input but incomplete data.
    p = _citizen(actor, hac, "Hà Thị Gấm", "1990-05-17", origin_unit="").personal_id
    w.people.append(p)
    w.plant("Q_MISSING_ORIGIN", p, hac)
    p = person(hac, "Hà Thị Hằng")
    _legacy(p, current_commune=None, current_province=None)  # nowhere: the national report only
    w.plant("Q_MISSING_RESIDENCE", p, None)
    # A child with no parent link is accepted by the services (an orphan, a foundling).
    p = person(dong, "Hà Minh Khang", f"{TODAY.year - 3}-06-01", sex="M")
    w.plant("Q_MINOR_NO_PARENT", p, dong)

    p = person(hac, "Hà Thị Lan")
    _legacy(p, personal_id="03819012345")  # 11 digits
    w.plant("Q_ID_FORMAT", "03819012345", hac)
    p = person(hac, "Hà Thị Liên")
    _legacy(p, personal_id="999190123456")  # 12 digits, province code 999 unknown
    w.plant("Q_ID_PROVINCE", "999190123456", hac)
    p = person(hac, "Hà Thị Loan")
    _legacy(p, old_id_number="12345")
    w.plant("Q_OLD_ID_FORMAT", p, hac)
    p = person(hac, "Hà Thị Mận")
    _legacy(p, full_name="Hà Thị Mận 2", name_key="ha thi man 2")
    w.plant("Q_NAME_DIGITS", p, hac)

    p = person(hac, "Hà Thị Nga")  # 1990, F: ...190...
    _legacy(p, birth_year=1985)  # the year in the ID says 90
    w.plant("Q_ID_DOB_MISMATCH", p, hac)
    p = person(hong, "Hà Thị Ngân")  # 1990, F: 0011 90 …
    _legacy(p, personal_id=p[:3] + "3" + p[4:])  # 4th digit 3: born in the 2000s, same year digits
    w.plant("Q_ID_DOB_MISMATCH", p[:3] + "3" + p[4:], hong)
    p = person(dong, "Hà Thị Nhung")
    _legacy(p, sex="M")  # the ID's 4th digit (1) says female
    w.plant("Q_ID_SEX_MISMATCH", p, dong)

    # 5 years older than the child: the services accept it (only "born before" is enforced).
    young_father = person(hac, "Hà Văn Phúc", "1985-01-01", sex="M")
    p = person(hac, "Hà Văn Quang", "1990-01-01", sex="M", father_id=young_father)
    w.plant("Q_PARENT_YOUNGER", p, hac)
    p = person(dong, "Hà Văn Quý", "1960-01-01", sex="M")
    younger_mother = person(dong, "Hà Thị Quyên", "1970-01-01")
    _legacy(p, mother=Citizen.objects.get(personal_id=younger_mother))  # mother born after the child
    w.plant("Q_PARENT_YOUNGER", p, dong)

    p = person(hac, "Hà Văn Sơn", sex="M")
    _legacy(p, life_status="deceased", death_date=None)
    w.plant("Q_DECEASED_NO_DATE", p, hac)
    p = person(hac, "Hà Văn Tâm", "1990-05-17", sex="M")
    _legacy(p, life_status="deceased", death_date=dt.date(1990, 5, 16))
    w.plant("Q_DEATH_BEFORE_BIRTH", p, hac)

    dup_a = person(hac, "Hà Thị Uyên", "1995-09-09")
    dup_b = person(dong, "Hà Thị Uyên", "1995-09-09")  # same name, date, no parents: same person?
    person(dong, "Hà Thị Uyên", "1995-09-10")  # a day apart: not a duplicate
    w.plant("Q_DUPLICATE", dup_a, hac)
    w.plant("Q_DUPLICATE", dup_b, dong)
    p = person(hac, "Hà Thị Vân")
    _legacy(p, full_name=unicodedata.normalize("NFD", "Hà Thị Vân"))  # decomposed, key still right
    w.plant("Q_NAME_NOT_NFC", p, hac)
    p = person(hac, "Hà Thị Xuyến")
    _legacy(p, name_key="ha thi xuyen cu")
    w.plant("Q_NAME_KEY_STALE", p, hac)

    p = person(hac, "Hà Thị Yến", f"{TODAY.year - 121}")  # valid input (≥ 1900), but alive at 121?
    w.plant("Q_OVER_120", p, hac)
    head = _resident(actor, dong, "Hà Văn Chủ", "1950-01-01", sex="M")
    population.correct_citizen(actor, head.personal_id, {"life_status": "deceased",
                                                         "death_date": "2024-02-02"}, reason="khai tử")
    w.people.append(head.personal_id)
    w.plant("Q_DECEASED_HEAD", head.personal_id, dong)
    # Registered at Hạc Thành, lives (permanently) in Hồng Hà: the temporary residence is Hạc
    # Thành's to close, so it is counted there.
    p = _resident(actor, hong, "Hà Thị Thu", "1991-01-01").personal_id
    w.people.append(p)
    residence.register_temporary(actor, p, commune=hac, address="9 Bà Triệu",
                                 started_on=TODAY - dt.timedelta(days=400),
                                 expires_on=TODAY - dt.timedelta(days=10), reason="tạm trú")
    w.plant("Q_TEMP_EXPIRED", p, hac)
    ended = _resident(actor, hong, "Hà Thị Tuyết", "1992-01-01").personal_id
    w.people.append(ended)
    reg = residence.register_temporary(actor, ended, commune=hac, address="9 Bà Triệu",
                                       started_on=TODAY - dt.timedelta(days=400),
                                       expires_on=TODAY - dt.timedelta(days=10), reason="tạm trú")
    residence.end_registration(actor, reg.pk, ended_on=TODAY - dt.timedelta(days=11),
                               reason="xóa tạm trú")  # closed in time: not an issue
    services.recompute_all()  # the report reads the tallies
    return w


@pytest.fixture(autouse=True)
def _fast_settings(settings) -> None:
    # WhiteNoise warns (an error here) when STATIC_ROOT does not exist, as in a fresh data dir.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    # The officer fixtures set passwords; PBKDF2 is slow by design and not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _profile(actor: Actor) -> OfficerProfile:
    return OfficerProfile.objects.select_related("user").get(user_id=actor.user_id)


def _client(actor: Actor) -> Client:
    client = Client()
    client.force_login(_profile(actor).user)
    return client


def _all_failing(actor: Actor, code: str, unit: str | None = None) -> dict[str, str]:
    page = selectors.drilldown(actor, code, unit=unit, page_size=1000)
    assert page.count == len(page.rows)
    return {r.personal_id: r.commune for r in page.rows}


# --- what each check finds -----------------------------------------------------------------------

def test_each_check_finds_exactly_the_planted_records(world, ministry_admin) -> None:
    untested = {c.code for c in CHECKS} - set(world.expected) - {"Q_MISSING_BIRTH_PLACE"}
    assert untested == set()  # (NOT NULL in the schema: it cannot be planted; see the clean test)
    for check in CHECKS:
        planted = world.expected.get(check.code, {})
        found = _all_failing(ministry_admin, check.code)
        assert set(found) == set(planted), check.code
        for pid, commune in planted.items():
            assert found[pid] == (commune.name if commune else ""), (check.code, pid)


def test_report_counts_per_province_and_per_commune(world, ministry_admin) -> None:
    national = selectors.quality_report(ministry_admin)
    by_row = {r.qualified_code: r for r in national.rows}
    assert set(by_row) == {"2025:01", "2025:38", ""}  # "" = people with no current place
    expected_province: dict[str, Counter] = {"2025:01": Counter(), "2025:38": Counter(), "": Counter()}
    expected_commune: dict[str, Counter] = {}
    for code, planted in world.expected.items():
        for commune in planted.values():
            expected_province[commune.province.qualified_code if commune else ""][code] += 1
            if commune:
                expected_commune.setdefault(commune.qualified_code, Counter())[code] += 1
    for key, row in by_row.items():
        assert {k: v for k, v in row.counts.items() if v} == dict(expected_province[key]), key
    assert national.total.total == Citizen.objects.count() == len(world.people)
    assert by_row[""].total == 1

    thanh_hoa = selectors.quality_report(ministry_admin, province="2025:38")
    assert [r.qualified_code for r in thanh_hoa.rows] == ["2025:14758", "2025:14797"]
    for row in thanh_hoa.rows:
        assert {k: v for k, v in row.counts.items() if v} == dict(expected_commune[row.qualified_code])
    assert thanh_hoa.total.counts == by_row["2025:38"].counts


def test_completeness_is_a_share_of_the_records_or_of_the_minors(world, ministry_admin) -> None:
    report = selectors.quality_report(ministry_admin, province="2025:38")
    dong = next(r for r in report.rows if r.qualified_code == "2025:14797")
    cells = {c.check.code: c for c in dong.cells}
    assert dong.minors == 1  # the planted child; the clean child lives in Hạc Thành
    assert cells["Q_MINOR_NO_PARENT"].percent_complete == 0.0
    assert cells["Q_MISSING_NATIONALITY"].count == 1
    assert cells["Q_MISSING_NATIONALITY"].percent_complete == round(100 * (dong.total - 1) / dong.total, 1)
    assert cells["Q_ID_SEX_MISMATCH"].percent_complete is None  # not a completeness check
    hac = next(r for r in report.rows if r.qualified_code == "2025:14758")
    assert hac.minors == 1 and {c.check.code: c for c in hac.cells}["Q_MINOR_NO_PARENT"].count == 0


def test_a_clean_population_reports_no_issue(clean, ministry_admin, province_officer) -> None:
    report = selectors.quality_report(ministry_admin)
    assert report.total.total == len(clean.people) == 9
    assert report.total.counts == {c.code: 0 for c in CHECKS}
    assert all(c.percent_complete in (None, 100.0) for c in report.total.cells)
    assert selectors.quality_report(province_officer).total.issues == 0
    for check in CHECKS:
        assert selectors.drilldown(ministry_admin, check.code).count == 0


# --- jurisdiction --------------------------------------------------------------------------------

def test_commune_officer_sees_only_their_commune(world, commune_officer, geo) -> None:
    report = selectors.quality_report(commune_officer)
    assert [r.unit for r in report.rows] == [geo.hac_thanh]
    expected = Counter({code: sum(1 for c in planted.values() if c == geo.hac_thanh)
                        for code, planted in world.expected.items()})
    assert {k: v for k, v in report.total.counts.items() if v} == {k: v for k, v in expected.items() if v}
    # The duplicate pair spans two communes: only their half is listed to them.
    assert set(_all_failing(commune_officer, "Q_DUPLICATE")) == {
        pid for pid, c in world.expected["Q_DUPLICATE"].items() if c == geo.hac_thanh}
    for unit in ("2025:14797", "2025:00097", "2025:38"):
        with pytest.raises(OutOfJurisdiction):
            selectors.drilldown(commune_officer, "Q_DUPLICATE", unit=unit)
    with pytest.raises(OutOfJurisdiction):
        selectors.quality_report(commune_officer, province="2025:38")
    assert AuditEvent.objects.filter(action="quality.report.view.denied",
                                     actor_label="ca.hacthanh").count() == 1


def test_province_officer_sees_their_communes_not_another_province(world, province_officer, geo) -> None:
    report = selectors.quality_report(province_officer)
    assert [r.unit for r in report.rows] == [geo.hac_thanh, geo.dong_son]
    assert report.total.counts["Q_MISSING_ETHNICITY"] == 1  # the Hà Nội one is not theirs
    assert report.total.counts["Q_MISSING_RESIDENCE"] == 0
    with pytest.raises(OutOfJurisdiction):
        selectors.quality_report(province_officer, province="2025:01")
    with pytest.raises(OutOfJurisdiction):
        selectors.drilldown(province_officer, "Q_MISSING_ETHNICITY", unit="2025:00097")
    assert set(_all_failing(province_officer, "Q_DUPLICATE", unit="2025:14797")) == {
        pid for pid, c in world.expected["Q_DUPLICATE"].items() if c == geo.dong_son}


def test_unknown_check_or_unit_is_not_found(world, ministry_admin) -> None:
    with pytest.raises(NotFound):
        selectors.drilldown(ministry_admin, "Q_NO_SUCH_CHECK")
    with pytest.raises(NotFound):
        selectors.drilldown(ministry_admin, "Q_DUPLICATE", unit="2025:99999")
    with pytest.raises(NotFound):
        selectors.drilldown(ministry_admin, "Q_DUPLICATE", unit="legacy:14758")  # old units: no


# --- audit ---------------------------------------------------------------------------------------

def test_reading_the_report_is_one_event_with_the_scope(world, ministry_admin) -> None:
    before = AuditEvent.objects.count()
    selectors.quality_report(ministry_admin, province="2025:38")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.subject_id, event.personal_id) == ("quality.report.view", "2025:38", "")
    assert event.details["scope"] == "2025:38" and event.details["row_level"] == "commune"


def test_drilldown_pages_and_audits_each_person_shown(world, ministry_admin) -> None:
    pids = set(world.expected["Q_ID_DOB_MISMATCH"])
    first = selectors.drilldown(ministry_admin, "Q_ID_DOB_MISMATCH", page_size=1)
    second = selectors.drilldown(ministry_admin, "Q_ID_DOB_MISMATCH", page=2, page_size=1)
    assert (first.count, first.num_pages, first.has_next, second.has_next) == (2, 2, True, False)
    assert {first.rows[0].personal_id, second.rows[0].personal_id} == pids
    events = AuditEvent.objects.filter(action="quality.drilldown.view")
    assert sorted(events.values_list("personal_id", flat=True)) == sorted(pids)
    assert all(e.reason.startswith("Q_ID_DOB_MISMATCH national") for e in events)
    detail = next(r.detail for r in first.rows + second.rows if r.personal_id.startswith("038190"))
    assert "1990" in detail and "1985" in detail


# --- views ---------------------------------------------------------------------------------------

def test_report_page_for_officers_only(world, ministry_admin, commune_officer) -> None:
    assert Client().get(reverse("quality:report")).status_code == 302  # to sign-in
    response = _client(ministry_admin).get(reverse("quality:report"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Q_TEMP_EXPIRED" in page and "Tỉnh Thanh Hóa" in page
    assert reverse("quality:report") + "?province=2025:38" in page
    response = _client(commune_officer).get(reverse("quality:report"), {"province": "2025:01"})
    assert response.status_code == 403


def test_drilldown_page_links_to_citizen_pages(world, commune_officer, geo) -> None:
    pid = next(iter(world.expected["Q_DEATH_BEFORE_BIRTH"]))
    client = _client(commune_officer)
    response = client.get(reverse("quality:drilldown", args=["Q_DEATH_BEFORE_BIRTH"]),
                          {"unit": "2025:14758"})
    assert response.status_code == 200
    assert reverse("population:detail", args=[pid]) in response.content.decode()
    assert AuditEvent.objects.filter(action="quality.drilldown.view", personal_id=pid,
                                     actor_label="ca.hacthanh").count() == 1
    response = client.get(reverse("quality:drilldown", args=["Q_DUPLICATE"]), {"unit": "2025:14797"})
    assert response.status_code == 403
    assert client.get(reverse("quality:drilldown", args=["Q_NOPE"])).status_code == 404


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_report_csv_has_a_row_per_unit_and_a_count_per_check(world, ministry_admin) -> None:
    response = _client(ministry_admin).get(reverse("quality:report_csv"), {"province": "2025:38"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert rows[0][:4] == ["unit_code", "unit_name", "total", "minors_under_14"]
    assert rows[0][4:] == [*(c.code for c in CHECKS), "computed_at"]
    assert all(dt.datetime.fromisoformat(r[-1]).tzinfo for r in rows[1:])  # when each was counted
    assert [r[:2] for r in rows[1:]] == [["2025:14758", "Phường Hạc Thành"],
                                         ["2025:14797", "Phường Đông Sơn"], ["TOTAL", "Tỉnh Thanh Hóa"]]
    col = rows[0].index("Q_DUPLICATE")
    assert [r[col] for r in rows[1:]] == ["1", "1", "2"]
    assert AuditEvent.objects.filter(action="quality.report.export", subject_id="2025:38").count() == 1


def test_drilldown_csv_lists_the_people_and_audits_the_export(world, province_officer) -> None:
    response = _client(province_officer).get(reverse("quality:drilldown_csv", args=["Q_DUPLICATE"]))
    assert response.status_code == 200
    rows = _csv(response)
    assert rows[0] == ["personal_id", "full_name", "birth_date", "commune", "check_code", "detail"]
    assert {r[0] for r in rows[1:]} == set(world.expected["Q_DUPLICATE"])
    assert {tuple(r[1:5]) for r in rows[1:]} == {
        ("Hà Thị Uyên", "1995-09-09", "Phường Hạc Thành", "Q_DUPLICATE"),
        ("Hà Thị Uyên", "1995-09-09", "Phường Đông Sơn", "Q_DUPLICATE")}
    assert all("2 bản ghi" in r[5] for r in rows[1:])  # the group's size
    exported = AuditEvent.objects.filter(action="quality.drilldown.export", actor_label="ca.thanhhoa")
    assert set(exported.values_list("personal_id", flat=True)) == {r[0] for r in rows[1:]}


def test_expired_temporary_residence_counts_where_it_was_registered(world, ministry_admin, geo) -> None:
    pid = next(iter(world.expected["Q_TEMP_EXPIRED"]))
    person = Citizen.objects.get(personal_id=pid)
    assert person.current_commune == geo.hong_ha  # back to the permanent place once expired
    assert Registration.objects.filter(citizen=person, kind="temporary", ended_on__isnull=True).exists()
    report = selectors.quality_report(ministry_admin)
    assert {r.qualified_code: r.counts["Q_TEMP_EXPIRED"] for r in report.rows} == {
        "2025:01": 0, "2025:38": 1, "": 0}


def test_name_key_check_agrees_with_search_key(world, ministry_admin) -> None:
    # Every clean record's stored key equals search_key(full_name), and the SQL agrees.
    for c in Citizen.objects.exclude(personal_id__in=world.expected["Q_NAME_KEY_STALE"]):
        assert c.name_key == search_key(c.full_name)
    assert set(_all_failing(ministry_admin, "Q_NAME_KEY_STALE")) == set(world.expected["Q_NAME_KEY_STALE"])


def test_deceased_people_are_not_missing_a_residence(clean, ministry_admin, geo) -> None:
    """A death ends the residence: the dead with no current place (as imports and the generator
    leave them) are not counted; the living and the missing are, out of those not deceased."""
    def nowhere(name: str, **change: str) -> str:
        pid = _citizen(ministry_admin, geo.hac_thanh, name, "1950-01-01", sex="M").personal_id
        if change:
            population.correct_citizen(ministry_admin, pid, change, reason="hộ tịch")
        _legacy(pid, current_commune=None, current_province=None)
        return pid

    nowhere("Hà Văn Mất", life_status="deceased", death_date="2020-01-01")
    lost = nowhere("Hà Văn Lạc")
    missing = nowhere("Hà Văn Vắng", life_status="missing")
    services.recompute_all()
    report = selectors.quality_report(ministry_admin)
    assert report.total.counts["Q_MISSING_RESIDENCE"] == 2
    nowhere_row = next(r for r in report.rows if r.unit is None)
    assert (nowhere_row.total, nowhere_row.not_deceased) == (3, 2)
    cell = next(c for c in report.total.cells if c.check.code == "Q_MISSING_RESIDENCE")
    deceased = Citizen.objects.filter(life_status="deceased").count()
    assert deceased == 2 and cell.denominator == report.total.total - deceased
    assert cell.percent_complete == round(100.0 * (cell.denominator - 2) / cell.denominator, 1)
    assert set(_all_failing(ministry_admin, "Q_MISSING_RESIDENCE")) == {lost, missing}
