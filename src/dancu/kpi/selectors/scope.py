"""Who may read figures of which unit: officers, by their area (``Actor.area``, the one rule);
citizens never."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import NotFound, OutOfJurisdiction
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.geo.selectors import find_unit


def _covers_unit(actor: Actor, unit: AdminUnit | None) -> bool:
    """The whole unit lies in the actor's area: a commune as a place of its own, a province
    as a place without commune (only a province's area, or the nation, holds all of it)."""
    if unit is None:
        return actor.area.is_national
    if unit.level == Level.COMMUNE:
        return actor.covers(unit.pk, unit.province_id)
    return actor.covers(None, unit.pk)


def may_read(actor: Actor) -> bool:
    return actor.source != "citizen"


def guard(actor: Actor, unit: AdminUnit | None) -> None:
    """Refuse (OutOfJurisdiction, audited) a citizen, or a unit beyond the actor's area."""
    if not may_read(actor):
        denied = OutOfJurisdiction("E_ROLE_NOT_ALLOWED", _("Chỉ cán bộ được xem số liệu."), "unit")
    elif not _covers_unit(actor, unit):
        denied = OutOfJurisdiction("E_JURISDICTION", _("Đơn vị này ngoài địa bàn của bạn."), "unit")
    else:
        return
    audit.record_refusal(
        actor,
        "kpi.figures.view",
        denied,
        subject_type="kpi",
        subject_id=unit.qualified_code if unit else "national",
    )
    raise denied


def _find(code: str) -> AdminUnit | None:
    if ":" in code:
        return find_unit(code)
    matches = list(
        AdminUnit.objects.filter(
            code_system=CodeSystem.V2025, code=code, level__in=(Level.PROVINCE, Level.COMMUNE)
        )[:2]
    )
    return matches[0] if len(matches) == 1 else None


def scope_unit(actor: Actor, code: str | None) -> AdminUnit | None:
    """The 2025 province or commune named by ``code`` (``2025:38``, ``2025:16279`` or the bare
    code), None for the nation (``None``/empty). Refused with OutOfJurisdiction (audited) beyond
    the actor's area, NotFound for an unknown code."""
    if code in (None, ""):
        guard(actor, None)
        return None
    unit = _find(code) if isinstance(code, str) and len(code) <= 20 else None
    if (
        unit is None
        or unit.code_system != CodeSystem.V2025
        or unit.level not in (Level.PROVINCE, Level.COMMUNE)
    ):
        raise NotFound("E_UNIT_UNKNOWN", _("Không có tỉnh hoặc xã/phường (từ 2025) với mã này."), "unit")
    guard(actor, unit)
    return unit
