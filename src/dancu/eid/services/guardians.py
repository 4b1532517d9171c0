"""A child's account through the level-2 account of a parent recorded in the registry."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.audit import services as audit
from dancu.core.errors import DomainError
from dancu.eid import assurance
from dancu.eid.models import AccountStatus, ApplicationStatus, Channel, EidAccount, EidApplication
from dancu.eid.services._common import _clean_personal_id, _create_account, account_snapshot, citizen_actor


@transaction.atomic
def register_child(guardian: EidAccount, child_personal_id: str, *, ip: str | None = None,
                   today: dt.date | None = None) -> EidAccount:
    """Level 1 for a child under 6 (or, on request, up to 14) through the level-2 account of a
    parent recorded in the registry. The child's account has no password of its own."""
    if guardian.status != AccountStatus.ACTIVE or guardian.level < 2:
        raise DomainError("E_GUARDIAN_LEVEL",
                          _("Người giám hộ cần tài khoản định danh mức 2 đang hoạt động."),
                          "guardian")
    child_personal_id = _clean_personal_id(child_personal_id)
    from dancu.population.models import Citizen

    child = Citizen.objects.filter(personal_id=child_personal_id).first()
    parent_ids = {child.father_id, child.mother_id} if child else set()
    now = timezone.now()
    app = EidApplication.objects.create(personal_id=child_personal_id, level=1, channel=Channel.GUARDIAN,
                                        phone=guardian.phone, guardian=guardian, submitted_at=now, ip=ip)
    audit.record(citizen_actor(guardian.personal_id, user_id=guardian.user_id, ip=ip),
                 "eid.registry_check", subject_type="eid_application", subject_id=app.pk,
                 personal_id=child_personal_id, reason=_("Đăng ký định danh điện tử cho con"))
    if child is None or guardian.citizen_id not in parent_ids:
        raise DomainError("E_NOT_PARENT", _("CSDL dân cư không ghi nhận bạn là cha/mẹ của người này."),
                          "personal_id")
    if child.life_status != "living":
        raise DomainError("E_PERSON_DECEASED", _("Công dân không còn ở trạng thái còn sống."), "personal_id")
    age = assurance.age_on(child.birth_year, child.birth_month, child.birth_day,
                           today or timezone.localdate())
    if age >= 14:
        raise DomainError("E_AGE_SELF", _("Người từ 14 tuổi tự đăng ký tài khoản."), "personal_id")
    account = _create_account(child, level=1, phone=guardian.phone, guardian=guardian)
    app.status, app.account, app.decided_at, app.decided_by = (
        ApplicationStatus.APPROVED, account, now, "registry")
    app.save()
    audit.record(citizen_actor(guardian.personal_id, user_id=guardian.user_id, ip=ip),
                 "eid.account.create", subject_type="eid_account", subject_id=account.pk,
                 personal_id=child_personal_id, after=account_snapshot(account),
                 reason=_("Đăng ký định danh điện tử cho con"))
    return account
