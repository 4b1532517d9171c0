"""Tallies of the data-quality checks: the aggregates the report reads (docs/data-quality.md).

One row per (commune, code): how many records of the commune fail the check ``code`` (a
``quality.checks`` code), or one of the denominators and "clean" counts (``TALLY_CODES``), as
evaluated for the local date ``as_of`` by a scan that started at ``computed_at`` (freshness).
Two more kinds of rows, with ``commune`` NULL: the province's sum of its communes' rows
(``province`` set), written in the same transaction, so the national report reads one row per
province and code instead of adding up every commune; and the people with no current commune
(``province`` NULL too). Written only by ``quality.services.recompute`` (one grouped scan of a
province); never edited by hand.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class QualityTally(models.Model):
    commune = models.ForeignKey("geo.AdminUnit", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", help_text="NULL: the province's sum, or (province "
                                                             "NULL too) people with no current commune")
    # The commune's province, kept here so a province's or the nation's rows are read by index.
    province = models.ForeignKey("geo.AdminUnit", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    code = models.CharField(max_length=40)
    count = models.PositiveIntegerField()
    as_of = models.DateField(help_text="local date the checks were evaluated for")
    computed_at = models.DateTimeField(help_text="start of the scan: the data are as of then")

    # The three kinds of rows.
    COMMUNES = Q(commune__isnull=False)
    PROVINCE_SUMS = Q(commune__isnull=True, province__isnull=False)
    UNPLACED = Q(commune__isnull=True, province__isnull=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commune", "code"], name="quality_tally_commune_code"),
            models.UniqueConstraint(fields=["province", "code"], condition=Q(commune__isnull=True),
                                    name="quality_tally_province_sum_code"),
            models.UniqueConstraint(fields=["code"], condition=Q(commune__isnull=True, province__isnull=True),
                                    name="quality_tally_unplaced_code"),
        ]
        indexes = [models.Index(fields=["province", "code"], name="quality_tally_province")]

    def __str__(self) -> str:
        return f"{self.commune_id or '-'} {self.code}={self.count}"


class Change(models.Model):
    """A registry write that may have moved a province's counts: the mark that makes the
    15-minute refresh recount it (``services.due_provinces``). Written by ``quality.receivers``
    inside the transaction of the change (the registry's signals), so a mark exists exactly when
    the change committed; consumed by the recount that read it before its scan
    (``services.recompute`` deletes the marks it saw, and only those: a change committed during
    the scan leaves its mark for the next run). Insert-only until then — no row is shared by two
    writers, so marking never makes registry writes wait on each other."""

    province = models.ForeignKey("geo.AdminUnit", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", help_text="NULL: the people with no current commune")
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.province_id or '-'} @ {self.at:%Y-%m-%d %H:%M:%S}"
