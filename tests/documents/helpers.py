"""Real files for the document tests: a PDF (fpdf2), a JPEG and a PNG (Pillow), made here."""

from __future__ import annotations

import io
import shutil
import subprocess

from fpdf import FPDF
from PIL import Image


def pdf_bytes(text: str = "Giấy tờ thử") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(40, 10, text.encode("ascii", "replace").decode())
    return bytes(pdf.output())


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def jpeg_bytes() -> bytes:
    return image_bytes("JPEG")


def png_bytes() -> bytes:
    return image_bytes("PNG")


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), input=stdin, capture_output=True, timeout=60, check=False)
