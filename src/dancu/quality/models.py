"""Tallies of the data-quality checks: the aggregates the report reads (docs/data-quality.md).

One row per (commune, code): how many records of the commune fail the check ``code`` (a
``quality.checks`` code), or one of the denominators and "clean" counts (``TALLY_CODES``), as
evaluated for the local date ``as_of`` by a scan that started at ``computed_at`` (freshness).
People with no current place have one row per code with ``commune`` NULL. Written only by
``quality.services.recompute`` (one grouped scan of a province); never edited by hand.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class QualityTally(models.Model):
    commune = models.ForeignKey("geo.AdminUnit", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", help_text="NULL: people with no current place")
    # The commune's province, kept here so a province's or the nation's rows are read by index.
    province = models.ForeignKey("geo.AdminUnit", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    code = models.CharField(max_length=40)
    count = models.PositiveIntegerField()
    as_of = models.DateField(help_text="local date the checks were evaluated for")
    computed_at = models.DateTimeField(help_text="start of the scan: the data are as of then")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commune", "code"], name="quality_tally_commune_code"),
            models.UniqueConstraint(fields=["code"], condition=Q(commune__isnull=True),
                                    name="quality_tally_unplaced_code"),
        ]
        indexes = [models.Index(fields=["province", "code"], name="quality_tally_province")]

    def __str__(self) -> str:
        return f"{self.commune_id or '-'} {self.code}={self.count}"
