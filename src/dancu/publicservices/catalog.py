"""The procedure catalog as data: ``catalog.json`` beside this module.

``sync_catalog`` writes it into ``Procedure`` rows (insert or update by code); the data
migrations call it with their historical model (a change of the file ships with a new data
migration calling it again), so a change of the catalog is a change of data, not of code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATALOG_FILE = Path(__file__).with_name("catalog.json")
FIELDS = (
    "slug",
    "name_vi",
    "name_en",
    "legal_basis",
    "agency",
    "level",
    "time_limit_days",
    "fee_vnd",
    "fee_exemptions",
    "components",
    "form_schema",
    "registry_fields",
    "online_level",
    "essential",
    "essential_number",
    "min_loa",
    "effect",
    "steps",
)


def load() -> list[dict[str, Any]]:
    with CATALOG_FILE.open(encoding="utf-8") as fh:
        return list(json.load(fh)["procedures"])


def sync_catalog(procedure_model: Any) -> int:
    """Insert or update every procedure of the file; returns how many. Procedures no longer
    in the file are left as they are (dossiers refer to them); set ``active`` false by hand."""
    count = 0
    # A data migration's historical model has the fields of its time only.
    known = {f.name for f in procedure_model._meta.get_fields()}
    for entry in load():
        procedure_model.objects.update_or_create(
            code=entry["code"], defaults={k: entry.get(k) for k in FIELDS if k in entry and k in known}
        )
        count += 1
    return count
