"""A PDF's marked lines joined into blocks: paragraphs, list items, code blocks and headings.

Contract: :func:`paragraph_blocks` takes the pages' lines as :mod:`rag.indexing.readers.pdf_layout`
left them (running heads dropped, headings and code marked; it changes their text in place) and
returns the blocks in line order, each with the page of its first line, empty ones left out.
Ligatures are expanded. Consecutive heading lines of one level, size and page, close together, the
first not ending in punctuation, are one heading. Code lines of one page with no gap over 2.5 line
spacings are one ``code`` block, indented by their left edges in character widths, its curly
quotes made straight. A text line continues the paragraph above unless the gap above it is
negative or over 1.3 times the usual line spacing, the font size changes by over 15%, it starts with a symbol
bullet (or another bullet after a sentence end), or, after a sentence end, it is indented, back to
the margin, or the line above is short; across pages it continues after a line-end hyphen before a
lower-case word, or when the line above ends no sentence and it does not start with a capital.
Joined lines lose their line-end hyphen when it is a soft hyphen or stands before a lower-case
word. Table-of-contents lines (dotted leaders) form one block, an entry a line, the leaders shown
as " … ". A lone short code line before an indented paragraph of its page joins it (a term and its
description); "Chapter 2" alone before a heading of its page becomes one heading with it. A list
item that starts with a symbol bullet loses the bullet.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from rag.indexing.readers.base import Block, BlockKind
from rag.indexing.readers.pdf_layout import SYMBOL_BULLET, Line, typical

_BULLET = re.compile(r"^([•◦▪‣∙●○■□➢►\u0088\u2013\u2014*-]|\(?[a-z0-9]\)|\d{1,2}\.)\s+(?=\S)")
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]’”]*$")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_LEADER = re.compile(r"(?:\.\s?){4,}\s*\S{0,6}$")  # a table of contents' dotted leaders
_STRAIGHT_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
_LEADER_DOTS = re.compile(r"(?:\s?\.){4,}\s*")


@dataclass
class _Para:
    kind: BlockKind
    lines: list[Line] = field(default_factory=list)
    level: int = 0


def _joins(prev: Line, cur: Line, spacing: float, para_left: float, right: float) -> bool:
    """Whether ``cur`` continues the paragraph whose last line is ``prev``."""
    hyphen = bool(re.search(r"[A-Za-z][-\ufffe\x02]$", prev.text)) and cur.text[:1].islower()
    ended = bool(_SENTENCE_END.search(prev.text))
    if _LEADER.search(prev.text) or _LEADER.search(cur.text):
        return bool(_LEADER.search(prev.text) and _LEADER.search(cur.text))  # a table of contents: one block
    if cur.page != prev.page:
        return hyphen or (not ended and not cur.text[:1].isupper())
    if SYMBOL_BULLET.match(cur.text) or (_BULLET.match(cur.text) and ended):
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


def _code_text(lines: list[Line]) -> str:
    """Code lines with their relative indentation, from their left edges and the character width."""
    widths = [(line.x1 - line.x0) / len(line.text) for line in lines if len(line.text) > 3 and line.x1 > line.x0]
    width = sorted(widths)[len(widths) // 2] if widths else 0.0
    left = min(line.x0 for line in lines)
    out = []
    for line in lines:
        pad = int(round((line.x0 - left) / width)) if width > 0 else 0
        out.append(" " * min(pad, 40) + line.text)
    return "\n".join(out)


def _paragraphs(pages: list[list[Line]]) -> list[_Para]:
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
    spacing = typical(gaps, 14.0)
    right = typical([line.x1 for line in all_lines if not line.code], 0.0)
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
            "list" if _BULLET.match(line.text) and (SYMBOL_BULLET.match(line.text) or len(line.text) > 3) else "text"
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
                [Line(f"{prev.lines[0].text} {para.lines[0].text}", para.lines[0].page)],
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
                text = _BULLET.sub("", text, count=1) if SYMBOL_BULLET.match(text) else text
            text = "\n".join(" ".join(_LEADER_DOTS.sub(" … ", part).split()) for part in text.split("\n"))
        if text.strip():
            blocks.append(Block(para.kind, text, level=para.level, page=page))
    return blocks


def paragraph_blocks(pages: list[list[Line]]) -> list[Block]:
    """The blocks of the pages' marked lines, in order (see the module's contract)."""
    return _blocks(_merge_chapter_labels(_merge_terms(_paragraphs(pages))))
