"""Reading administrative units.

A unit is named by a *qualified code* ``"<system>:<code>"`` — ``"2025:00097"`` (Phường Hồng Hà),
``"legacy:00001"`` (Phường Phúc Xá, Ba Đình) — because the two code systems reuse the same
numbers for different units. Within one system the length of the code gives the level:

- 2 digits: province (``"2025:01"``, ``"legacy:01"``);
- 3 digits: district — legacy system only (``"legacy:001"`` Quận Ba Đình);
- 5 digits: commune (xã, phường, thị trấn, đặc khu).

The level may also be spelt out: ``"2025:commune:00097"``; it must then agree with the length.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from dancu.core.errors import DomainError, NotFound
from dancu.core.text import search_key
from dancu.geo.codes import COMMUNE, DISTRICT, LEGACY, PROVINCE, V2025, level_of_code
from dancu.geo.models import AdminUnit

_SYSTEMS = frozenset((LEGACY, V2025))
_LEVELS = frozenset((PROVINCE, DISTRICT, COMMUNE))


def parse_qualified_code(qualified_code: str) -> tuple[str, str, str] | None:
    """``"2025:00097"`` → ``("2025", "commune", "00097")``; None when malformed.

    Accepts ``system:code`` and ``system:level:code``; surrounding spaces are ignored.
    A legacy district only exists in the legacy system.
    """
    parts = [p.strip() for p in (qualified_code or "").split(":")]
    if len(parts) == 2:
        system, code = parts
        level = level_of_code(code) or ""
    elif len(parts) == 3:
        system, level, code = parts
        if level != level_of_code(code):
            return None
    else:
        return None
    if system not in _SYSTEMS or level not in _LEVELS:
        return None
    if level == DISTRICT and system != LEGACY:
        return None
    return system, level, code


def _units() -> QuerySet[AdminUnit]:
    return AdminUnit.objects.select_related("parent", "province")


def _unknown(qualified_code: str, field: str | None) -> NotFound:
    return NotFound("E_UNIT_UNKNOWN",
                    _("Không có đơn vị hành chính mã %(code)s.") % {"code": qualified_code}, field)


def find_unit(qualified_code: str) -> AdminUnit | None:
    """The unit named by a qualified code, or None (malformed or unknown)."""
    parsed = parse_qualified_code(qualified_code)
    if parsed is None:
        return None
    system, level, code = parsed
    return _units().filter(code_system=system, level=level, code=code).first()


def get_unit(qualified_code: str, *, field: str | None = None) -> AdminUnit:
    """The unit named by a qualified code; NotFound ``E_UNIT_UNKNOWN`` on ``field`` otherwise."""
    unit = find_unit(qualified_code)
    if unit is None:
        raise _unknown(qualified_code, field)
    return unit


def resolve_units(qualified_codes: Iterable[str]) -> dict[str, AdminUnit]:
    """Many codes at once (importers): ``{qualified_code: unit}`` for the known ones, in one
    query per (system, level). Malformed and unknown codes are simply absent."""
    wanted: dict[tuple[str, str], dict[str, list[str]]] = {}
    for qc in set(qualified_codes):
        parsed = parse_qualified_code(qc)
        if parsed:
            wanted.setdefault(parsed[:2], {}).setdefault(parsed[2], []).append(qc)
    out: dict[str, AdminUnit] = {}
    for (system, level), by_code in wanted.items():
        codes = list(by_code)
        for start in range(0, len(codes), 900):  # stay under SQLite's variable limit
            for unit in _units().filter(code_system=system, level=level, code__in=codes[start:start + 900]):
                for qc in by_code[unit.code]:
                    out[qc] = unit
    return out


def provinces(system: str = V2025) -> QuerySet[AdminUnit]:
    """The provinces of a code system (34 for 2025, 63 for legacy), by code."""
    return AdminUnit.objects.filter(code_system=system, level=PROVINCE).order_by("code")


def districts_of(province: AdminUnit) -> QuerySet[AdminUnit]:
    """The districts of a legacy province (none in the 2025 system), by code."""
    return AdminUnit.objects.filter(parent=province, level=DISTRICT).order_by("code")


def communes_of(province: AdminUnit) -> QuerySet[AdminUnit]:
    """The communes of a province in the province's own system (through the districts for a
    legacy province), by code, with their parent and province fetched."""
    return _units().filter(code_system=province.code_system, level=COMMUNE,
                           province=province).order_by("code")


def convert_legacy_commune(unit: AdminUnit) -> list[tuple[AdminUnit, bool]]:
    """The 2025 commune(s) a legacy commune became: ``[(new_unit, is_partial)]``.

    One pair with ``is_partial=False`` for a commune merged whole; several pairs, all
    ``is_partial=True``, for a commune split across new communes — the caller must then ask
    which one applies and never guess. The source's default new commune comes first, the
    others by code. The five commune-less legacy island districts (Bạch Long Vĩ, Cồn Cỏ,
    Hoàng Sa, Lý Sơn, Côn Đảo) are accepted too and convert to their đặc khu.
    """
    if unit.code_system != LEGACY or unit.level == PROVINCE:
        raise DomainError("E_UNIT_NOT_LEGACY_COMMUNE",
                          _("Chỉ chuyển đổi được xã/phường/thị trấn trước 01/7/2025 (%(code)s).")
                          % {"code": unit.qualified_code})
    rows = (unit.converts_to.select_related("new_unit__province", "new_unit__parent")
            .order_by("-is_default", "new_unit__code"))
    return [(row.new_unit, row.is_partial) for row in rows]


def unit_choices_2025_communes(province: AdminUnit | str | None = None) -> list[tuple[str, str]]:
    """``(qualified_code, label)`` pairs of the 2025 communes for a form's choices, by province
    then name. ``province``: a 2025 province unit or its code (``"01"`` / ``"2025:01"``); when
    omitted, every commune is listed and the label carries the province: "Phường Hồng Hà, Hà Nội"."""
    qs = _units().filter(code_system=V2025, level=COMMUNE)
    if province is not None:
        if isinstance(province, str):
            code = province.split(":")[-1]
            province = AdminUnit.objects.filter(code_system=V2025, level=PROVINCE,
                                                code=code).first()
            if province is None:
                return []
        qs = qs.filter(province=province)
    units = sorted(qs, key=lambda u: (u.province.code if u.province else "", search_key(u.short_name),
                                      u.code))
    if province is not None:
        return [(u.qualified_code, u.name) for u in units]
    return [(u.qualified_code, f"{u.name}, {u.province.short_name if u.province else ''}") for u in units]


def province_for_id_code(id_code: str, *, field: str | None = None) -> AdminUnit:
    """The legacy province of the first three digits of a personal ID number ("038" → Thanh Hóa).
    NotFound ``E_UNIT_UNKNOWN`` when no legacy province has that code."""
    unit = (AdminUnit.objects.filter(code_system=LEGACY, level=PROVINCE,
                                     id_number_code=id_code).first() if id_code else None)
    if unit is None:
        raise _unknown(f"ID {id_code}", field)
    return unit


def search_units(text: str, system: str | None = None, level: str | None = None, *,
                 province: AdminUnit | None = None, limit: int = 20) -> list[AdminUnit]:
    """Units whose name contains ``text`` at a word start, ignoring case and diacritics
    ("ha noi" finds "Thành phố Hà Nội"). Exact and whole-name-ending matches first
    ("ha noi" ranks the province before "Xã Hà Nội…"), then by level, system (2025 first) and code."""
    key = search_key(text or "")
    if not key:
        return []
    qs = _units().filter(Q(search_key__startswith=key) | Q(search_key__contains=" " + key))
    if system:
        qs = qs.filter(code_system=system)
    if level:
        qs = qs.filter(level=level)
    if province is not None:
        qs = qs.filter(province=province)
    rank = Case(
        When(search_key=key, then=Value(0)),
        When(search_key__endswith=" " + key, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    level_rank = Case(
        When(level=PROVINCE, then=Value(0)),
        When(level=DISTRICT, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(qs.annotate(rank=rank, level_rank=level_rank)
                .order_by("rank", "level_rank", "code_system", "code")[:limit])


@lru_cache(maxsize=32_768)
def unit_by_pk(pk: int) -> AdminUnit:
    """Administrative units change only when the official table is reloaded: hot read paths
    (the citizen look-up) take them from this per-process cache instead of joining four times.
    ``load_admin_units`` clears it; a reload with renamed units reaches running servers on
    their next restart."""
    return AdminUnit.objects.select_related("province").get(pk=pk)
