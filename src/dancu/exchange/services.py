"""Sending a message to another agency's system and keeping its answer (docs/exchange.md).

``call`` is the one door. Its rules:
- a message id is sent once: a message that already has a verified answer in the log returns it
  without any HTTP; otherwise the request stored at the first try is resent, the SAME bytes, so
  the agency recognises the retry and answers it as before (its own idempotency);
- an answer counts only if it is signed by the agency's configured key, echoes the message id and
  the SHA-256 of the request bytes sent, and comes from the agency addressed;
- every try is logged (``ExchangeAttempt``), in its own transaction committed before ``call``
  returns or raises; no transaction is held open during the HTTP request;
- anything short of a verified answer (refused or reset connection, timeout, 5xx, 4xx, an
  invalid or mismatching signature) raises ``AgencyUnavailable``: the caller retries later with
  the same message id (the publicservices flow schedules it; nothing is given up silently);
- the send is audited once per message (``exchange.send``, with its purpose), the answer once
  (``exchange.answer``): agency-to-agency hand-offs are accesses to personal data.
"""

from __future__ import annotations

import functools
import http.client
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError
from dancu.exchange import protocol
from dancu.exchange.models import ExchangeAttempt, ExchangeMessage, MessageStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Agency:
    """An agency dancu exchanges with: its code in dancu, its member code on the exchange, the
    base URL of its exchange endpoint and the file of its public key."""

    code: str
    member: str
    url: str
    public_key_file: Path


def agencies() -> dict[str, Agency]:
    return {
        "social_insurance": Agency("social_insurance", "VN:GOV:bhxh",
                                   settings.DANCU_AGENCY_SOCIAL_INSURANCE_URL,
                                   Path(settings.DANCU_AGENCY_SOCIAL_INSURANCE_KEY)),
    }


def agency_named(code: str) -> Agency:
    """The agency named ``code`` (``social_insurance``; ``social-insurance`` as the CLI spells it)."""
    found = agencies().get(str(code).replace("-", "_"))
    if found is None:
        raise DomainError("E_AGENCY", _("Cơ quan không có trong danh sách trao đổi."), "agency")
    return found


@dataclass(frozen=True)
class Answer:
    """An agency's verified answer: ``status`` ok or refused (then ``body`` has ``code`` and
    ``reason``), its body, the message id, and the signed answer as received (the proof)."""

    status: str
    body: dict[str, Any]
    message_id: str
    answer_jws: str

    @property
    def ok(self) -> bool:
        return self.status == protocol.OK


class AgencyUnavailable(Exception):
    """No verified answer this time (retryable): the agency is down, slow, answered an error or an
    answer that does not verify. The try is logged; call again later with the same message id."""

    def __init__(self, message_id: str, reason: str, http_status: int | None = None) -> None:
        super().__init__(f"{message_id}: {reason}")
        self.message_id, self.reason, self.http_status = message_id, reason, http_status


# ---- keys (read once per process; a key file replaced is read again) --------------------------

def _key_at(path: Path) -> Any:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise protocol.ProtocolError("E_KEY", f"no key file {path}") from None
    return _cached_key(str(path), mtime)


@functools.lru_cache(maxsize=8)
def _cached_key(path: str, mtime: int) -> Any:
    return protocol.load_key(Path(path))


def own_key() -> Any:
    return _key_at(Path(settings.DANCU_EXCHANGE_KEY_FILE))


# ---- the call ---------------------------------------------------------------------------------

def call(actor: Actor, *, agency: str, service: str, message_id: str, body: dict[str, Any],
         personal_id: str = "", purpose: str) -> Answer:
    """Send ``body`` to ``agency``'s ``service`` as message ``message_id`` (a UUID the caller
    keeps for every retry) and return its verified answer, from the log if it already came.
    Raises ``AgencyUnavailable`` (retry later, same id), or a DomainError for a call that can
    never succeed (unknown agency or service, a message id already used for another agency,
    service or person). A retry whose body differs from the first (data corrected meanwhile)
    resends the first request unchanged: a message id is one request."""
    if any(not getattr(b, "_from_testcase", False) for b in connection.atomic_blocks):
        raise RuntimeError("exchange.call must not run inside a transaction (it waits for HTTP)")
    target = agency_named(agency)
    if not isinstance(service, str) or not protocol.SERVICE_RE.match(service):
        raise DomainError("E_SERVICE", _("Dịch vụ trao đổi không hợp lệ."), "service")
    try:
        message_id = protocol.normalise_message_id(message_id)
    except protocol.ProtocolError:
        raise DomainError("E_MESSAGE_ID", _("Mã thông điệp phải là UUID."), "message_id") from None
    if not isinstance(personal_id, str) or not (personal_id == "" or (len(personal_id) == 12
                                                                        and personal_id.isascii()
                                                                        and personal_id.isdigit())):
        raise DomainError("E_PERSONAL_ID", _("Số định danh cá nhân gồm 12 chữ số."), "personal_id")
    if not isinstance(purpose, str) or not purpose.strip() or "\x00" in purpose:
        raise DomainError("E_PURPOSE", _("Cần nêu mục đích trao đổi thông tin."), "purpose")
    try:
        if not isinstance(body, dict) or "\\u0000" in protocol.canonical(body).decode():  # NUL: as JSON
            raise TypeError
    except (TypeError, ValueError):
        raise DomainError("E_BODY", _("Nội dung yêu cầu phải là một đối tượng JSON."), "body") from None
    message = _message(actor, target, service, message_id, body, personal_id, purpose)
    if message.status == MessageStatus.ANSWERED:
        return _answer_of(message)
    return _send(actor, target, message)


def _message(actor: Actor, target: Agency, service: str, message_id: str, body: dict[str, Any],
             personal_id: str, purpose: str) -> ExchangeMessage:
    """The logged message: the existing one (the same request, else Conflict), or a new one signed
    now and audited (``exchange.send``) in the same transaction."""
    existing = ExchangeMessage.objects.filter(message_id=message_id).first()
    if existing is None:
        request_jws = protocol.sign(
            protocol.request_payload(message_id=message_id, service=service, body=body), own_key())
        with transaction.atomic():
            existing, created = ExchangeMessage.objects.get_or_create(
                message_id=message_id,
                defaults={"agency": target.code, "service": service, "personal_id": personal_id,
                          "purpose": str(purpose)[:200], "request_jws": request_jws,
                          "request_sha256": protocol.sha256(request_jws)})
            if created:
                audit.record(actor, "exchange.send", subject_type="exchange_message",
                             subject_id=message_id, personal_id=personal_id, reason=str(purpose)[:200],
                             details={"agency": target.code, "service": service, "message_id": message_id})
                return existing
    if (existing.agency, existing.service, existing.personal_id) != (target.code, service, personal_id):
        raise Conflict("E_MESSAGE_ID_REUSED", _("Mã thông điệp đã dùng cho một yêu cầu khác."), "message_id")
    first_body = protocol.unverified_payload(existing.request_jws)["body"]
    if protocol.canonical(first_body) != protocol.canonical(body):
        # The data changed between two tries (a name corrected meanwhile): the message sent stands,
        # resent as it was — a message id is one request, whatever the caller rebuilds.
        log.warning("exchange %s: the body differs from the one first sent; resending the first",
                    existing.message_id)
    return existing


def _answer_of(message: ExchangeMessage) -> Answer:
    return Answer(status=message.answer_status, body=message.answer_body or {},
                  message_id=str(message.message_id), answer_jws=message.answer_jws)


def _post(target: Agency, message: ExchangeMessage) -> tuple[int | None, bytes, str]:
    """(HTTP status or None, body, error) of one POST of the stored request bytes."""
    url = f"{target.url}/x/{message.service}"
    request = urllib.request.Request(  # noqa: S310  (the configured agency URL)
        url, data=message.request_jws.encode(), method="POST",
        headers={"Content-Type": protocol.CONTENT_TYPE, "Accept": protocol.CONTENT_TYPE,
                 "X-Message-Id": str(message.message_id)})
    try:
        with urllib.request.urlopen(request, timeout=settings.DANCU_EXCHANGE_HTTP_TIMEOUT) as resp:  # noqa: S310
            data = resp.read(protocol.MAX_MESSAGE_BYTES + 1)
            if resp.length:  # announced but never received (http.client does not raise on a bounded read)
                return resp.status, data, f"IncompleteRead: {len(data)} bytes, {resp.length} more announced"
            return resp.status, data, ""
    except urllib.error.HTTPError as err:
        try:
            data = err.read(2000)
        except OSError:
            data = b""
        return err.code, data, f"HTTP {err.code}: {data[:120].decode('utf-8', 'replace')}"
    except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, reset, timeout, cut short,
        return None, b"", f"{type(exc).__name__}: {exc}"  # not HTTP at all


def _send(actor: Actor, target: Agency, message: ExchangeMessage) -> Answer:
    message_id = str(message.message_id)
    status, data, error = _post(target, message)
    payload: dict[str, Any] | None = None
    answer_jws = ""
    if status == 200 and not error:
        try:
            if len(data) > protocol.MAX_MESSAGE_BYTES:
                raise protocol.ProtocolError("E_FORMAT", "the answer is too large")
            answer_jws = data.decode("ascii").strip()
            payload = protocol.verify(answer_jws, _key_at(target.public_key_file))
            protocol.check_answer(payload, message_id=message_id, request_sha256=message.request_sha256,
                                  agency=target.member)
            if "\\u0000" in protocol.canonical(payload["body"]).decode():  # PostgreSQL's JSON refuses NUL
                raise protocol.ProtocolError("E_FORMAT", "a NUL character in the answer")
        except (protocol.ProtocolError, UnicodeDecodeError) as exc:
            payload = None
            error = f"{getattr(exc, 'code', 'E_FORMAT')}: {exc}"
    elif status is not None and not error:
        error = f"HTTP {status}"
    answer = _record(actor, message, status=status, error=error, payload=payload, answer_jws=answer_jws)
    if answer is None:  # raised once the try's log is committed
        raise AgencyUnavailable(message_id, error[:300], status)
    return answer


@transaction.atomic
def _record(actor: Actor, message: ExchangeMessage, *, status: int | None, error: str,
            payload: dict[str, Any] | None, answer_jws: str) -> Answer | None:
    """Log the try, and the answer if it verified; the first answer stored is kept (two callers
    at once may both get one: the agency answers a repeated message with the same bytes)."""
    locked = ExchangeMessage.objects.select_for_update().get(pk=message.pk)
    ExchangeAttempt.objects.create(message=locked, http_status=status, error=error[:300],
                                   answer_sha256=protocol.sha256(answer_jws) if answer_jws else "")
    locked.attempts += 1
    if payload is None:
        if locked.status != MessageStatus.ANSWERED:
            locked.status, locked.last_error = MessageStatus.FAILED, error[:300]
        locked.save(update_fields=["attempts", "status", "last_error"])
        log.info("exchange %s to %s failed: %s", locked.message_id, locked.agency, error)
        # another caller may have stored the answer meanwhile: it stands
        return _answer_of(locked) if locked.status == MessageStatus.ANSWERED else None
    if locked.status != MessageStatus.ANSWERED:
        locked.status = MessageStatus.ANSWERED
        locked.answer_status, locked.answer_body = payload["status"], payload["body"]
        locked.answer_jws, locked.answered_at, locked.last_error = answer_jws, timezone.now(), ""
        audit.record(actor, "exchange.answer", subject_type="exchange_message",
                     subject_id=str(locked.message_id), personal_id=locked.personal_id,
                     reason=locked.purpose,
                     details={"agency": locked.agency, "service": locked.service,
                              "message_id": str(locked.message_id), "status": payload["status"],
                              **({"code": payload["body"].get("code")} if payload["status"] == "refused"
                                 else {})})
    locked.save()
    return _answer_of(locked)

