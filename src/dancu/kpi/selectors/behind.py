"""The dossiers behind a number: the events a counter counted, as a query of their dossiers
(the caller — a view — audits the read with its purpose)."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit, Level
from dancu.kpi.counting import DECISIONS, SATISFIED_FROM
from dancu.kpi.periods import Period
from dancu.kpi.selectors.figures import BY_CODE
from dancu.kpi.selectors.scope import guard
from dancu.publicservices.models import Dossier, DossierEvent, Procedure

_DECIDED = Q(action__in=DECISIONS)
_ON_TIME = Q(day__lte=F("dossier__due_on"))
# counter (or derived metric) → the events that count for it
EVENTS: dict[str, Q] = {
    "submitted": Q(action="submitted"),
    "submitted_online": Q(action="submitted", dossier__channel="online"),
    "accepted": Q(action="accepted"),
    "supplement_requests": Q(action="supplement_requested"),
    "approved": Q(action="approved"),
    "refused": Q(action="refused"),
    "withdrawn": Q(action="withdrawn"),
    "decided": _DECIDED,
    "decided_digitised": _DECIDED,
    "closed_on_time": _DECIDED & _ON_TIME,
    "closed_late": _DECIDED & ~_ON_TIME,
    "results_digital": Q(action="approved", dossier__result_document__isnull=False),
    "components": _DECIDED & Q(dossier__component_rows__isnull=False),
    "components_reused": _DECIDED & Q(dossier__component_rows__reused=True),
    "paid": Q(action="paid"),
    "paid_online": Q(action="paid", actor_user__isnull=True),
    "paid_at_counter": Q(action="paid", actor_user__isnull=False),
    "rated": Q(action="rated", rating__isnull=False, rating_before__isnull=True),
    "rating_sum": Q(action="rated", rating__isnull=False),
    # the dossier's current rating (a rating changed later shows where it is now)
    "satisfied": Q(action="rated", dossier__rating__gte=SATISFIED_FROM),
}


def dossiers_behind(
    actor: Actor,
    *,
    unit: AdminUnit | None,
    period: Period,
    procedure: Procedure | None = None,
    metric: str,
    part: str = "numerator",
) -> QuerySet[Dossier]:
    """The dossiers counted by ``metric`` — a counter/metric name (``closed_late``,
    ``paid_online``…) or a figure code (its ``part``: numerator, or denominator) — in the unit
    and period, within the actor's area; newest first."""
    guard(actor, unit)
    name = metric
    if metric in BY_CODE:
        d = BY_CODE[metric]
        name = d.denominator if part == "denominator" and d.denominator else d.numerator
    if name not in EVENTS:
        raise DomainError("E_METRIC", _("Không liệt kê được hồ sơ của chỉ tiêu này."), "metric")
    first, after = period.bounds()
    events = (
        DossierEvent.objects.filter(dossier=OuterRef("pk"), at__gte=first, at__lt=after)
        .annotate(day=TruncDate("at", tzinfo=timezone.get_default_timezone()))
        .filter(EVENTS[name])
    )
    qs = Dossier.objects.filter(actor.area.q(commune="commune_id", province="province_id")).filter(
        Exists(events)
    )
    if unit is not None:
        qs = qs.filter(commune_id=unit.pk) if unit.level == Level.COMMUNE else qs.filter(province_id=unit.pk)
    if procedure is not None:
        qs = qs.filter(procedure_id=procedure.pk)
    return qs.select_related("procedure", "commune").order_by("-submitted_at", "-id")
