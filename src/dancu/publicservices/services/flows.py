"""Interconnected procedures (Decree 63/2024): a dossier of several steps, each done by its own
agency, run from a persisted state machine (``DossierStep`` rows) on the task queue
(docs/interconnected.md).

- ``create_steps`` (called by ``submission.submit`` in its transaction) writes a row per step
  of ``Procedure.steps``, each with its ``message_id`` fixed once, and enqueues ``advance_flow``.
- ``advance`` (the task's body) promotes steps whose prerequisites are done (an officer step to
  ``ready`` in its role's queue, an automatic one to ``sending``), cancels those whose
  prerequisite was refused, closes the dossier when every step is final — under the dossier's
  row lock, committed; then, for each automatic step due, calls the agency OUTSIDE any
  transaction with the step's own message id (the agency answers a repeated message id with
  its first answer and never acts twice) and records the answer under the lock again, only if
  the step is still ``sending`` (a concurrent ``advance`` that recorded it first wins; the
  other changes nothing). An agency that cannot be reached is retried with capped exponential
  backoff (``attempts``, ``next_attempt_at``, a delayed task); ``resume_flows`` (periodic) is
  the safety net for a retry task lost.
- ``decide_step`` is an officer's decision on their step: the step's registry effect
  (``step_effects``), its signed result, the event, the notification — one transaction; then
  ``advance`` (enqueued in it) takes the flow further.

A worker killed at any moment leaves the rows as the last commit left them; the task runs
again (the worker's lease) and every step is idempotent: promotion is a status transition, an
officer's decision requires ``ready`` under the lock, an agency's answer is recorded once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor, system_actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, NotFound, OutOfJurisdiction
from dancu.core.tasks import task
from dancu.exchange.services import AgencyUnavailable, call
from dancu.publicservices import workdays
from dancu.publicservices.models import (
    FINAL_STEP_STATUSES,
    OPEN_STATUSES,
    Dossier,
    DossierStep,
    Status,
    StepStatus,
)
from dancu.publicservices.selectors import may_process
from dancu.publicservices.services.effects import effect_actor, issue_result
from dancu.publicservices.services.notifications import notify
from dancu.publicservices.services.processing import _locked, _note, _refusals_audited
from dancu.publicservices.services.step_effects import AGENCY_STEPS, OFFICER_STEPS
from dancu.publicservices.services.submission import record_event

log = logging.getLogger(__name__)

FLOW_ACTOR_LABEL = "publicservices.flows"
BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 600
# A retry task that should have run this long ago is taken for lost by ``resume_flows``.
RESUME_GRACE = dt.timedelta(seconds=60)


def flow_actor(dossier: Dossier) -> Actor:
    """dancu itself, handing the dossier over to another agency's system."""
    return system_actor(FLOW_ACTOR_LABEL, source="dossier", source_ref=dossier.code)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


# ---- Creation ----------------------------------------------------------------------------------


def create_steps(dossier: Dossier) -> list[DossierStep]:
    """The dossier's step rows (inside ``submit``'s transaction) and the first ``advance``."""
    steps = [
        DossierStep(
            dossier=dossier,
            key=spec["key"],
            position=i,
            agency=spec["agency"],
            role=spec.get("role", ""),
            after=list(spec.get("after", [])),
            days=int(spec.get("days", 0)),
            message_id=str(uuid.uuid4()),
        )
        for i, spec in enumerate(dossier.procedure.steps)
    ]
    DossierStep.objects.bulk_create(steps)
    # The dossier's own deadline: its longest chain of steps (each step's clock starts when the
    # steps it waits for are done, so this is the latest an on-time flow ends).
    total = workdays.add_working_days(timezone.localdate(dossier.submitted_at), chain_days(steps))
    if total > dossier.due_on:
        dossier.due_on = total
        dossier.save(update_fields=["due_on"])
    _promote(dossier, list(dossier.steps.order_by("position")))
    advance_flow.enqueue(dossier.pk)
    return steps


def chain_days(steps: list[DossierStep]) -> int:
    """The working days of the longest chain of steps (``after`` links; the catalog's are
    acyclic, a key unknown is ignored)."""
    by_key = {s.key: s for s in steps}
    memo: dict[str, int] = {}

    def longest(key: str, seen: frozenset[str]) -> int:
        if key not in memo:
            step = by_key[key]
            before = [k for k in step.after if k in by_key and k not in seen]
            memo[key] = step.days + max((longest(k, seen | {key}) for k in before), default=0)
        return memo[key]

    return max((longest(s.key, frozenset()) for s in steps), default=0)


# ---- Promotion and closing (under the dossier's lock) ------------------------------------------


def _promote(dossier: Dossier, steps: list[DossierStep]) -> list[DossierStep]:
    """Waiting steps whose prerequisites are all done become ready (officer) or sending
    (automatic), with their deadline; those with a refused or cancelled prerequisite are
    cancelled (repeated until nothing changes: a cancellation cascades). Returns the changed."""
    by_key = {s.key: s for s in steps}
    today, now = timezone.localdate(), timezone.now()
    changed: list[DossierStep] = []
    again = True
    while again:
        again = False
        for step in steps:
            if step.status != StepStatus.WAITING:
                continue
            before = [by_key[k] for k in step.after if k in by_key]
            if any(b.status in (StepStatus.REFUSED, StepStatus.CANCELLED) for b in before):
                failed = next(b for b in before if b.status in (StepStatus.REFUSED, StepStatus.CANCELLED))
                step.status = StepStatus.CANCELLED
                step.refusal_reason = str(
                    _("Không thực hiện vì bước “%(step)s” không được giải quyết.") % {"step": failed.name}
                )
                again = True
            elif all(b.status == StepStatus.DONE for b in before):
                step.status = StepStatus.SENDING if step.automatic else StepStatus.READY
                step.due_on = workdays.add_working_days(today, step.days)
                step.next_attempt_at = now if step.automatic else None
            else:
                continue
            step.save(update_fields=["status", "refusal_reason", "due_on", "next_attempt_at"])
            changed.append(step)
    return changed


def _close(actor: Actor, dossier: Dossier, steps: list[DossierStep]) -> None:
    """The dossier's status follows its steps: accepted once one is done; when all are final,
    approved if any was done (partly, naming what was refused) or refused if none was."""
    done = [s for s in steps if s.status == StepStatus.DONE]
    refused = [s for s in steps if s.status == StepStatus.REFUSED]
    if dossier.status not in OPEN_STATUSES:
        return
    previous = dossier.status
    if all(s.status in FINAL_STEP_STATUSES for s in steps):
        dossier.decided_at = timezone.now()
        dossier.clock_paused_at = None
        if done:
            dossier.status = Status.APPROVED
            dossier.decision_note = (
                "; ".join(
                    f"Đã giải quyết một phần — “{s.name}” bị từ chối: {s.refusal_reason}" for s in refused
                )
                if refused
                else "Đã giải quyết tất cả các bước."
            )
            if dossier.result_document_id is None:
                dossier.result_document_id = done[0].result_document_id
        else:
            dossier.status = Status.REFUSED
            dossier.decision_note = "; ".join(f"“{s.name}”: {s.refusal_reason}" for s in refused)
        dossier.save(
            update_fields=["status", "decided_at", "clock_paused_at", "decision_note", "result_document"]
        )
        record_event(actor, dossier, dossier.status, previous, note=dossier.decision_note)
        notify(dossier, "approved" if done else "refused", body=dossier.decision_note)
    elif done and dossier.status == Status.SUBMITTED:
        dossier.status = Status.ACCEPTED
        dossier.save(update_fields=["status"])
        record_event(actor, dossier, "accepted", previous, note=done[0].key)


def _steps(dossier: Dossier) -> list[DossierStep]:
    return list(DossierStep.objects.filter(dossier=dossier).order_by("position"))


def _settle(actor: Actor, dossier: Dossier) -> list[DossierStep]:
    steps = _steps(dossier)
    if dossier.status == Status.WITHDRAWN:
        return steps
    _promote(dossier, steps)
    _close(actor, dossier, steps)
    return steps


def _results(steps: Iterable[DossierStep]) -> dict[str, dict[str, Any]]:
    return {s.key: s.result for s in steps if s.status == StepStatus.DONE}


# ---- The task ----------------------------------------------------------------------------------


@transaction.atomic
def _lock_and_settle(dossier_id: int) -> tuple[Dossier | None, list[DossierStep]]:
    dossier = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("procedure", "applicant", "subject", "commune", "province")
        .filter(pk=dossier_id)
        .first()
    )
    if dossier is None:
        return None, []
    return dossier, _settle(flow_actor(dossier), dossier)


def advance(dossier_id: int, now: dt.datetime | None = None) -> dict[str, int]:
    """Take the flow as far as it goes now (idempotent; see the module docstring). Returns counts
    of the automatic steps exchanged: done, refused, retried (agency unavailable)."""
    counts = {"done": 0, "refused": 0, "retried": 0}
    dossier, steps = _lock_and_settle(dossier_id)
    if dossier is None:
        return counts
    now = now or timezone.now()
    due = [
        s
        for s in steps
        if s.status == StepStatus.SENDING and (s.next_attempt_at is None or s.next_attempt_at <= now)
    ]
    results = _results(steps)
    for step in due:
        counts[_exchange(dossier, step, results)] += 1
    return counts


def _exchange(dossier: Dossier, step: DossierStep, results: dict[str, dict[str, Any]]) -> str:
    """One exchange for an automatic step, no transaction open during the call."""
    spec = AGENCY_STEPS[step.key]
    personal_id, body = spec.body(dossier, results)
    try:
        answer = call(
            flow_actor(dossier),
            agency=spec.agency,
            service=spec.service,
            message_id=step.message_id,
            body=body,
            personal_id=personal_id,
            purpose=f"{spec.purpose} — hồ sơ {dossier.code}",
        )
    except AgencyUnavailable as exc:
        _retry_later(dossier, step, str(exc))
        return "retried"
    except DomainError as exc:  # refused by the exchange itself (configuration): kept visible
        log.error("dossier %s step %s: exchange refused the call: %s", dossier.code, step.key, exc)
        _retry_later(dossier, step, f"{exc.code}: {exc.message}")
        return "retried"
    return _record_answer(dossier.pk, step.pk, answer.status, dict(answer.body or {}))


def _retry_later(dossier: Dossier, step: DossierStep, error: str) -> None:
    """attempts+1 and the next try, as a conditional update: of concurrent tasks that failed on
    the same attempt, only one schedules the retry."""
    attempts = step.attempts + 1
    at = timezone.now() + backoff(attempts)
    with transaction.atomic():
        won = DossierStep.objects.filter(
            pk=step.pk, status=StepStatus.SENDING, attempts=step.attempts
        ).update(attempts=F("attempts") + 1, next_attempt_at=at, last_error=error[:2000])
        if won:
            advance_flow.using(run_after=at).enqueue(dossier.pk)
    log.info("dossier %s step %s: agency unavailable (%s), retry at %s", dossier.code, step.key, error, at)


@transaction.atomic
def _record_answer(dossier_id: int, step_id: int, status: str, body: dict[str, Any]) -> str:
    dossier = (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("procedure", "applicant")
        .get(pk=dossier_id)
    )
    step = DossierStep.objects.get(pk=step_id)
    if step.status != StepStatus.SENDING:
        return "done" if step.status == StepStatus.DONE else "refused"  # recorded by another task
    actor = flow_actor(dossier)
    step.decided_at = timezone.now()
    step.decided_by_label = step.get_agency_display()
    step.next_attempt_at = None
    step.result = body
    if status == "ok":
        step.status = StepStatus.DONE
    else:
        step.status = StepStatus.REFUSED
        step.refusal_reason = str(body.get("reason") or body.get("message") or body.get("code") or status)[
            :2000
        ]
    step.save()
    _after_decision(actor, dossier, step)
    return "done" if step.status == StepStatus.DONE else "refused"


def _after_decision(actor: Actor, dossier: Dossier, step: DossierStep) -> None:
    """The event, the citizen told, and the flow settled — in the decision's transaction."""
    done = step.status == StepStatus.DONE
    record_event(actor, dossier, "step_done" if done else "step_refused", dossier.status, note=step.key)
    notify(
        dossier,
        "step_done" if done else "step_refused",
        body=f"{step.name}: " + (step_summary(step) if done else step.refusal_reason),
    )
    _settle(actor, dossier)
    advance_flow.enqueue(dossier.pk)


def step_summary(step: DossierStep) -> str:
    """One line of a step's result for the citizen (inbox, status page)."""
    r = step.result or {}
    if step.key == "birth_registration":
        return f"số định danh cá nhân của trẻ {r.get('child_personal_id', '')}"
    if step.key == "permanent_residence":
        return f"thường trú tại {r.get('address', '')}"
    if step.key == "health_card":
        valid = f"{_day(r.get('valid_from'))} – {_day(r.get('valid_to'))}"
        return f"thẻ BHYT số {r.get('card_number', '')}, giá trị {valid}"
    if step.key == "death_registration":
        return "đã ghi nhận khai tử"
    if step.key == "residence_deletion":
        return f"đã xóa thường trú tại {r.get('address', '')}"
    if step.key == "funeral_allowance":
        amount = r.get("total_vnd")
        money = f"{amount:,}".replace(",", ".") if isinstance(amount, int) else str(amount or "")
        return f"quyết định {r.get('decision_number', '')}: {money} đồng, người nhận {_payee(r)}"
    return ""


def _day(value: Any) -> str:
    """An ISO date as the citizen reads it (dd/mm/yyyy)."""
    try:
        return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value or "")


def _payee(result: dict[str, Any]) -> str:
    payee = result.get("payee")
    if isinstance(payee, dict):
        return str(payee.get("full_name", ""))
    return str(payee or "")


@task()
def advance_flow(dossier_id: int) -> dict[str, int]:
    """The flow's task (idempotent): ``advance``."""
    return advance(dossier_id)


# ---- Officers' decisions -----------------------------------------------------------------------


def _step_of(dossier: Dossier, key: Any) -> DossierStep:
    step = (
        DossierStep.objects.filter(dossier=dossier, key=key).first()
        if isinstance(key, str) and 0 < len(key) <= 40
        else None
    )
    if step is None:
        raise NotFound("E_STEP_NOT_FOUND", _("Hồ sơ không có bước này."), "key")
    return step


def check_may_decide(actor: Actor, dossier: Dossier, step: DossierStep) -> None:
    """The one rule (``processing.check_may_act``'s), for the step's agency: the role processes
    it and the area covers the dossier's commune. Automatic steps are decided by no officer."""
    if step.automatic or not may_process(actor, dossier.procedure, agency=step.agency):
        raise OutOfJurisdiction(
            "E_ROLE_NOT_ALLOWED", _("Vai trò của bạn không giải quyết bước này của hồ sơ."), "role"
        )
    if not actor.covers(dossier.commune_id, dossier.province_id):
        raise OutOfJurisdiction(
            "E_JURISDICTION", _("Hồ sơ thuộc xã/phường ngoài địa bàn của bạn."), "commune"
        )


@_refusals_audited("step_decision")
@transaction.atomic
def decide_step(actor: Actor, code: str, key: str, *, approve: bool, reason: str = "") -> DossierStep:
    """An officer's decision on their step of an interconnected dossier. Approve: the step's
    registry effect and its signed result; refuse: the reason, which the citizen is told, and
    the steps depending on it are cancelled. A step decided already is a conflict (a replay
    never applies twice)."""
    dossier = _locked(code)
    step = _step_of(dossier, key)
    check_may_decide(actor, dossier, step)
    if not isinstance(approve, bool):
        raise Conflict("E_INVALID_INPUT", _("Quyết định phải là true hoặc false."), "approve")
    if step.status in (StepStatus.DONE, StepStatus.REFUSED, StepStatus.CANCELLED):
        raise Conflict("E_STEP_DECIDED", _("Bước này đã được giải quyết."), "key")
    if step.status != StepStatus.READY:
        raise Conflict("E_STEP_NOT_READY", _("Bước này chưa đến lượt giải quyết."), "key")
    if dossier.status not in (Status.SUBMITTED, Status.ACCEPTED):
        raise Conflict(
            "E_STATUS", _("Không thể thực hiện thao tác ở trạng thái hiện tại của hồ sơ."), "status"
        )
    text = _note(reason, "reason", required=not approve)
    if approve:
        acting = effect_actor(actor, dossier)
        title, lines, result = OFFICER_STEPS[step.key](acting, dossier, _results(_steps(dossier)))
        step.result_document = issue_result(actor, dossier, title, lines)
        step.result = {**result, "document_code": step.result_document.code}
        step.status = StepStatus.DONE
    else:
        step.status = StepStatus.REFUSED
        step.refusal_reason = text
    step.decided_at = timezone.now()
    step.decided_by_id = actor.user_id
    step.decided_by_label = actor.label[:150]
    step.save()
    audit.record(
        actor,
        f"dossier.step_{'done' if approve else 'refused'}",
        subject_type="dossier",
        subject_id=dossier.code,
        personal_id=(dossier.subject or dossier.applicant).personal_id,
        reason=text[:500] or step.name,
        details={"step": step.key},
    )
    _after_decision(actor, dossier, step)
    return step


# ---- The safety net ----------------------------------------------------------------------------


def resume_due(now: dt.datetime | None = None) -> int:
    """Enqueue ``advance`` for dossiers with an automatic step overdue for its exchange (its
    retry task lost, or failed). A step is promoted in the transaction that finishes the step it
    waits for, so no other state needs resuming. Returns how many."""
    now = now or timezone.now()
    ids = set(
        DossierStep.objects.filter(status=StepStatus.SENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - RESUME_GRACE))
        .values_list("dossier_id", flat=True)[:1000]
    )
    for dossier_id in sorted(ids):
        advance_flow.enqueue(dossier_id)
    return len(ids)
