"""The registry and e-ID counts of a snapshot, per commune, through the registry's and e-ID's
own selectors (one grouped query per table, no loop over people)."""

from __future__ import annotations

import datetime as dt

from dancu.eid.selectors import accounts_by_commune
from dancu.population.selectors import living_by_commune

EID_ELIGIBLE_AGE = 14  # Decree 69/2024: levels 1 and 2 from 14 (PROJECT06.md §5)
FIELDS = ("alive", "eligible", "eid_applicants", "eid_active", "eid_level1", "eid_level2")


def counts_by_commune(day: dt.date) -> dict[tuple[int, int], dict[str, int]]:
    """(commune, province) → the RegistryTally counters as of ``day``."""
    out = {
        key: dict.fromkeys(FIELDS, 0) | values
        for key, values in living_by_commune(day, eligible_age=EID_ELIGIBLE_AGE).items()
    }
    for key, values in accounts_by_commune().items():
        out.setdefault(key, dict.fromkeys(FIELDS, 0)).update(values)
    return out
