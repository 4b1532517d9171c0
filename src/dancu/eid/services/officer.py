"""Officers' actions on an account (suspend, reinstate, revoke, with a reason) and the registry's:
the account of a person recorded deceased is locked."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, NotFound
from dancu.eid.models import AccountStatus, EidAccount
from dancu.eid.services._common import account_snapshot
from dancu.eid.signals import account_status_changed


def _officer_account(actor: Actor, personal_id: str) -> EidAccount:
    actor.require_write()
    from dancu.population.selectors import get_citizen

    get_citizen(actor, personal_id, reason=str(_("Quản lý tài khoản định danh điện tử")))
    account = EidAccount.objects.select_for_update().filter(personal_id=personal_id).first()
    if account is None:
        raise NotFound("E_ACCOUNT_UNKNOWN", _("Công dân chưa có tài khoản định danh điện tử."), "personal_id")
    return account


def _set_status(actor: Actor, account: EidAccount, status: str, reason: str, action: str) -> EidAccount:
    before = account_snapshot(account)
    account.status, account.status_reason = status, reason[:300]
    account.updated_at, account.version = timezone.now(), account.version + 1
    account.save()
    audit.record(actor, action, subject_type="eid_account", subject_id=account.pk,
                 personal_id=account.personal_id, before=before, after=account_snapshot(account),
                 reason=reason)
    account_status_changed.send(sender=EidAccount, account=account)
    return account


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("E_REASON_REQUIRED", _("Cần nêu lý do."), "reason")
    return reason


@transaction.atomic
def suspend_account(actor: Actor, personal_id: str, *, reason: str) -> EidAccount:
    reason = _require_reason(reason)
    account = _officer_account(actor, personal_id)
    if account.status != AccountStatus.ACTIVE:
        raise Conflict("E_ACCOUNT_NOT_ACTIVE", _("Tài khoản không ở trạng thái hoạt động."), "personal_id")
    return _set_status(actor, account, AccountStatus.SUSPENDED, reason, "eid.account.suspend")


@transaction.atomic
def reinstate_account(actor: Actor, personal_id: str, *, reason: str) -> EidAccount:
    reason = _require_reason(reason)
    account = _officer_account(actor, personal_id)
    if account.status != AccountStatus.SUSPENDED:
        raise Conflict("E_ACCOUNT_NOT_SUSPENDED", _("Chỉ khôi phục được tài khoản đang tạm dừng."),
                       "personal_id")
    return _set_status(actor, account, AccountStatus.ACTIVE, reason, "eid.account.reinstate")


@transaction.atomic
def revoke_account(actor: Actor, personal_id: str, *, reason: str) -> EidAccount:
    reason = _require_reason(reason)
    account = _officer_account(actor, personal_id)
    if account.status == AccountStatus.REVOKED:
        raise Conflict("E_ACCOUNT_REVOKED", _("Tài khoản đã bị thu hồi."), "personal_id")
    return _set_status(actor, account, AccountStatus.REVOKED, reason, "eid.account.revoke")


def lock_for_death(citizen_id: int, actor: Actor) -> EidAccount | None:
    """Called (inside the registry's transaction) when a person is recorded deceased."""
    account = EidAccount.objects.select_for_update().filter(citizen_id=citizen_id).first()
    if account is None or account.status == AccountStatus.REVOKED:
        return account
    return _set_status(actor, account, AccountStatus.LOCKED,
                       str(_("Khóa tự động: CSDL dân cư ghi nhận công dân đã chết.")), "eid.account.lock")
