"""Sending SMS through a gateway interface (the one outer edge of the e-ID context).

``DANCU_SMS_BACKEND`` chooses the backend:

- ``outbox`` (development, tests, demo): nothing leaves the machine; the message is stored in
  ``SmsMessage`` with status ``outbox``, where an officer (``dancu eid outbox``) or a test reads it;
- ``http`` (production): POSTs ``{"to", "text"}`` as JSON to ``DANCU_SMS_HTTP_URL`` with
  ``Authorization: Bearer DANCU_SMS_HTTP_TOKEN``; any 2xx answer is success. The message is
  recorded with status ``sent`` or ``failed`` (and the error) either way.

A backend is a class with ``name`` and ``send(to, text) -> None`` raising ``SmsError``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from dancu.eid.models import SmsMessage


class SmsError(Exception):
    """The gateway did not take the message. ``record`` is the ``failed`` SmsMessage (see
    ``send_sms``)."""

    record: SmsMessage | None = None


class SmsBackend(Protocol):
    name: str

    def send(self, to: str, text: str) -> None: ...


class OutboxBackend:
    name = "outbox"

    def send(self, to: str, text: str) -> None:
        return None


class HttpGatewayBackend:
    name = "http"

    def __init__(self) -> None:
        self.url = getattr(settings, "DANCU_SMS_HTTP_URL", "")
        self.token = getattr(settings, "DANCU_SMS_HTTP_TOKEN", "")
        self.timeout = float(getattr(settings, "DANCU_SMS_HTTP_TIMEOUT", 10))
        if not self.url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("DANCU_SMS_HTTP_URL must be an http(s) URL for the http SMS backend")

    def send(self, to: str, text: str) -> None:
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            self.url, data=json.dumps({"to": to, "text": text}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise SmsError(f"gateway answered {response.status}")
        except urllib.error.HTTPError as exc:  # a non-2xx answer
            exc.close()
            raise SmsError(f"gateway answered {exc.code}") from exc
        except OSError as exc:  # URLError, timeouts
            raise SmsError(str(exc)[:300]) from exc


BACKENDS: dict[str, type[SmsBackend]] = {"outbox": OutboxBackend, "http": HttpGatewayBackend}


def backend() -> SmsBackend:
    name = getattr(settings, "DANCU_SMS_BACKEND", "outbox")
    cls = BACKENDS.get(name) or import_string(name)
    return cls()


def send_sms(to: str, text: str) -> SmsMessage:
    """Send and record. A failure is saved as ``failed`` and raised (SmsError, with the record
    attached): inside a service's transaction the row rolls back with the service's work, and the
    service writes it again after the rollback (``eid.services._otp._sms_failure_recorded``)."""
    gateway = backend()
    message = SmsMessage(to=to, body=text[:480], backend=gateway.name,
                         status="outbox" if gateway.name == "outbox" else "sent",
                         created_at=timezone.now())
    try:
        gateway.send(to, text)
    except SmsError as exc:
        message.status, message.error = "failed", str(exc)[:300]
        message.save()
        exc.record = message
        raise
    message.save()
    return message


def latest_code(to: str) -> str | None:
    """The one-time code in the newest message to this number — for the development outbox only
    (the demo seeder, the benchmarks and the tests confirm registrations with it)."""
    body = SmsMessage.objects.filter(to=to).order_by("-id").values_list("body", flat=True).first()
    match = re.search(r"\b(\d{6})\b", body or "")
    return match.group(1) if match else None
