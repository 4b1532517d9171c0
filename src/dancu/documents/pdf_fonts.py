"""The TrueType fonts of dancu's PDFs, parsed once per process instead of once per document.

fpdf2's ``FPDF.add_font`` opens the font file with fontTools and builds the font's metrics (a
width and a glyph id for each of DejaVu Sans's ~6,000 characters) at every call: ~50 ms of CPU
a face, two faces per PDF. ``add_font`` here builds fpdf2's ``TTFFont`` once per process and
font (the template, under a lock) and gives each document its own copy of it. What fpdf2 reads
but never changes after loading is shared by the copies (``SHARED``); what a document changes is
its own (``OWN``), so no state passes from one document to another, nor between threads:

- ``ttfont``: the fontTools font, opened per document from the file's bytes (kept in memory,
  lazily: only the directory is read). At output fpdf2 subsets it *in place* to the document's
  glyphs, saves it into the PDF and closes it — a shared one would carry one document's subset
  into the next. Its tables are parsed at that output, as they were before;
- ``subset`` (the document's glyphs and their codes) and ``missing_glyphs``;
- ``desc``, the font descriptor: at output fpdf2 gives it the document's object number and
  points it at the document's font stream — a shared one would be rewritten by another thread;
- ``cw``, the widths, a ``defaultdict`` (looking up a character the font lacks adds it);
- ``i``, ``biggest_size_pt``, ``_hbfont`` (text shaping, unused here), ``color_font``.

The PDF is byte for byte the one ``FPDF.add_font`` gives (tests/documents/test_pdf_fonts.py).
Only fonts that fpdf2 loads without changing them are templated (a plain TrueType file with a
``.notdef`` glyph, no colour, not CFF, not compressed): anything else, or an fpdf2 whose
``TTFFont`` has other attributes than the two lists, gets ``FPDF.add_font`` as before.
"""

from __future__ import annotations

import copy
import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

log = logging.getLogger(__name__)

SHARED = frozenset(
    {
        "type",
        "name",
        "ttffile",
        "fontkey",
        "emphasis",
        "scale",
        "cmap",
        "glyph_ids",
        "up",
        "ut",
        "sp",
        "ss",
        "unicode_range",
        "palette_index",
        "is_compressed",
        "is_cff",
        "is_cid_keyed",
        "is_symbol",
        "cff_ros",
        "collection_font_number",
    }
)
OWN = frozenset(
    {"i", "ttfont", "subset", "missing_glyphs", "desc", "cw", "biggest_size_pt", "_hbfont", "color_font"}
)


@dataclass(frozen=True)
class _Template:
    font: TTFFont  # never given to a document: its attributes are copied (SHARED) or made anew (OWN)
    data: bytes  # the font file


_templates: dict[tuple[str, str, str], _Template | None] = {}
_lock = threading.Lock()
_cached: ContextVar[bool] = ContextVar("dancu_pdf_fonts_cached", default=True)


@contextmanager
def uncached() -> Iterator[None]:
    """``add_font`` as fpdf2's own, parsing the file, in this context (the baseline of
    bench/bench_pdf.py and of the byte-for-byte test)."""
    token = _cached.set(False)
    try:
        yield
    finally:
        _cached.reset(token)


def add_font(pdf: FPDF, family: str, style: str, path: Path) -> None:
    """``pdf.add_font(family, style, str(path))``, with the file parsed once per process."""
    template = _template(family, style, path) if _cached.get() else None
    if template is None:
        pdf.add_font(family, style, str(path))
        return
    pdf.fonts[template.font.fontkey] = _copy(template, pdf)


def _template(family: str, style: str, path: Path) -> _Template | None:
    key = (family, style, str(path))
    try:
        return _templates[key]
    except KeyError:
        pass
    with _lock:
        if key not in _templates:
            _templates[key] = _load(family, style, path)
        return _templates[key]


def _load(family: str, style: str, path: Path) -> _Template | None:
    scratch = FPDF()
    scratch.add_font(family, style, str(path))
    (font,) = scratch.fonts.values()
    if not isinstance(font, TTFFont):  # pragma: no cover - add_font only makes TTFFonts
        return None
    data = path.read_bytes()
    problem = _unsupported(font, data)
    font.close()  # the template keeps no open file
    if problem:
        log.warning("PDF font %s is parsed at every document: %s", path.name, problem)
        return None
    font.ttfont = None  # its parsed tables are not needed again
    return _Template(font=font, data=data)


def _unsupported(font: TTFFont, data: bytes) -> str:
    """Why this font (or this fpdf2) cannot be templated safely, or ``""``."""
    if set(TTFFont.__slots__) != SHARED | OWN:
        return "fpdf2's TTFFont has other attributes than pdf_fonts knows: review SHARED and OWN"
    if font.is_compressed or font.is_cff or font.color_font is not None:
        return "only plain TrueType fonts without colour glyphs are templated"
    as_filed = ttLib.TTFont(io.BytesIO(data), lazy=True)
    if "glyf" not in as_filed or ".notdef" not in as_filed["glyf"]:
        return "fpdf2 draws a .notdef glyph into this font when it loads it"
    return ""


def _copy(template: _Template, pdf: FPDF) -> TTFFont:
    """A document's own font: the template's read-only attributes and fresh per-document state,
    as ``TTFFont.__init__`` leaves it."""
    source = template.font
    font = TTFFont.__new__(TTFFont)
    for name in SHARED:
        if hasattr(source, name):
            setattr(font, name, getattr(source, name))
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(
        io.BytesIO(template.data), recalcTimestamp=False, fontNumber=source.collection_font_number, lazy=True
    )
    font.cw = source.cw.copy()
    font.desc = copy.copy(source.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.color_font = None
    font.subset = SubsetMap(font)
    return font
