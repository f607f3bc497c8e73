"""Plain text, Markdown, reStructuredText and AsciiDoc files, read as text.

Contract: :func:`read_text` decodes the bytes as UTF-8 (a BOM is dropped; UTF-16 with a BOM is
read too) and returns blocks in file order: Markdown ``#`` and underlined headings, reST
underlined / overlined headings (levels in order of first appearance of each adornment style),
AsciiDoc ``=`` headings as ``heading`` blocks; fenced (```` ``` ```` / ``~~~``) and indented code,
reST ``::`` literal blocks and ``code-block`` directives, AsciiDoc ``----`` listings as ``code``
blocks (their lines kept); list items (``-``, ``*``, ``+``, ``1.``, ``#.``) as ``list`` blocks;
Markdown pipe tables and reST grid and simple tables as ``table`` blocks (one row a line, cells
joined by ``" | "``); every other run of lines up to a blank line as one ``text`` paragraph, its
hard-wrapped lines joined with a space. Light inline markup is removed from headings, paragraphs,
list items and cells (reST roles, literals, emphasis, links; Markdown emphasis, links, code spans);
code is kept as written. The title is the front matter's ``title``, else the first heading, else
the file name without its suffix. :class:`ReaderError` for NUL bytes (a binary file) and for
bytes that are not UTF-8 (naming the first bad byte). This module decodes the file and finds its
flavor and title; :mod:`rag.indexing.readers.text_blocks` splits the lines into blocks, with the
patterns and inline-markup cleaners of :mod:`rag.indexing.readers.markup`.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.indexing.readers.base import Block, ReadDocument, ReaderError, ReadLimits
from rag.indexing.readers.markup import dedent
from rag.indexing.readers.text_blocks import split_blocks

#: The suffixes read as text; ``.rst.txt`` (Sphinx's copied sources) is reST.
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".rst", ".rst.txt", ".adoc", ".asciidoc")

_FLAVORS = {".md": "md", ".markdown": "md", ".rst": "rst", ".rst.txt": "rst", ".adoc": "adoc", ".asciidoc": "adoc"}


def decode_text(data: bytes) -> str:
    """The bytes as text: UTF-8 (a leading BOM dropped) or UTF-16 with its BOM; :class:`ReaderError`
    for NUL bytes in a file without a UTF-16 BOM, or for a byte sequence that is not UTF-8."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReaderError(f"not valid UTF-16 text (byte {exc.start}): convert it to UTF-8") from None
    if b"\x00" in data:
        raise ReaderError("contains NUL bytes: a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)]
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise ReaderError(
            f"not valid UTF-8 text (byte {start}): 0x{bad:02X} cannot be read as UTF-8; convert it to UTF-8"
        ) from None


def flavor_of(path: Path) -> str:
    """``md``, ``rst``, ``adoc`` or ``plain``, by the file's suffix.

    >>> flavor_of(Path("conf/index.rst.txt")), flavor_of(Path("README.md")), flavor_of(Path("NOTES"))
    ('rst', 'md', 'plain')
    """
    name = path.name.lower()
    if name.endswith(".rst.txt"):
        return "rst"
    return _FLAVORS.get(path.suffix.lower(), "plain")


def _front_matter(lines: list[str]) -> tuple[str, list[str]]:
    """A Markdown YAML front matter block's ``title`` and the lines after it."""
    if not lines or lines[0].strip() != "---":
        return "", lines
    for j in range(1, min(len(lines), 200)):
        if lines[j].strip() in ("---", "..."):
            title = ""
            for line in lines[1:j]:
                m = re.match(r"^title:\s*(.+)$", line)
                if m:
                    title = m.group(1).strip().strip("'\"")
            return title, lines[j + 1 :]
    return "", lines


def parse_text(text: str, flavor: str) -> tuple[str, list[Block]]:
    """The front-matter title (Markdown) and the blocks of ``text`` read as ``flavor``.

    >>> text = "Usage\\n=====\\n\\nCall :func:`zip`,\\nthen ``x = 1``::\\n\\n    zip(a, b)\\n"
    >>> title, blocks = parse_text(text, "rst")
    >>> [(b.kind, b.text) for b in blocks]
    [('heading', 'Usage'), ('text', 'Call zip(), then x = 1:'), ('code', 'zip(a, b)')]
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.expandtabs(4 if flavor == "md" else 8) for line in text.split("\n")]
    title = ""
    if flavor == "md":
        title, lines = _front_matter(lines)
    if flavor == "plain":
        lines = dedent(lines) if any(x.strip() for x in lines) else []
    return title, split_blocks(lines, flavor)


def read_text(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    """Read a text-like file (see the module's contract)."""
    text = decode_text(data)
    title, blocks = parse_text(text, flavor_of(path))
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading"), "")
    if not title:
        name = path.name
        title = name[: -len(".rst.txt")] if name.lower().endswith(".rst.txt") else path.stem
    return ReadDocument(title=title, blocks=tuple(blocks))
