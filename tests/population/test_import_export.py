"""Import and export of population files on the real database: round trips, bad input,
all-or-nothing, idempotence, atomic chunks, forward family links, the audit of exports."""

from __future__ import annotations

import csv
import datetime as dt
import random
import unicodedata

import pytest
from django.core.management import call_command
from django.db.models import Q

from dancu.audit.models import AuditEvent
from dancu.population import bulk, domain
from dancu.population.bulk import import_file
from dancu.population.generator import generate_population
from dancu.population.io import COLUMNS, _export_rows, export_file, read_rows, write_rows
from dancu.population.models import Citizen, ImportBatch
from dancu.population.validation import clean_citizen
from dancu.residence.models import Household, HouseholdMember, Registration

AS_OF = dt.date(2026, 6, 15)


def pid(year: int, sex: str, serial: int, code: str = "038") -> str:
    return domain.compose(code, year, sex, serial)


def person(personal_id: str, name: str, birth: str, sex: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(personal_id=personal_id, full_name=name, birth_date=birth, sex=sex, ethnicity="01",
               religion="00", nationality="VN", birth_registration_unit="legacy:38",
               marital_status="married", life_status="living")
    row.update(extra)
    return row


def resident(number: str, relationship: str, commune: str = "2025:14758", **extra: str) -> dict[str, str]:
    return {"household_number": number, "relationship": relationship, "permanent_commune": commune,
            "permanent_address": "Số 5 đường Lê Lợi", "permanent_since": "2010-03-01", **extra}


FATHER, MOTHER, CHILD = pid(1960, "M", 1), pid(1963, "F", 2), pid(1990, "F", 3)


def family_rows() -> list[dict[str, str]]:
    """A household; the child comes first and names parents further down (forward links)."""
    return [
        person(CHILD, "Lê Thị Hoa", "1990-05-17", "F", father_id=FATHER, mother_id=MOTHER,
               marital_status="single", **resident("H-1", "child")),
        person(FATHER, "Lê Văn Nam", "1960", "M", spouse_id=MOTHER, old_id_number="171234567",
               **resident("H-1", "head")),
        person(MOTHER, "Trần Thị Lan", "1963-02", "F", spouse_id=FATHER,
               **resident("H-1", "spouse", temporary_commune="2025:14797", temporary_address="Thôn 3",
                          temporary_since="2025-01-10", temporary_expires="2026-12-31")),
    ]


def write_csv(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def wipe_population() -> None:
    Registration.objects.all().delete()
    HouseholdMember.objects.all().delete()
    Household.objects.all().delete()
    Citizen.objects.update(father=None, mother=None, spouse=None)
    Citizen.objects.all().delete()


def by_pid(rows) -> dict[str, dict[str, str]]:
    return {r["personal_id"]: r for r in rows}


def fail_on_call(monkeypatch, cls: type, name: str, n: int, error: Exception) -> None:
    """Make the method ``cls.name`` raise ``error`` at its n-th call (fault injection at an edge);
    ``monkeypatch.undo()`` puts it back."""
    original = getattr(cls, name)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, failing)


# --- round trips -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["people.csv", "people.parquet", "people.csv.gz"])
def test_export_then_import_into_an_empty_database_round_trips(geo, ministry_admin, tmp_path, name) -> None:
    generate_population(size=150, seed=9, province=geo.thanh_hoa, progress=False, as_of=AS_OF)
    first = tmp_path / name
    assert export_file(first, actor=ministry_admin) == 150
    before = by_pid(row for _l, row in read_rows(first))
    assert len(before) == 150 and any(r["temporary_commune"] for r in before.values())
    wipe_population()
    assert Citizen.objects.count() == 0

    result = import_file(first, progress=False, today=AS_OF)
    assert (result.created, result.rejected, result.skipped, result.status) == (150, 0, 0, "done")
    after = by_pid(_export_rows(None))
    assert after == before  # every column of every person, household and current residence
    assert Household.objects.count() == len({r["household_number"] for r in before.values()
                                             if r["household_number"]})


def test_round_trip_of_a_hand_written_file(geo, ministry_admin, tmp_path) -> None:
    src = tmp_path / "in.csv"
    write_csv(src, family_rows())
    result = import_file(src, progress=False, today=AS_OF)
    assert result.created == 3 and result.rejected == 0
    out = tmp_path / "out.csv"
    export_file(out, actor=ministry_admin)
    exported = by_pid(row for _l, row in read_rows(out))
    for row in family_rows():
        got = exported[row["personal_id"]]
        assert got == {**row, "origin_unit": ""}, row["personal_id"]


def test_export_is_audited_and_filtered_by_province(geo, ministry_admin, tmp_path) -> None:
    write_csv(tmp_path / "in.csv", [
        *family_rows(),
        person(pid(1980, "M", 9), "Phạm Văn Hà", "1980-01-01", "M",
               **resident("HN-1", "head", commune="2025:00097"))])
    import_file(tmp_path / "in.csv", progress=False, today=AS_OF)
    out = tmp_path / "th.csv"
    assert export_file(out, actor=ministry_admin, province=geo.thanh_hoa) == 3
    assert {r["personal_id"] for _l, r in read_rows(out)} == {FATHER, MOTHER, CHILD}
    event = AuditEvent.objects.get(action="population.export")
    assert event.actor_label == "bo.quantri"
    assert event.details["rows"] == 3 and event.details["province"] == "2025:38"
    assert event.details["file"].endswith("th.csv")


def test_command_import_and_export(geo, tmp_path) -> None:
    write_csv(tmp_path / "in.csv", family_rows())
    call_command("population", "import", str(tmp_path / "in.csv"), "--no-progress",
                 "--report", str(tmp_path / "report.csv"))
    assert Citizen.objects.count() == 3
    assert (tmp_path / "report.csv").read_text(encoding="utf-8").splitlines() == [
        "line,personal_id,field,code,message"]
    call_command("population", "export", str(tmp_path / "out.parquet"), "--province", "38")
    assert len(list(read_rows(tmp_path / "out.parquet"))) == 3


# --- bad input -------------------------------------------------------------------------------

def bad_file_rows() -> list[dict[str, str]]:
    good = family_rows()
    decomposed = unicodedata.normalize("NFD", "Đặng Thị Ngọc Ánh")
    return [
        *good,                                                                          # lines 2-4
        person("03819012345", "Sai Số", "1990-01-01", "F"),                             # 5 malformed ID
        person(pid(2001, "M", 10), "Ngày Sai", "2001-02-30", "M"),                      # 6 impossible date
        person(pid(1985, "M", 11), "Đơn Vị Lạ", "1985-03-03", "M",
               birth_registration_unit="legacy:99"),                                   # 7 unknown unit
        person(pid(1992, "F", 12), decomposed, "1992-04-04", "F",
               permanent_address=unicodedata.normalize("NFD", "Thôn Đông"),
               **{k: v for k, v in resident("H-2", "head").items() if k != "permanent_address"}),  # 8 NFD
        person(FATHER, "Lê Văn Khác", "1960", "M"),                                     # 9 dup ID, other data
        person(pid(1970, "M", 13), "", "1970-01-01", "M"),                              # 10 missing name
        person(pid(1975, "F", 14), "Nhà Lạ", "1975-01-01", "F",
               **resident("H-1", "child", commune="2025:14797")),                       # 11 other commune
        person(pid(1971, "M", 15), "Cha Lạ", "1990-01-01", "M", father_id=pid(1940, "M", 99)),  # 12 no father
    ]


def test_each_bad_row_is_reported_and_the_good_rows_load(geo, tmp_path) -> None:
    src, report = tmp_path / "bad.csv", tmp_path / "report.csv"
    write_csv(src, bad_file_rows())
    result = import_file(src, progress=False, report=report, today=AS_OF)
    found = {(i.line, i.field, i.code) for i in result.issues}
    assert (5, "personal_id", "E_ID_NUMBER_FORMAT") in found
    assert (6, "birth_date", "E_DATE_INVALID") in found
    assert (7, "birth_registration_unit", "E_UNIT_UNKNOWN") in found
    assert (8, "full_name", "W_NOT_NFC") in found and (8, "permanent_address", "W_NOT_NFC") in found
    assert (9, "personal_id", "E_ID_DUPLICATE_IN_FILE") in found
    assert (10, "full_name", "E_REQUIRED") in found
    assert (11, "permanent_commune", "E_HOUSEHOLD_COMMUNE") in found
    assert (12, "father_id", "E_PERSON_UNKNOWN") in found
    assert result.created == 4 and result.rejected == 7
    loaded = Citizen.objects.get(personal_id=pid(1992, "F", 12))
    assert loaded.full_name == unicodedata.normalize("NFC", "Đặng Thị Ngọc Ánh")
    assert Registration.objects.get(citizen=loaded).address == "Thôn Đông"
    assert Citizen.objects.get(personal_id=FATHER).full_name == "Lê Văn Nam"
    with open(report, encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    assert {(int(r["line"]), r["field"], r["code"]) for r in lines} == found
    assert all(r["message"] for r in lines)
    batch = ImportBatch.objects.get(pk=result.batch_id)
    assert (batch.rows_read, batch.rows_created, batch.rows_rejected, batch.status) == (11, 4, 7, "done")
    assert len(batch.file_sha256) == 64
    assert set(Citizen.objects.values_list("import_batch_id", flat=True)) == {batch.pk}


def test_a_row_conflicting_with_the_database_is_an_error_an_identical_one_is_skipped(geo, tmp_path) -> None:
    write_csv(tmp_path / "a.csv", family_rows())
    import_file(tmp_path / "a.csv", progress=False, today=AS_OF)
    rows = family_rows()
    rows[1]["full_name"] = "Lê Văn Nhầm"
    write_csv(tmp_path / "b.csv", rows)
    result = import_file(tmp_path / "b.csv", progress=False, today=AS_OF)
    assert {(i.line, i.code) for i in result.errors} == {(3, "E_ID_NUMBER_TAKEN")}
    assert (result.created, result.skipped, result.rejected) == (0, 2, 1)


def test_all_or_nothing_loads_nothing_when_a_row_is_rejected(geo, tmp_path) -> None:
    write_csv(tmp_path / "bad.csv", bad_file_rows())
    result = import_file(tmp_path / "bad.csv", all_or_nothing=True, progress=False, today=AS_OF,
                         chunk_rows=3)
    assert result.status == "rejected" and result.created == 0 and result.rejected == 7
    assert Citizen.objects.count() == 0 and Household.objects.count() == 0
    assert Registration.objects.count() == 0
    assert ImportBatch.objects.get(pk=result.batch_id).status == "rejected"
    good = tmp_path / "good.csv"
    write_csv(good, family_rows())
    assert import_file(good, all_or_nothing=True, progress=False, today=AS_OF).created == 3


def test_import_is_idempotent(geo, tmp_path) -> None:
    src = tmp_path / "people.csv"
    write_csv(src, family_rows())
    first = import_file(src, progress=False, today=AS_OF)
    counts = (Citizen.objects.count(), Household.objects.count(), HouseholdMember.objects.count(),
              Registration.objects.count())
    second = import_file(src, progress=False, today=AS_OF)
    assert (first.created, second.created, second.skipped, second.rejected) == (3, 0, 3, 0)
    assert counts == (Citizen.objects.count(), Household.objects.count(), HouseholdMember.objects.count(),
                      Registration.objects.count()) == (3, 1, 3, 4)


def test_forward_family_links_and_members_before_their_head(geo, tmp_path) -> None:
    src = tmp_path / "people.parquet"
    write_rows(src, family_rows())
    result = import_file(src, progress=False, today=AS_OF, chunk_rows=1)  # every row its own chunk
    assert result.created == 3 and result.rejected == 0, result.issues
    child = Citizen.objects.select_related("father", "mother").get(personal_id=CHILD)
    assert (child.father.personal_id, child.mother.personal_id) == (FATHER, MOTHER)
    father = Citizen.objects.get(personal_id=FATHER)
    assert father.spouse.personal_id == MOTHER and father.spouse.spouse_id == father.pk
    hh = Household.objects.get(number="H-1")
    assert hh.head_id == father.pk
    assert set(HouseholdMember.objects.filter(household=hh).values_list("relationship", flat=True)) == {
        "head", "spouse", "child"}
    mother = Citizen.objects.get(personal_id=MOTHER)
    assert mother.current_commune == geo.dong_son  # an unexpired temporary residence
    assert child.current_commune == geo.hac_thanh


def test_a_member_whose_head_never_comes_is_rejected(geo, tmp_path) -> None:
    rows = [person(pid(1990, "M", 40), "Con Một", "1990-01-01", "M", **resident("H-9", "child"))]
    write_csv(tmp_path / "x.csv", rows)
    result = import_file(tmp_path / "x.csv", progress=False, today=AS_OF)
    assert [(i.line, i.field, i.code) for i in result.issues] == [
        (2, "household_number", "E_HOUSEHOLD_UNKNOWN")]
    assert Citizen.objects.count() == 0


def test_a_failure_mid_import_leaves_no_half_written_person(geo, tmp_path, monkeypatch) -> None:
    generate_population(size=60, seed=2, province=geo.thanh_hoa, progress=False, as_of=AS_OF)
    src = tmp_path / "all.csv"
    export_file(src, actor=bulk.system_actor("test"))
    wipe_population()
    # the third chunk fails after its citizens were written
    fail_on_call(monkeypatch, bulk.Loader, "write_residences", 3, RuntimeError("disk full"))
    with pytest.raises(RuntimeError):
        import_file(src, progress=False, today=AS_OF, chunk_rows=10)
    loaded = Citizen.objects.count()
    assert 0 < loaded < 60
    # Everyone present came with their membership and registration; nobody half-written.
    with_residence = {r["personal_id"] for _l, r in read_rows(src) if r["household_number"]}
    for c in Citizen.objects.all():
        if c.personal_id in with_residence:
            assert HouseholdMember.objects.filter(citizen=c).count() == 1
            assert Registration.objects.filter(citizen=c, kind="permanent").count() == 1
    assert not HouseholdMember.objects.exclude(citizen__in=Citizen.objects.all()).exists()
    assert ImportBatch.objects.latest("pk").status == "failed"
    # Re-running completes the job: the loaded rows are skipped, the rest created.
    monkeypatch.undo()
    result = import_file(src, progress=False, today=AS_OF, chunk_rows=10)
    assert (result.skipped, result.created, result.rejected) == (loaded, 60 - loaded, 0)


def test_a_missing_required_column_fails_the_file(geo, tmp_path) -> None:
    (tmp_path / "x.csv").write_text("personal_id,full_name\n038190000001,Ai Đó\n", encoding="utf-8")
    result = import_file(tmp_path / "x.csv", progress=False, today=AS_OF)
    assert result.status == "failed"
    assert {i.field for i in result.issues} == {"birth_date", "sex", "ethnicity", "birth_registration_unit"}
    assert Citizen.objects.count() == 0


def test_generated_rows_pass_the_single_validator(geo, tmp_path) -> None:
    """The importer validates with clean_citizen; random generated rows have no errors."""
    from dancu.population.generator import write_population
    from dancu.population.services import resolve_unit

    path = tmp_path / "g.csv"
    write_population(path, size=200, seed=random.Random(1).randrange(1000), province=geo.thanh_hoa,
                     as_of=AS_OF)
    ids = {r["personal_id"] for _l, r in read_rows(path)}
    for _line, row in read_rows(path):
        cleaned = clean_citizen(row, resolve_unit=resolve_unit, resolve_person=lambda p: p in ids or None,
                                today=AS_OF)
        assert cleaned.errors == [] and cleaned.warnings == []
    assert not Citizen.objects.filter(Q(pk__isnull=False)).exists()


# --- the fast validation path ----------------------------------------------------------------

def test_every_imported_row_goes_through_the_one_validator(geo, tmp_path, monkeypatch) -> None:
    """No second validator: each row of a canonical file (what export and generate write) is
    checked by validation.clean_citizen, so the import inherits every rule added there."""
    from dancu.population.generator import write_population

    path = tmp_path / "g.csv"
    write_population(path, size=120, seed=5, province=geo.thanh_hoa, as_of=AS_OF)
    seen: list[str] = []

    def counting(raw, **kwargs):
        seen.append(raw["personal_id"])
        return clean_citizen(raw, **kwargs)

    monkeypatch.setattr(bulk, "clean_citizen", counting)
    result = import_file(path, progress=False, today=AS_OF)
    assert result.rejected == 0 and sorted(seen) == sorted(r["personal_id"] for _l, r in read_rows(path))


def test_the_pipelined_import_gives_the_same_result(transactional_db, geo, tmp_path) -> None:
    """PostgreSQL imports validate in one thread and write from another (own connection)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the writer thread needs a second connection to a shared database")
    generate_population(size=120, seed=31, province=geo.thanh_hoa, progress=False, as_of=AS_OF)
    src = tmp_path / "all.csv"
    export_file(src, actor=bulk.system_actor("test"))
    rows = [row for _l, row in read_rows(src)]
    wipe_population()
    bad = person("03819012345", "Sai Số", "1990-01-01", "F")
    write_csv(src, [*rows[:50], bad, *rows[50:]])
    result = import_file(src, progress=False, today=AS_OF, chunk_rows=16, pipeline=True)
    assert (result.created, result.rejected, result.status) == (120, 1, "done")
    assert [(i.line, i.code) for i in result.issues] == [(52, "E_ID_NUMBER_FORMAT")]
    assert by_pid(_export_rows(None)) == by_pid(rows)
    again = import_file(src, progress=False, today=AS_OF, chunk_rows=16, pipeline=True)
    assert (again.created, again.skipped, again.rejected) == (0, 120, 1)


def test_a_chunk_that_hits_a_unique_constraint_is_checked_again(geo, tmp_path, monkeypatch) -> None:
    """A concurrent writer may take an ID between the check and the write: the chunk is rolled
    back and checked again (simulated: the first check sees nothing of the database)."""
    write_csv(tmp_path / "a.csv", family_rows())
    import_file(tmp_path / "a.csv", progress=False, today=AS_OF)
    rows = family_rows()
    rows[1]["full_name"] = "Lê Văn Nhầm"
    newcomer = pid(1999, "M", 77)
    rows.append(person(newcomer, "Người Mới", "1999-09-09", "M", marital_status="single"))
    write_csv(tmp_path / "b.csv", rows)
    original = bulk.Loader._check_against_db
    calls = {"n": 0}

    def stale_first(self, prepared):
        calls["n"] += 1
        return list(prepared) if calls["n"] == 1 else original(self, prepared)

    monkeypatch.setattr(bulk.Loader, "_check_against_db", stale_first)
    result = import_file(tmp_path / "b.csv", progress=False, today=AS_OF)
    assert calls["n"] == 2
    assert [(i.line, i.code) for i in result.errors] == [(3, "E_ID_NUMBER_TAKEN")]
    assert (result.created, result.skipped, result.rejected) == (1, 2, 1)
    assert Citizen.objects.get(personal_id=FATHER).full_name == "Lê Văn Nam"
    assert Citizen.objects.filter(personal_id=newcomer).exists()
