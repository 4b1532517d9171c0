"""DejaVu Sans parsed once per process (``documents.pdf_fonts``): the PDFs are byte for byte
those of fpdf2's own ``add_font``, each document embeds its own glyphs only, and threads
rendering at once each get their own document."""

from __future__ import annotations

import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import TTFFont
from pyhanko.pdf_utils.reader import PdfFileReader

from dancu.documents import pdf_fonts, render, services
from dancu.workgroups import render as report_render
from tests.documents.helpers import report_snapshot
from tests.parallel import frequent_thread_switches

ISSUED_AT = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)


def result_pdf(name: str = "Nguyễn Thị Hoà", address: str = "12 Lê Lợi, Phường Hạc Thành") -> bytes:
    return render.render_pdf(
        code="AB23CD45EF67",
        title="Xác nhận đăng ký tạm trú",
        issuer="Công an Phường Hạc Thành",
        heading=services.NATIONAL_HEADING,
        lines=[("Họ và tên", name), ("Nơi tạm trú", address)],
        reference="DC-20261207-000001",
        issued_at=ISSUED_AT,
        labels=services.PDF_LABELS,
    )


def uncached(render_: Any, *args: Any, **kwargs: Any) -> bytes:
    with pdf_fonts.uncached():
        return render_(*args, **kwargs)


def embedded_fonts(pdf: bytes) -> dict[str, set[str]]:
    """The characters of each font file embedded in the PDF (its subset's cmap), by font name."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found: dict[str, set[str]] = {}
    for page in reader.root["/Pages"]["/Kids"]:
        for ref in page.get_object()["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            subset = ttLib.TTFont(io.BytesIO(descriptor["/FontFile2"].data))
            found[str(font["/BaseFont"])] = {chr(c) for c in subset.getBestCmap()}
    return found


def test_the_two_faces_are_templated_with_the_attributes_fpdf2_has() -> None:
    """The installed fpdf2's TTFFont has exactly the attributes pdf_fonts sorts into shared and
    per-document (an fpdf2 upgrade that adds one fails here, not silently in a PDF), and both
    DejaVu faces are templated (not left to the uncached fallback)."""
    assert set(TTFFont.__slots__) == pdf_fonts.SHARED | pdf_fonts.OWN
    assert not pdf_fonts.SHARED & pdf_fonts.OWN
    for style, name in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
        assert pdf_fonts._template("DejaVu", style, render.FONTS / name) is not None


def test_fonts_are_parsed_once_per_process(monkeypatch) -> None:
    result_pdf()  # the templates exist (as in a server that has rendered before)
    made: list[str] = []
    original = TTFFont.__init__

    def counting(self: TTFFont, *args: Any, **kwargs: Any) -> None:
        made.append(str(args[1]))
        original(self, *args, **kwargs)

    monkeypatch.setattr(TTFFont, "__init__", counting)
    result_pdf(), report_render.render_pdf(report_snapshot())
    assert made == []
    uncached(result_pdf)
    assert len(made) == 2  # the baseline still parses both faces


def test_byte_for_byte_the_pdf_of_fpdf2s_add_font() -> None:
    """A result and a working-group report (frozen bytes: issued once, downloaded as stored)
    are the same bytes with the parsed fonts reused as with fpdf2 parsing the files."""
    assert result_pdf() == uncached(result_pdf)
    snapshot = report_snapshot()
    assert report_render.render_pdf(snapshot) == uncached(report_render.render_pdf, snapshot)
    assert report_render.render_pdf(snapshot) == report_render.render_pdf(snapshot)


def test_each_document_embeds_its_own_glyphs_only() -> None:
    """A document's font subset holds its glyphs, not those of the documents before it: after
    a document with Greek and Cyrillic letters, the next one embeds none of them, and is the
    same PDF as when rendered first."""
    plain = uncached(result_pdf)
    foreign = result_pdf(name="Ωμέγα Жуков", address="Ђурђевак")
    assert set("ΩμέγαЖуковЂ") <= set().union(*embedded_fonts(foreign).values())
    after = result_pdf()
    assert after == plain
    chars = embedded_fonts(after)
    assert len(chars) == 2
    for font_chars in chars.values():
        assert not font_chars & set("ΩμέγαЖуковЂ")
        assert {"a", "H"} <= font_chars and len(font_chars) < 150  # a subset, not the ~6,000 glyphs
    assert set("Nguyễn Thị Hoà") <= set().union(*chars.values())


def test_threads_rendering_at_once_each_get_their_own_document() -> None:
    """Twelve documents, each with its own name, rendered by six threads switching every
    microsecond: each PDF is the one the same document gets rendered alone with fpdf2's own
    add_font. (Sharing a font's descriptor, subset or fontTools font between documents makes
    them differ: fpdf2 numbers the descriptor and subsets the font in place at output.)"""
    names = [f"Người thứ {i} {'ĂÂĐÊÔƠƯ'[i % 7] * (i + 1)}" for i in range(12)]
    expected = [uncached(result_pdf, name=name) for name in names]
    expected_report = uncached(report_render.render_pdf, report_snapshot())

    def work(i: int) -> bytes:
        return result_pdf(name=names[i]) if i < 12 else report_render.render_pdf(report_snapshot())

    with frequent_thread_switches(), ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(work, range(14)))
    assert got[:12] == expected
    assert got[12:] == [expected_report, expected_report]


@pytest.mark.parametrize("problem", ["fpdf2 changed", "compressed font"])
def test_a_font_or_fpdf2_it_cannot_template_is_parsed_as_before(
    monkeypatch, problem, tmp_path, caplog
) -> None:
    """The fallback: fpdf2's own add_font (and a warning saying why), never a wrong PDF."""
    monkeypatch.setattr(pdf_fonts, "_templates", {})  # this test's verdicts stay in this test
    if problem == "fpdf2 changed":  # as if TTFFont had an attribute pdf_fonts does not know
        monkeypatch.setattr(pdf_fonts, "OWN", pdf_fonts.OWN - {"color_font"})
        path = tmp_path / "DejaVuSans.ttf"
        path.write_bytes((render.FONTS / "DejaVuSans.ttf").read_bytes())
    else:
        font = ttLib.TTFont(render.FONTS / "DejaVuSans.ttf")
        font.flavor = "woff"
        path = tmp_path / "DejaVuSans.woff"
        font.save(path)
    pdf = FPDF()
    pdf_fonts.add_font(pdf, "Other", "", path)
    assert pdf_fonts._templates == {("Other", "", str(path)): None}
    assert "parsed at every document" in caplog.text
    font = pdf.fonts["other"]
    assert isinstance(font, TTFFont) and font.ttffile == path  # fpdf2's own, opened from the file
    font.close()
