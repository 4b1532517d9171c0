"""What the public services tell the contexts above them (ARCHITECTURE.md: a context learns of
a change made below it by a signal sent inside the transaction of the change).

``dossier_event(sender=DossierEvent, dossier=Dossier, event=DossierEvent)`` is sent by
``services.submission.record_event`` — the one place every ``DossierEvent`` is written — right
after the event row, inside the transition's transaction: what a receiver writes (the ``kpi``
context's tallies) commits or rolls back with the transition. A receiver that raises rolls the
transition back. The dossier is the row as the transition left it (its new status, ``paid``,
``rating``, ``result_document``, components attached)."""

from django.dispatch import Signal

dossier_event = Signal()
