"""What the residence half of the registry tells the contexts above it (ARCHITECTURE.md: a
context learns of a change made below it by a signal sent inside the transaction of the change).

``residence_changed(sender=Registration | Household, instance=…)``: a registration was created or
ended (every such write is audited through ``services._record``, which sends it), or a household
was founded or given a new head. A change of the person's current place is announced by
``population.signals.citizen_changed``.
"""

from django.dispatch import Signal

residence_changed = Signal()
