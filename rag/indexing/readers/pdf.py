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
bare page numbers), are dropped. Lines in a monospace font, or R / shell / Python prompts
("> x <- c(1,2)"), are ``code`` blocks with their line breaks and indentation; bullet items are
``list`` blocks. The title is the metadata ``Title``, else the first heading, else the file name
without its suffix. :class:`ReaderError`: "encrypted PDF: decrypt it first" (no empty password
opens it), "no text layer: scanned? OCR is not supported", "not a readable PDF (...)" (no header,
truncated, corrupt). PDFium is not thread-safe: threads of one process read PDFs one at a time.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.indexing.readers.base import Block, BlockKind, ReadDocument, ReaderError, ReadLimits

_MONO_FONT = re.compile(r"mono|courier|typewriter|consol|menlo|inconsolata|fixed|cmtt|sftt|lmtt|txtt|\btt|code", re.I)
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|cmbx|sfbx|[-,]bd?\b|\bbx\d", re.I)
_BULLET = re.compile(r"^([•◦▪‣∙●○■□➢►\u0088\u2013\u2014*-]|\(?[a-z0-9]\)|\d{1,2}\.)\s+(?=\S)")
_SYMBOL_BULLET = re.compile(r"^[•◦▪‣∙●○■□➢►\u0088]\s*(?=\S)")
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:Chapter|Appendix|Part)\s+)?([0-9]+(?:\.[0-9]+){0,5}|[A-Z](?:\.[0-9]+){1,5})\.?\s+(\S.*)$"
)
_PROMPT = re.compile(r"^(?:>|\+|\$|#|>>>|\.\.\.|R>|In \[\d+\]:|octave:\d+>)\s+\S")
_CODE_CHARS = re.compile(r"<-|[=(){}\[\];]|->|::|\$\w")
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]’”]*$")
_ROMAN = re.compile(r"^(?=[mdclxvi])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$")
_PAGE_NUMBER_ONLY = re.compile(r"^(?:page\s*)?[-–— ]*#[-–— ]*(?:\s*(?:/|of)\s*#)?$")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_LEADER = re.compile(r"(?:\.\s?){4,}\s*\S{0,6}$")  # a table of contents' dotted leaders
_STRAIGHT_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
_LEADER_DOTS = re.compile(r"(?:\s?\.){4,}\s*")
_PDFIUM = threading.Lock()
_JUNK_TITLE = re.compile(r"^(?:untitled|microsoft word - .*|document\d*|slide \d+|\s*)$", re.I)


@dataclass
class _Line:
    """One line of a page's text, with what its first, middle and last characters say."""

    text: str
    page: int
    x0: float = 0.0
    x1: float = 0.0
    y: float = math.nan  # the baseline of its first character
    y_end: float = math.nan  # of its last (PDFium joins a hyphenated line with the next)
    size: float = 0.0
    mono: bool = False
    bold: bool = False
    heading: int = 0  # its level when the line is a heading
    code: bool = False


@dataclass
class _Para:
    kind: BlockKind
    lines: list[_Line] = field(default_factory=list)
    level: int = 0


def _font(textpage: Any, index: int, raw: Any, buffer: Any) -> tuple[str, int, float, int]:
    flags = ctypes.c_int(0)
    raw.FPDFText_GetFontInfo(textpage, index, buffer, len(buffer), ctypes.byref(flags))
    name = buffer.value.decode("utf-8", "replace")
    size = float(raw.FPDFText_GetFontSize(textpage, index))
    weight = int(raw.FPDFText_GetFontWeight(textpage, index))
    return name, flags.value, size, weight


def _page_lines(page: Any, number: int, raw: Any) -> list[_Line]:
    """The page's lines in text order, with their position and font."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if len(text) != textpage.count_chars():  # characters and text do not line up: no features
            return [_Line(s, number) for s in re.split(r"\r\n|\r|\n", text) if s.strip()]
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
                _Line(
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


def _key(text: str) -> str:
    """A running head's text modulo page numbers: digits and roman numerals at either end as ``#``."""
    words = text.lower().split()
    if words and _ROMAN.match(words[0]):
        words[0] = "#"
    if words and _ROMAN.match(words[-1]):
        words[-1] = "#"
    return re.sub(r"\d+", "#", " ".join(words))


def _edge_numbers(text: str) -> list[int]:
    """The numbers at the start and the end of a line (a page number's usual places)."""
    out = []
    m = re.match(r"^\D{0,6}?(\d{1,5})\b", text)
    if m:
        out.append(int(m.group(1)))
    m = re.search(r"\b(\d{1,5})(?:\s*(?:/|of)\s*\d{1,5})?\D{0,6}$", text)
    if m:
        out.append(int(m.group(1)))
    return out


def _drop_running_heads(pages: list[list[_Line]]) -> None:
    """Remove lines repeated at the top or the bottom of pages (modulo page numbers) and bare page numbers."""
    n = len(pages)
    candidates: list[tuple[int, _Line, str]] = []
    outermost: set[int] = set()
    body = _typical([line.size for lines in pages for line in lines], 0.0)
    for lines in pages:
        if not lines:
            continue
        positioned = not any(math.isnan(line.y) for line in lines)
        ordered = sorted(lines, key=lambda line: -line.y) if positioned else lines
        top, bottom = ordered[:2], ordered[-2:][::-1]
        for zone, edge in ((0, top), (1, bottom)):
            for depth, line in enumerate(edge):
                if depth == 1 and len(lines) < 4:
                    break
                candidates.append((zone, line, _key(line.text)))
                if depth == 0:
                    outermost.add(id(line))
    counts = Counter((zone, key) for zone, _line, key in candidates)
    offsets = Counter(num - line.page for _zone, line, _key_ in candidates for num in set(_edge_numbers(line.text)))
    offset, offset_count = offsets.most_common(1)[0] if offsets else (None, 0)
    offset_ok = n >= 3 and offset_count >= 0.3 * n
    need_plain = max(2, math.ceil(0.4 * n))
    need_numbered = 2 if n <= 5 else 3
    drop: set[int] = set()
    for zone, line, key in candidates:
        count = counts[(zone, key)]
        if body and line.size > 1.15 * body:
            continue  # a heading at the top of the page, not a running head
        if (
            _PAGE_NUMBER_ONLY.match(key)
            or ("#" in key and count >= need_numbered and len(key) <= 120)
            or ("#" not in key and count >= need_plain and n >= 2)
            or (
                offset_ok
                and id(line) in outermost
                and len(line.text.split()) <= 10
                and line.page + (offset or 0) in _edge_numbers(line.text)
            )
        ):
            drop.add(id(line))
    for lines in pages:
        lines[:] = [line for line in lines if id(line) not in drop]


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _unnumbered(text: str) -> str:
    m = _NUMBERED_HEADING.match(text)
    return _norm(m.group(2) if m else text)


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


def _place_outline(pages: list[list[_Line]], outline: list[tuple[int, str, int, float]]) -> None:
    """Mark the lines the outline names as headings; insert the titles that match no line."""
    for depth, title, index, y in outline:
        if index >= len(pages):
            continue
        lines = pages[index]
        want = _unnumbered(title)
        matches = []
        for i, line in enumerate(lines):
            if line.heading or line.code or _SYMBOL_BULLET.match(line.text):
                continue
            got = _unnumbered(line.text)
            if got == want:
                matches.append((i, False))
            elif (
                i + 1 < len(lines)
                and len(got) >= 4
                and want.startswith(got)
                and _unnumbered(line.text + " " + lines[i + 1].text) == want
            ):
                matches.append((i, True))  # a title on two lines
        if matches and not math.isnan(y):  # the first match at or below where the bookmark points
            below = [m for m in matches if math.isnan(lines[m[0]].y) or lines[m[0]].y <= y + 2]
            matches = below or matches
        if matches:
            i, two = matches[0]
            lines[i].heading = depth + 1
            if two:
                lines[i].text = f"{lines[i].text} {lines[i + 1].text}"
                del lines[i + 1]
        elif want:
            at = 0
            if not math.isnan(y):
                at = next((i for i, line in enumerate(lines) if not math.isnan(line.y) and line.y < y - 1), len(lines))
            lines.insert(at, _Line(title, index + 1, y=y, heading=depth + 1))


def _typical(values: list[float], default: float) -> float:
    rounded = Counter(round(v, 1) for v in values if v > 0)
    return rounded.most_common(1)[0][0] if rounded else default


def _looks_like_code(line: _Line) -> bool:
    if line.mono and not line.heading:
        return True
    if not (_PROMPT.match(line.text) and _CODE_CHARS.search(line.text)):
        return False
    return len(re.findall(r"\b[a-z]{3,}\b", line.text)) <= 3  # not a sentence after a "$" or ">"


def _classify(pages: list[list[_Line]], outlined: bool) -> None:
    """Mark code lines and the headings the fonts show (numbered and larger, or bold)."""
    all_lines = [line for lines in pages for line in lines]
    body = _typical(
        [line.size for line in all_lines if not line.mono for _ in range(max(1, len(line.text) // 20))], 0.0
    )
    big_sizes = sorted({line.size for line in all_lines if body and line.size >= 1.2 * body}, reverse=True)
    if sum(line.bold for line in all_lines) > 0.5 * len(all_lines):  # "bold" says nothing here
        for line in all_lines:
            line.bold = False
    for line in all_lines:
        if line.heading:
            continue
        words = len(line.text.split())
        if _looks_like_code(line):
            line.code = True
            continue
        bigger = body > 0 and line.size >= 1.08 * body
        m = _NUMBERED_HEADING.match(line.text)
        if (
            m
            and (bigger or line.bold)
            and words <= 14
            and not re.search(r"[.,;:]$", line.text)
            and m.group(2)[:1].isupper()
        ):
            line.heading = min(m.group(1).count(".") + 1, 6)
        elif body and line.size >= 1.2 * body and words <= 15 and re.search(r"[A-Za-z]", line.text):
            line.heading = min(big_sizes.index(line.size) + 1, 6) if line.size in big_sizes else 1
            if outlined:
                line.heading = min(line.heading, 2)
        elif (
            (bigger or line.bold)
            and words <= 6
            and line.text.upper() == line.text
            and re.search(r"[A-Z]{2}", line.text)
            and not re.search(r"[.,;:]$", line.text)
        ):  # "NAME", "DESCRIPTION": a manual page's sections
            line.heading = min(len(big_sizes) + 1, 6)


def _joins(prev: _Line, cur: _Line, spacing: float, para_left: float, right: float) -> bool:
    """Whether ``cur`` continues the paragraph whose last line is ``prev``."""
    hyphen = bool(re.search(r"[A-Za-z][-\ufffe\x02]$", prev.text)) and cur.text[:1].islower()
    ended = bool(_SENTENCE_END.search(prev.text))
    if _LEADER.search(prev.text) or _LEADER.search(cur.text):
        return bool(_LEADER.search(prev.text) and _LEADER.search(cur.text))  # a table of contents: one block
    if cur.page != prev.page:
        return hyphen or (not ended and not cur.text[:1].isupper())
    if _SYMBOL_BULLET.match(cur.text) or (_BULLET.match(cur.text) and ended):
        return False
    if not math.isnan(prev.y) and not math.isnan(cur.y):
        gap = (prev.y if math.isnan(prev.y_end) else prev.y_end) - cur.y
        size = max(prev.size, 1.0)
        if (
            gap < -size
            or gap > 1.3 * spacing + 0.5
            or (prev.size and cur.size and abs(prev.size - cur.size) > 0.15 * size)
        ):
            return False
        if ended and cur.x0 > para_left + 0.8 * size and cur.text[:1].isupper():
            return False  # an indented first line
        if ended and prev.x1 < right - 6 * size:
            return False  # a short last line
        if ended and cur.x0 < para_left - 0.8 * size:
            return False  # back to the margin after a hanging or indented block
    elif ended and cur.text[:1].isupper() and len(prev.text) < 60:
        return False
    return True


def _join(text: str, line: str) -> str:
    if re.search(r"[A-Za-z][\ufffe\x02]$", text) or (re.search(r"[a-z]-$", text) and line[:1].islower()):
        return text[:-1] + line
    return f"{text} {line}"


def _code_text(lines: list[_Line]) -> str:
    """Code lines with their relative indentation, from their left edges and the character width."""
    widths = [(line.x1 - line.x0) / len(line.text) for line in lines if len(line.text) > 3 and line.x1 > line.x0]
    width = sorted(widths)[len(widths) // 2] if widths else 0.0
    left = min(line.x0 for line in lines)
    out = []
    for line in lines:
        pad = int(round((line.x0 - left) / width)) if width > 0 else 0
        out.append(" " * min(pad, 40) + line.text)
    return "\n".join(out)


def _paragraphs(pages: list[list[_Line]]) -> list[_Para]:
    all_lines = [line for lines in pages for line in lines]
    gaps = []
    for a, b in zip(all_lines, all_lines[1:], strict=False):
        if (
            a.page == b.page
            and not (a.code or b.code or a.heading or b.heading)
            and not math.isnan(a.y)
            and not math.isnan(b.y)
        ):
            gap = a.y_end - b.y
            if 0 < gap < 4 * max(a.size, 1.0):
                gaps.append(gap)
    spacing = _typical(gaps, 14.0)
    right = _typical([line.x1 for line in all_lines if not line.code], 0.0)
    right = max([line.x1 for line in all_lines if not line.code and line.x1 <= right + 2] or [right])
    paras: list[_Para] = []
    current: _Para | None = None
    para_left = 0.0
    for line in all_lines:
        line.text = re.sub(r"(?<=[A-Za-z])[\ufffe\x02](?=[a-z])", "", line.text.translate(_LIGATURES))
        if line.heading:
            last = paras[-1] if paras else None
            if (
                last is not None
                and last.kind == "heading"
                and last.level == line.heading
                and last.lines[-1].page == line.page
                and last.lines[-1].size == line.size > 0
                and 0 < last.lines[-1].y_end - line.y < 1.6 * line.size
                and not re.search(r"[.:;!?]$", last.lines[-1].text)
            ):  # a heading on two lines
                last.lines.append(line)
                continue
            current = None
            paras.append(_Para("heading", [line], line.heading))
            continue
        if line.code:
            prev = current.lines[-1] if current else None
            if (
                current is not None
                and current.kind == "code"
                and prev is not None
                and (prev.page == line.page and (math.isnan(prev.y) or prev.y_end - line.y < 2.5 * spacing))
            ):
                current.lines.append(line)
            else:
                current = _Para("code", [line])
                paras.append(current)
            continue
        if (
            current is not None
            and current.kind in ("text", "list")
            and _joins(current.lines[-1], line, spacing, para_left, right)
        ):
            current.lines.append(line)
            continue
        kind: BlockKind = (
            "list" if _BULLET.match(line.text) and (_SYMBOL_BULLET.match(line.text) or len(line.text) > 3) else "text"
        )
        current = _Para(kind, [line])
        para_left = line.x0
        paras.append(current)
    return paras


def _merge_terms(paras: list[_Para]) -> list[_Para]:
    """A lone short code line (a term: an option, a function) before its indented description joins it."""
    out: list[_Para] = []
    i = 0
    while i < len(paras):
        para = paras[i]
        nxt = paras[i + 1] if i + 1 < len(paras) else None
        if (
            para.kind == "code"
            and len(para.lines) == 1
            and len(para.lines[0].text) <= 40
            and nxt is not None
            and nxt.kind == "text"
            and nxt.lines[0].page == para.lines[0].page
            and nxt.lines[0].x0 > para.lines[0].x0 + 5
        ):
            out.append(_Para("text", [para.lines[0], *nxt.lines]))
            i += 2
            continue
        out.append(para)
        i += 1
    return out


def _merge_chapter_labels(paras: list[_Para]) -> list[_Para]:
    """ "Chapter 2" alone on its line, then the chapter's title: one heading."""
    out: list[_Para] = []
    for para in paras:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == "heading"
            and para.kind == "heading"
            and len(prev.lines) == 1
            and re.fullmatch(r"(?:Chapter|Appendix|Part|Section)\s+\w{1,6}", prev.lines[0].text)
            and prev.lines[0].page == para.lines[0].page
        ):
            out[-1] = _Para(
                "heading",
                [_Line(f"{prev.lines[0].text} {para.lines[0].text}", para.lines[0].page)],
                min(prev.level, para.level),
            )
            continue
        out.append(para)
    return out


def _blocks(paras: list[_Para]) -> list[Block]:
    blocks = []
    for para in paras:
        page = para.lines[0].page
        if para.kind == "code":  # TeX's typewriter quotes come out curly: code has straight ones
            text = _code_text(para.lines).translate(_STRAIGHT_QUOTES)
        else:
            text = para.lines[0].text
            for prev, line in zip(para.lines, para.lines[1:], strict=False):
                text = f"{text}\n{line.text}" if _LEADER.search(prev.text) else _join(text, line.text)
            text = re.sub(r"[\ufffe\x02]", "-", text)
            if para.kind == "list":
                text = _BULLET.sub("", text, count=1) if _SYMBOL_BULLET.match(text) else text
            text = "\n".join(" ".join(_LEADER_DOTS.sub(" … ", part).split()) for part in text.split("\n"))
        if text.strip():
            blocks.append(Block(para.kind, text, level=para.level, page=page))
    return blocks


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


def _extract(data: bytes, raw: Any) -> tuple[list[list[_Line]], list[tuple[int, str, int, float]], str]:
    """The pages' lines, the outline and the metadata title, read by PDFium."""
    import pypdfium2 as pdfium

    pdf = _open(data)
    try:
        pages: list[list[_Line]] = []
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
    _drop_running_heads(pages)
    _place_outline(pages, outline)
    _classify(pages, outlined=bool(outline))
    blocks = _blocks(_merge_chapter_labels(_merge_terms(_paragraphs(pages))))
    title = re.sub(r"^microsoft word - ", "", metadata_title, flags=re.I)
    if _JUNK_TITLE.match(metadata_title):
        first = [b for b in blocks if b.kind == "heading" and b.page == 1]
        title = next((b.text for b in first if b.level == 1), path.stem)
    return ReadDocument(title=title, blocks=tuple(blocks), pages=len(pages))
