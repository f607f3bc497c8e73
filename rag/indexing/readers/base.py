"""What every reader returns: a document as a sequence of blocks in reading order.

Contract: a reader takes the file's bytes (read once by the caller, who also hashes them, so the
hash always describes what was parsed), the file's path (for its name and suffix only) and the
:class:`ReadLimits`, and returns a :class:`ReadDocument`, or raises :class:`ReaderError` with one
line saying why the file cannot be read (encrypted, no text layer, corrupt, over a limit). A reader
never runs code from the document (no scripts, no macros) and never reaches the network.

Blocks carry where they are: the page (PDF, 1-based) and the anchor (HTML / EPUB element id of
the block or of the nearest heading above it). Hard-wrapped lines are already joined into
paragraphs; a ``list`` block is one list item; ``code`` and ``table`` blocks keep their lines
(tables as tab- or ``|``-separated rows) and are never split into sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["heading", "text", "list", "code", "table"]

#: Default limits (the CLI can raise them).
MAX_FILE_MB = 100
MAX_UNZIPPED_MB = 200
MAX_ZIP_RATIO = 100


class ReaderError(Exception):
    """A file that cannot be read as a document; the message is one line, the file's name not included."""


@dataclass(frozen=True)
class ReadLimits:
    """How much a reader may take in: the file itself (``max_file_mb``), the sum of a ZIP
    container's uncompressed members (DOCX, EPUB: ``max_unzipped_mb``) and any member's
    compression ratio (``max_zip_ratio``: a zip bomb is far above it)."""

    max_file_mb: float = MAX_FILE_MB
    max_unzipped_mb: float = MAX_UNZIPPED_MB
    max_zip_ratio: float = MAX_ZIP_RATIO


@dataclass(frozen=True)
class Block:
    """One piece of a document: a heading (``level`` 1 is the top), a paragraph of text, one list
    item, a code block or a table; with its page (PDF) and anchor (HTML, EPUB) when known."""

    kind: BlockKind
    text: str
    level: int = 0
    page: int | None = None
    anchor: str | None = None


@dataclass(frozen=True)
class ReadDocument:
    """A document as read: its title (metadata, first heading, else the file name), its blocks
    in reading order, and its page count (PDF)."""

    title: str
    blocks: tuple[Block, ...]
    pages: int | None = None
