"""Build the administrative-unit data files of ``src/dancu/geo/data/`` from ``vietnamadminunits``.

A one-off developer script, never run by the application: the runtime reads only the
committed data files (``vietnamadminunits`` pulls in shapely and geopy, which the
application does not need). Usage::

    pip install vietnamadminunits==1.0.4
    python scripts/build_admin_units.py            # writes the data files
    python scripts/build_admin_units.py --check    # builds in memory, compares, writes nothing

Output: ``admin_units.csv.gz`` (one row per unit), ``unit_conversions.csv.gz`` (legacy → 2025
commune conversion) and ``admin_units.provenance.json`` (source, licence, build date, counts,
SHA-256 of each CSV).

Source: vietnamadminunits 1.0.4, MIT licence, (c) 2025 Tran Ngoc Minh Hieu —
``data/dataset.db`` (tables ``admin_units`` and ``admin_units_legacy``) and
``data/converter_2025.json``. See ``docs/admin-units.md``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import sqlite3
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dancu.core.text import nfc  # noqa: E402
from dancu.population.domain import ID_PROVINCE_CODES  # noqa: E402

OUTPUT_DIR = ROOT / "src" / "dancu" / "geo" / "data"
# CSV.gz and JSON: file types the project's package-data globs ship in the wheel.
UNITS_FILE = "admin_units.csv.gz"
CONVERSIONS_FILE = "unit_conversions.csv.gz"
PROVENANCE_FILE = "admin_units.provenance.json"
PACKAGE = "vietnamadminunits"
EXPECTED_VERSION = "1.0.4"
LICENCE = "MIT"
COPYRIGHT = "Copyright (c) 2025 Tran Ngoc Minh Hieu"
HOMEPAGE = "https://github.com/tranngocminhhieu/vietnamadminunits"
FORMAT_VERSION = 1

# Order of the columns of admin_units.csv.gz.
UNIT_COLUMNS = ["code_system", "level", "code", "name", "short_name", "unit_type",
                "parent_code", "province_code", "id_number_code"]
# Order of the columns of each conversion row. The legacy unit is a commune (5-digit
# code) or, for the five island districts that have no communes, a district (3 digits).
CONVERSION_COLUMNS = ["legacy_code", "new_code", "is_partial", "is_default"]

# Legacy island districts with no commune level; the converter keys them as
# "<province>_<district>_" and maps each to a 2025 special zone (đặc khu).
COMMUNELESS_DISTRICTS = {"318", "471", "498", "536", "755"}


def package_data_dir() -> Path:
    # Locate the package without importing it (its __init__ loads shapely and geopy).
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{PACKAGE} is not installed: pip install {PACKAGE}=={EXPECTED_VERSION}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def province_type(full_name: str, short_name: str) -> str:
    """'Thành phố Hà Nội', 'Hà Nội' -> 'Thành phố'."""
    prefix = full_name[: len(full_name) - len(short_name)].strip()
    if prefix not in {"Tỉnh", "Thành phố"} or not full_name.endswith(short_name):
        raise ValueError(f"unexpected province name {full_name!r} / {short_name!r}")
    return prefix


def build_2025(db: sqlite3.Connection) -> tuple[list[list], dict[tuple[str, str], str]]:
    """Units of the 2025 system and the map (provinceKey, wardKey) -> ward code."""
    rows = db.execute(
        "SELECT province, provinceShort, provinceCode, provinceKey, ward, wardShort, wardType, wardCode,"
        " wardKey FROM admin_units ORDER BY provinceCode, wardCode").fetchall()
    provinces: dict[str, list] = {}
    communes: list[list] = []
    key_to_code: dict[tuple[str, str], str] = {}
    for prov, prov_short, prov_code, prov_key, ward, ward_short, ward_type, ward_code, ward_key in rows:
        if not (len(prov_code) == 2 and prov_code.isdigit() and len(ward_code) == 5 and ward_code.isdigit()):
            raise ValueError(f"bad 2025 codes {prov_code!r} {ward_code!r}")
        if prov_code not in provinces:
            provinces[prov_code] = ["2025", "province", prov_code, nfc(prov), nfc(prov_short),
                                    province_type(nfc(prov), nfc(prov_short)), "", prov_code, ""]
        communes.append(["2025", "commune", ward_code, nfc(ward), nfc(ward_short), nfc(ward_type),
                         prov_code, prov_code, ""])
        if (prov_key, ward_key) in key_to_code:
            raise ValueError(f"duplicate 2025 ward key {prov_key}/{ward_key}")
        key_to_code[(prov_key, ward_key)] = ward_code
    return list(provinces.values()) + communes, key_to_code


def build_legacy(db: sqlite3.Connection) -> tuple[list[list], dict[str, str], list[str]]:
    """Units of the legacy system; the map composite key -> legacy unit code; notes."""
    rows = db.execute(
        "SELECT province, provinceShort, provinceCode, provinceKey, district, districtShort, districtType,"
        " districtCode, districtKey, ward, wardShort, wardType, wardCode, wardKey"
        " FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode").fetchall()
    provinces: dict[str, list] = {}
    districts: dict[str, list] = {}
    communes: list[list] = []
    key_to_code: dict[str, str] = {}
    notes: list[str] = []
    for (prov, prov_short, prov_code, prov_key, dist, dist_short, dist_type, dist_code, dist_key,
         ward, ward_short, ward_type, ward_code, ward_key) in rows:
        if not (len(prov_code) == 2 and len(dist_code) == 3 and (prov_code + dist_code).isdigit()):
            raise ValueError(f"bad legacy codes {prov_code!r} {dist_code!r}")
        if prov_code not in provinces:
            provinces[prov_code] = ["legacy", "province", prov_code, nfc(prov), nfc(prov_short),
                                    province_type(nfc(prov), nfc(prov_short)), "", prov_code,
                                    prov_code.zfill(3)]
        if dist_code not in districts:
            districts[dist_code] = ["legacy", "district", dist_code, nfc(dist), nfc(dist_short),
                                    nfc(dist_type), prov_code, prov_code, ""]
        if not ward_code:
            # An island district without communes: keep the district, no commune row.
            if ward or dist_code not in COMMUNELESS_DISTRICTS:
                raise ValueError(f"legacy row without a commune code: {prov} / {dist} / {ward}")
            key_to_code[f"{prov_key}_{dist_key}_"] = dist_code
            notes.append(f"legacy district {dist_code} {nfc(dist)} ({nfc(prov_short)}) has no communes")
            continue
        if len(ward_code) != 5 or not ward_code.isdigit():
            raise ValueError(f"bad legacy commune code {ward_code!r}")
        communes.append(["legacy", "commune", ward_code, nfc(ward), nfc(ward_short), nfc(ward_type),
                         dist_code, prov_code, ""])
        composite = f"{prov_key}_{dist_key}_{ward_key}"
        if composite in key_to_code:
            raise ValueError(f"duplicate legacy composite key {composite}")
        key_to_code[composite] = ward_code
    return list(provinces.values()) + list(districts.values()) + communes, key_to_code, notes


def build_conversions(converter: dict, new_keys: dict[tuple[str, str], str],
                      legacy_keys: dict[str, str]) -> list[list]:
    legacy_province_of = {old: new for new, olds in converter["DICT_PROVINCE"].items() for old in olds}
    out: dict[str, list[list]] = {}

    def legacy(composite: str, new_province_key: str) -> str:
        if legacy_province_of.get(composite.split("_", 1)[0]) != new_province_key:
            raise ValueError(f"{composite} converted outside its new province {new_province_key}")
        if composite in out:
            raise ValueError(f"{composite} converted twice")
        return legacy_keys[composite]

    for new_province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward_key, olds in wards.items():
            new_code = new_keys[(new_province_key, new_ward_key)]
            for composite in olds:
                out[composite] = [[legacy(composite, new_province_key), new_code, False, True]]
    for new_province_key, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for composite, targets in olds.items():
            legacy_code = legacy(composite, new_province_key)
            rows: list[list] = [[legacy_code, new_keys[(new_province_key, t["newWardKey"])], True,
                                 bool(t["isDefaultNewWard"])] for t in targets]
            defaults = sum(1 for t in targets if t["isDefaultNewWard"])
            if len(rows) < 2 or defaults != 1 or len({r[1] for r in rows}) != len(rows):
                raise ValueError(f"split commune {composite}: expected >=2 distinct targets, one default")
            out[composite] = rows
    missing = set(legacy_keys) - set(out)
    if missing:
        raise ValueError(f"{len(missing)} legacy units without a conversion, e.g. {sorted(missing)[:5]}")
    return sorted((row for rows in out.values() for row in rows), key=lambda r: (r[0], r[1]))


def check_id_codes(units: list[list]) -> None:
    legacy_provinces = {u[8]: u[4] for u in units if u[0] == "legacy" and u[1] == "province"}
    if set(legacy_provinces) != set(ID_PROVINCE_CODES):
        data_only = set(legacy_provinces) - set(ID_PROVINCE_CODES)
        table_only = set(ID_PROVINCE_CODES) - set(legacy_provinces)
        raise ValueError(f"ID province codes differ: data-only {data_only}, table-only {table_only}")


def to_csv(columns: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([int(v) if isinstance(v, bool) else v for v in row] for row in rows)
    return out.getvalue()


def build(data_dir: Path, version: str) -> tuple[dict, dict[str, str]]:
    """The provenance document and the CSV texts by file name."""
    db = sqlite3.connect(f"file:{data_dir / 'dataset.db'}?mode=ro", uri=True)
    try:
        units_2025, new_keys = build_2025(db)
        units_legacy, legacy_keys, notes = build_legacy(db)
    finally:
        db.close()
    converter = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))
    conversions = build_conversions(converter, new_keys, legacy_keys)
    units = units_2025 + units_legacy
    check_id_codes(units)

    texts = {UNITS_FILE: to_csv(UNIT_COLUMNS, units),
             CONVERSIONS_FILE: to_csv(CONVERSION_COLUMNS, conversions)}
    counts = Counter(f"{u[0]}.{u[1]}" for u in units)
    split = {c[0] for c in conversions if c[2]}
    provenance = {
        "format_version": FORMAT_VERSION,
        "source": {
            "package": PACKAGE, "version": version, "licence": LICENCE, "copyright": COPYRIGHT,
            "homepage": HOMEPAGE,
            "files": ["vietnamadminunits/data/dataset.db (admin_units, admin_units_legacy)",
                      "vietnamadminunits/data/converter_2025.json"],
        },
        "built": dt.date.today().isoformat(),
        "builder": "scripts/build_admin_units.py",
        "files": {
            name: {"rows": text.count("\n") - 1,
                   "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}  # of the CSV text
            for name, text in texts.items()
        },
        "counts": {
            **dict(sorted(counts.items())),
            "conversions": len(conversions),
            "conversions.split_legacy_units": len(split),
            "conversions.partial_rows": sum(1 for c in conversions if c[2]),
        },
        "notes": [
            "Codes are unique only within a code system; within a system the code length gives the"
            " level (province 2 digits, legacy district 3, commune 5).",
            "A split legacy commune has one conversion row per new commune, all is_partial;"
            " is_default marks the source's default new commune.",
            *notes,
            "The five commune-less island districts convert directly from the legacy district unit.",
        ],
    }
    return provenance, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files, write nothing")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args()

    version = importlib.metadata.version(PACKAGE)
    if version != EXPECTED_VERSION:
        print(f"warning: {PACKAGE} {version} installed, script written for {EXPECTED_VERSION}",
              file=sys.stderr)
    provenance, texts = build(package_data_dir(), version)
    out: Path = args.output_dir
    if args.check:
        current = json.loads((out / PROVENANCE_FILE).read_text(encoding="utf-8"))
        same = current["files"] == provenance["files"] and all(
            gzip.decompress((out / name).read_bytes()).decode("utf-8") == text
            for name, text in texts.items())
        print("up to date" if same else "data differ from the committed files")
        sys.exit(0 if same else 1)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        # mtime=0 and no file name in the header: the same data always give the same bytes.
        data = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data):,} bytes)")
    (out / PROVENANCE_FILE).write_text(json.dumps(provenance, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    print(f"wrote {out / PROVENANCE_FILE}")
    for key, value in provenance["counts"].items():
        print(f"  {key:34} {value:>6}")


if __name__ == "__main__":
    main()
