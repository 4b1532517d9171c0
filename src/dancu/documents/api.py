"""Public JSON verification of an issued document: ``GET /api/v1/documents/verify/{code}``.

No token: anyone holding a result (its QR code) may check it, as on the page ``/verify/<code>/``.
It tells whether the document is genuine (the stored copy's hash and PAdES signature) and what it
is (title, issuer, date) — never whose it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Path, Router, Schema, Status

from dancu.documents import selectors
from dancu.population.api import ErrorOut

router = Router(tags=["documents"])


class DocumentVerifyOut(Schema):
    code: str
    verdict: str                 # genuine | altered
    genuine: bool
    kind: str                    # result | receipt
    title: str
    issuer: str
    issued_at: dt.datetime
    reference: str
    media_type: str
    sha256: str
    signed: bool
    signature_valid: bool | None  # null when the document is not signed
    signer: str


@router.get("/verify/{code}", auth=None, response={200: DocumentVerifyOut, 404: ErrorOut, 422: ErrorOut},
            summary="Is the document issued under this code genuine and unaltered?",
            operation_id="documents_verify")
def verify(request: HttpRequest,
           code: str = Path(..., pattern=selectors.CODE_PATTERN, min_length=10, max_length=16,
                            description="The code printed on the document and held by its QR code")
           ) -> Status:
    """The verdict on the copy kept at issue: its SHA-256 as recorded, and for a signed document
    its PAdES signature (intact, covering the whole file, chaining to a trusted root). 404
    ``E_NOT_FOUND`` when no result or receipt was issued under the code."""
    result = selectors.verify(code)
    document = result.document
    if document is None:
        return Status(404, {"code": "E_NOT_FOUND", "field": "code",
                            "message": str(_("Không có văn bản nào được cấp với mã này."))})
    body: dict[str, Any] = {
        "code": document.code, "verdict": result.verdict, "genuine": result.genuine, "kind": document.kind,
        "title": document.title, "issuer": document.issuer, "issued_at": document.created_at,
        "reference": document.reference, "media_type": document.media_type, "sha256": document.sha256,
        "signed": document.signed, "signature_valid": result.signature_valid, "signer": result.signer}
    return Status(200, body)
