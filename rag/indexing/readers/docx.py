"""Word documents (``.docx``): headings, paragraphs, list items, code and tables in document order.

Contract: :func:`read_docx` first checks the ZIP container (:func:`~rag.indexing.readers._zip.open_zip`:
total unpacked size and each member's compression ratio, so a zip bomb is refused before any XML
is parsed) and that it has ``word/document.xml``; then reads the body with python-docx (lxml
without entity resolution; macros are never run). Paragraphs in the styles "Title" and
"Heading N" (or their custom styles based on them, or with an outline level) become ``heading``
blocks (``level`` 1 for Title, N for Heading N); numbered or bulleted paragraphs and "List ..."
styles ``list`` blocks; paragraphs in a code style ("Source Code", "HTML Preformatted", "Code",
"Macro Text", "Plain Text") or wholly in a monospace font ``code`` blocks, consecutive ones joined
with their line breaks; tables ``table`` blocks (one row a line, cells joined by ``" | "``, a merged
cell once); content controls (``w:sdt``) are read through. Headers, footers, footnotes, comments
and text boxes are left out. The title is the core property ``title``, else the first Title or
level-1 heading, else the file name without its suffix. :class:`ReaderError`: over a ZIP limit,
"not a readable DOCX (...)" (not a ZIP, no ``word/document.xml``, an encrypted or old ``.doc``
file, XML python-docx cannot read).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from rag.indexing.readers._zip import open_zip
from rag.indexing.readers.base import Block, BlockKind, ReadDocument, ReaderError, ReadLimits

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)
_CODE_STYLE = re.compile(r"source\s*code|preformatted|^code|\bcode\b|^macro|plain\s*text|verbatim", re.I)
_MONO_FONT = re.compile(r"mono|courier|consol|menlo|inconsolata|fixed|typewriter|code", re.I)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _style_kinds(document: Any) -> dict[str, tuple[BlockKind, int]]:
    """Each paragraph style id's kind and heading level (following ``basedOn`` up to 8 steps)."""
    out: dict[str, tuple[BlockKind, int]] = {}
    styles = {style.style_id: style for style in document.styles if style.style_id}
    for style_id, style in styles.items():
        kind: BlockKind = "text"
        level = 0
        current: Any = style
        for _ in range(8):
            if current is None:
                break
            name = (current.name or "").strip()
            m = _HEADING_STYLE.match(name)
            outline = current.element.find(f"{_W}pPr/{_W}outlineLvl")
            if name.lower() in ("title",):
                kind, level = "heading", 1
            elif m:
                kind, level = "heading", int(m.group(1))
            elif outline is not None and (outline.get(f"{_W}val") or "").isdigit() and int(outline.get(f"{_W}val")) < 9:
                kind, level = "heading", int(outline.get(f"{_W}val")) + 1
            elif _CODE_STYLE.search(name):
                kind = "code"
            elif name.lower().startswith("list") or current.element.find(f"{_W}pPr/{_W}numPr") is not None:
                kind = "list"
            if kind != "text":
                break
            current = getattr(current, "base_style", None)
        out[style_id] = (kind, level)
    return out


def _paragraph_kind(p: Any, styles: dict[str, tuple[BlockKind, int]], text: str) -> tuple[BlockKind, int]:
    ppr = p.find(f"{_W}pPr")
    style_id = None
    if ppr is not None:
        pstyle = ppr.find(f"{_W}pStyle")
        if pstyle is not None:
            style_id = pstyle.get(f"{_W}val")
        outline = ppr.find(f"{_W}outlineLvl")
        if outline is not None and (outline.get(f"{_W}val") or "").isdigit() and int(outline.get(f"{_W}val")) < 9:
            return "heading", int(outline.get(f"{_W}val")) + 1
    kind, level = styles.get(style_id or "", ("text", 0))
    if kind == "text" and ppr is not None and ppr.find(f"{_W}numPr") is not None:
        kind = "list"
    if kind == "text" and text.strip():
        fonts = [rf.get(f"{_W}ascii") or rf.get(f"{_W}hAnsi") or "" for rf in p.iter(f"{_W}rFonts")]
        runs = p.findall(f"{_W}r")
        if fonts and len(fonts) >= len(runs) and all(_MONO_FONT.search(font) for font in fonts):
            kind = "code"
    return kind, level


def _paragraph_text(p: Any) -> str:
    """The paragraph's visible text: runs (also in hyperlinks, smart tags, insertions), tabs and breaks."""
    parts: list[str] = []
    for node in p.iter(
        f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr", f"{_W}delText", f"{_W}instrText", f"{_W}txbxContent"
    ):
        tag = node.tag
        if tag == f"{_W}t":
            if not any(a.tag == f"{_W}txbxContent" for a in node.iterancestors()):
                parts.append(node.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts)


def _table_rows(tbl: Any) -> list[str]:
    rows = []
    for tr in tbl.iterchildren(f"{_W}tr"):
        cells = []
        for tc in tr.iterchildren(f"{_W}tc"):
            vmerge = tc.find(f"{_W}tcPr/{_W}vMerge")
            if vmerge is not None and vmerge.get(f"{_W}val") in (None, "continue"):
                cells.append("")  # the lower part of a vertically merged cell
                continue
            text = " ".join(_paragraph_text(p) for p in tc.iter(f"{_W}p"))
            cells.append(" ".join(text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _body_elements(body: Any) -> Any:
    """The body's paragraphs and tables in order, through content controls (``w:sdt``)."""
    for child in body.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _body_elements(content)
        elif child.tag in (f"{_W}customXml", f"{_W}ins", f"{_W}smartTag"):
            yield from _body_elements(child)


def read_docx(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    """Read a Word document (see the module's contract)."""
    archive = open_zip(data, "DOCX", limits)
    names = set(archive.namelist())
    archive.close()
    if "word/document.xml" not in names:
        raise ReaderError("not a readable DOCX (no word/document.xml)")

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx's errors are of many kinds (KeyError, ValueError, XMLSyntaxError)
        message = " ".join(str(exc).split())[:160]
        raise ReaderError(f"not a readable DOCX ({type(exc).__name__}: {message})") from None
    styles = _style_kinds(document)
    blocks: list[Block] = []
    code: list[str] = []

    def flush_code() -> None:
        if code:
            text = "\n".join(code).strip("\n")
            if text.strip():
                blocks.append(Block("code", text))
            code.clear()

    for element in _body_elements(document.element.body):
        if element.tag == f"{_W}tbl":
            flush_code()
            rows = _table_rows(element)
            if rows:
                blocks.append(Block("table", "\n".join(rows)))
            continue
        text = _paragraph_text(element)
        kind, level = _paragraph_kind(element, styles, text)
        if kind == "code":
            code.append("\n".join(line.rstrip() for line in text.split("\n")))
            continue
        flush_code()
        text = " ".join(text.split())
        if text:
            blocks.append(Block(kind, text, level=level))
    flush_code()
    title = (document.core_properties.title or "").strip()
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "") or path.stem
    return ReadDocument(title=title, blocks=tuple(blocks))
