"""When an e-ID account stops being active (locked on death, suspended, revoked), every token
issued for it is revoked at once, in the same transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from dancu.eid.models import AccountStatus
from dancu.eid.signals import account_status_changed


@receiver(account_status_changed, dispatch_uid="oidc.revoke_on_account_status")
def _revoke_on_status(sender: Any, account: Any, **kwargs: Any) -> None:
    if account.status != AccountStatus.ACTIVE:
        from dancu.oidc.services import revoke_tokens

        revoke_tokens(account.user)
