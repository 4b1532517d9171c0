"""Writing the audit trail. Append-only: nothing here updates or deletes an event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from django.db import connection
from django.utils import timezone

from dancu.audit.models import AuditEvent

if TYPE_CHECKING:  # the audit trail needs only the actor's attributes, not the accounts app
    from django.utils.functional import _StrPromise as StrPromise

    from dancu.accounts.actor import Actor
    from dancu.core.errors import DomainError


def record(actor: Actor, action: str, *, subject_type: str = "", subject_id: Any = "",
           personal_id: str = "", before: dict | None = None, after: dict | None = None,
           reason: str | StrPromise = "", details: dict | None = None) -> AuditEvent:
    """One event: who (actor), what (action on subject), when (now), why (reason)."""
    return AuditEvent.objects.create(details=details, **event_fields(
        actor, action, subject_type, subject_id, personal_id, before, after, reason))


def record_refusal(actor: Actor, action: str, error: DomainError | None = None, *,
                   subject_type: str = "", subject_id: Any = "", personal_id: str = "",
                   reason: str = "", details: dict | None = None) -> AuditEvent:
    """The one record of a refusal: ``<action>.denied`` with the refusal's code and field (and
    ``details``). Every refusal path calls it — the console's officer-page guard, the services'
    permission checks — *outside* the transaction the refusal rolls back, so the row stays."""
    info: dict[str, Any] = dict(details or {})
    if error is not None:
        if not _in_transaction():  # inside one, the row may yet roll back: an outer layer records
            error.audited = True  # type: ignore[attr-defined]  # see was_recorded
        info.setdefault("code", error.code)
        fields = [e.field for e in error.errors if e.field]
        if fields:
            info.setdefault("field", fields[0])
    return record(actor, f"{action}.denied", subject_type=subject_type, subject_id=subject_id,
                  personal_id=personal_id, reason=reason, details=info or None)


def _in_transaction() -> bool:
    """In an atomic block of the code (not one of a test case's, which Django marks)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def was_recorded(error: BaseException) -> bool:
    """Has this refusal been recorded already (by the service that decided it)? The console's
    refusal page records only those that have not."""
    return bool(getattr(error, "audited", False))


P = ParamSpec("P")
R = TypeVar("R")


def refusals_recorded(action: str, *, subject_type: str = ""
                      ) -> Callable[[Callable[Concatenate[Actor, P], R]], Callable[Concatenate[Actor, P], R]]:
    """For a service whose permission checks (``Actor.require_write``, the area) run inside its
    transaction: a refusal (403) that leaves it is recorded once the transaction has rolled back.
    Put it above ``@transaction.atomic``."""
    from dancu.core.errors import OutOfJurisdiction

    def decorate(service: Callable[Concatenate[Actor, P], R]) -> Callable[Concatenate[Actor, P], R]:
        @wraps(service)
        def wrapper(actor: Actor, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return service(actor, *args, **kwargs)
            except OutOfJurisdiction as exc:
                if not was_recorded(exc):
                    record_refusal(actor, action, exc, subject_type=subject_type,
                                   reason=str(kwargs.get("reason") or ""))
                raise

        return wrapper

    return decorate


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
