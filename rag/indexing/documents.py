"""Reading documents (``.txt``, ``.md``, ``.jsonl``) and cutting them into passages.

Chunk sizes are counted in the embedder's tokens (its Hugging Face tokenizer), so that no passage
is longer than the embedder reads: a long document is split, never silently truncated.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
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


@dataclass(frozen=True)
class Skipped:
    """An input left out of an index (a file, or one line of a ``.jsonl`` file) and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class SourceFiles:
    """The readable files named by some paths, each with the folder its document id is relative
    to, and the entries that were left out."""

    files: list[Path]
    roots: list[Path]
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class LoadedDocuments:
    """Documents read from files, the files they came from, and what was skipped (and why)."""

    documents: list[Document]
    files: list[Path]
    skipped: list[Skipped] = field(default_factory=list)


def shown_path(path: str | Path) -> str:
    """A path as text that can always be printed: bytes that are not UTF-8 appear as ``\\xff``."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", errors="backslashreplace")
    return text


def _unsupported(path: Path) -> str:
    return f"unsupported file type {path.suffix or '(none)'!r}: supported are {', '.join(SUPPORTED_SUFFIXES)}"


def _why_unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be read as a document (``None`` when it can be tried)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8: rename the file"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device): nothing is read from it"
    return None


def gather_files(paths: Sequence[str | Path]) -> SourceFiles:
    """The files named by ``paths`` (files, or folders searched recursively), in order.

    Folders are walked in sorted order; hidden entries and files of other types inside folders are
    ignored. Named files of an unsupported type, special files (pipes, devices: reading one could
    hang), broken links and names that are not UTF-8 are skipped with a reason. A path that does not
    exist, or a folder without any supported file, is an error: nothing would be indexed from it.
    Duplicates are removed.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    roots: list[Path] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            raise MissingFileError(f"no such file or folder: {shown_path(path)}")
        if path.is_dir():
            found = []
            for folder, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                        continue
                    found.append(Path(folder) / name)
            if not found:
                raise RagError(
                    f"folder {shown_path(path)} holds no {', '.join(SUPPORTED_SUFFIXES)} files: nothing to index"
                )
            candidates = found
            root = path
        else:
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append(Skipped(shown_path(path), _unsupported(path)))
                continue
            candidates = [path]
            root = path.parent
        for file in candidates:
            why = _why_unreadable(file)
            if why is not None:
                skipped.append(Skipped(shown_path(file), why))
                continue
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
                roots.append(root)
    return SourceFiles(files, roots, skipped)


def list_source_files(paths: Sequence[str | Path]) -> list[Path]:
    """The readable supported files named by ``paths`` (see :func:`gather_files`)."""
    return gather_files(paths).files


def _read_text(path: Path) -> str:
    """A text file's content; :class:`RagError` says why it is not text."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise RagError("contains NUL bytes: a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RagError(f"not valid UTF-8 text (byte {exc.start}): convert it to UTF-8") from exc


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


def _jsonl_record(raw: bytes) -> dict[str, Any]:
    """One ``.jsonl`` line as a document record; :class:`RagError` says what is wrong with it."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RagError(f"not valid UTF-8 (byte {exc.start})") from exc
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RagError(f"not valid JSON ({exc.msg}); {_JSONL_HINT}") from exc
    if not isinstance(record, dict):
        raise RagError(f"expected a JSON object with a 'text' field, got {type(record).__name__}")
    if not isinstance(record.get("text"), str):
        raise RagError("missing or non-string 'text' field (every line needs one)")
    if "\x00" in record["text"]:
        raise RagError("the text contains NUL characters")
    return record


def _read_jsonl(path: Path, skipped: list[Skipped]) -> list[Document]:
    docs: list[Document] = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                record = _jsonl_record(raw)
            except RagError as exc:
                skipped.append(Skipped(f"{shown_path(path)}:{lineno}", str(exc)))
                continue
            doc_id = record.get("id")
            doc_id = f"{path.stem}:{lineno}" if doc_id is None or doc_id == "" else str(doc_id)
            title = record.get("title")
            title = "" if title is None else title if isinstance(title, str) else json.dumps(title)
            source = record.get("source") or str(path)
            docs.append(Document(id=doc_id, text=record["text"], title=title, source=str(source)))
    return docs


def load_file(path: Path, doc_id: str | None = None, skipped: list[Skipped] | None = None) -> list[Document]:
    """Read one supported file into documents (``.jsonl``: one per line; else one per file).

    A file that cannot be read as text raises :class:`RagError`; a bad ``.jsonl`` line is left out
    and recorded in ``skipped`` (an error when ``skipped`` is not given).
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise RagError(f"{shown_path(path)}: {_unsupported(path)}")
    if suffix == ".jsonl":
        bad: list[Skipped] = []
        docs = _read_jsonl(path, bad)
        if skipped is not None:
            skipped.extend(bad)
        elif bad:
            raise RagError(str(bad[0]))
        return docs
    try:
        text = _read_text(path)
    except RagError as exc:
        raise RagError(f"{shown_path(path)} {exc}") from exc
    title, text = _markdown_title(text, path.stem) if suffix == ".md" else (path.stem, text)
    return [Document(id=doc_id or path.name, text=text, title=title, source=str(path))]


def read_documents(
    paths: Sequence[str | Path],
    *,
    known_ids: Sequence[str] = (),
    known_files: dict[str, str] | None = None,
) -> LoadedDocuments:
    """Read files and folders (recursively) into documents; a bad one is skipped, never fatal.

    ``.txt``: one document titled by the file stem. ``.md``: one document titled by its first
    ``# `` heading (else the stem). ``.jsonl``: one document per non-blank line, ``{id?, title?,
    text, source?, ...}``; a missing id becomes ``"<stem>:<line>"``, a missing source the file
    path. A ``.txt``/``.md`` document's id is its path relative to the folder it was found in (its
    file name when named directly).

    Skipped, each with its reason (see :class:`Skipped`): files that are not text (NUL bytes, not
    UTF-8, unreadable, pipes, unsupported types), bad ``.jsonl`` lines, empty documents, a
    document whose id was seen before (in these files or ``known_ids``), and a file with the same
    bytes as one read before (or one of ``known_files``, sha256 -> path, e.g. an index's sources).
    Only a path that does not exist is an error.
    """
    found = gather_files(paths)
    skipped = list(found.skipped)
    docs: list[Document] = []
    files: list[Path] = []
    owner: dict[str, str] = dict.fromkeys(known_ids, "the index")
    digests: dict[str, str] = dict((known_files or {}).items())
    for file, root in zip(found.files, found.roots, strict=True):
        where = shown_path(file)
        try:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError as exc:
            skipped.append(Skipped(where, f"cannot be read ({exc.strerror or exc})"))
            continue
        if digest in digests:
            skipped.append(Skipped(where, f"same content as {digests[digest]}, which is indexed already"))
            continue
        rel = file.relative_to(root).as_posix()
        try:
            loaded = load_file(file, doc_id=rel, skipped=skipped)
        except RagError as exc:
            skipped.append(Skipped(where, str(exc).removeprefix(where).strip()))
            continue
        except OSError as exc:
            skipped.append(Skipped(where, f"cannot be read ({exc.strerror or exc})"))
            continue
        digests[digest] = where
        kept = 0
        for doc in loaded:
            if not doc.text.strip():
                skipped.append(Skipped(f"{where} ({doc.id})", "no text"))
                continue
            if doc.id in owner:
                skipped.append(Skipped(f"{where} ({doc.id})", f"duplicate document id (first seen in {owner[doc.id]})"))
                continue
            owner[doc.id] = where
            docs.append(doc)
            kept += 1
        if kept:
            files.append(file)
    for s in skipped:
        logger.warning("skipped %s", s)
    return LoadedDocuments(docs, files, skipped)


def load_documents(paths: Sequence[str | Path]) -> list[Document]:
    """The documents of :func:`read_documents` (what was skipped is logged as a warning)."""
    return read_documents(paths).documents


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
    whole_lengths = _count_tokens(tokenizer, [full(d, d.text) for d in docs])
    passages: list[Passage] = []
    for doc, n_tokens in zip(docs, whole_lengths, strict=True):
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
    return Document(doc.id, doc.text, title, doc.source)


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
