"""Writes of the document store: uploads (type sniffed from the content), uses in dossiers, and
signed results and receipts. Each service owns its transaction and leaves an audit event; a
refused upload leaves a refusal event and nothing else."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.audit import services as audit
from dancu.core.errors import DomainError
from dancu.core.text import nfc
from dancu.documents import render, signing, sniff
from dancu.documents.models import Document, DocumentUse, Kind, MediaType
from dancu.documents.selectors import upload_max_bytes

if TYPE_CHECKING:
    from dancu.accounts.actor import Actor
    from dancu.population.models import Citizen

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud or typed from paper
CODE_LENGTH = 12
NATIONAL_HEADING = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
PDF_LABELS = {
    "reference": "Số hồ sơ",
    "issued_at": "Ngày cấp",
    "code": "Mã kiểm tra",
    "verify_hint": "Quét mã QR hoặc mở địa chỉ sau để kiểm tra văn bản là thật và chưa bị sửa đổi:",
    "signed_hint": "Văn bản điện tử được ký số bởi cơ quan cấp (PAdES). Bản in có giá trị khi "
                   "đối chiếu được với bản điện tử.",
}


def new_code() -> str:
    for _attempt in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Document.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not draw a free document code")  # 31^12 codes: never in practice


# ---- Uploads ------------------------------------------------------------------------------------

def clean_filename(filename: str, field: str) -> str:
    """The file's own name (no directories), NFC, without control characters; refused when it
    holds a NUL or other control character (a name crafted to cut the extension off)."""
    name = nfc(filename or "")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise DomainError("E_FILE_NAME", _("Tên tệp chứa ký tự không hợp lệ."), field)
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:255]


def check_upload(*, filename: str, content: bytes, field: str, declared_type: str | None = None) -> str:
    """The media type of an acceptable upload, or the refusal (naming ``field``): empty, too
    large, not a PDF/JPEG/PNG by its content, or content that is not what its extension or its
    declared type says."""
    clean_filename(filename, field)
    if not content:
        raise DomainError("E_FILE_EMPTY", _("Tệp rỗng."), field)
    limit = upload_max_bytes()
    if len(content) > limit:
        raise DomainError("E_FILE_TOO_LARGE",
                          _("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": f"{limit / 1048576:g}"}, field)
    actual = sniff.sniff(content)
    if actual is None:
        raise DomainError("E_FILE_TYPE", _("Chỉ nhận tệp PDF, JPEG hoặc PNG (nhận biết theo nội dung tệp; "
                                           "tệp bị cắt cụt cũng không được nhận)."), field)
    by_name = sniff.extension_type(filename)
    if by_name is None or (by_name and by_name != actual):
        raise DomainError("E_FILE_TYPE", _("Nội dung tệp không khớp với phần mở rộng của tên tệp."), field)
    by_client = sniff.declared(declared_type)
    if by_client is not None and by_client != actual:
        raise DomainError("E_FILE_TYPE", _("Nội dung tệp không khớp với kiểu tệp được khai báo."), field)
    return actual


def store_upload(actor: Actor, *, owner: Citizen | None, filename: str, content: bytes, field: str,
                 declared_type: str | None = None, title: str = "") -> Document:
    """Keep an uploaded attachment in the owner's store (``kind="upload"``), its type sniffed from
    the content and its SHA-256 recorded. A refusal is a DomainError naming ``field``
    (E_FILE_EMPTY, E_FILE_TOO_LARGE, E_FILE_TYPE, E_FILE_NAME), audited, nothing written."""
    try:
        media_type = check_upload(filename=filename, content=content, field=field,
                                  declared_type=declared_type)
    except DomainError as err:
        audit.record_refusal(actor, "document.store", err, subject_type="document",
                             personal_id=owner.personal_id if owner else "",
                             details={"size": len(content or b""),
                                      "declared_type": str(declared_type or "")[:80]})
        raise
    return _store(actor, owner=owner, filename=clean_filename(filename, field), content=content,
                  media_type=media_type, title=title)


@transaction.atomic
def _store(actor: Actor, *, owner: Citizen | None, filename: str, content: bytes, media_type: str,
           title: str) -> Document:
    document = Document.objects.create(
        code=new_code(), owner=owner, kind=Kind.UPLOAD, title=nfc(title or filename)[:300],
        filename=filename, media_type=media_type, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), content=content, created_at=timezone.now(),
        created_by=actor.label[:150])
    audit.record(actor, "document.store", subject_type="document", subject_id=document.code,
                 personal_id=owner.personal_id if owner else "",
                 after={"media_type": media_type, "size": document.size, "sha256": document.sha256})
    return document


@transaction.atomic
def record_use(actor: Actor, document: Document, *, reference: str, purpose: str) -> bool:
    """Record that ``document`` is used in ``reference`` (a dossier code). True when this is a new
    use; the same document and reference again changes nothing (False)."""
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("E_REQUIRED", _("Thiếu mã hồ sơ sử dụng tài liệu."), "reference")
    try:
        with transaction.atomic():
            DocumentUse.objects.create(document=document, reference=reference[:40], used_at=timezone.now(),
                                       purpose=nfc(purpose or "")[:200])
    except IntegrityError:
        if DocumentUse.objects.filter(document=document, reference=reference[:40]).exists():
            return False
        raise
    audit.record(actor, "document.use", subject_type="document", subject_id=document.code,
                 personal_id=document.owner.personal_id if document.owner_id else "",  # type: ignore[union-attr]
                 reason=purpose, details={"reference": reference[:40]})
    return True


# ---- Results and receipts -----------------------------------------------------------------------

def issue_signed_result(actor: Actor, *, owner: Citizen | None, title: str, reference: str,
                        lines: list[tuple[str, str]], issuer: str) -> Document:
    """The result of a procedure as a PDF (the lines as label: value), with a QR code to its
    public verification page, signed PAdES with the issuing agency's certificate, kept in the
    owner's store (``kind="result"``)."""
    return _issue(actor, kind=Kind.RESULT, owner=owner, title=title, reference=reference,
                  lines=lines, issuer=issuer, sign=True)


def issue_receipt(actor: Actor, *, owner: Citizen | None, title: str, reference: str,
                  lines: list[tuple[str, str]], issuer: str, sign: bool = True) -> Document:
    """A receipt (of a dossier, of a payment) as a PDF with its QR code, signed unless
    ``sign=False`` (``kind="receipt"``)."""
    return _issue(actor, kind=Kind.RECEIPT, owner=owner, title=title, reference=reference,
                  lines=lines, issuer=issuer, sign=sign)


@transaction.atomic
def _issue(actor: Actor, *, kind: str, owner: Citizen | None, title: str, reference: str,
           lines: list[tuple[str, str]], issuer: str, sign: bool) -> Document:
    title, issuer, reference = nfc(title or "").strip(), nfc(issuer or "").strip(), (reference or "").strip()
    if not title:
        raise DomainError("E_REQUIRED", _("Thiếu tên văn bản."), "title")
    if not issuer:
        raise DomainError("E_REQUIRED", _("Thiếu cơ quan cấp."), "issuer")
    code, now = new_code(), timezone.now()
    pdf = render.render_pdf(code=code, title=title, issuer=issuer, heading=NATIONAL_HEADING,
                            lines=[(nfc(str(a)), nfc(str(b))) for a, b in lines], reference=reference,
                            issued_at=now, labels=PDF_LABELS)
    if sign:
        pdf = signing.sign_pdf(pdf, signer_name=issuer[:200], reason=f"{title} ({reference})"[:200])
    document = Document.objects.create(
        code=code, owner=owner, kind=kind, title=title[:300], filename=f"{code}.pdf",
        media_type=MediaType.PDF, size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(), content=pdf,
        created_at=now, created_by=actor.label[:150], signed=sign, issuer=issuer[:300],
        reference=reference[:40])
    audit.record(actor, f"document.issue_{kind}", subject_type="document", subject_id=code,
                 personal_id=owner.personal_id if owner else "", reason=reference,
                 after={"title": document.title, "sha256": document.sha256, "signed": sign})
    return document
