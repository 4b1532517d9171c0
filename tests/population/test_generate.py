"""The synthetic population generator: deterministic, well-formed, valid IDs, anomalies."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from dancu.population import domain, services
from dancu.population.generator import (
    ANOMALY_RATES,
    Generator,
    generate_population,
    province_info,
    write_population,
)
from dancu.population.io import _export_rows, read_rows
from dancu.population.models import Citizen
from dancu.residence.models import Household, HouseholdMember, Registration
from tests.factories import citizen_raw

AS_OF = dt.date(2026, 6, 15)


def _rows(path) -> list[dict[str, str]]:
    return [row for _line, row in read_rows(path)]


def test_same_seed_gives_the_same_file_and_another_seed_another(geo, tmp_path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed in ((a, 11), (b, 11), (c, 12)):
        write_population(path, size=300, seed=seed, province=geo.thanh_hoa, as_of=AS_OF)
    assert a.read_bytes() == b.read_bytes()
    rows_a, rows_c = _rows(a), _rows(c)
    assert len(rows_a) == len(rows_c) == 300
    assert {r["personal_id"] for r in rows_a}.isdisjoint({r["personal_id"] for r in rows_c}) or \
        [r["personal_id"] for r in rows_a] != [r["personal_id"] for r in rows_c]
    assert [r["full_name"] for r in rows_a] != [r["full_name"] for r in rows_c]


def test_parquet_and_csv_carry_the_same_rows(geo, tmp_path) -> None:
    write_population(tmp_path / "p.parquet", size=80, seed=4, province=geo.thanh_hoa, as_of=AS_OF)
    write_population(tmp_path / "p.csv", size=80, seed=4, province=geo.thanh_hoa, as_of=AS_OF)
    assert _rows(tmp_path / "p.parquet") == _rows(tmp_path / "p.csv")


@pytest.mark.parametrize("size", [1, 7, 250])
def test_exact_size_and_well_formed_households(geo, tmp_path, size) -> None:
    path = tmp_path / "g.csv"
    result = write_population(path, size=size, seed=size, province=geo.thanh_hoa, as_of=AS_OF)
    rows = _rows(path)
    assert len(rows) == result.size == size
    pids = {r["personal_id"] for r in rows}
    assert len(pids) == size
    heads = Counter(r["household_number"] for r in rows if r["relationship"] == "head")
    assert all(n == 1 for n in heads.values())
    for r in rows:
        if r["household_number"]:
            assert r["household_number"] in heads, "every member's household has a head"
            assert r["permanent_commune"] in ("2025:14758", "2025:14797")
        for key in ("father_id", "mother_id", "spouse_id"):
            assert not r[key] or r[key] in pids, "links only to people in the file"


def test_generated_people_in_the_database(geo) -> None:
    result = generate_population(size=400, seed=3, province=geo.thanh_hoa, progress=False, as_of=AS_OF)
    assert result.import_result.rejected == 0 and result.import_result.created == 400
    assert Citizen.objects.count() == 400
    assert Citizen.objects.filter(import_batch__isnull=True).count() == 0
    for c in Citizen.objects.select_related("birth_registration_unit"):
        assert domain.check_personal_id(c.personal_id, birth_year=c.birth_year, sex=c.sex) == []
        unit = c.birth_registration_unit
        assert c.personal_id[:3] in services.id_codes_for_province(unit.province_id or unit.pk)
        if (c.birth_year, c.birth_month or 1, c.birth_day or 1) >= (2025, 7, 1):
            assert unit.qualified_code == "2025:38"
        else:
            assert unit.qualified_code == "legacy:38"
    # Households: exactly one head member each, and that member is the household's head.
    for hh in Household.objects.all():
        heads = list(HouseholdMember.objects.filter(household=hh, relationship="head"))
        assert [m.citizen_id for m in heads] == [hh.head_id]
    members = HouseholdMember.objects.count()
    assert Registration.objects.filter(kind="permanent").count() == members
    assert Registration.objects.filter(kind="temporary").exists()
    # Living people with a residence have a current place; the dead without residence none.
    assert not Citizen.objects.filter(life_status="living", current_commune__isnull=True).exists()
    assert Citizen.objects.filter(life_status="deceased").exists()
    assert Citizen.objects.filter(birth_day__isnull=True).exists()  # partial birth dates
    assert Citizen.objects.filter(old_id_number__isnull=False).exists()
    assert Citizen.objects.filter(spouse__isnull=False).exists()
    assert Citizen.objects.filter(father__isnull=False, mother__isnull=False).exists()


def test_database_generation_equals_the_file_of_the_same_seed(geo, tmp_path) -> None:
    path = tmp_path / "same.csv"
    write_population(path, size=120, seed=21, province=geo.thanh_hoa, as_of=AS_OF)
    generate_population(size=120, seed=21, province=geo.thanh_hoa, progress=False, as_of=AS_OF)
    key = lambda r: r["personal_id"]  # noqa: E731
    assert sorted(_export_rows(None), key=key) == sorted(_rows(path), key=key)


def test_ids_already_in_the_database_are_drawn_again(geo, tmp_path, commune_officer) -> None:
    path = tmp_path / "first.csv"
    write_population(path, size=10, seed=5, province=geo.thanh_hoa, as_of=AS_OF)
    first = _rows(path)[0]
    services.register_citizen(commune_officer, citizen_raw(
        personal_id=first["personal_id"], full_name="Người Khác", birth_date=first["birth_date"][:4],
        sex=first["sex"]), commune=geo.hac_thanh, reason="có trước")
    result = generate_population(size=10, seed=5, province=geo.thanh_hoa, progress=False, as_of=AS_OF)
    assert result.import_result.rejected == 0 and result.import_result.created == 10
    assert Citizen.objects.filter(personal_id=first["personal_id"]).get().full_name == "Người Khác"
    assert Citizen.objects.filter(full_name=first["full_name"],
                                  birth_year=int(first["birth_date"][:4])).exists()


def test_anomalies_are_injected_at_the_documented_rates(geo, tmp_path) -> None:
    path = tmp_path / "big.csv"
    result = write_population(path, size=12_000, seed=8, province=geo.thanh_hoa, as_of=AS_OF)
    assert set(result.anomalies) == set(ANOMALY_RATES)
    assert all(n > 0 for n in result.anomalies.values()), result.anomalies
    rows = _rows(path)
    by_id = {r["personal_id"]: r for r in rows}
    living_over_120 = [r for r in rows if r["life_status"] == "living" and int(r["birth_date"][:4]) <= 1906]
    assert len(living_over_120) >= result.anomalies["living_over_120"]
    dead_heads = [r for r in rows if r["relationship"] == "head" and r["life_status"] == "deceased"]
    assert len(dead_heads) == result.anomalies["deceased_head"]
    dupes = Counter((r["full_name"], r["birth_date"], r["father_id"], r["mother_id"]) for r in rows
                    if r["father_id"])
    assert sum(1 for n in dupes.values() if n > 1) >= result.anomalies["suspected_duplicate"] // 2
    older_children = [r for r in rows if any(
        r[k] and int(by_id[r[k]]["birth_date"][:4]) >= int(r["birth_date"][:4])
        for k in ("father_id", "mother_id"))]
    assert len(older_children) >= result.anomalies["parent_younger_than_child"]
    temporary = [r for r in rows if r["temporary_commune"]]
    expired = [r for r in temporary if r["temporary_expires"] < AS_OF.isoformat()]
    assert 0 < len(expired) < len(temporary)
    # About 3–5 % of living adults get a temporary residence.
    adults = [r for r in rows if r["life_status"] == "living" and AS_OF.year - int(r["birth_date"][:4]) >= 18]
    assert 0.02 < len(temporary) / len(adults) < 0.06
    kinh = sum(1 for r in rows if r["ethnicity"] == "01") / len(rows)
    assert 0.75 < kinh < 0.95
    assert sum(1 for r in rows if r["religion"] == "00") / len(rows) > 0.75


def test_generator_needs_a_2025_province_with_communes(geo) -> None:
    with pytest.raises(ValueError):
        province_info(geo.legacy_thanh_hoa)
    with pytest.raises(ValueError):
        province_info(geo.ha_noi.__class__.objects.create(
            code_system="2025", level="province", code="99", name="Tỉnh Trống", short_name="Trống",
            unit_type="Tỉnh", search_key="tinh trong"))
    info = province_info(geo.thanh_hoa)
    assert info.legacy == [("legacy:38", "038")]
    assert Generator(seed=1, info=info, as_of=AS_OF).household()[0].relationship == "head"
