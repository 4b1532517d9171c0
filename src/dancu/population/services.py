"""Every write to the citizen record. Each function owns its transaction, checks the
actor's role and area, and leaves an audit event with the before/after versions."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, FieldError, NotFound, OutOfJurisdiction
from dancu.geo.models import AdminUnit, CodeSystem, Level, UnitConversion
from dancu.geo.selectors import find_unit, unit_by_pk
from dancu.population import domain, signals
from dancu.population.models import Citizen
from dancu.population.validation import clean_citizen, format_partial_date

MAX_ALLOCATION_ATTEMPTS = 20
# Fields an officer may correct. The ID number itself is never changed.
CORRECTABLE = (
    "full_name", "birth_date", "sex", "ethnicity", "religion", "nationality",
    "birth_registration_unit", "origin_unit", "marital_status", "life_status", "death_date",
    "old_id_number", "father_id", "mother_id", "spouse_id",
)


def snapshot(c: Citizen) -> dict[str, Any]:
    """The record as plain JSON: what history stores as 'before' and 'after'."""
    def unit(u_id: int | None) -> str | None:
        return unit_by_pk(u_id).qualified_code if u_id else None

    relatives = {k: v for k, v in (("father", c.father_id), ("mother", c.mother_id),
                                   ("spouse", c.spouse_id)) if v}
    by_pk = dict(Citizen.objects.filter(pk__in=relatives.values()).values_list("pk", "personal_id")) \
        if relatives else {}

    def pid(c_id: int | None) -> str | None:
        return by_pk.get(c_id) if c_id else None

    return {
        "personal_id": c.personal_id, "full_name": c.full_name,
        "birth_date": format_partial_date(c.birth_year, c.birth_month, c.birth_day),
        "sex": c.sex, "ethnicity": c.ethnicity, "religion": c.religion,
        "nationality": c.nationality,
        "birth_registration_unit": unit(c.birth_registration_unit_id),
        "origin_unit": unit(c.origin_unit_id), "marital_status": c.marital_status,
        "life_status": c.life_status,
        "death_date": c.death_date.isoformat() if c.death_date else None,
        "old_id_number": c.old_id_number, "father_id": pid(c.father_id),
        "mother_id": pid(c.mother_id), "spouse_id": pid(c.spouse_id),
        "current_commune": unit(c.current_commune_id), "version": c.version,
    }


def resolve_unit(qualified: str) -> AdminUnit | None:
    """'2025:00097' or 'legacy:38' → the unit; None when unknown or malformed."""
    return find_unit(qualified or "")


def resolve_person(personal_id: str) -> Citizen | None:
    return Citizen.objects.filter(personal_id=personal_id).first()


@lru_cache(maxsize=256)
def id_codes_for_province(province_id: int) -> frozenset[str]:
    """3-digit ID-number codes a birth registered in this province may carry. A legacy
    province has its own; a 2025 province those of the legacy provinces merged into it."""
    prov = AdminUnit.objects.get(pk=province_id)
    if prov.code_system == CodeSystem.LEGACY:
        return frozenset({prov.id_number_code})
    legacy = (UnitConversion.objects.filter(new_unit__province_id=province_id)
              .values_list("legacy_unit__province__id_number_code", flat=True).distinct())
    return frozenset({f"0{prov.code}", *legacy})


def id_code_for_new_birth(unit: AdminUnit) -> str:
    prov = unit.province or unit
    return prov.id_number_code if prov.code_system == CodeSystem.LEGACY else f"0{prov.code}"


def _check_birth_place(values: dict[str, Any], out_errors: list[FieldError]) -> None:
    unit: AdminUnit | None = values.get("birth_registration_unit")
    pid = values.get("personal_id")
    if unit is None:
        return
    if unit.level == Level.DISTRICT:
        out_errors.append(FieldError("E_UNIT_LEVEL", _("Nơi đăng ký khai sinh phải là tỉnh hoặc xã."),
                                     "birth_registration_unit"))
        return
    if pid and pid[:3] not in id_codes_for_province(unit.province_id or unit.pk):
        out_errors.append(FieldError(
            "E_ID_NUMBER_BIRTH_PLACE",
            _("Mã tỉnh %(code)s của số định danh không khớp nơi đăng ký khai sinh %(unit)s.")
            % {"code": pid[:3], "unit": unit.name}, "personal_id"))


def _check_family(values: dict[str, Any], birth_year: int | None, errors: list[FieldError],
                  self_id: int | None = None) -> None:
    for key in ("father", "mother", "spouse"):
        person = values.get(key)
        if person is None:
            continue
        if self_id is not None and person.pk == self_id:
            errors.append(FieldError("E_FAMILY_SELF", _("Không thể liên kết với chính mình."),
                                     f"{key}_id"))
        elif key != "spouse" and birth_year is not None and person.birth_year >= birth_year:
            errors.append(FieldError("E_PARENT_YOUNGER", _("Cha/mẹ phải sinh trước con."),
                                     f"{key}_id"))


def check_residence_commune(actor: Actor, commune: AdminUnit) -> None:
    """A place of residence is a 2025 commune, and writing there needs a writer covering it."""
    actor.require_write()
    if commune.code_system != CodeSystem.V2025 or commune.level != Level.COMMUNE:
        raise DomainError("E_UNIT_LEVEL", _("Nơi cư trú phải là xã/phường theo danh mục từ 2025."),
                          "commune")
    if not actor.covers(commune.pk, commune.province_id):
        raise OutOfJurisdiction("E_JURISDICTION", _("Xã/phường này ngoài địa bàn của bạn."),
                                "commune")


@audit.refusals_recorded("citizen.create", subject_type="citizen")
@transaction.atomic
def register_citizen(actor: Actor, raw: Mapping[str, Any], *, commune: AdminUnit,
                     reason: str, today: dt.date | None = None,
                     serial_source: Callable[[], int] | None = None) -> Citizen:
    """A new person in the registry, living in ``commune`` (a 2025 commune in the actor's
    area). Allocates the personal ID unless the record brings one (e.g. issued before)."""
    check_residence_commune(actor, commune)
    cleaned = clean_citizen(raw, resolve_unit=resolve_unit, resolve_person=resolve_person,
                            today=today)
    values = cleaned.values
    _check_birth_place(values, cleaned.errors)
    _check_family(values, values.get("birth_year"), cleaned.errors)
    if values.get("old_id_number") and Citizen.objects.filter(
            old_id_number=values["old_id_number"]).exists():
        cleaned.error("E_OLD_ID_TAKEN", _("Số CMND cũ đã gắn với người khác."), "old_id_number")
    if values.get("personal_id") and Citizen.objects.filter(
            personal_id=values["personal_id"]).exists():
        cleaned.error("E_ID_NUMBER_TAKEN", _("Số định danh đã tồn tại."), "personal_id")
    if cleaned.errors:
        raise DomainError.many(cleaned.errors)

    now = timezone.now()
    citizen = Citizen(**{k: v for k, v in values.items() if k != "personal_id"},
                      current_commune=commune, current_province_id=commune.province_id,
                      created_at=now, updated_at=now)
    if values.get("personal_id"):
        citizen.personal_id = values["personal_id"]
        _save_new(citizen)
    else:
        _allocate_and_save(citizen, values["birth_registration_unit"], serial_source)
    audit.record(actor, "citizen.create", subject_type="citizen", subject_id=citizen.pk,
                 personal_id=citizen.personal_id, before=None, after=snapshot(citizen),
                 reason=reason)
    signals.citizen_changed.send(sender=Citizen, before=None, after=citizen)
    return citizen


def _save_new(citizen: Citizen) -> None:
    try:
        with transaction.atomic():
            citizen.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict("E_ID_NUMBER_TAKEN", _("Số định danh hoặc số CMND cũ đã tồn tại."),
                       "personal_id") from exc


def _allocate_and_save(citizen: Citizen, birth_unit: AdminUnit,
                       serial_source: Callable[[], int] | None) -> None:
    """Draw 6 random digits until the number is free. The UNIQUE constraint decides under
    concurrency: a collision rolls back only the savepoint and draws again."""
    code = id_code_for_new_birth(birth_unit)
    for _attempt in range(MAX_ALLOCATION_ATTEMPTS):
        serial = serial_source() if serial_source else None
        citizen.personal_id = domain.compose(code, citizen.birth_year, citizen.sex, serial)
        if Citizen.objects.filter(personal_id=citizen.personal_id).exists():
            continue
        try:
            with transaction.atomic():
                citizen.save(force_insert=True)
            return
        except IntegrityError:
            if Citizen.objects.filter(personal_id=citizen.personal_id).exists():
                citizen.pk = None
                continue
            raise
    raise Conflict("E_ID_ALLOCATION_EXHAUSTED",
                   _("Không cấp được số định danh sau nhiều lần thử; hãy thử lại."), "personal_id")


def _locked_citizen(actor: Actor, personal_id: str) -> Citizen:
    citizen = Citizen.objects.select_for_update().filter(personal_id=personal_id).first()
    if citizen is None:
        raise NotFound("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), "personal_id")
    if not actor.covers(citizen.current_commune_id, citizen.current_province_id):
        raise OutOfJurisdiction("E_JURISDICTION", _("Công dân này ngoài địa bàn của bạn."),
                                "personal_id")
    return citizen


@audit.refusals_recorded("citizen.update", subject_type="citizen")
@transaction.atomic
def correct_citizen(actor: Actor, personal_id: str, changes: Mapping[str, Any], *, reason: str,
                    expected_version: int | None = None, today: dt.date | None = None) -> Citizen:
    """Correct fields of a record. The previous version is kept in the audit trail.
    ``expected_version`` guards against overwriting someone else's concurrent correction."""
    actor.require_write()
    if not (reason or "").strip():
        raise DomainError("E_REASON_REQUIRED", _("Cần nêu căn cứ/lý do điều chỉnh."), "reason")
    unknown = [k for k in changes if k not in CORRECTABLE]
    if unknown:
        raise DomainError("E_FIELD_NOT_CORRECTABLE", _("Không được điều chỉnh trường này."), unknown[0])
    citizen = _locked_citizen(actor, personal_id)
    if expected_version is not None and citizen.version != expected_version:
        raise Conflict("E_VERSION_CONFLICT",
                       _("Hồ sơ vừa được người khác cập nhật; hãy tải lại và thử lại."), "version")
    before = snapshot(citizen)
    previous = copy.copy(citizen)
    # Every rule holds for the record as it will be after the change (the validator merges it
    # with the current values); so do the rules that need the database, below.
    cleaned = clean_citizen(changes, resolve_unit=resolve_unit, resolve_person=resolve_person,
                            today=today, current=before)
    values = cleaned.values
    merged_year = values.get("birth_year", citizen.birth_year)
    values_for_place = {"personal_id": citizen.personal_id,
                        "birth_registration_unit": values.get("birth_registration_unit",
                                                              citizen.birth_registration_unit)}
    _check_birth_place(values_for_place, cleaned.errors)
    family = {k: values[k] if k in values else getattr(citizen, k)
              for k in ("father", "mother", "spouse")}
    _check_family(family, merged_year, cleaned.errors, self_id=citizen.pk)
    if cleaned.errors:
        raise DomainError.many(cleaned.errors)
    for key, value in values.items():
        setattr(citizen, key, value)
    citizen.version += 1
    citizen.updated_at = timezone.now()
    try:
        with transaction.atomic():
            citizen.save()
    except IntegrityError as exc:
        raise Conflict("E_OLD_ID_TAKEN", _("Số CMND cũ đã gắn với người khác."),
                       "old_id_number") from exc
    after = snapshot(citizen)
    audit.record(actor, "citizen.update", subject_type="citizen", subject_id=citizen.pk,
                 personal_id=citizen.personal_id, before=before, after=after, reason=reason)
    signals.citizen_changed.send(sender=Citizen, before=previous, after=citizen)
    if citizen.life_status != previous.life_status:
        signals.life_status_changed.send(sender=Citizen, citizen=citizen,
                                         previous=previous.life_status, actor=actor)
    return citizen


def set_current_place(citizen_id: int, commune: AdminUnit | None) -> None:
    """Called by the residence context (only) when a registration changes where someone lives.
    Runs inside the caller's transaction; the residence event carries the audit. A move (the
    place differs from the stored one) is announced by ``citizen_changed``, whose ``before``
    names the place left."""
    before = Citizen.objects.get(pk=citizen_id)
    after = copy.copy(before)
    after.current_commune_id = commune.pk if commune else None
    after.current_province_id = commune.province_id if commune else None
    after.updated_at = timezone.now()
    Citizen.objects.filter(pk=citizen_id).update(
        current_commune_id=after.current_commune_id, current_province_id=after.current_province_id,
        updated_at=after.updated_at)
    if (before.current_commune_id, before.current_province_id) != (
            after.current_commune_id, after.current_province_id):
        signals.citizen_changed.send(sender=Citizen, before=before, after=after)
