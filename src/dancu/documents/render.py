"""Rendering a result or receipt as PDF (fpdf2) with a QR code (segno) to its verification page.

The text is Vietnamese: fpdf2 embeds a subset of DejaVu Sans (shipped in ``fonts/``, licence
beside it), which covers every precomposed Vietnamese letter; text is NFC first.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import segno
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from fpdf import FPDF

from dancu.core.text import nfc
from dancu.documents import pdf_fonts

FONTS = Path(__file__).resolve().parent / "fonts"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def public_url() -> str:
    """``DANCU_PUBLIC_URL``; in production it must be set (a QR code to 127.0.0.1 on an official
    document would be useless), elsewhere it defaults to the development server's address."""
    configured = str(getattr(settings, "DANCU_PUBLIC_URL", "") or "").rstrip("/")
    if configured:
        return configured
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("DANCU_PUBLIC_URL must be set: it is printed in the QR code of "
                                   "every signed document (docs/documents.md)")
    return DEFAULT_PUBLIC_URL


def verify_url(code: str) -> str:
    """The absolute address of a document's public verification page (what its QR code holds)."""
    return public_url() + reverse("documents:verify", args=[code])


def qr_png(payload: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def new_pdf(*, title: str, author: str, created_at: dt.datetime, orientation: str = "portrait") -> FPDF:
    """An A4 document with DejaVu Sans (regular "DejaVu", bold "DejaVu" "B") registered, its
    metadata set, automatic page breaks — the start of every PDF dancu renders."""
    pdf = FPDF(orientation=orientation, format="A4", unit="mm")
    pdf.set_creator("dancu")
    pdf.set_title(nfc(title))
    pdf.set_author(nfc(author))
    pdf.set_creation_date(created_at)
    pdf_fonts.add_font(pdf, "DejaVu", "", FONTS / "DejaVuSans.ttf")  # parsed once per process
    pdf_fonts.add_font(pdf, "DejaVu", "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_auto_page_break(auto=True, margin=20)
    return pdf


def render_pdf(*, code: str, title: str, issuer: str, heading: str, lines: list[tuple[str, str]],
               reference: str, issued_at: dt.datetime, labels: dict[str, str]) -> bytes:
    """One A4 page: the national heading, the issuer, the title, the lines (label: value), the
    reference and date, and the QR code with the verification address under it."""
    pdf = new_pdf(title=title, author=issuer, created_at=issued_at)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(width, 6, nfc(issuer).upper(), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(width, 6, nfc(heading), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(width, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 8, nfc(title).upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("DejaVu", "", 11)
    local = timezone.localtime(issued_at)
    rows = [*lines, (labels["reference"], reference), (labels["issued_at"], local.strftime("%d/%m/%Y %H:%M")),
            (labels["code"], code)]
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(width * 0.38, 7, nfc(str(label)), new_x="RIGHT", new_y="TOP")
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(width * 0.62, 7, nfc(str(value)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    url = verify_url(code)
    size = 38
    top = pdf.get_y()
    if top + size + 20 > pdf.h - pdf.b_margin:
        pdf.add_page()
        top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(url)), x=pdf.l_margin, y=top, w=size, h=size)
    pdf.set_xy(pdf.l_margin + size + 5, top + 4)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width - size - 5, 5, nfc(labels["verify_hint"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + size + 5)
    pdf.multi_cell(width - size - 5, 5, url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + size + 5)
    pdf.multi_cell(width - size - 5, 5, nfc(labels["signed_hint"]), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
