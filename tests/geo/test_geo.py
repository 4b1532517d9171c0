"""Administrative units: the data files, the loader, the selectors and the admin."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import F
from django.urls import path

from dancu.core.errors import DomainError, NotFound
from dancu.geo import selectors
from dancu.geo.models import AdminUnit, CodeSystem, Level, UnitConversion
from dancu.geo.services import DATA_DIR, is_loaded, level_of_code, load_admin_units, read_data_file
from dancu.geo.testing import clear_admin_units, ensure_admin_units
from dancu.population.domain import ID_PROVINCE_CODES

N_UNITS = 34 + 3321 + 63 + 696 + 10035
N_CONVERSIONS = 10602


@pytest.fixture(scope="module")
def _admin_units_committed(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Load once, committed, outside the per-test transactions (they roll back around it);
    remove afterwards, as other modules' tests build small unit sets by hand."""
    with django_db_blocker.unblock():
        if not is_loaded():
            clear_admin_units()  # a partial set committed by someone else would make the load fail
            ensure_admin_units()
    yield
    with django_db_blocker.unblock():
        clear_admin_units()


@pytest.fixture
def admin_units(_admin_units_committed, db) -> None:
    """Per test: a count check; reloads only if a transactional test flushed the tables."""
    ensure_admin_units()


def _count(system: str, level: str) -> int:
    return AdminUnit.objects.filter(code_system=system, level=level).count()


# --- the data files ----------------------------------------------------------------------------

def test_data_files_are_small_and_carry_provenance() -> None:
    assert sum(f.stat().st_size for f in DATA_DIR.iterdir()) < 2_000_000
    provenance = json.loads((DATA_DIR / "admin_units.provenance.json").read_text(encoding="utf-8"))
    source = provenance["source"]
    assert (source["package"], source["version"], source["licence"]) == ("vietnamadminunits", "1.0.4", "MIT")
    assert "Tran Ngoc Minh Hieu" in source["copyright"]
    counts = provenance["counts"]
    assert counts["2025.province"] == 34
    assert counts["2025.commune"] == 3321
    assert counts["legacy.province"] == 63
    data = read_data_file()
    assert counts["conversions"] == len(data.conversions) == N_CONVERSIONS
    assert len(data.units) == N_UNITS
    units_csv = gzip.decompress((DATA_DIR / "admin_units.csv.gz").read_bytes()).decode("utf-8")
    assert units_csv.startswith("code_system,level,code,name,short_name,unit_type,parent_code,")
    assert "2025,commune,00097,Phường Hồng Hà,Hồng Hà,Phường,01,01,\n" in units_csv
    # the wheel ships only the file types listed in pyproject's package-data
    assert {f.name for f in DATA_DIR.iterdir()} == {
        "admin_units.csv.gz", "unit_conversions.csv.gz", "admin_units.provenance.json"}


def test_data_files_are_checked(tmp_path) -> None:
    for f in DATA_DIR.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    text = gzip.decompress((tmp_path / "admin_units.csv.gz").read_bytes()).decode("utf-8")
    (tmp_path / "admin_units.csv.gz").write_bytes(gzip.compress(text.replace("Hồng Hà", "Hong Ha").encode()))
    with pytest.raises(ValueError, match="does not match"):
        read_data_file(tmp_path)


def test_code_length_gives_level() -> None:
    assert level_of_code("01") == Level.PROVINCE
    assert level_of_code("001") == Level.DISTRICT
    assert level_of_code("00001") == Level.COMMUNE
    assert level_of_code("0001") is None
    assert level_of_code("0a") is None
    assert level_of_code("\uff10\uff11") is None  # full-width digits
    data = read_data_file()
    assert all(level_of_code(u.code) == u.level for u in data.units)


def test_runtime_does_not_import_the_source_package() -> None:
    import sys

    import dancu.geo.selectors
    import dancu.geo.services  # noqa: F401

    assert "vietnamadminunits" not in sys.modules


# --- counts and known units --------------------------------------------------------------------

@pytest.mark.usefixtures("admin_units")
def test_counts() -> None:
    assert _count(CodeSystem.V2025, Level.PROVINCE) == 34
    assert _count(CodeSystem.V2025, Level.COMMUNE) == 3321
    assert _count(CodeSystem.V2025, Level.DISTRICT) == 0
    assert _count(CodeSystem.LEGACY, Level.PROVINCE) == 63
    assert _count(CodeSystem.LEGACY, Level.DISTRICT) == 696
    assert _count(CodeSystem.LEGACY, Level.COMMUNE) > 10_000
    assert UnitConversion.objects.count() == N_CONVERSIONS
    assert selectors.provinces(CodeSystem.V2025).count() == 34
    assert selectors.provinces(CodeSystem.LEGACY).count() == 63


@pytest.mark.usefixtures("admin_units")
def test_known_unit_by_code_and_name() -> None:
    unit = selectors.get_unit("2025:00097")
    assert unit.name == "Phường Hồng Hà"
    assert (unit.short_name, unit.unit_type, unit.level) == ("Hồng Hà", "Phường", Level.COMMUNE)
    assert unit.search_key == "phuong hong ha"
    assert unit.province.qualified_code == "2025:01"
    assert unit.province.name == "Thành phố Hà Nội"
    assert unit.parent == unit.province  # no districts since 1 July 2025
    assert unit.qualified_code == "2025:00097"
    assert selectors.get_unit("2025:commune:00097") == unit
    assert selectors.get_unit(" 2025:00097 ") == unit


@pytest.mark.usefixtures("admin_units")
def test_tree_links() -> None:
    province = selectors.get_unit("2025:01")
    assert province.province_id == province.id and province.parent is None
    assert province.unit_type == "Thành phố"
    assert selectors.get_unit("2025:38").unit_type == "Tỉnh"
    assert selectors.communes_of(province).count() == 126  # Hà Nội since 1 July 2025
    phuc_xa = selectors.get_unit("legacy:00001")
    assert (phuc_xa.name, phuc_xa.parent.name, phuc_xa.province.name) == (
        "Phường Phúc Xá", "Quận Ba Đình", "Thành phố Hà Nội")
    assert phuc_xa.parent.qualified_code == "legacy:001"
    assert phuc_xa.parent.parent == phuc_xa.province
    legacy_hanoi = selectors.get_unit("legacy:01")
    assert selectors.communes_of(legacy_hanoi).count() > 500
    assert selectors.districts_of(legacy_hanoi).count() == 30
    # every non-province unit has a parent and a province in its own system
    assert not AdminUnit.objects.exclude(level=Level.PROVINCE).filter(parent=None).exists()
    assert not AdminUnit.objects.filter(province=None).exists()
    assert not AdminUnit.objects.exclude(province__code_system=F("code_system")).exists()
    assert sorted({u for u in AdminUnit.objects.filter(code_system="2025", level="commune")
                  .values_list("unit_type", flat=True)}) == ["Phường", "Xã", "Đặc khu"]


@pytest.mark.usefixtures("admin_units")
def test_code_system_trap() -> None:
    new = selectors.get_unit("2025:00097")
    old = selectors.get_unit("legacy:00097")
    assert new.pk != old.pk
    assert (new.name, old.name) == ("Phường Hồng Hà", "Phường Tứ Liên")
    assert selectors.get_unit("2025:00004").name == "Phường Ba Đình"
    assert selectors.get_unit("legacy:00004").name == "Phường Trúc Bạch"
    # same province code, two units
    assert selectors.get_unit("2025:01").pk != selectors.get_unit("legacy:01").pk
    # province "01", district "001", commune "00001" in one system are three units
    assert [selectors.get_unit(c).level for c in ("legacy:01", "legacy:001", "legacy:00001")] == [
        Level.PROVINCE, Level.DISTRICT, Level.COMMUNE]


@pytest.mark.usefixtures("admin_units")
@pytest.mark.parametrize("code", ["00097", "2025-00097", "2025:", "2025:9", "2025:001", "1999:00097",
                                  "2025:province:00097", "2025:00001", "legacy:99999", ""])
def test_unknown_or_malformed_codes(code: str) -> None:
    assert selectors.find_unit(code) is None
    with pytest.raises(NotFound) as exc:
        selectors.get_unit(code, field="birth_registration_unit")
    assert exc.value.code == "E_UNIT_UNKNOWN"
    assert exc.value.field == "birth_registration_unit"
    assert exc.value.status == 404


@pytest.mark.usefixtures("admin_units")
def test_resolve_units_in_bulk() -> None:
    found = selectors.resolve_units(
        ["2025:00097", "legacy:00097", "legacy:001", "2025:01", "bad", "2025:00001"])
    assert set(found) == {"2025:00097", "legacy:00097", "legacy:001", "2025:01"}
    assert found["2025:00097"].name == "Phường Hồng Hà"
    assert found["legacy:00097"].name == "Phường Tứ Liên"
    assert found["legacy:001"].level == Level.DISTRICT


# --- conversion --------------------------------------------------------------------------------

@pytest.mark.usefixtures("admin_units")
def test_whole_commune_converts_to_one_new_commune() -> None:
    phuc_xa = selectors.get_unit("legacy:00001")  # Phường Phúc Xá, Quận Ba Đình
    result = selectors.convert_legacy_commune(phuc_xa)
    assert [(u.qualified_code, u.name, partial) for u, partial in result] == [
        ("2025:00097", "Phường Hồng Hà", False)]


@pytest.mark.usefixtures("admin_units")
def test_split_commune_is_flagged_partial() -> None:
    nghia_do = selectors.get_unit("legacy:00157")  # Phường Nghĩa Đô, Quận Cầu Giấy
    assert nghia_do.name == "Phường Nghĩa Đô"
    result = selectors.convert_legacy_commune(nghia_do)
    assert [(u.qualified_code, partial) for u, partial in result] == [
        ("2025:00160", True), ("2025:00008", True), ("2025:00103", True)]  # default first
    assert [u.name for u, _ in result] == ["Phường Nghĩa Đô", "Phường Ngọc Hà", "Phường Tây Hồ"]
    rows = UnitConversion.objects.filter(legacy_unit=nghia_do)
    assert [r.new_unit.code for r in rows if r.is_default] == ["00160"]


@pytest.mark.usefixtures("admin_units")
def test_conversion_table_is_complete_and_consistent() -> None:
    legacy_communes = AdminUnit.objects.filter(code_system=CodeSystem.LEGACY, level=Level.COMMUNE)
    assert not legacy_communes.filter(converts_to=None).exists()
    assert not UnitConversion.objects.exclude(new_unit__code_system=CodeSystem.V2025).exists()
    assert not UnitConversion.objects.exclude(new_unit__level=Level.COMMUNE).exists()
    assert not UnitConversion.objects.exclude(legacy_unit__code_system=CodeSystem.LEGACY).exists()
    split = set(UnitConversion.objects.filter(is_partial=True).values_list("legacy_unit", flat=True))
    assert len(split) == 471
    whole = set(UnitConversion.objects.filter(is_partial=False).values_list("legacy_unit", flat=True))
    assert not split & whole
    # a split commune has >= 2 targets, exactly one default; a whole one has one target
    for legacy_id in list(split)[:50]:
        rows = list(UnitConversion.objects.filter(legacy_unit_id=legacy_id))
        assert len(rows) >= 2 and sum(r.is_default for r in rows) == 1
    assert UnitConversion.objects.filter(is_partial=False).count() == len(whole)
    # every 2025 commune comes from at least one legacy unit
    assert not AdminUnit.objects.filter(code_system="2025", level="commune", converted_from=None).exists()


@pytest.mark.usefixtures("admin_units")
def test_communeless_island_districts_convert_to_special_zones() -> None:
    for legacy_code, new_name in [("legacy:755", "Đặc khu Côn Đảo"), ("legacy:498", "Đặc khu Hoàng Sa"),
                                  ("legacy:318", "Đặc khu Bạch Long Vĩ"), ("legacy:536", "Đặc khu Lý Sơn"),
                                  ("legacy:471", "Đặc khu Cồn Cỏ")]:
        district = selectors.get_unit(legacy_code)
        assert district.level == Level.DISTRICT and not district.children.exists()
        [(new, partial)] = selectors.convert_legacy_commune(district)
        assert (new.name, new.unit_type, partial) == (new_name, "Đặc khu", False)


@pytest.mark.usefixtures("admin_units")
def test_convert_refuses_non_legacy_units() -> None:
    with pytest.raises(DomainError) as exc:
        selectors.convert_legacy_commune(selectors.get_unit("2025:00097"))
    assert exc.value.code == "E_UNIT_NOT_LEGACY_COMMUNE"
    with pytest.raises(DomainError):
        selectors.convert_legacy_commune(selectors.get_unit("legacy:01"))


# --- loader ------------------------------------------------------------------------------------

@pytest.mark.usefixtures("admin_units")
def test_reload_is_idempotent() -> None:
    before = list(AdminUnit.objects.order_by("id").values_list("id", "name", "parent_id", "province_id"))
    skipped = load_admin_units()
    assert skipped["skipped"] == 1 and skipped["units_created"] == 0
    again = load_admin_units(force=True)
    assert again["skipped"] == 0
    assert again["units_created"] == again["units_updated"] == 0
    assert again["conversions_created"] == again["conversions_updated"] == again["conversions_deleted"] == 0
    assert again["units"] == N_UNITS and again["conversions"] == N_CONVERSIONS
    after = list(AdminUnit.objects.order_by("id").values_list("id", "name", "parent_id", "province_id"))
    assert after == before


@pytest.mark.usefixtures("admin_units")
def test_forced_reload_repairs_changed_rows() -> None:
    AdminUnit.objects.filter(code_system="2025", code="00097").update(name="Phường Sai Tên", search_key="x",
                                                                     parent=None)
    conv = UnitConversion.objects.get(legacy_unit__code="00157", new_unit__code="00160")
    UnitConversion.objects.filter(pk=conv.pk).update(is_default=False, is_partial=False)
    UnitConversion.objects.filter(legacy_unit__code_system="legacy", legacy_unit__code="00001").delete()
    stale = UnitConversion.objects.create(legacy_unit=selectors.get_unit("legacy:00001"),
                                          new_unit=selectors.get_unit("2025:00004"))
    assert load_admin_units()["skipped"] == 1  # counts match: the cheap check does not look closer
    result = load_admin_units(force=True)
    assert (result["units_created"], result["units_updated"]) == (0, 1)
    assert (result["conversions_created"], result["conversions_updated"], result["conversions_deleted"]) == (
        1, 1, 1)
    unit = selectors.get_unit("2025:00097")
    assert (unit.name, unit.search_key, unit.parent.code) == ("Phường Hồng Hà", "phuong hong ha", "01")
    conv.refresh_from_db()
    assert conv.is_default and conv.is_partial
    assert not UnitConversion.objects.filter(pk=stale.pk).exists()


@pytest.mark.django_db
def test_load_into_empty_database(_admin_units_committed) -> None:
    """From nothing (inside this test's transaction): everything created, then nothing."""
    UnitConversion.objects.all().delete()
    AdminUnit.objects.update(parent=None, province=None)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(AdminUnit._meta.db_table)}")  # noqa: S608
    assert not is_loaded()
    first = load_admin_units()
    assert first["units_created"] == N_UNITS
    assert first["conversions_created"] == N_CONVERSIONS
    assert is_loaded()
    second = load_admin_units(force=True)
    assert second["units_created"] == second["units_updated"] == second["conversions_created"] == 0
    assert selectors.get_unit("2025:00097").province.code == "01"
    assert not ensure_admin_units()


# --- ID number province codes ------------------------------------------------------------------

@pytest.mark.usefixtures("admin_units")
def test_id_number_codes_of_legacy_provinces() -> None:
    legacy = selectors.provinces(CodeSystem.LEGACY)
    assert {p.id_number_code for p in legacy} == set(ID_PROVINCE_CODES)
    assert all(p.id_number_code == p.code.zfill(3) for p in legacy)
    others = AdminUnit.objects.exclude(code_system="legacy", level="province")
    assert not others.exclude(id_number_code="").exists()
    assert selectors.province_for_id_code("038").name == "Tỉnh Thanh Hóa"
    assert selectors.province_for_id_code("001").qualified_code == "legacy:01"
    assert selectors.province_for_id_code("096").short_name == "Cà Mau"
    for bad in ("003", "38", "", "999"):
        with pytest.raises(NotFound) as exc:
            selectors.province_for_id_code(bad, field="personal_id")
        assert (exc.value.code, exc.value.field) == ("E_UNIT_UNKNOWN", "personal_id")


# --- search and choices ------------------------------------------------------------------------

@pytest.mark.usefixtures("admin_units")
def test_search_ignores_diacritics_and_case() -> None:
    found = selectors.search_units("ha noi")
    assert [u.qualified_code for u in found[:2]] == ["2025:01", "legacy:01"]
    assert found[0].name == "Thành phố Hà Nội"
    assert [u.qualified_code for u in selectors.search_units("HÀ NỘI", CodeSystem.V2025, Level.PROVINCE)] == [
        "2025:01"]
    hong_ha = selectors.search_units("hong ha", CodeSystem.V2025, Level.COMMUNE)
    assert hong_ha[0].qualified_code == "2025:00097"
    assert all(u.code_system == "2025" and u.level == "commune" for u in hong_ha)
    # word starts only: "oi" is inside "Nội" but starts no word of a province name
    assert selectors.search_units("oi", level=Level.PROVINCE) == []
    assert selectors.search_units("   ") == []
    dang = selectors.search_units("dak lak", CodeSystem.LEGACY, Level.PROVINCE)
    assert [u.name for u in dang] == ["Tỉnh Đắk Lắk"]
    within = selectors.search_units("phuc xa", province=selectors.get_unit("legacy:01"))
    assert [u.qualified_code for u in within] == ["legacy:00001"]


@pytest.mark.usefixtures("admin_units")
def test_unit_choices_for_forms() -> None:
    everything = selectors.unit_choices_2025_communes()
    assert len(everything) == 3321
    assert ("2025:00097", "Phường Hồng Hà, Hà Nội") in everything
    hanoi = selectors.unit_choices_2025_communes("01")
    assert len(hanoi) == 126
    assert ("2025:00097", "Phường Hồng Hà") in hanoi
    assert selectors.unit_choices_2025_communes(selectors.get_unit("2025:01")) == hanoi
    assert selectors.unit_choices_2025_communes("2025:01") == hanoi


# --- admin -------------------------------------------------------------------------------------

# The admin alone, so this test does not depend on the other apps' URLs.
urlpatterns = [path("admin/", admin.site.urls)]


@pytest.mark.urls("tests.geo.test_geo")
@pytest.mark.usefixtures("admin_units")
def test_admin_lists_and_searches_units(admin_client, settings) -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # else WhiteNoise warns (an error here)
    response = admin_client.get("/admin/geo/adminunit/", {"q": "hong ha", "code_system__exact": "2025"})
    assert response.status_code == 200
    assert "Phường Hồng Hà" in response.content.decode()
    unit = selectors.get_unit("legacy:00157")
    response = admin_client.get(f"/admin/geo/adminunit/{unit.pk}/change/")
    assert response.status_code == 200
    assert "Phường Tây Hồ" in response.content.decode()  # the conversion inline
    model_admin = admin.site._registry[AdminUnit]
    assert not model_admin.has_add_permission(None)
    assert not model_admin.has_change_permission(None, unit)
    assert not model_admin.has_delete_permission(None, unit)
    assert admin_client.get("/admin/geo/unitconversion/", {"is_partial__exact": "1"}).status_code == 200
