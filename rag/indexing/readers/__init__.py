"""Readers: one module a format, each returning a :class:`ReadDocument` (see ``base``).

(Placeholder until the format modules land: plain text only.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rag.indexing.readers.base import Block, ReadDocument, ReaderError, ReadLimits

Reader = Callable[[bytes, Path, ReadLimits], ReadDocument]

# C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional overrides and isolates
# (they can make a terminal or a page show text other than what is there).
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A terminal escape sequence: CSI ("\x1b[2J") or OSC ("\x1b]0;title\x07"), removed whole.
_ESCAPE_RE = re.compile("\x1b\\[[0-?]*[ -/]*[@-~]|\x1b\\][^\x07\x1b]*(?:\x07|\x1b\\\\)?")


def clean_text(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tab and line feed are
    kept; a carriage return becomes a line feed).

    >>> clean_text("ok\\x1b]0;PWNED\\x07 \\x1b[2Jfine\\r\\n\\u202eend")
    'ok fine\\nend'
    """
    return _CONTROL_RE.sub("", _ESCAPE_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def _read_plain(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    if b"\x00" in data:
        raise ReaderError("contains NUL bytes: a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReaderError(f"not valid UTF-8 text (byte {exc.start}): convert it to UTF-8") from exc
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return ReadDocument(path.stem, tuple(Block("text", p) for p in paragraphs))


READERS: dict[str, Reader] = {".txt": _read_plain, ".md": _read_plain}
SUPPORTED_SUFFIXES = tuple(READERS)


def reader_for(path: Path) -> Reader | None:
    return READERS.get(path.suffix.lower())


def read_document(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    reader = reader_for(path)
    if reader is None:
        raise ReaderError(f"unsupported file type {path.suffix!r}")
    return reader(data, path, limits)
