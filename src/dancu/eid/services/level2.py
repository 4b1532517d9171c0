"""Level 2 at the counter: the commune police checked the card and captured the biometrics."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, OutOfJurisdiction
from dancu.eid import assurance
from dancu.eid.models import (
    AccountStatus,
    ApplicationStatus,
    Channel,
    EidAccount,
    EidApplication,
    Level2Enrolment,
)
from dancu.eid.services._common import _clean_personal_id, _create_account, account_snapshot, clean_phone


@transaction.atomic
def enrol_level2(actor: Actor, personal_id: str, *, card_checked: bool, device_reference: str,
                 capture_reference: str, phone: str = "", on_request: bool = False,
                 today: dt.date | None = None) -> EidAccount:
    """An officer of the commune police verified the card and captured the biometrics on the
    station's devices: the account is raised to level 2 (or made at level 2, to be activated by
    the person with an OTP to set a password)."""
    actor.require_write()
    if actor.role != "commune_police" or actor.jurisdiction_id is None or actor.user_id is None:
        raise OutOfJurisdiction("E_ROLE_COMMUNE_POLICE",
                                _("Chỉ công an cấp xã thu nhận hồ sơ định danh điện tử mức 2."))
    if not card_checked:
        raise DomainError("E_CARD_NOT_CHECKED", _("Cần kiểm tra thẻ căn cước của công dân."),
                          "card_checked")
    for name, value in (("device_reference", device_reference), ("capture_reference", capture_reference)):
        if not (value or "").strip():
            raise DomainError("E_REQUIRED", _("Cần mã thiết bị và mã lần thu nhận sinh trắc học."), name)
    personal_id = _clean_personal_id(personal_id)
    from dancu.population.selectors import get_citizen

    citizen = get_citizen(actor, personal_id, reason=str(_("Thu nhận định danh điện tử mức 2")))
    if citizen.life_status != "living":
        raise DomainError("E_PERSON_DECEASED", _("Công dân không còn ở trạng thái còn sống."), "personal_id")
    age = assurance.age_on(citizen.birth_year, citizen.birth_month, citizen.birth_day,
                           today or timezone.localdate())
    rule = assurance.eligibility(age)
    if not rule.level2:
        raise DomainError("E_AGE_LEVEL2", _("Người dưới 6 tuổi chưa được cấp định danh điện tử mức 2."),
                          "personal_id")
    if rule.level2_on_request and not on_request:
        raise DomainError("E_LEVEL2_ON_REQUEST",
                          _("Người từ 6 đến dưới 14 tuổi chỉ được cấp mức 2 khi có yêu cầu."), "on_request")
    now = timezone.now()
    account = EidAccount.objects.select_for_update().filter(personal_id=personal_id).first()
    before = account_snapshot(account) if account else None
    if account is not None and account.status != AccountStatus.ACTIVE:
        raise Conflict("E_ACCOUNT_NOT_ACTIVE", _("Tài khoản đang bị khóa, tạm dừng hoặc đã thu hồi."),
                       "personal_id")
    clean = clean_phone(phone) if phone else ""
    if account is None:
        if not clean:
            raise DomainError("E_REQUIRED", _("Cần số điện thoại để kích hoạt tài khoản."), "phone")
        account = _create_account(citizen, level=2, phone=clean)
    else:
        account.level = 2
        if clean:
            account.phone = clean
        account.updated_at, account.version = now, account.version + 1
        account.save()
    app = EidApplication.objects.create(
        personal_id=personal_id, level=2, channel=Channel.COUNTER, status=ApplicationStatus.APPROVED,
        phone=account.phone, on_request=on_request, account=account, submitted_at=now, decided_at=now,
        decided_by=actor.label)
    Level2Enrolment.objects.create(
        account=account, application=app, officer_id=actor.user_id, officer_label=actor.label,
        place_id=actor.jurisdiction_id, at=now, card_checked=True,
        device_reference=device_reference.strip()[:100], capture_reference=capture_reference.strip()[:100])
    audit.record(actor, "eid.account.level2", subject_type="eid_account", subject_id=account.pk,
                 personal_id=personal_id, before=before, after=account_snapshot(account),
                 reason=_("Thu nhận định danh điện tử mức 2 tại công an xã"),
                 details={"device_reference": device_reference, "capture_reference": capture_reference})
    return account
