"""Telling the citizen: the portal inbox (a ``Notification`` row) and copies by e-mail and SMS.

``notify`` runs inside the transition's transaction: it writes the row and enqueues the
``deliver_notification`` task, which the database task backend writes through the ORM — both
exist exactly when the transition commits (docs/tasks.md). The task sends the e-mail (Django's
e-mail backend) and the SMS (``eid.sms``, the outbox in development) to the contact details of
the person's e-ID account; it is idempotent per channel only in the sense that a retried task may
send a copy twice (an SMS gateway has no idempotency key): a copy too many, never a lost one.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from dancu.core.tasks import task
from dancu.publicservices.models import Dossier, Notification

log = logging.getLogger(__name__)

TITLES = {
    "submitted": "Hồ sơ {code} đã được nộp",
    "accepted": "Hồ sơ {code} đã được tiếp nhận",
    "supplement": "Hồ sơ {code} cần bổ sung",
    "paid": "Hồ sơ {code} đã được thanh toán phí",
    "approved": "Hồ sơ {code} đã có kết quả",
    "refused": "Hồ sơ {code} bị từ chối",
    "step_done": "Hồ sơ {code}: một bước đã có kết quả",
    "step_refused": "Hồ sơ {code}: một bước bị từ chối",
}


def notify(dossier: Dossier, kind: str, body: str = "") -> Notification:
    """The inbox row now, the e-mail and SMS by the task (enqueued in the caller's transaction)."""
    title = TITLES.get(kind, "Hồ sơ {code}").format(code=dossier.code)
    text = body or f"{dossier.procedure.name_vi}: {title}."
    notification = Notification.objects.create(
        citizen_id=dossier.applicant_id,
        dossier=dossier,
        kind=kind,
        title=title[:255],
        body=text,
        created_at=timezone.now(),
    )
    deliver_notification.enqueue(notification.pk)
    return notification


@task()
def deliver_notification(notification_id: int) -> str:
    """E-mail and SMS copies of an inbox notification, to the applicant's e-ID contact details."""
    from dancu.eid.models import EidAccount
    from dancu.eid.sms import SmsError, send_sms

    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return "gone"
    account = EidAccount.objects.filter(citizen_id=notification.citizen_id).first()
    if account is None:
        return "no contact"
    sent = []
    if account.email:
        send_mail(notification.title, notification.body, settings.DEFAULT_FROM_EMAIL, [account.email])
        sent.append("email")
    if account.phone:
        try:
            send_sms(account.phone, f"{notification.title}. {notification.body}"[:480])
            sent.append("sms")
        except SmsError:
            log.warning("SMS for notification %s not sent", notification_id)
    return "+".join(sent) or "no contact"
