"""Writing the audit trail. Append-only: nothing here updates or deletes an event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


def record(actor: Actor, action: str, *, subject_type: str = "", subject_id: Any = "",
           personal_id: str = "", before: dict | None = None, after: dict | None = None,
           reason: str | StrPromise = "", details: dict | None = None) -> AuditEvent:
    """One event: who (actor), what (action on subject), when (now), why (reason)."""
    return AuditEvent.objects.create(details=details, **event_fields(
        actor, action, subject_type, subject_id, personal_id, before, after, reason))


def record_many(actor: Actor, action: str, personal_ids: Iterable[str], *,
                subject_type: str = "citizen", reason: str = "") -> int:
    """One event per person, in one INSERT (search results, exports)."""
    events = [AuditEvent(**event_fields(actor, action, subject_type, pid, pid, None, None, reason))
              for pid in personal_ids]
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)


def event_fields(actor: Actor, action: str, subject_type: str, subject_id: Any, personal_id: str,
                 before: dict | None, after: dict | None, reason: str | StrPromise) -> dict[str, Any]:
    """The column values of one event. Public for the one hot path that writes its event in the
    same SQL statement as the read (population.selectors.lookup_citizen_document)."""
    return {
        "at": timezone.now(),
        "actor_id": actor.user_id,
        "actor_label": actor.label[:150],
        "action": action,
        "source": actor.source,
        "source_ref": actor.source_ref[:120],
        "reason": str(reason or "")[:500],
        "subject_type": subject_type,
        "subject_id": str(subject_id)[:40],
        "personal_id": personal_id or "",
        "before": before,
        "after": after,
        "ip": actor.ip,
    }
