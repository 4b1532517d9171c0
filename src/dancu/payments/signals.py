"""Signals of the payments context (ARCHITECTURE.md: a context learns of a change below it
through a signal sent inside the transaction of the change).

``payment_succeeded`` (sender=Payment, payment=<Payment>): sent inside the transaction that
records a payment's success, once per payment, whichever message brought it (the browser's
return, the IPN, reconciliation). A receiver's writes commit or roll back with the success; a
receiver that raises rolls the success back too (the gateway is answered "99" and the payment
stays pending for the next notification or reconciliation).
"""

from django.dispatch import Signal

payment_succeeded = Signal()
