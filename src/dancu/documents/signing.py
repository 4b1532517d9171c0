"""PAdES signatures (pyHanko): signing a rendered PDF with the issuing agency's key, and checking
a signed PDF — the signature intact, the signed bytes covering the whole file, and the signer's
certificate chaining to a trusted root (``pki.trust_roots``)."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from dancu.documents import pki

logger = logging.getLogger("dancu.documents")
FIELD_NAME = "DancuSignature"
# One signature at a time per process: the signer is loaded once per process (pki.signer) and
# pyHanko serialises its certificates with asn1crypto, whose objects compute and cache their
# encoding lazily and are not safe to share between threads — two signatures at once in the
# server's threads failed (TypeError/ValueError inside asn1crypto), found by bench_bundles'
# two officers deciding at once. Signing is CPU work under the GIL: the lock costs no throughput.
_SIGNING = threading.Lock()


def sign_pdf(pdf: bytes, *, signer_name: str, reason: str, location: str = "Việt Nam") -> bytes:
    """The PDF signed PAdES (ETSI.CAdES.detached, SHA-256) as a certification signature that
    allows no later change: any byte altered or appended breaks it."""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location, name=signer_name, certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    with _SIGNING:
        out = signers.sign_pdf(writer, meta, signer=pki.signer())
    return bytes(out.getvalue())


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool          # intact, whole file covered, trusted chain
    intact: bool         # the signed bytes are what was signed
    trusted: bool        # the certificate chains to a trusted root
    signer: str          # the certificate's subject, as text
    signed_at: object    # datetime claimed by the signer (None if absent)
    reason: str          # why not valid ("" when valid)


def check_pdf(content: bytes) -> SignatureCheck:
    """Validate the (first) signature of a PDF against the trusted roots. Never raises for a
    malformed file: it is simply not valid."""
    try:
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # a file that is not a readable PDF
        return SignatureCheck(False, False, False, "", None, f"unreadable: {type(exc).__name__}")
    if not embedded:
        return SignatureCheck(False, False, False, "", None, "no signature")
    try:
        context = ValidationContext(trust_roots=list(pki.trust_roots()), allow_fetching=False,
                                    revocation_mode="soft-fail")
        status = validate_pdf_signature(embedded[0], context)
    except Exception as exc:  # a corrupt signature container
        logger.info("signature validation failed: %s", exc)
        return SignatureCheck(False, False, False, "", None, f"invalid: {type(exc).__name__}")
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    valid = bool(status.bottom_line) and whole
    reason = "" if valid else ("altered" if not status.intact or not status.valid
                               else "untrusted" if not status.trusted else "not the whole file")
    subject = status.signing_cert.subject
    signer = str(subject.native.get("common_name") or subject.human_friendly)
    return SignatureCheck(valid=valid, intact=bool(status.intact and status.valid),
                          trusted=bool(status.trusted), signer=signer,
                          signed_at=status.signer_reported_dt, reason=reason)
