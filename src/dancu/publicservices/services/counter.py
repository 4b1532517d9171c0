"""The one-stop counter's intake of a paper dossier: the scans stored as the applicant's
documents (``documents.services.store_upload``: type sniffed from the content, size-limited)
and the dossier submitted with channel "counter" (``submit``) — in one transaction, so a
refused submission leaves no stray scan behind."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import OutOfJurisdiction
from dancu.documents import services as documents
from dancu.population.models import Citizen
from dancu.publicservices.models import Channel, Dossier
from dancu.publicservices.services.submission import submit


def submit_at_counter(actor: Actor, *, procedure_code: str, applicant_personal_id: str,
                      subject_personal_id: str | None, relation: str, data: dict[str, Any],
                      files: dict[str, Any]) -> Dossier:
    """``files``: component key → an uploaded file (``read()``, ``name``) or None. Each scan
    is stored for the applicant with ``store_upload`` (refusals name ``components.<key>``);
    then ``submit`` checks everything else (form schema, registry fields, who may act for
    whom, the law's rules) and records the dossier and its first event."""
    try:
        return _submit_at_counter(actor, procedure_code=procedure_code,
                                  applicant_personal_id=applicant_personal_id,
                                  subject_personal_id=subject_personal_id, relation=relation,
                                  data=data, files=files)
    except OutOfJurisdiction as exc:  # recorded once the transaction has rolled back
        if not audit.was_recorded(exc):
            audit.record_refusal(actor, "dossier.submit", exc, subject_type="dossier",
                                 personal_id=subject_personal_id or applicant_personal_id or "",
                                 details={"procedure": str(procedure_code)[:20], "channel": "counter"})
        raise


@transaction.atomic
def _submit_at_counter(actor: Actor, *, procedure_code: str, applicant_personal_id: str,
                       subject_personal_id: str | None, relation: str, data: dict[str, Any],
                       files: dict[str, Any]) -> Dossier:
    owner = Citizen.objects.filter(personal_id=applicant_personal_id).first()
    components: dict[str, Any] = {}
    for key, upload in files.items():
        if upload is None:
            continue
        components[key] = documents.store_upload(
            actor, owner=owner, filename=str(getattr(upload, "name", key))[:255],
            content=upload.read(), field=f"components.{key}")
    return submit(actor, procedure_code=procedure_code,
                             applicant_personal_id=applicant_personal_id,
                             subject_personal_id=subject_personal_id, relation=relation, data=data,
                             components=components, channel=Channel.COUNTER)
