"""Loading the administrative units and the legacy → 2025 conversion into the database.

The data come from the committed files of ``geo/data/`` (``admin_units.csv.gz``,
``unit_conversions.csv.gz``, ``admin_units.provenance.json``), built once by
``scripts/build_admin_units.py`` from the ``vietnamadminunits`` package (MIT); that package
is never imported at runtime. See ``docs/admin-units.md``.

Within one code system the length of a code gives its level: province 2 digits, legacy
district 3 digits, commune 5 digits (``geo.codes``).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from django.db import connection, transaction
from django.db.models import Count, Field, Model

from dancu.core.text import nfc, search_key
from dancu.geo.codes import COMMUNE, LEGACY, LEVEL_ORDER, PROVINCE, V2025, level_of_code
from dancu.geo.models import AdminUnit, UnitConversion
from dancu.geo.selectors import unit_by_pk

DATA_DIR = Path(__file__).resolve().parent / "data"
UNITS_FILE = "admin_units.csv.gz"
CONVERSIONS_FILE = "unit_conversions.csv.gz"
PROVENANCE_FILE = "admin_units.provenance.json"
BATCH_SIZE = 1000
_DATA_FIELDS = ("name", "short_name", "unit_type", "search_key", "id_number_code")

UnitKey = tuple[str, str, str]  # (code_system, level, code)
Say = Callable[[str], None]


@dataclass(frozen=True)
class UnitRow:
    code_system: str
    level: str
    code: str
    name: str
    short_name: str
    unit_type: str
    parent_code: str
    province_code: str
    id_number_code: str

    @property
    def key(self) -> UnitKey:
        return (self.code_system, self.level, self.code)

    @property
    def parent_key(self) -> UnitKey | None:
        if not self.parent_code:
            return None
        return (self.code_system, level_of_code(self.parent_code) or "", self.parent_code)

    @property
    def province_key(self) -> UnitKey:
        return (self.code_system, PROVINCE, self.province_code)

    def data(self) -> dict[str, str]:
        name = nfc(self.name)
        return {"name": name, "short_name": nfc(self.short_name), "unit_type": nfc(self.unit_type),
                "search_key": search_key(name), "id_number_code": self.id_number_code}


@dataclass(frozen=True)
class ConversionRow:
    legacy_code: str  # a legacy commune, or one of the five commune-less island districts
    new_code: str  # a 2025 commune
    is_partial: bool
    is_default: bool

    @property
    def legacy_key(self) -> UnitKey:
        return (LEGACY, level_of_code(self.legacy_code) or "", self.legacy_code)

    @property
    def new_key(self) -> UnitKey:
        return (V2025, COMMUNE, self.new_code)


@dataclass(frozen=True)
class AdminUnitData:
    provenance: dict[str, Any]
    units: tuple[UnitRow, ...]
    conversions: tuple[ConversionRow, ...]

    def unit_counts(self) -> Counter[tuple[str, str]]:
        return Counter((u.code_system, u.level) for u in self.units)


@lru_cache(maxsize=4)
def read_data_file(data_dir: Path = DATA_DIR) -> AdminUnitData:
    """The parsed data files (cached per process); checks each CSV against its SHA-256 in the
    provenance file."""
    provenance = json.loads((data_dir / PROVENANCE_FILE).read_text(encoding="utf-8"))
    if provenance.get("format_version") != 1:
        raise ValueError(f"{data_dir}: unsupported format_version {provenance.get('format_version')!r}")

    def rows(name: str) -> list[dict[str, str]]:
        text = gzip.decompress((data_dir / name).read_bytes()).decode("utf-8")
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != provenance["files"][name]["sha256"]:
            raise ValueError(f"{data_dir / name} does not match {PROVENANCE_FILE}; rebuild the data files")
        return list(csv.DictReader(io.StringIO(text)))

    units = tuple(UnitRow(**row) for row in rows(UNITS_FILE))
    conversions = tuple(ConversionRow(legacy_code=row["legacy_code"], new_code=row["new_code"],
                                      is_partial=row["is_partial"] == "1",
                                      is_default=row["is_default"] == "1")
                        for row in rows(CONVERSIONS_FILE))
    return AdminUnitData(provenance, units, conversions)


def is_loaded(data: AdminUnitData | None = None) -> bool:
    """Cheap check (two aggregate queries): do the database's counts match the data files?"""
    data = data or read_data_file()
    db_counts = Counter({(s, lv): n for s, lv, n in _count_by_system_level()})
    return db_counts == data.unit_counts() and UnitConversion.objects.count() == len(data.conversions)


def load_admin_units(*, stdout: TextIO | None = None, force: bool = False,
                     data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Create or update all administrative units and conversions from the data files.

    Idempotent: a second run creates and updates nothing. Without ``force`` it returns at
    once (``skipped`` = 1) when the counts in the database already match the files; with
    ``force`` it compares every row and updates names, types, parents and flags that differ.
    Units absent from the files are never deleted (records point at them; they are counted as
    ``units_extra``); conversions absent from the files are deleted. One transaction.
    ``data_dir`` is for tests; the default is the committed ``geo/data/``.
    """
    unit_by_pk.cache_clear()
    data = read_data_file(data_dir)

    def say(msg: str) -> None:
        if stdout is not None:
            stdout.write(msg + "\n")

    result = dict.fromkeys(("units_created", "units_updated", "units_extra", "conversions_created",
                            "conversions_updated", "conversions_deleted", "skipped"), 0)
    result["units"] = len(data.units)
    result["conversions"] = len(data.conversions)
    if not force and is_loaded(data):
        result["skipped"] = 1
        say(f"Administrative units already loaded ({len(data.units)} units, "
            f"{len(data.conversions)} conversions); use --force to compare row by row.")
        return result

    with transaction.atomic():
        ids = _load_units(data, result, say)
        _load_conversions(data, ids, result, say)
    changes = sum(v for k, v in result.items() if k.endswith(("_created", "_updated", "_deleted")))
    if changes and connection.vendor == "postgresql":
        # Fresh planner statistics: right after a bulk load PostgreSQL believes the table is
        # empty and picks nested loops that take half a second for a 126-row query.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(AdminUnit._meta.db_table)}, "
                           f"{connection.ops.quote_name(UnitConversion._meta.db_table)}")
    return result


def _count_by_system_level() -> list[tuple[str, str, int]]:
    return list(AdminUnit.objects.order_by().values("code_system", "level")
                .annotate(n=Count("id")).values_list("code_system", "level", "n"))


def _load_units(data: AdminUnitData, result: dict[str, int], say: Say) -> dict[UnitKey, int]:
    """Level by level (provinces, districts, communes) so each level's parents already have ids."""
    existing: dict[UnitKey, dict[str, Any]] = {
        (row["code_system"], row["level"], row["code"]): row
        for row in AdminUnit.objects.values("id", "code_system", "level", "code", "parent_id", "province_id",
                                            *_DATA_FIELDS)
    }
    ids: dict[UnitKey, int] = {key: row["id"] for key, row in existing.items()}
    file_keys: set[UnitKey] = set()
    by_level: dict[str, list[UnitRow]] = {level: [] for level in LEVEL_ORDER}
    for unit in data.units:
        by_level[unit.level].append(unit)
        file_keys.add(unit.key)

    for level in LEVEL_ORDER:
        new: list[AdminUnit] = []
        changed: list[tuple[Any, ...]] = []
        for unit in by_level[level]:
            fields = unit.data()
            parent_id = ids[unit.parent_key] if unit.parent_key else None
            province_id = ids.get(unit.province_key)  # None only for a province not yet created
            current = existing.get(unit.key)
            if current is None:
                new.append(AdminUnit(code_system=unit.code_system, level=unit.level, code=unit.code,
                                     parent_id=parent_id, province_id=province_id, **fields))
            elif (any(current[f] != v for f, v in fields.items())
                  or current["parent_id"] != parent_id or current["province_id"] != province_id):
                changed.append((*(fields[f] for f in _DATA_FIELDS), parent_id, province_id, current["id"]))
        if new:
            AdminUnit.objects.bulk_create(new, batch_size=BATCH_SIZE)
            # Re-read the ids rather than rely on the backend returning them from bulk_create.
            for system, code, pk in (AdminUnit.objects.filter(level=level)
                                     .values_list("code_system", "code", "id")):
                ids[(system, level, code)] = pk
        if level == PROVINCE and new:
            # A province is its own province: set it now that the new provinces have ids.
            own = [ids[(u.code_system, level, u.code)] for u in new]
            _update_rows(AdminUnit, ["province_id"], [(pk, pk) for pk in own])
        if changed:
            _update_rows(AdminUnit, [*_DATA_FIELDS, "parent_id", "province_id"], changed)
        result["units_created"] += len(new)
        result["units_updated"] += len(changed)
        say(f"{level}: {len(new)} created, {len(changed)} updated")
    result["units_extra"] = len(set(existing) - file_keys)
    if result["units_extra"]:
        say(f"{result['units_extra']} units in the database are not in the data files (kept)")
    return ids


def _load_conversions(data: AdminUnitData, ids: dict[UnitKey, int], result: dict[str, int],
                      say: Say) -> None:
    existing = {(legacy_id, new_id): (pk, partial, default)
                for pk, legacy_id, new_id, partial, default in UnitConversion.objects.values_list(
                    "id", "legacy_unit_id", "new_unit_id", "is_partial", "is_default")}
    wanted: set[tuple[int, int]] = set()
    new: list[UnitConversion] = []
    changed: list[tuple[bool, bool, int]] = []
    for conv in data.conversions:
        pair = (ids[conv.legacy_key], ids[conv.new_key])
        wanted.add(pair)
        current = existing.get(pair)
        if current is None:
            new.append(UnitConversion(legacy_unit_id=pair[0], new_unit_id=pair[1],
                                      is_partial=conv.is_partial, is_default=conv.is_default))
        elif current[1:] != (conv.is_partial, conv.is_default):
            changed.append((conv.is_partial, conv.is_default, current[0]))
    stale = [pk for pair, (pk, _p, _d) in existing.items() if pair not in wanted]
    for start in range(0, len(stale), BATCH_SIZE):
        UnitConversion.objects.filter(id__in=stale[start:start + BATCH_SIZE]).delete()
    if new:
        UnitConversion.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if changed:
        _update_rows(UnitConversion, ["is_partial", "is_default"], changed)
    result["conversions_created"] = len(new)
    result["conversions_updated"] = len(changed)
    result["conversions_deleted"] = len(stale)
    say(f"conversions: {len(new)} created, {len(changed)} updated, {len(stale)} deleted")


def _update_rows(model: type[Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """``UPDATE <table> SET col = %s, … WHERE id = %s`` for each row ``(*values, id)``.

    One prepared statement run with executemany: ``bulk_update`` builds a CASE expression per
    row and field, which costs ~15 s of ORM time for a full refresh of 14,000 units; this takes
    well under a second on SQLite and PostgreSQL. Table and column names come from the model.
    """
    qn = connection.ops.quote_name

    def column(name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, Field) and field.column is not None  # a concrete field of the model
        return qn(field.column)

    pk = model._meta.pk
    assert pk is not None
    sets = ", ".join(f"{column(c.removesuffix('_id'))} = %s" for c in columns)
    sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {column(pk.name)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start:start + BATCH_SIZE])
