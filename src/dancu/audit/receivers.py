"""What the audit trail records when a context below it in the map changes something it owns."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from dancu.accounts.signals import account_changed
from dancu.audit.services import record


@receiver(account_changed, dispatch_uid="audit.account_changed")
def _record_account_change(sender: Any, actor: Any, action: str, subject_type: str,
                           subject_id: Any, before: dict | None = None, after: dict | None = None,
                           **kwargs: Any) -> None:
    record(actor, action, subject_type=subject_type, subject_id=subject_id, before=before,
           after=after)
