"""eKYC verification for banks, hospitals and agencies: does this ID number, name and date of
birth belong to a living person of the registry? The answer discloses nothing else.

Results: ``match``; ``no_match`` (unknown ID number, name or date of birth different — not told
apart — or a person recorded missing); ``deceased``; ``account_locked`` (the person matches, but
their e-ID account is locked, suspended or revoked: the relying party should not accept an
e-ID presentation of them). Every call is audited with the client and its stated purpose, and
counted against the client's per-minute limit (``Agreement.ekyc_per_minute``).
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from dancu.audit import services as audit
from dancu.core.errors import DomainError
from dancu.eid.models import AccountStatus, EidAccount
from dancu.oidc.auth import TokenPrincipal
from dancu.oidc.models import RateWindow
from dancu.population.selectors import check_identity


class RateLimited(DomainError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("E_RATE_LIMITED", _("Vượt giới hạn số lượt đối chiếu mỗi phút."), None)
        self.retry_after = retry_after


def _count_call(client_id: str) -> tuple[int, int]:
    """Adds one call to this minute's window (one atomic UPSERT, shared by every process)."""
    now = time.time()
    window = int(now // 60)
    q = connection.ops.quote_name
    table, win, count = q(RateWindow._meta.db_table), q("window"), q("count")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client_id, {win}, {count}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (client_id, {win}) DO UPDATE SET {count} = {table}.{count} + 1 RETURNING {count}",
            [client_id, window])
        count = cursor.fetchone()[0]
    return count, 60 - int(now % 60)


def verify(principal: TokenPrincipal, *, personal_id: str, full_name: str, birth_date: dt.date,
           purpose: str = "") -> str:
    client = principal.client
    # Counted in its own short transaction: the window's row lock must not be held while the
    # check runs, or every call of a client would queue behind the previous one.
    with transaction.atomic():
        count, retry_after = _count_call(client.client_id)
    if count > client.agreement.ekyc_per_minute:
        raise RateLimited(retry_after)
    return _verify(principal, personal_id, full_name, birth_date, purpose)


@transaction.atomic
def _verify(principal: TokenPrincipal, personal_id: str, full_name: str, birth_date: dt.date,
            purpose: str) -> str:
    check = check_identity(personal_id, full_name, birth_date)
    result = {"match": "match", "deceased": "deceased"}.get(check.status, "no_match")
    if result == "match" and check.citizen is not None:
        status = (EidAccount.objects.filter(citizen_id=check.citizen.pk)
                  .values_list("status", flat=True).first())
        if status is not None and status != AccountStatus.ACTIVE:
            result = "account_locked"
    audit.record(principal.actor, "ekyc.verify", subject_type="citizen", subject_id=personal_id,
                 personal_id=personal_id if check.citizen is not None else "",
                 reason=(purpose or principal.purpose)[:500], details={"result": result})
    return result
