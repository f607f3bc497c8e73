"""What each line of a PDF's pages is: running heads and footers dropped, headings and code marked.

Contract: the functions work in place on the pages' :class:`Line` lists (one list a page, lines in
text order, as :mod:`rag.indexing.readers.pdf` extracts them) and never open the PDF.
:func:`drop_running_heads` removes, among each page's first and last two lines, those that repeat
at the same edge modulo page numbers (digits, and roman numerals at either end, read as ``#``): a
plain line on 40% of the pages (at least 2), a numbered one on 2 pages (3 when there are over 5);
bare page numbers; and outermost short lines holding the page number at the document's usual
offset from the page's index; a line in a font over 1.15 times the body size stays (a heading at
the top of a page). :func:`place_outline` makes the lines that the outline's titles name on their
page headings (``heading`` = depth + 1), comparing letters and digits only and ignoring a leading
number (a title on two lines is joined into one; the first match at or below where the bookmark
points), and inserts a heading line for a title that no line matches. :func:`classify` marks code
(a monospace line, or a prompt, code characters and at most three lower-case words) and the
headings the fonts show: numbered lines in a larger or bold font (``heading`` = number of parts),
lines at least 1.2 times the body size (levels by size, at most 2 when the PDF has an outline),
short upper-case lines in a larger or bold font (a manual page's sections); bold says nothing when
most lines are bold. Lines already marked as headings keep their level.
:func:`drop_contents_pages` empties the pages of a table of contents or a back-of-book index (at
least 8 lines, 60% of them words followed by page numbers, in the first or last fifth of the
pages): they hold every heading's words and would win retrieval with no text to quote.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

SYMBOL_BULLET = re.compile(r"^[•◦▪‣∙●○■□➢►\u0088]\s*(?=\S)")
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:Chapter|Appendix|Part)\s+)?([0-9]+(?:\.[0-9]+){0,5}|[A-Z](?:\.[0-9]+){1,5})\.?\s+(\S.*)$"
)
_PROMPT = re.compile(r"^(?:>|\+|\$|#|>>>|\.\.\.|R>|In \[\d+\]:|octave:\d+>)\s+\S")
_CODE_CHARS = re.compile(r"<-|[=(){}\[\];]|->|::|\$\w")
_ROMAN = re.compile(r"^(?=[mdclxvi])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})$")
_PAGE_NUMBER_ONLY = re.compile(r"^(?:page\s*)?[-–— ]*#[-–— ]*(?:\s*(?:/|of)\s*#)?$")
# A line of a table of contents or an index: a word, then page numbers at its end ("Copyright 21",
# "Recycling rule . . . . 9, 22", "vfill, 24, 85, 231").
_LISTS_PAGES = re.compile(r"[A-Za-z]{3,}.*?(?:\s|\.|…|,)\s*\d{1,4}(?:\s*[,–-]\s*\d{1,4})*\s*$")
#: A contents or index page: at least this many lines, this share of them listing page numbers,
#: among the first or the last ``CONTENTS_EDGE`` of the pages.
CONTENTS_MIN_LINES = 8
CONTENTS_SHARE = 0.6
CONTENTS_EDGE = 0.2


@dataclass
class Line:
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


def typical(values: list[float], default: float) -> float:
    """The most common of the positive ``values`` rounded to 0.1, else ``default``."""
    rounded = Counter(round(v, 1) for v in values if v > 0)
    return rounded.most_common(1)[0][0] if rounded else default


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


def drop_running_heads(pages: list[list[Line]]) -> None:
    """Remove lines repeated at the top or the bottom of pages (modulo page numbers) and bare page numbers."""
    n = len(pages)
    candidates: list[tuple[int, Line, str]] = []
    outermost: set[int] = set()
    body = typical([line.size for lines in pages for line in lines], 0.0)
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


def place_outline(pages: list[list[Line]], outline: list[tuple[int, str, int, float]]) -> None:
    """Mark the lines the outline names as headings; insert the titles that match no line."""
    for depth, title, index, y in outline:
        if index >= len(pages):
            continue
        lines = pages[index]
        want = _unnumbered(title)
        matches = []
        for i, line in enumerate(lines):
            if line.heading or line.code or SYMBOL_BULLET.match(line.text):
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
            lines.insert(at, Line(title, index + 1, y=y, heading=depth + 1))


def _looks_like_code(line: Line) -> bool:
    if line.mono and not line.heading:
        return True
    if not (_PROMPT.match(line.text) and _CODE_CHARS.search(line.text)):
        return False
    return len(re.findall(r"\b[a-z]{3,}\b", line.text)) <= 3  # not a sentence after a "$" or ">"


def classify(pages: list[list[Line]], outlined: bool) -> None:
    """Mark code lines and the headings the fonts show (numbered and larger, or bold)."""
    all_lines = [line for lines in pages for line in lines]
    body = typical([line.size for line in all_lines if not line.mono for _ in range(max(1, len(line.text) // 20))], 0.0)
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


def drop_contents_pages(pages: list[list[Line]]) -> None:
    """Empty the pages of a table of contents or an index (see the module's contract).

    >>> toc = [Line(f"Section {i} . . . . {i + 2}", 1) for i in range(9)]
    >>> body = [Line("Plots are drawn with the plot command, 3 at a time.", 2)] * 9
    >>> pages = [list(toc), list(body), list(body), list(body), list(body), list(toc)]
    >>> drop_contents_pages(pages)
    >>> [len(lines) for lines in pages]
    [0, 9, 9, 9, 9, 0]
    """
    n = len(pages)
    edge = max(1, math.ceil(CONTENTS_EDGE * n))
    for index, lines in enumerate(pages):
        if edge <= index < n - edge:
            continue
        texts = [line.text.strip() for line in lines if line.text.strip()]
        listed = sum(1 for text in texts if _LISTS_PAGES.search(text))
        if len(texts) >= CONTENTS_MIN_LINES and listed >= CONTENTS_SHARE * len(texts):
            lines.clear()
