"""Signals by which contexts above population in the map learn of changes to a person, without
population importing them (the dependency rule of ARCHITECTURE.md).

``life_status_changed(sender=Citizen, citizen=…, previous=…, actor=…)`` is sent inside the
transaction of the change, so what receivers write commits or rolls back with it.
"""

from django.dispatch import Signal

life_status_changed = Signal()
