from __future__ import annotations

from django.db.models import QuerySet

from dancu.audit.models import AuditEvent


def history_of(personal_id: str) -> QuerySet[AuditEvent]:
    """Every change (before/after) to a person's records, newest first."""
    return (AuditEvent.objects.filter(personal_id=personal_id)
            .exclude(before__isnull=True, after__isnull=True)
            .order_by("-at", "-id"))


def accesses_of(personal_id: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(personal_id=personal_id).order_by("-at", "-id")
