"""Signals of the accounts context, for contexts above it in the map (the audit trail).

``account_changed(sender=OfficerProfile or ApiToken, actor=…, action=…, subject_type=…,
subject_id=…, before=…, after=…)`` is sent inside the transaction that created an officer or
service account, or issued or revoked an API token, so that the audit event commits or rolls
back with the change (``audit.receivers``). Accounts cannot import the audit context, which
sits above it in ARCHITECTURE.md's dependency map.
"""

from django.dispatch import Signal

account_changed = Signal()
