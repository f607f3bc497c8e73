"""PDF files: the text layer, page by page, as paragraphs, headings, lists and code.

Contract: :func:`read_pdf` reads the text layer with pypdfium2 (PDFium's text extraction: words
and spaces placed by glyph positions, ligatures expanded, soft line-end hyphens marked) and returns
blocks in the order of the page's text, each with its 1-based ``page`` (a paragraph that runs on to
the next page keeps the page it starts on); ``pages`` is the page count. Hard-wrapped lines are
joined into paragraphs (a paragraph ends at a larger vertical gap, a change of font size, an
indented or short line after a sentence end, a list bullet); a line-end hyphen before a lower-case
word is removed ("exam-" + "ple" = "example"). Headings: the PDF's outline (bookmarks) titles at
their page (the matching line becomes the heading, else the title is placed where the bookmark
points; ``level`` = depth + 1), numbered lines in a larger or bold font ("2.3 Simple
manipulations", ``level`` = number of parts), other lines in a clearly larger font (levels by size).
Lines that repeat at the top or bottom of most pages, modulo page numbers (running heads, footers,
bare page numbers), are dropped, and so are the pages of a table of contents or an index. Lines in
a monospace font, or R / shell / Python prompts ("> x <- c(1,2)"), are ``code`` blocks with their
line breaks and indentation; bullet items are ``list`` blocks. The title is the metadata ``Title``,
else the first heading, else the file name without its suffix. :class:`ReaderError`: "encrypted
PDF: decrypt it first" (no empty password opens it), "no text layer: scanned? OCR is not
supported", "not a readable PDF (...)" (no header, truncated, corrupt). PDFium is not thread-safe:
threads of one process read PDFs one at a time.
This module extracts the lines; :mod:`rag.indexing.readers.pdf_layout` drops running heads and
marks headings and code, :mod:`rag.indexing.readers.pdf_paragraphs` joins the lines into blocks.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
from pathlib import Path
from typing import Any

from rag.indexing.readers.base import ReadDocument, ReaderError, ReadLimits
from rag.indexing.readers.pdf_layout import Line, classify, drop_contents_pages, drop_running_heads, place_outline
from rag.indexing.readers.pdf_paragraphs import paragraph_blocks

_MONO_FONT = re.compile(r"mono|courier|typewriter|consol|menlo|inconsolata|fixed|cmtt|sftt|lmtt|txtt|\btt|code", re.I)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|cmbx|sfbx|[-,]bd?\b|\bbx\d", re.I)
_PDFIUM = threading.Lock()
_JUNK_TITLE = re.compile(r"^(?:untitled|microsoft word - .*|document\d*|slide \d+|\s*)$", re.I)


def _font(textpage: Any, index: int, raw: Any, buffer: Any) -> tuple[str, int, float, int]:
    flags = ctypes.c_int(0)
    raw.FPDFText_GetFontInfo(textpage, index, buffer, len(buffer), ctypes.byref(flags))
    name = buffer.value.decode("utf-8", "replace")
    size = float(raw.FPDFText_GetFontSize(textpage, index))
    weight = int(raw.FPDFText_GetFontWeight(textpage, index))
    return name, flags.value, size, weight


def _page_lines(page: Any, number: int, raw: Any) -> list[Line]:
    """The page's lines in text order, with their position and font."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if len(text) != textpage.count_chars():  # characters and text do not line up: no features
            return [Line(s, number) for s in re.split(r"\r\n|\r|\n", text) if s.strip()]
        buffer = ctypes.create_string_buffer(128)
        x, y = ctypes.c_double(), ctypes.c_double()
        lines = []
        pos = 0
        for piece in re.split(r"(\r\n|\r|\n)", text):
            start, pos = pos, pos + len(piece)
            if not piece.strip() or piece in ("\r\n", "\r", "\n"):
                continue
            first = start + len(piece) - len(piece.lstrip())
            last = start + len(piece.rstrip()) - 1
            samples = sorted({first, (first + last) // 2, last})
            fonts = [_font(textpage, i, raw, buffer) for i in samples]
            raw.FPDFText_GetCharOrigin(textpage, first, ctypes.byref(x), ctypes.byref(y))
            y_first = y.value
            raw.FPDFText_GetCharOrigin(textpage, last, ctypes.byref(x), ctypes.byref(y))
            left = textpage.get_charbox(first)[0]
            right = textpage.get_charbox(last)[2]
            lines.append(
                Line(
                    piece.strip(),
                    number,
                    x0=left,
                    x1=right,
                    y=y_first,
                    y_end=y.value,
                    size=round(fonts[0][2], 1),
                    mono=all(bool(f[1] & 1) or bool(_MONO_FONT.search(f[0])) for f in fonts),
                    bold=all(f[3] >= 600 or bool(_BOLD_FONT.search(f[0])) for f in fonts),
                )
            )
        return lines
    finally:
        textpage.close()


def _outline(pdf: Any) -> list[tuple[int, str, int, float]]:
    """The outline's entries: (depth, title, page index, y the bookmark points at or NaN)."""
    out = []
    try:
        for item in pdf.get_toc(max_depth=8):
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            if index is None or index < 0:
                continue
            y = math.nan
            try:
                mode, view = dest.get_view()
                if len(view) >= 2 and view[1]:
                    y = float(view[1])
            except Exception:  # a malformed view: the title goes to the top of its page
                y = math.nan
            title = " ".join(item.get_title().split())
            if title:
                out.append((item.level, title, index, y))
    except Exception:  # a malformed outline is no reason to lose the text
        return out
    return out


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    if b"%PDF-" not in data[:1024]:
        raise ReaderError("not a readable PDF (no %PDF header)")
    if b"%%EOF" not in data[-2048:]:
        raise ReaderError("not a readable PDF (truncated: no %%EOF at the end)")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower() or "security" in message.lower():
            raise ReaderError("encrypted PDF: decrypt it first") from None
        raise ReaderError(f"not a readable PDF ({message.rstrip('.')})") from None


def _extract(data: bytes, raw: Any) -> tuple[list[list[Line]], list[tuple[int, str, int, float]], str]:
    """The pages' lines, the outline and the metadata title, read by PDFium."""
    import pypdfium2 as pdfium

    pdf = _open(data)
    try:
        pages: list[list[Line]] = []
        for index in range(len(pdf)):
            try:
                page = pdf[index]
            except pdfium.PdfiumError as exc:
                raise ReaderError(f"not a readable PDF (page {index + 1}: {str(exc).rstrip('.')})") from None
            try:
                pages.append(_page_lines(page, index + 1, raw))
            finally:
                page.close()
        if not any(line.text.strip() for lines in pages for line in lines):
            raise ReaderError("no text layer: scanned? OCR is not supported")
        return pages, _outline(pdf), (pdf.get_metadata_dict().get("Title") or "").strip()
    finally:
        pdf.close()


def read_pdf(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    """Read a PDF's text layer (see the module's contract)."""
    import pypdfium2.raw as raw

    with _PDFIUM:  # PDFium is not thread-safe: one document at a time per process
        pages, outline, metadata_title = _extract(data, raw)
    drop_running_heads(pages)
    drop_contents_pages(pages)
    place_outline(pages, outline)
    classify(pages, outlined=bool(outline))
    blocks = paragraph_blocks(pages)
    title = re.sub(r"^microsoft word - ", "", metadata_title, flags=re.I)
    if _JUNK_TITLE.match(metadata_title):
        first = [b for b in blocks if b.kind == "heading" and b.page == 1]
        title = next((b.text for b in first if b.level == 1), path.stem)
    return ReadDocument(title=title, blocks=tuple(blocks), pages=len(pages))
