"""No table carries two B-tree indexes on the same columns: each is maintained on every write."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import connection


def _duplicate_indexes(table: str) -> dict[tuple[str, ...], list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    by_columns: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for name, c in constraints.items():
        if c["index"] and not c["primary_key"] and not c.get("unique") and c["columns"]:
            by_columns[(*c["columns"], *(c.get("orders") or []), c.get("type") or "")].append(name)
    return {cols: names for cols, names in by_columns.items() if len(names) > 1}


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["population_citizen", "population_importbatch",
                                   "residence_registration", "residence_household",
                                   "residence_householdmember", "audit_auditevent"])
def test_no_duplicate_indexes(table: str) -> None:
    assert _duplicate_indexes(table) == {}
