"""Figures born from operations: aggregates, Decision 766's index, Project 06 figures and the
dashboards (issue #14; docs/kpi.md)."""

from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "dancu.kpi"
    label = "kpi"
    verbose_name = "KPIs and the service index"

    def ready(self) -> None:
        from dancu.kpi import (  # noqa: F401  (the tally receiver; the snapshot job)
            receivers,
            tasks,
        )
