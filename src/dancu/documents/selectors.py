"""Reads of the document store: a citizen's own documents, the public verification of a result,
and an officer's read of a personal document (audited with its purpose)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.documents import signing
from dancu.documents.models import Document, DocumentUse, Kind

if TYPE_CHECKING:
    from dancu.accounts.actor import Actor
    from dancu.population.models import Citizen

DEFAULT_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
CODE_PATTERN = r"^[A-Za-z0-9_-]{10,16}$"
_CODE = re.compile(CODE_PATTERN)
# Documents anyone holding the code may verify: what the state issued. A citizen's own uploads
# are not public (their code is never printed), so they answer "unknown" like a code never issued.
PUBLIC_KINDS = (Kind.RESULT, Kind.RECEIPT)

GENUINE, ALTERED, UNKNOWN = "genuine", "altered", "unknown"


def documents_of(owner: Citizen) -> QuerySet[Document]:
    """The citizen's personal store, newest first (without the content column)."""
    return (Document.objects.filter(owner=owner).defer("content")
            .annotate(use_count=Count("uses")).order_by("-created_at", "-id"))


def get_by_code(code: str) -> Document | None:
    code = (code or "").strip()
    if not _CODE.match(code):
        return None
    return Document.objects.filter(code=code.upper()).first()


def document_for_owner(owner_id: int, code: str) -> Document | None:
    """The document if ``owner_id`` owns it, else None (the same answer as an unknown code)."""
    document = get_by_code(code)
    if document is None or document.owner_id != owner_id:
        return None
    return document


def download_for_owner(actor: Actor, owner_id: int, code: str) -> Document | None:
    """``document_for_owner``, the download recorded in the audit trail (the citizen's own read)."""
    document = document_for_owner(owner_id, code)
    if document is not None:
        audit.record(actor, "document.download", subject_type="document", subject_id=document.code,
                     personal_id=document.owner.personal_id if document.owner else "")
    return document


def upload_max_bytes() -> int:
    """The largest file accepted (``DANCU_UPLOAD_MAX_BYTES``, default 5 MiB); also the largest
    file the verification page compares."""
    return int(getattr(settings, "DANCU_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES))


verify_max_bytes = upload_max_bytes


def use_count(document: Document) -> int:
    return DocumentUse.objects.filter(document=document).count()


def reuse_counts() -> dict[str, int]:
    """How many documents were used in more than one dossier, and how many uses were reuses
    (every use of a document after its first): the digitisation figure of reuse."""
    per_document = (DocumentUse.objects.values("document").annotate(n=Count("id")).filter(n__gt=1)
                    .values_list("n", flat=True))
    counts = list(per_document)
    return {"documents_reused": len(counts), "reuses": sum(n - 1 for n in counts)}


@dataclass(frozen=True)
class VerifyResult:
    verdict: str                      # "genuine" | "altered" | "unknown"
    document: Document | None = None
    signature_valid: bool | None = None   # None: the document is not signed
    hash_matches: bool | None = None      # None: no file given to compare
    signer: str = ""
    signed_at: dt.datetime | None = None
    detail: str = ""

    @property
    def genuine(self) -> bool:
        return self.verdict == GENUINE


def verify(code: str, content: bytes | None = None) -> VerifyResult:
    """Is the document issued under ``code`` genuine and unaltered?

    - unknown: no result or receipt was issued under this code;
    - genuine: the code is known, the bytes checked (the uploaded ``content`` if given, else the
      stored copy) have the SHA-256 recorded at issue, and — for a signed document — the PAdES
      signature validates (intact, covering the whole file, chaining to a trusted root);
    - altered: anything else (one byte changed is enough).
    """
    document = get_by_code(code)
    if document is None or document.kind not in PUBLIC_KINDS:
        return VerifyResult(UNKNOWN, detail="unknown code")
    checked = bytes(document.content) if content is None else content
    hash_matches = hashlib.sha256(checked).hexdigest() == document.sha256
    if not document.signed:
        return VerifyResult(GENUINE if hash_matches else ALTERED, document, None,
                            hash_matches if content is not None else None,
                            detail="" if hash_matches else "hash mismatch")
    check = signing.check_pdf(checked)
    ok = hash_matches and check.valid
    signed_at = check.signed_at if isinstance(check.signed_at, dt.datetime) else None
    detail = "" if ok else ("hash mismatch" if not hash_matches else check.reason)
    return VerifyResult(GENUINE if ok else ALTERED, document, check.valid,
                        hash_matches if content is not None else None, check.signer, signed_at, detail)


def open_for_officer(actor: Actor, code: str, *, purpose: str) -> Document:
    """An officer's (or agency's) read of a personal document, audited with its purpose (e.g.
    the dossier being processed). The officer's right to the dossier is the caller's check
    (publicservices knows the dossier); here: a purpose is required, and the document must be
    used in the dossier the purpose names or its owner live in the actor's area. Refusals are
    audited."""
    purpose = (purpose or "").strip()
    document = get_by_code(code)
    try:
        if actor.source == "citizen" or not actor.role:
            raise OutOfJurisdiction("E_NOT_OFFICER", _("Chỉ cán bộ được xem tài liệu của người khác."),
                                    "code")
        if not purpose:
            raise DomainError("E_PURPOSE_REQUIRED", _("Cần nêu mục đích xem tài liệu."), "purpose")
        if document is None:
            raise NotFound("E_NOT_FOUND", _("Không tìm thấy tài liệu."), "code")
        owner = document.owner
        in_dossier = DocumentUse.objects.filter(document=document, reference=purpose[:40]).exists() \
            or (document.reference and document.reference == purpose[:40])
        in_area = owner is not None and actor.covers(owner.current_commune_id, owner.current_province_id)
        if not (in_dossier or in_area):
            raise OutOfJurisdiction("E_OUT_OF_JURISDICTION",
                                    _("Tài liệu không thuộc hồ sơ hay địa bàn bạn phụ trách."), "code")
    except DomainError as err:
        audit.record_refusal(actor, "document.read", err, subject_type="document",
                             subject_id=(code or "")[:40], reason=purpose[:500])
        raise
    audit.record(actor, "document.read", subject_type="document", subject_id=document.code,
                 personal_id=owner.personal_id if owner else "", reason=purpose[:500])
    return document
