"""EPUB books: the spine's XHTML documents in reading order, each read by the HTML reader.

Contract: :func:`read_epub` checks the ZIP container first (:func:`~rag.indexing.readers._zip.open_zip`:
the same unpacked-size and ratio limits as DOCX), finds the package document (OPF) through
``META-INF/container.xml``, and reads the spine's items in order (``linear="no"`` ones too, where
they stand) with :func:`~rag.indexing.readers.html.html_blocks`: blocks as in HTML, each anchor
``"{href}#{id}"`` with the item's href as the OPF writes it (``"text/ch01.xhtml#intro"``; the bare
href before the first id), so that a citation points into the book. XML is parsed without entity
resolution or network access; scripts are never run. The title is the OPF's ``dc:title``, else the
first level-1 heading, else the file name without its suffix. :class:`ReaderError`: over a ZIP
limit, "not a readable EPUB (...)" (not a ZIP, no container or package document, no spine, an
unparsable OPF), "DRM-protected EPUB" when the spine's documents are encrypted.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from rag.indexing.readers._zip import open_zip, read_member
from rag.indexing.readers.base import Block, ReadDocument, ReaderError, ReadLimits
from rag.indexing.readers.html import decode_html, html_blocks

_HTML_TYPES = ("application/xhtml+xml", "text/html", "application/xml", "text/xml")


def _xml(data: bytes, name: str) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ReaderError(f"not a readable EPUB ({name}: {exc})") from None
    if root is None:
        raise ReaderError(f"not a readable EPUB ({name} is empty)")
    return root


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_epub(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    """Read an EPUB book (see the module's contract)."""
    archive = open_zip(data, "EPUB", limits)
    with archive:
        container = _xml(read_member(archive, "META-INF/container.xml", "EPUB"), "META-INF/container.xml")
        rootfile = next((el.get("full-path") for el in container.iter() if _local(el.tag) == "rootfile"), None)
        if not rootfile:
            raise ReaderError("not a readable EPUB (no rootfile in META-INF/container.xml)")
        opf = _xml(read_member(archive, rootfile, "EPUB"), rootfile)
        base = posixpath.dirname(rootfile)
        manifest: dict[str, tuple[str, str]] = {}
        spine: list[str] = []
        title = ""
        for el in opf.iter():
            name = _local(el.tag)
            if name == "item" and el.get("id") and el.get("href"):
                manifest[el.get("id")] = (el.get("href"), el.get("media-type") or "")
            elif name == "itemref" and el.get("idref"):
                spine.append(el.get("idref"))
            elif name == "title" and not title and el.text:
                title = " ".join(el.text.split())
        if not spine:
            raise ReaderError("not a readable EPUB (the package document has no spine)")
        encrypted: set[str] = set()
        if "META-INF/encryption.xml" in archive.namelist():
            encryption = _xml(read_member(archive, "META-INF/encryption.xml", "EPUB"), "META-INF/encryption.xml")
            for el in encryption.iter():
                if _local(el.tag) == "CipherReference" and el.get("URI"):
                    encrypted.add(posixpath.normpath(unquote(el.get("URI"))))
        blocks: list[Block] = []
        seen: set[str] = set()
        for idref in spine:
            if idref not in manifest:
                continue
            href, media_type = manifest[idref]
            if media_type and media_type not in _HTML_TYPES:
                continue
            member = posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))
            if member in seen:
                continue
            seen.add(member)
            if member in encrypted:
                raise ReaderError("DRM-protected EPUB: its chapters are encrypted")
            _page_title, page_blocks = html_blocks(
                decode_html(read_member(archive, member, "EPUB")), href.split("#", 1)[0]
            )
            blocks.extend(page_blocks)
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "") or path.stem
    return ReadDocument(title=title, blocks=tuple(blocks))
