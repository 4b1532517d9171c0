"""Who is acting: an officer in the console, a service account on the API, an import run.

Every service takes an ``Actor`` first; jurisdiction and audit are decided from it,
so the console, the API and the CLI obey the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from dancu.accounts.models import Role
from dancu.core.errors import OutOfJurisdiction

WRITE_ROLES = frozenset({Role.COMMUNE_POLICE, Role.PROVINCE_POLICE, Role.MINISTRY_ADMIN})


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
        return self.role in WRITE_ROLES

    def require_write(self) -> None:
        if not self.can_write:
            raise OutOfJurisdiction("E_ROLE_READ_ONLY",
                                    _("Vai trò của bạn chỉ được xem, không được sửa dữ liệu."))

    def covers(self, commune_id: int | None, province_id: int | None) -> bool:
        """Does this actor's area include a person living in this commune/province?"""
        if self.is_national:
            return True
        if self.jurisdiction_level == "commune":
            return commune_id is not None and commune_id == self.jurisdiction_id
        return province_id is not None and province_id == self.jurisdiction_id


def system_actor(label: str = "system", source: str = "system", source_ref: str = "") -> Actor:
    """A national actor with write rights, for imports, the demo seeder and migrations."""
    return Actor(label=label, role=Role.MINISTRY_ADMIN, source=source, source_ref=source_ref)
