"""Who sees which part of the data-quality report: the scope of a report or a drill-down.

Scope follows the officer's area (``Actor.area`` / ``Actor.covers``, the one rule): a commune
officer sees their commune; a province officer their province with a row per commune; the
ministry a row per province, and may open a province (a row per commune). All units are 2025
units (``current_commune``/``current_province``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population.models import Citizen
from dancu.population.selectors import visible_citizens
from dancu.residence.models import Household, Registration


@dataclass(frozen=True)
class Scope:
    """What a report covers (``unit`` None = the whole country) and the level of its rows."""

    unit: AdminUnit | None
    row_level: str  # Level.PROVINCE or Level.COMMUNE

    @property
    def code(self) -> str:
        return self.unit.qualified_code if self.unit else "national"


def _jurisdiction(actor: Actor) -> AdminUnit | None:
    if actor.is_national:
        return None
    # not national: a jurisdiction_id
    return AdminUnit.objects.select_related("province").get(pk=cast(int, actor.jurisdiction_id))


def _unit_from_code(qualified: str, field_name: str) -> AdminUnit:
    from dancu.geo.selectors import find_unit

    unit = find_unit(qualified)
    if unit is None or unit.code_system != CodeSystem.V2025:
        raise NotFound("E_UNIT_UNKNOWN", _("Không có đơn vị hành chính (từ 2025) mã %(code)s.")
                       % {"code": qualified}, field_name)
    return unit


def _actor_covers_unit(actor: Actor, unit: AdminUnit) -> bool:
    """The whole unit lies in the actor's area (``Actor.covers``, the one rule): a commune as the
    place of its residents, a province as a place with no commune (only a province's area, or
    the nation, holds all of it)."""
    if unit.level == Level.COMMUNE:
        return actor.covers(unit.pk, unit.province_id)
    return actor.covers(None, unit.pk)


def _denied(actor: Actor, action: str, unit: AdminUnit) -> OutOfJurisdiction:
    denied = OutOfJurisdiction("E_JURISDICTION", _("Đơn vị này ngoài địa bàn của bạn."), "unit")
    audit.record_refusal(actor, action, denied, subject_type="quality_report",
                         subject_id=unit.qualified_code)
    return denied


def report_scope(actor: Actor, province: str | None = None,
                 action: str = "quality.report.view") -> Scope:
    """The actor's report: national → a row per province (or, with ``province``, a row per
    commune of it); province police → a row per commune; commune police → their commune."""
    home = _jurisdiction(actor)
    if province:
        unit = _unit_from_code(province, "province")
        if unit.level != Level.PROVINCE:
            raise DomainError("E_UNIT_LEVEL", _("Cần mã tỉnh/thành phố (2025)."), "province")
        if not _actor_covers_unit(actor, unit) or (home is not None and home.level == Level.COMMUNE):
            raise _denied(actor, action, unit)
        return Scope(unit, Level.COMMUNE)
    if home is None:
        return Scope(None, Level.PROVINCE)
    return Scope(home, Level.COMMUNE)


def _citizens_in(actor: Actor, unit: AdminUnit | None) -> QuerySet[Citizen]:
    qs = visible_citizens(actor)  # the actor's area first, whatever unit was asked
    if unit is None:
        return qs
    if unit.level == Level.COMMUNE:
        return qs.filter(current_commune_id=unit.pk)
    return qs.filter(current_province_id=unit.pk)


def _commune_rows_in(model: type[Household] | type[Registration], actor: Actor,
                     unit: AdminUnit | None) -> QuerySet[Any]:
    """Households / registrations in the actor's area (``Actor.area``), by the commune they
    belong to."""
    qs = model.objects.filter(actor.area.q(commune="commune_id", province="commune__province_id"))
    limit = _unit_filter(unit)
    return qs.filter(**limit) if limit else qs


def _unit_filter(unit: AdminUnit | None) -> dict[str, int]:
    if unit is None:
        return {}
    if unit.level == Level.COMMUNE:
        return {"commune_id": unit.pk}
    return {"commune__province_id": unit.pk}
