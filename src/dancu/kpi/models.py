"""The aggregates the figures are read from (docs/kpi.md).

- ``DossierTally``: counters per (local day of the event, procedure, commune, province,
  channel), incremented by the receiver of ``publicservices.signals.dossier_event`` in the
  transition's own transaction (``services.count_event``): exact by construction, checked
  against a recomputation from the raw events (``selectors.check``).
- ``RegistryTally``: registry and e-ID counts per (day, commune), a snapshot written by a
  periodic job (``tasks.py``) with its ``computed_at`` (freshness).
- ``ScoringRule``: a rule set of Decision 766's index (data: groups, indicators, weights,
  targets, grade bands), effective from a date.
"""

from __future__ import annotations

from django.db import models

# The counters of a DossierTally row, in the order of its columns (services and selectors
# name them from here).
COUNTERS = (
    "submitted",
    "accepted",
    "supplement_requests",
    "approved",
    "refused",
    "withdrawn",
    "closed_on_time",
    "closed_late",
    "results_digital",
    "components",
    "components_reused",
    "paid_online",
    "paid_at_counter",
    "rated",
    "rating_sum",
    "satisfied",
)


class DossierTally(models.Model):
    day = models.DateField(help_text="local date (Asia/Ho_Chi_Minh) of the events counted")
    procedure = models.ForeignKey(
        "publicservices.Procedure", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    commune = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    province = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(max_length=8, help_text="the dossier's channel: online | counter")
    submitted = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    supplement_requests = models.IntegerField(default=0)
    approved = models.IntegerField(default=0)
    refused = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0, help_text="approved or refused by the due date")
    closed_late = models.IntegerField(default=0)
    results_digital = models.IntegerField(default=0, help_text="approved with a signed result document")
    components = models.IntegerField(default=0, help_text="components of the dossiers decided")
    components_reused = models.IntegerField(default=0, help_text="… taken from the document store")
    paid_online = models.IntegerField(default=0)
    paid_at_counter = models.IntegerField(default=0)
    rated = models.IntegerField(default=0, help_text="dossiers rated for the first time")
    rating_sum = models.IntegerField(default=0, help_text="sum of ratings (a change adds the difference)")
    satisfied = models.IntegerField(default=0, help_text="ratings of 4 or 5 (a change adds the difference)")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "procedure", "commune", "province", "channel"], name="kpi_dossier_tally_key"
            )
        ]
        indexes = [
            models.Index(fields=["province", "day"], name="kpi_tally_province_day"),
            models.Index(fields=["commune", "day"], name="kpi_tally_commune_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.procedure_id} {self.commune_id} {self.channel}"


class RegistryTally(models.Model):
    day = models.DateField(help_text="local date of the snapshot")
    commune = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    province = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    alive = models.IntegerField(default=0, help_text="citizens not recorded deceased")
    eligible = models.IntegerField(default=0, help_text="… aged 14 or more (e-ID levels 1 and 2)")
    eid_applicants = models.IntegerField(default=0, help_text="people who applied for an e-ID account")
    eid_active = models.IntegerField(default=0, help_text="active e-ID accounts")
    eid_level1 = models.IntegerField(default=0)
    eid_level2 = models.IntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "commune"], name="kpi_registry_tally_key")]
        indexes = [
            models.Index(fields=["province", "day"], name="kpi_registry_province_day"),
            models.Index(fields=["commune", "day"], name="kpi_registry_commune_day"),
        ]


class ScoringRule(models.Model):
    """A rule set of the service index, effective from a date (a new decision = a new row)."""

    version = models.CharField(max_length=40, unique=True)
    decision = models.CharField(max_length=120, help_text="e.g. 766/QĐ-TTg (23/6/2022)")
    effective_from = models.DateField()
    rules = models.JSONField(help_text="groups → indicators, grade bands (kpi/rules/*.json)")

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return self.version
