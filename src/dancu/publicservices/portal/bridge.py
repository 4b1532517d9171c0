"""The portal's calls into the services it builds on: publicservices (submission and the
citizen's actions on a dossier), documents (uploads, the personal store, results) and payments.
One place, so the views stay thin and the signatures are checked in one module."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from dancu.accounts.actor import Actor
from dancu.core.errors import DomainError, NotFound
from dancu.documents import selectors as documents_selectors
from dancu.documents import services as documents
from dancu.documents.models import Document
from dancu.payments import services as payments
from dancu.publicservices import correction_selectors, selectors, services
from dancu.publicservices.models import Dossier, Procedure
from dancu.publicservices.services import corrections


class FilesRefused(Exception):
    """An attachment was refused; the errors are in the view's ``file_errors``."""


def prefill(proc: Procedure, citizen: Any) -> dict[str, Any]:
    return selectors.prefill(proc, citizen)


def reusable_documents(citizen: Any) -> list[Document]:
    """The citizen's store: uploads and results they may attach again (reuse is counted)."""
    return list(documents_selectors.documents_of(citizen).filter(kind__in=["upload", "result"])[:50])


def collect_components(actor: Actor, citizen: Any, components: list[dict[str, Any]], request: HttpRequest,
                       file_errors: dict[str, str], *, all_optional: bool = False) -> dict[str, Any]:
    """Each component: a new upload (stored in the citizen's store, type sniffed from the
    content) or the code of a document of their store. Refusals go to ``file_errors`` by key."""
    chosen: dict[str, Any] = {}
    for component in components:
        key = component["key"]
        upload = request.FILES.get(f"file-{key}")
        reuse = (request.POST.get(f"reuse-{key}") or "").strip()
        if upload is not None:
            try:
                chosen[key] = documents.store_upload(
                    actor, owner=citizen, filename=upload.name or key, content=upload.read(),
                    field=f"file-{key}", declared_type=upload.content_type)
            except DomainError as exc:
                file_errors[key] = str(exc.message)
        elif reuse:
            if documents_selectors.document_for_owner(citizen.pk, reuse) is None:
                file_errors[key] = _("Không tìm thấy giấy tờ này trong kho của bạn.")
            else:
                chosen[key] = reuse
        elif component.get("required") and not all_optional:
            file_errors[key] = _("Cần đính kèm giấy tờ này.")
    return chosen


def dossier_for_citizen(citizen: Any, code: str) -> Dossier | None:
    try:
        return selectors.dossier_for_citizen(citizen, code)
    except NotFound:
        return None


def dossiers_of(citizen: Any) -> list[Dossier]:
    return list(selectors.dossiers_of(citizen)[:200])


def events_of(dossier: Dossier) -> list[Any]:
    return list(selectors.events_of(dossier))


def steps_of(dossier: Dossier) -> list[dict[str, Any]]:
    """An interconnected dossier's steps for the citizen: each with its one-line result."""
    return [
        {
            "step": s,
            "summary": services.step_summary(s) if s.status == "done" else "",
            "result_code": s.result_document.code if s.result_document is not None else "",
            "waiting_agency": s.status == "sending" and s.attempts > 0,
        }
        for s in selectors.steps_of(dossier)
    ]


def notifications_of(citizen: Any) -> list[Any]:
    return list(selectors.inbox(citizen).select_related("dossier")[:100])


def result_of(dossier: Dossier) -> Document | None:
    if not dossier.result_document_id:
        return None
    return Document.objects.filter(pk=dossier.result_document_id).first()


def start_payment(actor: Actor, dossier: Dossier, citizen: Any, return_url: str) -> str:
    _payment, url = payments.start_payment(actor, reference=dossier.code, amount_vnd=dossier.fee_vnd,
                                           payer=citizen, return_url=return_url)
    return url


def submit(actor: Actor, proc: Procedure, citizen: Any, acting: dict[str, Any], data: dict[str, Any],
           chosen: dict[str, Any], key: str, loa: int) -> Dossier:
    relation = acting.get("relation") or "self"
    subject = (acting.get("subject_personal_id") or None) if relation != "self" else None
    return services.submit(actor, procedure_code=proc.code, applicant_personal_id=citizen.personal_id,
                           subject_personal_id=subject, relation=relation, data=data, components=chosen,
                           channel="online", idempotency_key=key or None, loa=loa)


def answer_supplement(actor: Actor, dossier: Dossier, note: str, chosen: dict[str, Any]) -> Dossier:
    """The answer adds or replaces components; those already on the dossier and not chosen again
    stay (the service counts them among the required ones)."""
    return services.answer_supplement(actor, dossier.code, components=chosen, note=note)


def rate(actor: Actor, dossier: Dossier, rating: int) -> Dossier:
    return services.rate(actor, dossier.code, rating)


def feedback(actor: Actor, dossier: Dossier | None, kind: str, text: str) -> Any:
    return services.give_feedback(actor, kind=kind, text=text, dossier_code=dossier.code if dossier else None)


def report_error(actor: Actor, proc: Procedure, citizen: Any, field: str, proposed_value: str,
                 note: str = "") -> Any:
    """"Báo sai": the citizen says a registry value is wrong → a correction request, which a
    police officer of their area handles (``services.corrections``)."""
    return corrections.request_correction(actor, citizen, field, proposed_value, note, procedure=proc)


def open_correction_fields(citizen: Any) -> set[str]:
    """The registry fields the citizen has an open correction request for."""
    return set(correction_selectors.of_citizen(citizen).filter(status="open").values_list("field", flat=True))


def corrections_of(citizen: Any) -> list[Any]:
    return list(correction_selectors.of_citizen(citizen)[:50])


def mark_read(actor: Actor) -> int:
    """The inbox was shown: its unread notifications are read now."""
    return services.mark_inbox_read(actor)
