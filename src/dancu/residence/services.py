"""Residence registrations and households (Law on Residence 68/2020).

Registering in a commune is the act of that commune's police: the actor must cover the
commune where the person registers (not where they came from). Each write updates the
person's current place in the population context through its service, and is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor, system_actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, NotFound
from dancu.core.text import nfc
from dancu.geo.models import AdminUnit, CodeSystem
from dancu.population import services as population
from dancu.population.models import Citizen, LifeStatus
from dancu.residence.models import (
    AbsenceCase,
    Household,
    HouseholdCounter,
    HouseholdMember,
    Registration,
    Relationship,
    ResidenceKind,
)
from dancu.residence.signals import residence_changed

EXPIRY_ACTOR = system_actor("residence.expiry")
TEMPORARY_MAX_DAYS = 2 * 365 + 1  # "at most 2 years" (Art. 27), a leap day allowed


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def snapshot(r: Registration) -> dict[str, Any]:
    return {
        "id": r.pk, "kind": r.kind, "commune": f"{CodeSystem.V2025}:{r.commune.code}",
        "address": r.address, "household": r.household.number if r.household is not None else None,
        "started_on": r.started_on.isoformat(),
        "expires_on": r.expires_on.isoformat() if r.expires_on else None,
        "ended_on": r.ended_on.isoformat() if r.ended_on else None, "end_reason": r.end_reason,
        "absence_case": r.absence_case, "destination": r.destination,
    }


def _living_citizen(personal_id: str) -> Citizen:
    citizen = Citizen.objects.select_for_update().filter(personal_id=personal_id).first()
    if citizen is None:
        raise NotFound("E_CITIZEN_NOT_FOUND", _("Không tìm thấy công dân."), "personal_id")
    if citizen.life_status == LifeStatus.DECEASED:
        raise DomainError("E_CITIZEN_DECEASED", _("Công dân đã chết; không đăng ký cư trú."),
                          "personal_id")
    return citizen


def _require_address(address: str) -> str:
    address = nfc(address or "")
    if not address:
        raise DomainError("E_REQUIRED", _("Trường bắt buộc."), "address")
    return address


def refresh_current_place(citizen: Citizen, today: dt.date | None = None) -> AdminUnit | None:
    """Where the person lives now: an unexpired temporary residence, else the permanent one."""
    today = today or timezone.localdate()
    active = (Registration.objects.filter(citizen=citizen, ended_on__isnull=True,
                                          kind__in=[ResidenceKind.TEMPORARY, ResidenceKind.PERMANENT])
              .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
              .select_related("commune").order_by("-kind"))  # 'temporary' sorts after 'permanent'
    current = next(iter(active), None)
    commune = current.commune if current else None
    population.set_current_place(citizen.pk, commune)
    return commune


def apply_expiries(today: dt.date | None = None) -> int:
    """Temporary residences that expired before ``today`` stop being the person's current place:
    they fall back to their permanent residence (or to none). Run by itself each day (the
    worker's periodic job ``residence.apply_expiries``); idempotent. One short transaction per
    person, who is locked and checked again first, so concurrent runs change and audit each
    person once. Returns how many people moved. The registrations stay open for their commune
    to renew or end."""
    today = today or timezone.localdate()
    expired = (Registration.objects.filter(kind=ResidenceKind.TEMPORARY, ended_on__isnull=True,
                                           expires_on__lt=today,
                                           citizen__current_commune_id=F("commune_id"))
               .order_by("citizen_id").values_list("pk", "citizen_id"))
    moved = 0
    for registration_id, citizen_id in list(expired):
        moved += _expire_one(registration_id, citizen_id, today)
    return moved


@transaction.atomic
def _expire_one(registration_id: int, citizen_id: int, today: dt.date) -> int:
    citizen = Citizen.objects.select_for_update().get(pk=citizen_id)
    reg = Registration.objects.select_related("commune").get(pk=registration_id)
    if (reg.ended_on is not None or reg.expires_on is None or reg.expires_on >= today
            or citizen.current_commune_id != reg.commune_id):
        return 0  # changed meanwhile (renewed, ended, or another process did it)
    commune = refresh_current_place(citizen, today)
    if commune is not None and commune.pk == reg.commune_id:
        return 0  # another registration keeps them in this commune
    audit.record(
        EXPIRY_ACTOR, "residence.expire", subject_type="residence", subject_id=reg.pk,
        personal_id=citizen.personal_id,
        before={"current_commune": f"{CodeSystem.V2025}:{reg.commune.code}"},
        after={"current_commune": f"{CodeSystem.V2025}:{commune.code}" if commune else None},
        reason=f"Tạm trú hết hạn ngày {reg.expires_on.isoformat()} (Luật Cư trú Điều 27)")
    return 1


def _record(actor: Actor, action: str, citizen: Citizen, registration: Registration,
            before: dict | None, reason: str) -> None:
    """Every write of a registration (created, ended) passes here: audited and announced."""
    residence_changed.send(sender=Registration, instance=registration)
    audit.record(actor, action, subject_type="residence", subject_id=registration.pk,
                 personal_id=citizen.personal_id, before=before, after=snapshot(registration),
                 reason=reason)


@transaction.atomic
def register_permanent(actor: Actor, personal_id: str, *, commune: AdminUnit, address: str,
                       started_on: dt.date, reason: str, household_number: str | None = None,
                       relationship: str = Relationship.HEAD) -> Registration:
    """Permanent residence at a legal place. Ends the previous permanent registration (a move),
    and joins the named household or founds a new one with the person as head."""
    population.check_residence_commune(actor, commune)
    address = _require_address(address)
    citizen = _living_citizen(personal_id)
    previous = Registration.objects.filter(citizen=citizen, kind=ResidenceKind.PERMANENT,
                                           ended_on__isnull=True).first()
    if previous is not None:
        if previous.started_on > started_on:
            raise DomainError("E_DATE_ORDER", _("Ngày đăng ký trước ngày của nơi thường trú hiện tại."),
                              "started_on")
        before = snapshot(previous)
        previous.ended_on, previous.end_reason = started_on, "moved"
        previous.save(update_fields=["ended_on", "end_reason"])
        _record(actor, "residence.end", citizen, previous, before, reason)
    household = _join_household(citizen, commune, address, started_on, household_number,
                                relationship)
    registration = Registration.objects.create(
        citizen=citizen, kind=ResidenceKind.PERMANENT, commune=commune, address=address,
        household=household, started_on=started_on, created_at=timezone.now())
    _record(actor, "residence.permanent", citizen, registration, None, reason)
    refresh_current_place(citizen)
    return registration


def _join_household(citizen: Citizen, commune: AdminUnit, address: str, on: dt.date,
                    number: str | None, relationship: str) -> Household:
    if relationship not in Relationship.values:
        raise DomainError("E_CHOICE_INVALID", _("Quan hệ với chủ hộ không hợp lệ."), "relationship")
    HouseholdMember.objects.filter(citizen=citizen, left_on__isnull=True).update(left_on=on)
    if number:
        household = Household.objects.select_for_update().filter(number=number).first()
        if household is None:
            raise NotFound("E_HOUSEHOLD_NOT_FOUND", _("Không tìm thấy hộ."), "household_number")
        if household.commune_id != commune.pk:
            raise DomainError("E_HOUSEHOLD_COMMUNE", _("Hộ này thuộc xã/phường khác."),
                              "household_number")
        if relationship == Relationship.HEAD:
            raise DomainError("E_HOUSEHOLD_HAS_HEAD", _("Hộ đã có chủ hộ."), "relationship")
    else:
        household = _new_household(citizen, commune, address)
        relationship = Relationship.HEAD
    HouseholdMember.objects.create(household=household, citizen=citizen,
                                   relationship=relationship, joined_on=on)
    return household


def _new_household(head: Citizen, commune: AdminUnit, address: str) -> Household:
    """Numbered '<commune code>-<n>', n drawn from the commune's counter row under its lock
    (concurrent founders queue on it). A number already taken — an imported or hand-given one —
    is passed over: the counter moves on, so no number can block the commune."""
    counter = counter_for(commune.pk)
    prefix = f"{commune.code}-"
    for _attempt in range(1000):
        counter.last_number += 1
        number = f"{prefix}{counter.last_number:06d}"
        if Household.objects.filter(number=number).exists():
            continue
        try:
            with transaction.atomic():
                household = Household.objects.create(number=number, commune=commune, address=address,
                                                     head=head, created_at=timezone.now())
        except IntegrityError:  # written meanwhile outside the counter (cannot happen in-app)
            continue
        counter.save(update_fields=["last_number"])
        residence_changed.send(sender=Household, instance=household)
        return household
    raise Conflict("E_HOUSEHOLD_NUMBER", _("Không cấp được số hộ; hãy thử lại."), "household_number")


def counter_for(commune_id: int) -> HouseholdCounter:
    """The commune's household counter, locked until the end of the caller's transaction;
    created at first use past the highest '<code>-<n>' number already in the commune."""
    counter = HouseholdCounter.objects.select_for_update().filter(commune_id=commune_id).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            HouseholdCounter.objects.create(commune_id=commune_id,
                                            last_number=highest_household_number(commune_id))
    except IntegrityError:  # another writer created it first; its lock is ours once it commits
        pass
    return HouseholdCounter.objects.select_for_update().get(commune_id=commune_id)


def highest_household_number(commune_id: int) -> int:
    """The highest n of the commune's households numbered '<commune code>-<n>' (0 if none)."""
    code = AdminUnit.objects.values_list("code", flat=True).get(pk=commune_id)
    prefix = f"{code}-"
    suffixes = (n[len(prefix):] for n in Household.objects.filter(
        commune_id=commune_id, number__startswith=prefix).values_list("number", flat=True))
    return max((int(s) for s in suffixes if s.isascii() and s.isdigit()), default=0)


@transaction.atomic
def register_temporary(actor: Actor, personal_id: str, *, commune: AdminUnit, address: str,
                       started_on: dt.date, expires_on: dt.date, reason: str) -> Registration:
    """Temporary residence (≥ 30 days outside the permanent commune), valid at most 2 years."""
    population.check_residence_commune(actor, commune)
    address = _require_address(address)
    if expires_on <= started_on:
        raise DomainError("E_DATE_ORDER", _("Ngày hết hạn phải sau ngày bắt đầu."), "expires_on")
    if expires_on > add_years(started_on, 2):
        raise DomainError("E_TEMPORARY_TOO_LONG", _("Tạm trú có thời hạn tối đa 2 năm."),
                          "expires_on")
    citizen = _living_citizen(personal_id)
    current = Registration.objects.filter(citizen=citizen, kind=ResidenceKind.TEMPORARY,
                                          ended_on__isnull=True).first()
    if current is not None:
        before = snapshot(current)
        current.ended_on, current.end_reason = started_on, "replaced"
        current.save(update_fields=["ended_on", "end_reason"])
        _record(actor, "residence.end", citizen, current, before, reason)
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                citizen=citizen, kind=ResidenceKind.TEMPORARY, commune=commune, address=address,
                started_on=started_on, expires_on=expires_on, created_at=timezone.now())
    except IntegrityError as exc:
        raise Conflict("E_CONCURRENT_CHANGE", _("Hồ sơ vừa thay đổi; hãy thử lại."), "personal_id") \
            from exc
    _record(actor, "residence.temporary", citizen, registration, None, reason)
    refresh_current_place(citizen)
    return registration


@transaction.atomic
def renew_temporary(actor: Actor, registration_id: int, *, expires_on: dt.date,
                    reason: str, today: dt.date | None = None) -> Registration:
    """Extend a temporary residence: a new period of at most 2 years, linked to the old one."""
    today = today or timezone.localdate()
    old = Registration.objects.select_for_update().select_related("citizen", "commune") \
        .filter(pk=registration_id, kind=ResidenceKind.TEMPORARY, ended_on__isnull=True).first()
    if old is None:
        raise NotFound("E_REGISTRATION_NOT_FOUND", _("Không tìm thấy đăng ký tạm trú còn hiệu lực."),
                       "registration")
    check_registration_place(actor, old)
    start = max(today, old.started_on)
    if expires_on <= start or expires_on > add_years(start, 2):
        raise DomainError("E_TEMPORARY_TOO_LONG", _("Gia hạn tạm trú tối đa 2 năm kể từ ngày gia hạn."),
                          "expires_on")
    before = snapshot(old)
    old.ended_on, old.end_reason = start, "renewed"
    old.save(update_fields=["ended_on", "end_reason"])
    _record(actor, "residence.end", old.citizen, old, before, reason)
    new = Registration.objects.create(
        citizen=old.citizen, kind=ResidenceKind.TEMPORARY, commune=old.commune,
        address=old.address, started_on=start, expires_on=expires_on, renewed_from=old,
        created_at=timezone.now())
    _record(actor, "residence.renew", old.citizen, new, None, reason)
    refresh_current_place(old.citizen)
    return new


def check_absence_place(actor: Actor, personal_id: str) -> Registration:
    """The rule of who declares a temporary absence (Art. 31): the police of the commune of
    permanent residence — wherever the person lives now. Returns that permanent registration.
    ``declare_absence`` applies it, and the console before it shows the form."""
    permanent = Registration.objects.select_related("commune").filter(
        citizen__personal_id=personal_id, kind=ResidenceKind.PERMANENT, ended_on__isnull=True).first()
    if permanent is None:
        raise DomainError("E_NO_PERMANENT_RESIDENCE",
                          _("Khai báo tạm vắng tại nơi thường trú; người này chưa có nơi thường trú."),
                          "personal_id")
    population.check_residence_commune(actor, permanent.commune)
    return permanent


def check_registration_place(actor: Actor, registration: Registration) -> None:
    """The rule of who renews or ends a registration: the police of the commune where it is
    registered — wherever the person lives now (an expired temporary residence is closed by the
    commune that registered it). ``renew_temporary`` and ``end_registration`` apply it, and the
    console before it shows their forms."""
    population.check_residence_commune(actor, registration.commune)


@transaction.atomic
def declare_absence(actor: Actor, personal_id: str, *, case: str, started_on: dt.date,
                    expires_on: dt.date | None, destination: str, reason: str) -> Registration:
    """Temporary absence declaration (Art. 31) at the commune of permanent residence."""
    if case not in AbsenceCase.values:
        raise DomainError("E_CHOICE_INVALID", _("Trường hợp khai báo tạm vắng không hợp lệ."), "case")
    citizen = _living_citizen(personal_id)
    permanent = check_absence_place(actor, citizen.personal_id)
    if expires_on is not None and expires_on <= started_on:
        raise DomainError("E_DATE_ORDER", _("Ngày kết thúc phải sau ngày bắt đầu."), "expires_on")
    registration = Registration.objects.create(
        citizen=citizen, kind=ResidenceKind.TEMPORARY_ABSENCE, commune=permanent.commune,
        address=permanent.address, started_on=started_on, expires_on=expires_on,
        absence_case=case, destination=nfc(destination or ""), created_at=timezone.now())
    _record(actor, "residence.absence", citizen, registration, None, reason)
    return registration


@transaction.atomic
def notify_stay(actor: Actor, personal_id: str, *, commune: AdminUnit, address: str,
                started_on: dt.date, ends_on: dt.date, reason: str) -> Registration:
    """Notification of stay (lưu trú): a short stay outside one's residence."""
    population.check_residence_commune(actor, commune)
    address = _require_address(address)
    if ends_on < started_on:
        raise DomainError("E_DATE_ORDER", _("Ngày kết thúc phải sau ngày bắt đầu."), "ends_on")
    if (ends_on - started_on).days >= 30:
        raise DomainError("E_STAY_TOO_LONG", _("Lưu trú từ 30 ngày trở lên phải đăng ký tạm trú."),
                          "ends_on")
    citizen = _living_citizen(personal_id)
    registration = Registration.objects.create(
        citizen=citizen, kind=ResidenceKind.STAY_NOTICE, commune=commune, address=address,
        started_on=started_on, expires_on=ends_on, created_at=timezone.now())
    _record(actor, "residence.stay", citizen, registration, None, reason)
    return registration


@transaction.atomic
def end_registration(actor: Actor, registration_id: int, *, ended_on: dt.date, reason: str,
                     end_reason: str = "deleted") -> Registration:
    """Close a registration (deletion of residence, return from absence…). Nothing is deleted."""
    reg = Registration.objects.select_for_update().select_related("citizen", "commune") \
        .filter(pk=registration_id, ended_on__isnull=True).first()
    if reg is None:
        raise NotFound("E_REGISTRATION_NOT_FOUND", _("Không tìm thấy đăng ký còn hiệu lực."),
                       "registration")
    check_registration_place(actor, reg)
    if ended_on < reg.started_on:
        raise DomainError("E_DATE_ORDER", _("Ngày kết thúc trước ngày bắt đầu."), "ended_on")
    before = snapshot(reg)
    reg.ended_on, reg.end_reason = ended_on, nfc(end_reason)[:255]
    reg.save(update_fields=["ended_on", "end_reason"])
    if reg.kind == ResidenceKind.PERMANENT:
        HouseholdMember.objects.filter(citizen=reg.citizen, left_on__isnull=True).update(left_on=ended_on)
    _record(actor, "residence.end", reg.citizen, reg, before, reason)
    refresh_current_place(reg.citizen)
    return reg


@transaction.atomic
def change_household_head(actor: Actor, household_number: str, new_head_personal_id: str, *,
                          reason: str, on: dt.date) -> Household:
    household = Household.objects.select_for_update().select_related("commune", "head") \
        .filter(number=household_number).first()
    if household is None:
        raise NotFound("E_HOUSEHOLD_NOT_FOUND", _("Không tìm thấy hộ."), "household_number")
    population.check_residence_commune(actor, household.commune)
    member = HouseholdMember.objects.select_related("citizen").filter(
        household=household, citizen__personal_id=new_head_personal_id, left_on__isnull=True).first()
    if member is None:
        raise DomainError("E_NOT_A_MEMBER", _("Người này không phải thành viên của hộ."),
                          "personal_id")
    before = {"number": household.number, "head": household.head.personal_id}
    HouseholdMember.objects.filter(household=household, relationship=Relationship.HEAD,
                                   left_on__isnull=True).update(relationship=Relationship.OTHER)
    member.relationship = Relationship.HEAD
    member.save(update_fields=["relationship"])
    household.head = member.citizen
    household.save(update_fields=["head"])
    residence_changed.send(sender=Household, instance=household)
    audit.record(actor, "household.change_head", subject_type="household", subject_id=household.pk,
                 personal_id=new_head_personal_id, before=before,
                 after={"number": household.number, "head": new_head_personal_id}, reason=reason)
    return household


@audit.refusals_recorded("citizen.create", subject_type="citizen")
@transaction.atomic
def register_new_resident(actor: Actor, raw: dict[str, Any], *, commune: AdminUnit, address: str,
                          started_on: dt.date, reason: str, household_number: str | None = None,
                          relationship: str = Relationship.HEAD) -> Registration:
    """A person new to the registry (a birth, a first registration) together with their
    permanent residence, in one transaction: either both are recorded or neither."""
    address = _require_address(address)
    citizen = population.register_citizen(actor, raw, commune=commune, reason=reason)
    return register_permanent(actor, citizen.personal_id, commune=commune, address=address,
                              started_on=started_on, reason=reason,
                              household_number=household_number, relationship=relationship)
