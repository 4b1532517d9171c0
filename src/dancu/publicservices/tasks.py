"""The public services' periodic work (registered from ``PublicServicesConfig.ready``).

``deadline_reminders``, once a day: every open dossier whose clock runs and which is due today
or the next working day, or overdue, is listed in one e-mail to the officer it is assigned to
(Django's e-mail backend; officers without an address are skipped). Unassigned dossiers are in
the queue's due-soon and overdue filters. Reading the list is not a personal-data read (codes,
procedures and dates only), so it leaves no audit event.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone

from dancu.core.tasks import periodic
from dancu.publicservices import workdays
from dancu.publicservices.models import OPEN_STATUSES, Dossier
from dancu.publicservices.selectors import DUE_SOON_WORKING_DAYS
from dancu.publicservices.services.flows import advance_flow, resume_due

log = logging.getLogger(__name__)


@periodic("publicservices.deadline_reminders", every=dt.timedelta(days=1))
def deadline_reminders(today: dt.date | None = None) -> int:
    """Send the day's reminders; returns how many officers were written to."""
    today = today or timezone.localdate()
    horizon = workdays.add_working_days(today, DUE_SOON_WORKING_DAYS)
    due = (
        Dossier.objects.filter(
            status__in=OPEN_STATUSES,
            clock_paused_at__isnull=True,
            due_on__lte=horizon,
            assigned_to__isnull=False,
        )
        .select_related("procedure")
        .order_by("due_on", "id")
    )
    by_officer: dict[int, list[Dossier]] = defaultdict(list)
    for dossier in due.iterator(chunk_size=1000):
        assert dossier.assigned_to_id is not None
        by_officer[dossier.assigned_to_id].append(dossier)
    users = get_user_model().objects.filter(pk__in=by_officer).exclude(email="")
    sent = 0
    for user in users:
        lines = [
            f"{d.code}  {d.procedure.name_vi}  hạn {d.due_on:%d/%m/%Y}"
            + ("  (QUÁ HẠN)" if d.due_on < today else "")
            for d in by_officer[user.pk]
        ]
        send_mail(
            f"Hồ sơ sắp đến hạn / quá hạn: {len(lines)}",
            "\n".join(lines),
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
        sent += 1
    if sent:
        log.info("deadline reminders sent to %d officers", sent)
    return sent


@periodic("publicservices.resume_flows", every=dt.timedelta(minutes=1))
def resume_flows() -> int:
    """The interconnected dossiers' safety net: ``advance`` again for an automatic step whose
    retry is overdue (docs/interconnected.md)."""
    return resume_due()


__all__ = ["advance_flow", "deadline_reminders", "resume_flows"]
