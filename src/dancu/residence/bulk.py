"""The residence side of the bulk import: households, memberships and registrations written
as rows, for ``population.bulk`` (which validates them with the rules of ``residence.services``).
The population context hands over the rows; only this module writes the residence tables."""

from __future__ import annotations

from collections.abc import Iterable

from dancu.core.bulk import LoadWindow, Sink, select_in, table_of
from dancu.geo.selectors import unit_by_pk
from dancu.residence.models import Household, HouseholdMember, Registration
from dancu.residence.services import counter_for

HOUSEHOLD_COLUMNS = ("id", "number", "commune_id", "address", "head_id", "created_at")
MEMBER_COLUMNS = ("household_id", "citizen_id", "relationship", "joined_on", "left_on")
REGISTRATION_COLUMNS = ("citizen_id", "kind", "commune_id", "address", "household_id", "started_on",
                        "expires_on", "ended_on", "end_reason", "absence_case", "destination",
                        "renewed_from_id", "created_at")
TABLES = (table_of(Household), table_of(HouseholdMember), table_of(Registration))


def households_by_number(numbers: Iterable[str]) -> list[tuple[str, int, int]]:
    """(number, id, commune_id) of the existing households among ``numbers``."""
    return select_in(f"SELECT number, id, commune_id FROM {table_of(Household)}",  # noqa: S608
                     "number", numbers)


def reserve_household_ids(sink: Sink, n: int) -> list[int]:
    return sink.reserve_ids(Household, n)


def insert_residences(sink: Sink, households: list[tuple], members: list[tuple],
                      registrations: list[tuple]) -> None:
    """Rows in the column order above, inside the caller's chunk transaction."""
    sink.insert(table_of(Household), HOUSEHOLD_COLUMNS, sink.adapt(households, (), (5,)))
    sink.insert(table_of(HouseholdMember), MEMBER_COLUMNS, sink.adapt(members, (3, 4), ()))
    sink.insert(table_of(Registration), REGISTRATION_COLUMNS,
                sink.adapt(registrations, (5, 6, 7), (12,)))
    advance_household_counters(households)


def advance_household_counters(households: list[tuple]) -> None:
    """Imported households numbered '<commune code>-<n>' move their commune's counter past n,
    so the numbers given later by ``services._new_household`` never meet them."""
    highest: dict[int, int] = {}
    for _id, number, commune_id, *_rest in households:
        code, _sep, suffix = number.rpartition("-")
        if suffix.isascii() and suffix.isdigit() and code == unit_by_pk(commune_id).code:
            highest[commune_id] = max(highest.get(commune_id, 0), int(suffix))
    for commune_id, n in sorted(highest.items()):  # one lock order for every writer
        counter = counter_for(commune_id)
        if counter.last_number < n:
            counter.last_number = n
            counter.save(update_fields=["last_number"])


def load_window() -> LoadWindow:
    """The residence tables' part of an initial load (``population.bulk``, PostgreSQL): their
    foreign keys and secondary indexes, dropped and built again in the caller's transaction,
    except the unique household number ``households_by_number`` looks households up by."""
    return LoadWindow(TABLES, keep_unique={table_of(Household): ("number",)})
