"""Reads of the portal's pages that the publicservices selectors do not already give."""

from __future__ import annotations

from typing import Any

from dancu.core.text import search_key
from dancu.population.models import Citizen
from dancu.publicservices.models import Dossier, Notification, Procedure


def catalog(query: str = "") -> list[Procedure]:
    """Active procedures, the essential ones first (in their Project 06 order), then by code;
    ``query`` matches the code or the Vietnamese/English name, diacritics and case ignored
    ("tam tru" finds "Đăng ký tạm trú"). The catalog is a few dozen rows: filtered in Python."""
    rows = list(Procedure.objects.filter(active=True).order_by("-essential", "essential_number", "code"))
    words = search_key(query).split()
    if not words:
        return rows
    return [p for p in rows
            if all(w in f"{p.code} {search_key(p.name_vi)} {search_key(p.name_en)}" for w in words)]


def procedure(slug: str) -> Procedure | None:
    return Procedure.objects.filter(slug=slug, active=True).first()


def citizen(personal_id: str) -> Citizen | None:
    return Citizen.objects.filter(personal_id=personal_id).first()


def dossier_by_key(applicant: Any, key: str) -> Dossier | None:
    return Dossier.objects.filter(applicant=applicant, idempotency_key=key).first()


def unread_count(personal_id: str) -> int:
    return Notification.objects.filter(citizen__personal_id=personal_id, read_at__isnull=True).count()
