"""Seed the rule set of Decision 766/QĐ-TTg from kpi/rules/decision-766.json. A later decision
is a new JSON file and a new data migration (``load_rule_set``), effective from its date."""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

RULES = Path(__file__).resolve().parent.parent / "rules"


def load_rule_set(apps, name: str) -> None:
    data = json.loads((RULES / name).read_text(encoding="utf-8"))
    apps.get_model("kpi", "ScoringRule").objects.update_or_create(
        version=data["version"],
        defaults={
            "decision": data["decision"],
            "effective_from": dt.date.fromisoformat(data["effective_from"]),
            "rules": data,
        },
    )


def seed(apps, schema_editor) -> None:
    load_rule_set(apps, "decision-766.json")


def unseed(apps, schema_editor) -> None:
    apps.get_model("kpi", "ScoringRule").objects.filter(version="766-2022").delete()


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
