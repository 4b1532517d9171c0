from __future__ import annotations

from django.db.models import QuerySet

from dancu.population.models import Citizen
from dancu.residence.models import HouseholdMember, Registration


def residence_history(citizen: Citizen) -> QuerySet[Registration]:
    """All registrations of a person, newest first, ended ones included."""
    return (Registration.objects.filter(citizen=citizen).select_related("commune", "household")
            .order_by("-started_on", "-id"))


def current_household(citizen: Citizen) -> HouseholdMember | None:
    return (HouseholdMember.objects.filter(citizen=citizen, left_on__isnull=True)
            .select_related("household__head", "household__commune").first())


def household_members(household_id: int) -> QuerySet[HouseholdMember]:
    return (HouseholdMember.objects.filter(household_id=household_id, left_on__isnull=True)
            .select_related("citizen").order_by("joined_on", "id"))
