"""The type of a file is read from its bytes (magic bytes + the structure of its end)."""

from __future__ import annotations

import pytest

from dancu.documents import sniff
from tests.documents.helpers import jpeg_bytes, pdf_bytes, png_bytes


def test_real_files_are_recognised() -> None:
    assert sniff.sniff(pdf_bytes()) == sniff.PDF
    assert sniff.sniff(jpeg_bytes()) == sniff.JPEG
    assert sniff.sniff(png_bytes()) == sniff.PNG


@pytest.mark.parametrize("make", [pdf_bytes, jpeg_bytes, png_bytes])
def test_a_truncated_file_is_nothing(make) -> None:
    content = make()
    assert sniff.sniff(content[: len(content) * 2 // 3]) is None
    assert sniff.sniff(content[:-3]) is None


@pytest.mark.parametrize("content", [
    b"MZ\x90\x00" + b"\x00" * 200,                            # a Windows executable
    b"PK\x03\x04" + b"\x00" * 200,                            # a zip (docx, xlsx…)
    b"<html><script>alert(1)</script></html>",
    b"%PDF-1.7\n<html>not a pdf, no end</html>",              # a PDF's first bytes glued on
    b"\xff\xd8\xff\xe0" + b"\x00" * 64,                       # a JPEG header and nothing after it
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,                      # a PNG signature and nothing after it
    b"",
])
def test_other_content_is_nothing(content: bytes) -> None:
    assert sniff.sniff(content) is None


def test_a_png_whose_header_chunk_is_corrupt_is_nothing() -> None:
    content = bytearray(png_bytes())
    content[18] ^= 0xFF  # inside IHDR's data: its CRC no longer matches
    assert sniff.sniff(bytes(content)) is None


def test_extension_and_declared_type() -> None:
    assert sniff.extension_type("Giấy khai sinh.PDF") == sniff.PDF
    assert sniff.extension_type("anh.jpeg") == sniff.JPEG
    assert sniff.extension_type("scan") == ""
    assert sniff.extension_type("virus.exe") is None
    assert sniff.declared("image/jpg") == sniff.JPEG
    assert sniff.declared("application/octet-stream") is None
    assert sniff.declared("text/html; charset=utf-8") == "text/html"
