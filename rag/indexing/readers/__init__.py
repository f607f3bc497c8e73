"""The document readers, one per format, chosen by the file's suffix.

Contract: :func:`read_document` takes a file's bytes, its path (for the name and suffix only) and
the :class:`~rag.indexing.readers.base.ReadLimits`, and returns a
:class:`~rag.indexing.readers.base.ReadDocument` whose title and block texts hold no control
characters (``\\n`` and ``\\t`` kept; ANSI escape sequences, other C0/C1 controls and bidi overrides
removed), with empty blocks left out; or raises :class:`~rag.indexing.readers.base.ReaderError`
with one line: over the size limit (checked before parsing), a format the reader refuses, or any
unexpected exception of a parsing library (its class and message, cut to 200 characters), so that
one bad file never aborts a build. Every reader is ``read_xxx(data, path, limits)``; the heavy
libraries are imported when a file of their format is read, never at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rag.indexing.readers.base import Block, ReadDocument, ReaderError, ReadLimits
from rag.indexing.readers.docx import read_docx
from rag.indexing.readers.epub import read_epub
from rag.indexing.readers.html import read_html
from rag.indexing.readers.pdf import read_pdf
from rag.indexing.readers.text import TEXT_SUFFIXES, read_text

__all__ = [
    "READERS",
    "SUPPORTED_SUFFIXES",
    "Reader",
    "clean_text",
    "read_document",
    "reader_for",
]

Reader = Callable[[bytes, Path, ReadLimits], ReadDocument]

#: The reader of each file type, by lower-case suffix (``.rst.txt`` is read as text).
READERS: dict[str, Reader] = {
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
    ".xhtml": read_html,
    ".docx": read_docx,
    ".epub": read_epub,
    **dict.fromkeys(TEXT_SUFFIXES, read_text),
}

#: Every suffix a reader reads, sorted.
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(READERS))

# ANSI/VT escape sequences, removed whole (with their payload: an OSC title, a DCS string):
# CSI (ESC [ ... final, or the 8-bit CSI), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC strings,
# and two-character escapes.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x1b\x9d]\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 controls but \t and \n, DEL, C1 controls, the soft hyphen, bidi marks, embeddings, overrides
# and isolates, zero-width and invisible operators, the BOM, interlinear annotations, noncharacters.
_CONTROLS = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ufffe\uffff]"
)
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def clean_text(text: str) -> str:
    """``text`` without control characters: line breaks made ``\\n`` (``\\r\\n``, ``\\r``, form
    feeds, U+2028...), ANSI escape sequences removed whole, other C0/C1 controls, bidi controls
    (U+202E...), zero-width characters and noncharacters removed; ``\\n`` and ``\\t`` kept.

    >>> clean_text("a\\x1b]0;PWNED\\x07b\\x1b[2Jc\\u202ed\\r\\ne\\tf")
    'abcd\\ne\\tf'
    """
    text = _LINE_BREAKS.sub("\n", text)
    text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text)


def _canonical_suffix(path: Path) -> str:
    name = path.name.lower()
    return ".rst.txt" if name.endswith(".rst.txt") else path.suffix.lower()


def reader_for(path: Path) -> Reader | None:
    """The reader of files like ``path`` (by its lower-case suffix; ``x.rst.txt`` is text), or ``None``."""
    return READERS.get(_canonical_suffix(path))


def _cleaned(doc: ReadDocument) -> ReadDocument:
    blocks = []
    for block in doc.blocks:
        text = clean_text(block.text)
        text = text.strip("\n") if block.kind == "code" else text.strip()
        if text.strip():
            blocks.append(
                block if text == block.text else Block(block.kind, text, block.level, block.page, block.anchor)
            )
    title = " ".join(clean_text(doc.title).split())
    return ReadDocument(title=title, blocks=tuple(blocks), pages=doc.pages)


def read_document(data: bytes, path: Path, limits: ReadLimits | None = None) -> ReadDocument:
    """Read a file's bytes with the reader of its type (see the module's contract).

    :class:`ReaderError` when the file is over ``limits.max_file_mb`` (MB of 10^6 bytes), of no
    supported type, or unreadable; any other exception raised while parsing becomes one too."""
    limits = limits or ReadLimits()
    size = len(data)
    if size > limits.max_file_mb * 1_000_000:
        raise ReaderError(
            f"is {size / 1_000_000:.3g} MB, over the limit of {limits.max_file_mb:g} MB: raise it with --max-file-mb"
        )
    reader = reader_for(path)
    if reader is None:
        raise ReaderError(f"unsupported file type {path.suffix or '(none)'!r}")
    try:
        doc = reader(data, path, limits)
    except ReaderError:
        raise
    except MemoryError:
        raise ReaderError("MemoryError: the file needs more memory than there is to read it") from None
    except RecursionError:
        raise ReaderError("RecursionError: the document is nested too deeply to read") from None
    except Exception as exc:  # a library's bug or an input it chokes on: one bad file, not a failed build
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise ReaderError(message[:200]) from exc
    return _cleaned(doc)
