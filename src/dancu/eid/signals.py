"""Signals of the e-ID context, for contexts to its right (the authentication service).

``account_status_changed(sender=EidAccount, account=…)`` is sent inside the transaction that
locked, suspended, revoked or reinstated an account.
"""

from django.dispatch import Signal

account_status_changed = Signal()
