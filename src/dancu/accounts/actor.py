"""Who is acting: an officer in the console, a service account on the API, an import run.

Every service takes an ``Actor`` first; jurisdiction and audit are decided from it,
so the console, the API and the CLI obey the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dancu.accounts.models import Role
from dancu.core.errors import OutOfJurisdiction

WRITE_ROLES = frozenset({Role.COMMUNE_POLICE, Role.PROVINCE_POLICE, Role.MINISTRY_ADMIN})
# Roles that write the registry only as the effect of a dossier they approve (issue #12): the
# public services run the effect with source "dossier" and the dossier code as source_ref.
DOSSIER_WRITE_ROLES = frozenset({Role.COMMUNE_JUSTICE})


@dataclass(frozen=True)
class Area:
    """An actor's area (jurisdiction), the one definition of who sees whom: a commune officer
    the people whose current residence is in their commune, province police those of their
    province, the ministry and auditors everyone. A person with no recorded place (NULL) is in
    no area. The same rule as a test in Python (``covers``), an ORM filter (``q``) and a SQL
    condition (``sql``): callers name their columns, never re-state the rule."""

    level: str | None  # "commune", "province"; None = national
    unit_id: int | None = None

    @property
    def is_national(self) -> bool:
        return self.level is None

    def covers(self, commune_id: int | None, province_id: int | None) -> bool:
        """Does this area include a person living in this commune/province?"""
        if self.is_national:
            return True
        place = commune_id if self.level == "commune" else province_id
        return place is not None and place == self.unit_id

    def q(self, *, commune: str, province: str) -> Q:
        """The ORM filter, given the lookups of the row's commune and province
        (``Q()`` for a national area)."""
        if self.is_national:
            return Q()
        return Q(**{commune if self.level == "commune" else province: self.unit_id})

    def sql(self, *, commune: str, province: str) -> tuple[str, list[int]]:
        """The SQL condition and its parameters, given the columns of the row's commune and
        province (``TRUE`` for a national area)."""
        if self.is_national:
            return "TRUE", []
        assert self.unit_id is not None  # every area but the national one has its unit
        return f"{commune if self.level == 'commune' else province} = %s", [self.unit_id]


NATIONAL = Area(None)


@dataclass(frozen=True)
class Actor:
    label: str
    role: str
    source: str  # dancu.audit.models.Source value
    user_id: int | None = None
    # 2025 commune (commune police) or 2025 province (province police); None = national.
    jurisdiction_id: int | None = None
    jurisdiction_level: str | None = None
    jurisdiction_name: str = ""
    source_ref: str = ""
    ip: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_national(self) -> bool:
        return self.jurisdiction_id is None

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES or (
            self.role in DOSSIER_WRITE_ROLES and self.source == "dossier" and bool(self.source_ref))

    def require_write(self) -> None:
        if not self.can_write:
            raise OutOfJurisdiction("E_ROLE_READ_ONLY",
                                    _("Vai trò của bạn chỉ được xem, không được sửa dữ liệu."))

    @property
    def area(self) -> Area:
        if self.jurisdiction_id is None:
            return NATIONAL
        return Area("commune" if self.jurisdiction_level == "commune" else "province", self.jurisdiction_id)

    def covers(self, commune_id: int | None, province_id: int | None) -> bool:
        """Does this actor's area include a person living in this commune/province?"""
        return self.area.covers(commune_id, province_id)


def system_actor(label: str = "system", source: str = "system", source_ref: str = "") -> Actor:
    """A national actor with write rights, for imports, the demo seeder and migrations."""
    return Actor(label=label, role=Role.MINISTRY_ADMIN, source=source, source_ref=source_ref)
