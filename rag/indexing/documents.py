"""Finding and reading documents: the files named by paths, read once each, into documents.

JSON Lines records are read here; every other type by its reader (:mod:`rag.indexing.readers`:
PDF, HTML, DOCX, EPUB, text and Markdown). Cutting documents into passages is
:mod:`rag.indexing.chunking`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.indexing.readers import SUPPORTED_SUFFIXES as READER_SUFFIXES
from rag.indexing.readers import clean_text, read_document
from rag.indexing.readers.base import Block, ReaderError, ReadLimits

logger = logging.getLogger(__name__)

#: Every file type rag reads: JSON Lines records, and what the readers read.
SUPPORTED_SUFFIXES = (".jsonl", *READER_SUFFIXES)


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
    """One source document before chunking: ``text`` as a whole, and for a file read by a reader
    its ``blocks`` (headings, paragraphs, list items, code, tables, with pages and anchors)."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    blocks: tuple[Block, ...] | None = None


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
class SourceEntry:
    """A file an index was built from: its resolved path, the sha256 and size of the bytes read."""

    path: str
    sha256: str
    bytes: int
    documents: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes, "documents": list(self.documents)}


@dataclass(frozen=True)
class LoadedDocuments:
    """Documents read from files, the files they came from (and their hashes), and what was
    skipped (and why)."""

    documents: list[Document]
    files: list[Path]
    skipped: list[Skipped] = field(default_factory=list)
    sources: list[SourceEntry] = field(default_factory=list)


def shown_path(path: str | Path) -> str:
    """A path as text that can always be printed: bytes that are not UTF-8 appear as ``\\xff``."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", errors="backslashreplace")
    return text


def _suffix(path: Path) -> str:
    """The file's type as the readers know it: ``.rst.txt`` is reST as text, else the last suffix."""
    name = path.name.lower()
    return ".rst.txt" if name.endswith(".rst.txt") else path.suffix.lower()


def is_supported(path: Path) -> bool:
    """Whether some reader reads files like ``path`` (by suffix)."""
    return _suffix(path) in SUPPORTED_SUFFIXES


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


#: Folders a documentation build writes beside its pages (Sphinx's copies of the sources, its
#: scripts and styles): their files repeat or decorate the pages and are not read.
BUILD_FOLDERS = frozenset({"_sources", "_static"})


def _walk(folder: Path) -> tuple[list[Path], dict[str, int]]:
    """The supported files under ``folder`` in sorted order, and how many others there are by type."""
    found: list[Path] = []
    others: dict[str, int] = {}
    for here, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in BUILD_FOLDERS)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if is_supported(Path(name)):
                found.append(Path(here) / name)
            else:
                kind = Path(name).suffix.lower() or "(none)"
                others[kind] = others.get(kind, 0) + 1
    return found, others


def gather_files(paths: Sequence[str | Path]) -> SourceFiles:
    """The files named by ``paths`` (files, or folders searched recursively), in order.

    Folders are walked in sorted order; hidden entries and documentation build folders
    (:data:`BUILD_FOLDERS`) are passed over. Files of other types inside a folder are counted and
    reported as one skipped entry a folder; named files of an unsupported type, special files
    (pipes, devices: reading one could hang), broken links and names that are not UTF-8 are
    skipped with a reason. A path that does not exist, or a folder without any supported file,
    is an error: nothing would be indexed from it. Duplicates are removed.
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
            found, others = _walk(path)
            if not found:
                raise RagError(
                    f"folder {shown_path(path)} holds no file that rag reads "
                    f"({', '.join(SUPPORTED_SUFFIXES)}): nothing to index"
                )
            if others:
                kinds = ", ".join(f"{n} {k}" for k, n in sorted(others.items(), key=lambda kv: (-kv[1], kv[0])))
                skipped.append(
                    Skipped(shown_path(path), f"{sum(others.values())} files of unsupported types ({kinds})")
                )
            candidates = found
            root = path
        else:
            if not is_supported(path):
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


def _jsonl_documents(data: bytes, path: Path, skipped: list[Skipped]) -> list[Document]:
    docs: list[Document] = []
    for lineno, raw in enumerate(data.splitlines(), 1):
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
        text = clean_text(record["text"])
        docs.append(Document(id=doc_id, text=text, title=clean_text(title), source=str(source)))
    return docs


def read_file_bytes(path: Path, limits: ReadLimits) -> bytes:
    """The bytes of ``path``, read once; :class:`ReaderError` when it is over ``limits.max_file_mb``
    (checked before reading). ``OSError`` when it cannot be read (it vanished, say)."""
    size = path.stat().st_size
    if size > limits.max_file_mb * 1_000_000:
        raise ReaderError(
            f"is {size / 1_000_000:.3g} MB, over the limit of {limits.max_file_mb:g} MB: raise it with --max-file-mb"
        )
    return path.read_bytes()


def parse_file(
    data: bytes,
    path: Path,
    doc_id: str | None = None,
    skipped: list[Skipped] | None = None,
    limits: ReadLimits | None = None,
) -> list[Document]:
    """The documents in a file's bytes: ``.jsonl`` one per line (a bad line is left out and
    recorded in ``skipped``, an error when ``skipped`` is not given); any other supported type one
    document, read by its reader (:mod:`rag.indexing.readers`). :class:`RagError` when the file
    cannot be read as a document."""
    limits = limits or ReadLimits()
    if not is_supported(path):
        raise RagError(f"{shown_path(path)}: {_unsupported(path)}")
    if _suffix(path) == ".jsonl":
        bad: list[Skipped] = []
        docs = _jsonl_documents(data, path, bad)
        if skipped is not None:
            skipped.extend(bad)
        elif bad:
            raise RagError(str(bad[0]))
        return docs
    try:
        read = read_document(data, path, limits)
    except ReaderError as exc:
        raise RagError(f"{shown_path(path)} {exc}") from exc
    text = "\n".join(b.text for b in read.blocks if b.kind != "heading")
    return [Document(doc_id or path.name, text, read.title or path.stem, str(path), read.blocks)]


def load_file(path: Path, doc_id: str | None = None, skipped: list[Skipped] | None = None) -> list[Document]:
    """Read one supported file into documents (see :func:`parse_file`)."""
    try:
        data = read_file_bytes(path, ReadLimits())
    except ReaderError as exc:
        raise RagError(f"{shown_path(path)} {exc}") from exc
    return parse_file(data, path, doc_id, skipped)


def read_documents(
    paths: Sequence[str | Path],
    *,
    known_ids: Sequence[str] = (),
    known_files: dict[str, str] | None = None,
    limits: ReadLimits | None = None,
    found: SourceFiles | None = None,
) -> LoadedDocuments:
    """Read files and folders (recursively) into documents; a bad one is skipped, never fatal.

    Each file is read once: its hash (recorded in ``sources``) and its documents come from the
    same bytes, so a file rewritten or deleted while an index is built cannot make the two
    disagree. ``.jsonl``: one document per non-blank line, ``{id?, title?, text, source?, ...}``;
    a missing id becomes ``"<stem>:<line>"``, a missing source the file path. Other files: one
    document, read by the reader of its type (PDF, HTML, DOCX, EPUB, text and Markdown), whose id
    is its path relative to the folder it was found in (its file name when named directly).
    Control characters are removed from all text.

    Skipped, each with its reason (see :class:`Skipped`): files that cannot be read as documents
    (binary, not UTF-8, encrypted, corrupt, over a size limit, unreadable, vanished, pipes,
    unsupported types), bad ``.jsonl`` lines, empty documents, a document whose id was seen
    before (in these files or ``known_ids``), and a file with the same bytes as one read before
    (or one of ``known_files``, sha256 -> path, e.g. an index's sources). Only a path that does
    not exist is an error. ``found`` gives the files (and the folders their ids are relative to)
    instead of ``paths``.
    """
    limits = limits or ReadLimits()
    found = found if found is not None else gather_files(paths)
    skipped = list(found.skipped)
    docs: list[Document] = []
    files: list[Path] = []
    sources: list[SourceEntry] = []
    owner: dict[str, str] = dict.fromkeys(known_ids, "the index")
    digests: dict[str, str] = dict((known_files or {}).items())
    for file, root in zip(found.files, found.roots, strict=True):
        where = shown_path(file)
        try:
            data = read_file_bytes(file, limits)
        except ReaderError as exc:
            skipped.append(Skipped(where, str(exc)))
            continue
        except FileNotFoundError:
            skipped.append(Skipped(where, "vanished before it could be read"))
            continue
        except OSError as exc:
            skipped.append(Skipped(where, f"cannot be read ({exc.strerror or exc})"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in digests:
            skipped.append(Skipped(where, f"same content as {digests[digest]}, which is indexed already"))
            continue
        rel = file.relative_to(root).as_posix()
        try:
            loaded = parse_file(data, file, doc_id=rel, skipped=skipped, limits=limits)
        except RagError as exc:
            skipped.append(Skipped(where, str(exc).removeprefix(where).strip()))
            continue
        digests[digest] = where
        kept: list[str] = []
        for doc in loaded:
            if not doc.text.strip():
                skipped.append(Skipped(f"{where} ({doc.id})", "no text"))
                continue
            if doc.id in owner:
                skipped.append(Skipped(f"{where} ({doc.id})", f"duplicate document id (first seen in {owner[doc.id]})"))
                continue
            owner[doc.id] = where
            docs.append(doc)
            kept.append(doc.id)
        if kept:
            files.append(file)
            sources.append(SourceEntry(str(file.resolve()), digest, len(data), tuple(kept)))
    for s in skipped:
        logger.warning("skipped %s", s)
    return LoadedDocuments(docs, files, skipped, sources)


def load_documents(paths: Sequence[str | Path]) -> list[Document]:
    """The documents of :func:`read_documents` (what was skipped is logged as a warning)."""
    return read_documents(paths).documents
