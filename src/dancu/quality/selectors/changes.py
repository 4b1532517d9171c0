"""Which provinces' counts a registry write may move: the inputs of every check of
``quality.checks``, read where they live (docs/data-quality.md, "What marks a province").

A citizen check is counted in the person's own place (their current province, or ``UNPLACED``),
but three reach other records, possibly elsewhere in the country:

- ``Q_DUPLICATE``: a record's result depends on every record sharing its ``duplicate_key`` — a
  new record, or one whose key changed, moves the records with its old and its new key;
- ``Q_PARENT_YOUNGER``: a child's result depends on the parent's birth year;
- ``Q_DECEASED_HEAD`` (counted in the household's commune): on the head's life status.

``Q_TEMP_EXPIRED`` is counted in the registration's commune, ``Q_DECEASED_HEAD`` in the
household's. A move changes the place left as well as the place reached. The date-dependent
checks move at midnight: the refresh recounts every province then, whatever the marks.

Indexed reads of a few rows (the name/birth-year index, the parents' and the head's foreign
keys), made only when the fields concerned changed: this runs inside every registry write.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from dancu.geo.selectors import unit_by_pk
from dancu.population.models import Citizen, LifeStatus
from dancu.quality.selectors.scan import UNPLACED, provinces
from dancu.residence.models import Household

# ``checks.duplicate_key``'s parts, as fields of the row.
DUPLICATE_KEY = ("name_key", "birth_year", "birth_month", "birth_day", "father_id", "mother_id")


def place(citizen: Citizen) -> int | None:
    """Where a person is counted: their current province, or ``UNPLACED`` with no commune."""
    return citizen.current_province_id if citizen.current_commune_id is not None else UNPLACED


def province_of_commune(commune_id: int) -> int | None:
    return unit_by_pk(commune_id).province_id


def _places(rows: Any) -> set[int | None]:
    return {province if commune is not None else UNPLACED for commune, province in rows}


def _sharing_key(citizen: Citizen) -> set[int | None]:
    key = {f: getattr(citizen, f) for f in DUPLICATE_KEY}  # ``f=None`` is ``IS NULL``, as the key's 0
    return _places(
        Citizen.objects.filter(**key)
        .exclude(pk=citizen.pk)
        .values_list("current_commune_id", "current_province_id")
        .distinct()
    )


def provinces_touched(before: Citizen | None, after: Citizen) -> set[int | None]:
    """The provinces (``UNPLACED`` for the people with no place) whose counts may differ after
    this write of a citizen row (``before`` None: a new record)."""
    out = {place(after)}
    if before is not None:
        out.add(place(before))
    key_changed = before is None or any(getattr(before, f) != getattr(after, f) for f in DUPLICATE_KEY)
    if key_changed:
        out |= _sharing_key(after)
        if before is not None:
            out |= _sharing_key(before)
    if before is not None and before.birth_year != after.birth_year:
        out |= _places(
            Citizen.objects.filter(Q(father_id=after.pk) | Q(mother_id=after.pk))
            .values_list("current_commune_id", "current_province_id")
            .distinct()
        )
    deceased = LifeStatus.DECEASED
    if before is not None and (before.life_status == deceased) != (after.life_status == deceased):
        out |= {
            province_of_commune(c)
            for c in Household.objects.filter(head_id=after.pk).values_list("commune_id", flat=True)
        }
    return out


def every_province() -> list[int | None]:
    """After a bulk import: its records may share keys and parents with anyone."""
    return [*provinces(), UNPLACED]
