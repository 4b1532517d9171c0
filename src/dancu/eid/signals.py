"""Signals of the e-ID context, for contexts above it in the map (the authentication service).

``account_status_changed(sender=EidAccount, account=…)`` is sent inside the transaction that
locked, suspended, revoked or reinstated an account.
"""

from django.dispatch import Signal

account_status_changed = Signal()
