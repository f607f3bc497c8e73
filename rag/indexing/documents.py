"""Reading documents (``.txt``, ``.md``, ``.jsonl``) and cutting them into passages.

Chunk sizes are counted in the embedder's tokens (its Hugging Face tokenizer), so that no passage
is longer than the embedder reads: a long document is split, never silently truncated.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.files import iter_jsonl
from rag.types import Passage

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl")


@dataclass(frozen=True)
class ChunkConfig:
    """Passage size and overlap, both counted in embedder tokens (without special tokens)."""

    chunk_size: int = 200
    chunk_overlap: int = 32

    def __post_init__(self) -> None:
        if self.chunk_size < 16:
            raise RagError(f"chunk_size must be at least 16 tokens, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise RagError(
                f"chunk_overlap must be >= 0 and smaller than chunk_size ({self.chunk_size}), got {self.chunk_overlap}"
            )


@dataclass(frozen=True)
class Document:
    """One source document before chunking."""

    id: str
    text: str
    title: str = ""
    source: str = ""


def list_source_files(paths: Sequence[str | Path]) -> list[Path]:
    """The supported files named by ``paths`` (files, or folders searched recursively), in order.

    Folders are walked in sorted order; hidden entries and unsupported suffixes inside folders are
    skipped. A file named explicitly must have a supported suffix. Duplicates are removed.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise MissingFileError(f"no such file or folder: {path}")
        if path.is_dir():
            found = []
            for root, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                        continue
                    found.append(Path(root) / name)
            if not found:
                raise RagError(f"folder {path} holds no {', '.join(SUPPORTED_SUFFIXES)} files: nothing to index")
            candidates = found
        else:
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise RagError(
                    f"unsupported file type {path.suffix or '(none)'!r} for {path}: "
                    f"supported are {', '.join(SUPPORTED_SUFFIXES)}"
                )
            candidates = [path]
        for file in candidates:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RagError(f"{path} is not valid UTF-8 text ({exc}): convert it to UTF-8") from exc


def _markdown_title(text: str, fallback: str) -> tuple[str, str]:
    """(title, body): the first ``# `` heading is the title; when it opens the file it is taken
    out of the body, so the title is not indexed twice (the index prepends titles itself)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# "):
            title = line[2:].strip() or fallback
            if all(not prev.strip() for prev in lines[:i]):
                return title, "\n".join(lines[i + 1 :]).strip()
            return title, text
    return fallback, text


_JSONL_HINT = 'each line must be one object like {"id": ..., "title": ..., "text": ...}'


def _read_jsonl(path: Path) -> list[Document]:
    docs: list[Document] = []
    for lineno, record in iter_jsonl(
        path, hint='each line must be one object like {"id": ..., "title": ..., "text": ...}'
    ):
        where = f"{path}:{lineno}"
        if not isinstance(record, dict):
            raise RagError(f"{where}: expected a JSON object with a 'text' field, got {type(record).__name__}")
        text = record.get("text")
        if not isinstance(text, str):
            raise RagError(f"{where}: missing or non-string 'text' field (every line needs one)")
        doc_id = record.get("id")
        doc_id = f"{path.stem}:{lineno}" if doc_id is None or doc_id == "" else str(doc_id)
        title = record.get("title") or ""
        source = record.get("source") or str(path)
        docs.append(Document(id=doc_id, text=text, title=str(title), source=str(source)))
    return docs


def load_file(path: Path, doc_id: str | None = None) -> list[Document]:
    """Read one supported file into documents (``.jsonl``: one per line; else one per file)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix not in SUPPORTED_SUFFIXES:
        raise RagError(
            f"unsupported file type {suffix or '(none)'!r} for {path}: supported are {', '.join(SUPPORTED_SUFFIXES)}"
        )
    text = _read_text(path)
    title, text = _markdown_title(text, path.stem) if suffix == ".md" else (path.stem, text)
    return [Document(id=doc_id or path.name, text=text, title=title, source=str(path))]


def load_documents(paths: Sequence[str | Path]) -> list[Document]:
    """Read files and folders (recursively) into documents.

    ``.txt``: one document titled by the file stem. ``.md``: one document titled by its first
    ``# `` heading (else the stem). ``.jsonl``: one document per non-blank line, ``{id?, title?,
    text, source?, ...}``; a missing id becomes ``"<stem>:<line>"``, a missing source the file
    path. A ``.txt``/``.md`` document's id is its path relative to the folder it was found in (its
    file name when named directly). Empty documents are skipped. Duplicate ids raise
    ``ValueError``; a bad JSONL line raises ``ValueError`` naming the file and line.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    docs: list[Document] = []
    owner: dict[str, str] = {}
    for raw in paths:
        root = Path(raw)
        for file in list_source_files([root]):
            rel = file.relative_to(root).as_posix() if root.is_dir() else file.name
            for doc in load_file(file, doc_id=rel):
                if not doc.text.strip():
                    logger.info("skipping empty document %s in %s", doc.id, file)
                    continue
                if doc.id in owner:
                    raise RagError(
                        f"duplicate document id {doc.id!r} in {file} (first seen in {owner[doc.id]}): "
                        "document ids must be unique"
                    )
                owner[doc.id] = str(file)
                docs.append(doc)
    return docs


def index_text(passage: Passage) -> str:
    """The text BM25 and the embedder see for a passage: title and text, unless already prefixed."""
    if passage.title and not passage.text.startswith(passage.title):
        return f"{passage.title}\n{passage.text}"
    return passage.text


def _count_tokens(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    if not texts:
        return []
    enc = tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    return [len(ids) for ids in enc]


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
) -> list[Passage]:
    """Cut documents into passages of at most ``config.chunk_size`` tokens.

    A document whose indexed text (see :func:`index_text`; with ``include_title`` the title is
    counted) fits stays one passage with ``id == doc.id``; a longer one is split with
    langchain-text-splitters (lengths in ``tokenizer`` tokens) into passages ``f"{doc.id}#{i}"``
    (``i`` from 0). ``max_tokens`` is the embedder's limit including its 2 special tokens
    (``max_seq_length``): every passage is checked against it and split further when the
    splitter's estimate was off, so nothing is truncated at embedding time.
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

    whole_lengths = _count_tokens(tokenizer, [full(d, d.text) for d in docs])
    passages: list[Passage] = []
    for doc, n_tokens in zip(docs, whole_lengths, strict=True):
        if n_tokens <= config.chunk_size:
            passages.append(Passage(doc.id, doc.text, doc.title, doc.source, doc.id))
            continue
        title_tokens = _count_tokens(tokenizer, [full(doc, "")])[0] if title_of(doc) else 0
        budget = max(config.chunk_size - title_tokens, config.chunk_size // 2)
        pieces = _split_within(doc, tokenizer, budget, config.chunk_overlap, limit, full)
        for i, piece in enumerate(pieces):
            passages.append(Passage(f"{doc.id}#{i}", piece, doc.title, doc.source, doc.id))
    logger.info("chunked %d documents into %d passages", len(docs), len(passages))
    return passages


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
        if smaller >= budget:  # pragma: no cover - cannot shrink further
            raise RagError(f"cannot split document {doc.id!r} under {limit} tokens")
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
