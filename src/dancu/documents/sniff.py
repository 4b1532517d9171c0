"""What a file is, from its bytes: PDF, JPEG or PNG — never from its name or the browser's word.

Each type is recognised by its magic bytes AND a structural check of its end, so a truncated
upload (a transfer cut short) or a file with a type's first bytes glued onto something else is
not taken for one: a PDF starts with ``%PDF-1.x``/``%PDF-2.x`` and has ``%%EOF`` in its last
1,024 bytes; a JPEG starts with the SOI marker followed by another marker and ends with EOI
(``FF D9``); a PNG has the 8-byte signature, an IHDR chunk first whose CRC is right, and ends
with the IEND chunk. Plain functions: no database, no Django.
"""

from __future__ import annotations

import re
import zlib

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
ALLOWED = (PDF, JPEG, PNG)

EXTENSIONS = {"pdf": PDF, "jpg": JPEG, "jpeg": JPEG, "jpe": JPEG, "png": PNG}
# What browsers and clients send for these types; "" / octet-stream declare nothing.
_DECLARED = {"application/pdf": PDF, "application/x-pdf": PDF, "image/jpeg": JPEG, "image/jpg": JPEG,
             "image/pjpeg": JPEG, "image/png": PNG, "image/x-png": PNG}
UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def sniff(content: bytes) -> str | None:
    """The media type the content really is (one of ``ALLOWED``), or None."""
    if _is_pdf(content):
        return PDF
    if _is_jpeg(content):
        return JPEG
    if _is_png(content):
        return PNG
    return None


def _is_pdf(content: bytes) -> bool:
    return bool(_PDF_HEADER.match(content)) and b"%%EOF" in content[-1024:]


def _is_jpeg(content: bytes) -> bool:
    # SOI, then a marker (FF xx, xx not 00/FF), and EOI at the end (trailing NUL padding allowed).
    if len(content) < 8 or content[:3] != b"\xff\xd8\xff" or content[3] in (0x00, 0xFF):
        return False
    return content.rstrip(b"\x00").endswith(b"\xff\xd9")


def _is_png(content: bytes) -> bool:
    if len(content) < 8 + 25 + 12 or not content.startswith(_PNG_SIGNATURE):
        return False
    ihdr = content[8:8 + 25]  # length (4) type (4) data (13) crc (4)
    if ihdr[:8] != b"\x00\x00\x00\rIHDR":
        return False
    if zlib.crc32(ihdr[4:21]) != int.from_bytes(ihdr[21:25], "big"):
        return False
    return content.endswith(_PNG_IEND)


def declared(media_type: str | None) -> str | None:
    """A client's Content-Type reduced to one of ``ALLOWED``; None when it declares nothing;
    the (lower-cased) type itself when it is something else (a mismatch for the caller)."""
    value = (media_type or "").split(";", 1)[0].strip().lower()
    if value in UNDECLARED:
        return None
    return _DECLARED.get(value, value)


def extension_type(filename: str) -> str | None:
    """The type a file name's extension claims: one of ``ALLOWED``, "" when the name has no
    extension, None for an extension that is none of ours (``.exe``, ``.txt``)."""
    base = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." not in base.strip("."):
        return ""
    return EXTENSIONS.get(base.rsplit(".", 1)[-1].strip().lower())
