"""Signals by which contexts above population in the map learn of changes to a person, without
population importing them (the dependency rule of ARCHITECTURE.md). Each is sent inside the
transaction of the change, so what receivers write commits or rolls back with it.

- ``life_status_changed(sender=Citizen, citizen=…, previous=…, actor=…)``: a death (or its
  correction) recorded by ``services.correct_citizen``.
- ``citizen_changed(sender=Citizen, before=Citizen | None, after=Citizen)``: every write of a
  citizen row by ``services`` — a new record (``before`` None), a correction, a change of current
  place (``set_current_place``). ``before`` is the row as it was (a copy), ``after`` as written.
- ``citizens_loaded(sender=ImportBatch, batch=…)``: the bulk import wrote a chunk of citizens,
  households and registrations, or resolved the links between them (``population.bulk``) — rows
  no signal above announces one by one.
"""

from django.dispatch import Signal

life_status_changed = Signal()
citizen_changed = Signal()
citizens_loaded = Signal()
