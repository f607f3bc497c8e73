"""Cutting documents into passages, in the embedder's tokens.

Chunk sizes are counted in the embedder's tokens (its Hugging Face tokenizer), so that no passage
is longer than the embedder reads: a long document is split, never silently truncated.

Contract: :func:`chunk_documents` takes documents and returns passages of at most
``chunk_size`` tokens (title included when it is indexed). A document read by a reader (with
``blocks``) is cut by :func:`chunk_blocks`: never across a heading, code and tables kept whole
where they fit (and marked ``verbatim``), each passage with its :class:`rag.types.Location`
(section path, pages, anchor) and the title "Document › Section". A plain document (a JSONL
record) is cut by the recursive splitter of langchain-text-splitters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from rag.errors import RagError
from rag.indexing.documents import ChunkConfig, Document, Skipped, shown_path
from rag.indexing.readers.base import Block
from rag.types import Location, Passage

logger = logging.getLogger(__name__)


def index_text(passage: Passage) -> str:
    """The text BM25 and the embedder see for a passage: title and text, unless already prefixed."""
    if passage.title and not passage.text.startswith(passage.title):
        return f"{passage.title}\n{passage.text}"
    return passage.text


_COUNT_BATCH = 256


def _count_tokens(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """How many tokens each text is, tokenised ``_COUNT_BATCH`` texts at a time and keeping only
    the counts, so that a document of many blocks never holds all its token ids at once."""
    counts: list[int] = []
    for start in range(0, len(texts), _COUNT_BATCH):
        batch = list(texts[start : start + _COUNT_BATCH])
        enc = tokenizer(
            batch,
            add_special_tokens=False,
            truncation=False,
            verbose=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        counts.extend(len(ids) for ids in enc)
    return counts


def _splitter(tokenizer: Any, chunk_size: int, chunk_overlap: int) -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tokenizer, chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2)
    )


def chunk_documents(
    docs: Sequence[Document],
    config: ChunkConfig,
    tokenizer: Any,
    *,
    max_tokens: int | None = None,
    include_title: bool = True,
    on_skip: Callable[[Skipped], None] | None = None,
) -> list[Passage]:
    """Cut documents into passages of at most ``config.chunk_size`` tokens.

    A document whose indexed text (see :func:`index_text`; with ``include_title`` the title is
    counted) fits stays one passage with ``id == doc.id``; a longer one is split with
    langchain-text-splitters (lengths in ``tokenizer`` tokens) into passages ``f"{doc.id}#{i}"``
    (``i`` from 0). ``max_tokens`` is the embedder's limit including its 2 special tokens
    (``max_seq_length``): every passage is checked against it and split further when the
    splitter's estimate was off, so nothing is truncated at embedding time.

    A title longer than a quarter of a passage is shortened (ending in " …") so that the text
    keeps most of the room. A document that cannot be split within the limit is skipped: it is
    reported to ``on_skip`` (and logged), never fatal.
    """
    limit = config.chunk_size
    if max_tokens is not None:
        if config.chunk_size > max_tokens - 2:
            raise RagError(
                f"chunk_size {config.chunk_size} exceeds what the embedder reads "
                f"({max_tokens} tokens incl. 2 special): use a chunk_size of at most {max_tokens - 2}"
            )
        limit = min(limit, max_tokens - 2)

    def title_of(doc: Document) -> str:
        return doc.title if include_title else ""

    def full(doc: Document, text: str) -> str:
        return index_text(Passage(id="", text=text, title=title_of(doc)))

    def skip(doc: Document, reason: str) -> None:
        entry = Skipped(f"{shown_path(doc.source)} ({doc.id})", reason)
        logger.warning("skipped %s", entry)
        if on_skip is not None:
            on_skip(entry)

    max_title = max(config.chunk_size // 4, 1)
    docs = [_with_short_title(d, tokenizer, max_title) if include_title and d.title else d for d in docs]
    whole_lengths = _count_tokens(tokenizer, [full(d, d.text) if d.blocks is None else "" for d in docs])
    passages: list[Passage] = []
    for doc, n_tokens in zip(docs, whole_lengths, strict=True):
        if doc.blocks is not None:
            passages.extend(chunk_blocks(doc, config, tokenizer, limit=limit, include_title=include_title))
            continue
        if n_tokens <= config.chunk_size:
            passages.append(Passage(doc.id, doc.text, doc.title, doc.source, doc.id))
            continue
        title_tokens = _count_tokens(tokenizer, [full(doc, "")])[0] if title_of(doc) else 0
        budget = max(config.chunk_size - title_tokens, config.chunk_size // 2)
        try:
            pieces = _split_within(doc, tokenizer, budget, config.chunk_overlap, limit, full)
        except _CannotSplit as exc:
            skip(doc, str(exc))
            continue
        for i, piece in enumerate(pieces):
            passages.append(Passage(f"{doc.id}#{i}", piece, doc.title, doc.source, doc.id))
    logger.info("chunked %d documents into %d passages", len(docs), len(passages))
    return passages


class _CannotSplit(Exception):
    """A document that no split brings under the token limit (skipped, with this reason)."""


def _with_short_title(doc: Document, tokenizer: Any, max_tokens: int) -> Document:
    """``doc`` with its title cut at a word boundary to at most ``max_tokens`` tokens (+ " …")."""
    if _count_tokens(tokenizer, [doc.title])[0] <= max_tokens:
        return doc
    words = doc.title.split()
    lo, hi = 0, len(words)  # the most words that fit, found by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _count_tokens(tokenizer, [" ".join(words[:mid]) + " …"])[0] <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    title = " ".join(words[:lo]) + " …" if lo else ""
    logger.info("shortened the title of %s to %r", doc.id, title)
    return Document(doc.id, doc.text, title, doc.source, doc.blocks)


def _split_within(doc: Document, tokenizer: Any, budget: int, overlap: int, limit: int, full: Any) -> list[str]:
    """Split ``doc.text`` so each piece's indexed text is at most ``limit`` tokens."""
    pieces = [p for p in _splitter(tokenizer, budget, overlap).split_text(doc.text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        if _count_tokens(tokenizer, [full(doc, piece)])[0] <= limit:
            out.append(piece)
            continue
        # The splitter adds up the lengths of its pieces; tokenising the joined text can give a
        # few more tokens. Re-split the offending piece smaller until it fits.
        smaller = max(budget * 3 // 4, 8)
        if smaller >= budget:
            raise _CannotSplit(f"cannot be split into passages of at most {limit} tokens")
        out.extend(
            _split_within(
                Document(doc.id, piece, doc.title, doc.source),
                tokenizer,
                smaller,
                min(overlap, smaller // 4),
                limit,
                full,
            )
        )
    return out


# --------------------------------------------------------------------------- documents of blocks

_VERBATIM = ("code", "table")


def sections(blocks: Sequence[Block]) -> list[tuple[tuple[str, ...], list[Block]]]:
    """The blocks cut at every heading: each run of non-heading blocks with the path of headings
    above it (outermost first; a heading replaces those of its level and below).

    >>> h = lambda t, n: Block("heading", t, level=n)
    >>> [(path, [b.text for b in bs]) for path, bs in sections([h("A", 1), Block("text", "a"), h("B", 2),
    ...     Block("text", "b"), h("C", 2), Block("text", "c"), h("D", 1), Block("text", "d")])]
    [(('A',), ['a']), (('A', 'B'), ['b']), (('A', 'C'), ['c']), (('D',), ['d'])]
    """
    out: list[tuple[tuple[str, ...], list[Block]]] = []
    stack: list[tuple[int, str]] = []
    current: list[Block] = []
    for block in blocks:
        if block.kind == "heading":
            if current:
                out.append((tuple(t for _, t in stack), current))
                current = []
            level = max(block.level, 1)
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, " ".join(block.text.split()))]
        elif block.text.strip():
            current.append(block)
    if current:
        out.append((tuple(t for _, t in stack), current))
    return out


def section_title(document: str, section: Sequence[str]) -> str:
    """The title a passage is shown and indexed with: "Document › Section" (the innermost heading;
    just the document's title when there is no heading or the heading repeats it).

    >>> section_title("An Introduction to R", ["Vectors", "Simple manipulations"])
    'An Introduction to R › Simple manipulations'
    >>> section_title("json", ["json"]), section_title("notes", [])
    ('json', 'notes')
    """
    if not section or section[-1].strip().lower() == document.strip().lower():
        return document
    return f"{document} › {section[-1]}" if document else section[-1]


def _units(blocks: Sequence[Block], tokenizer: Any, budget: int, overlap: int) -> list[Block]:
    """The blocks, each at most ``budget`` tokens: prose split by the recursive splitter, code and
    tables split between lines (a line longer than the budget by the splitter)."""
    out: list[Block] = []
    for block, n in zip(blocks, _count_tokens(tokenizer, [b.text for b in blocks]), strict=True):
        if n <= budget:
            out.append(block)
            continue
        if block.kind in _VERBATIM:
            group: list[str] = []
            lines = block.text.split("\n")
            for line, m in zip(lines, _count_tokens(tokenizer, lines), strict=True):
                if m > budget:
                    if group:
                        out.append(Block(block.kind, "\n".join(group), page=block.page, anchor=block.anchor))
                        group = []
                    pieces = _splitter(tokenizer, budget, 0).split_text(line)
                    out.extend(Block(block.kind, p, page=block.page, anchor=block.anchor) for p in pieces)
                    continue
                if group and _count_tokens(tokenizer, ["\n".join([*group, line])])[0] > budget:
                    out.append(Block(block.kind, "\n".join(group), page=block.page, anchor=block.anchor))
                    group = []
                group.append(line)
            if group:
                out.append(Block(block.kind, "\n".join(group), page=block.page, anchor=block.anchor))
            continue
        pieces = [p for p in _splitter(tokenizer, budget, overlap).split_text(block.text) if p.strip()]
        out.extend(Block(block.kind, p, page=block.page, anchor=block.anchor) for p in pieces)
    return out


def _pack(units: Sequence[Block], tokenizer: Any, budget: int) -> list[list[Block]]:
    """Consecutive units grouped greedily into passages of at most ``budget`` tokens."""
    groups: list[list[Block]] = []
    current: list[Block] = []
    used = 0
    for unit, n in zip(units, _count_tokens(tokenizer, [u.text for u in units]), strict=True):
        if current and used + 1 + n > budget:
            groups.append(current)
            current, used = [], 0
        current.append(unit)
        used += n + (1 if used else 0)
    if current:
        groups.append(current)
    return groups


def _joined(group: Sequence[Block]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The group's text, one block a line, and the spans of its code and tables."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    at = 0
    for block in group:
        text = block.text.strip("\n")
        if block.kind in _VERBATIM:
            spans.append((at, at + len(text)))
        parts.append(text)
        at += len(text) + 1
    return "\n".join(parts), tuple(spans)


def chunk_blocks(
    doc: Document, config: ChunkConfig, tokenizer: Any, *, limit: int, include_title: bool = True
) -> list[Passage]:
    """Passages of a document read by a reader: per section (never across a heading), blocks
    packed up to ``config.chunk_size`` tokens with the title "Document › Section", one block a line;
    each passage knows its section path, pages and anchor (:class:`rag.types.Location`)."""
    out: list[Passage] = []
    for path, blocks in sections(doc.blocks or ()):
        title = section_title(doc.title, path)
        title_tokens = _count_tokens(tokenizer, [index_text(Passage(id="", text="", title=title))])[0]
        used_by_title = title_tokens if include_title else 0
        budget = max(config.chunk_size - used_by_title, config.chunk_size // 2)
        for group in _pack(_units(blocks, tokenizer, budget, config.chunk_overlap), tokenizer, budget):
            for part in _within_limit(group, tokenizer, limit, title if include_title else ""):
                text, spans = _joined(part)
                pages = [b.page for b in part if b.page is not None]
                location = Location(
                    path=doc.source,
                    section=path,
                    pages=(min(pages), max(pages)) if pages else None,
                    anchor=next((b.anchor for b in part if b.anchor), None),
                )
                out.append(Passage("", text, title, doc.source, doc.id, location, spans))
    if len(out) == 1:
        return [replace_id(out[0], doc.id)]
    return [replace_id(p, f"{doc.id}#{i}") for i, p in enumerate(out)]


def replace_id(passage: Passage, new_id: str) -> Passage:
    """``passage`` with the id ``new_id``."""
    return Passage(
        new_id, passage.text, passage.title, passage.source, passage.doc_id, passage.location, passage.verbatim
    )


def _within_limit(group: list[Block], tokenizer: Any, limit: int, title: str) -> list[list[Block]]:
    """``group`` as one passage when its text with the title fits ``limit`` tokens (the sum of
    the parts can be off by a few), else halves of it, recursively."""
    text, _ = _joined(group)
    if len(group) == 1 or _count_tokens(tokenizer, [index_text(Passage(id="", text=text, title=title))])[0] <= limit:
        return [group]
    half = len(group) // 2
    return _within_limit(group[:half], tokenizer, limit, title) + _within_limit(group[half:], tokenizer, limit, title)
