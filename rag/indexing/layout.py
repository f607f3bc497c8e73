"""Where indexes live and how writers and readers share them: the files of an index directory,
index names, the list of indexes under the index home, and the locks.

Writers hold ``.<name>.lock`` beside the index for the whole write, so two writers never lose
each other's work; the swap itself takes ``.<name>.swap.lock``, which readers hold (shared)
while they load, so a reader never sees a half-swapped index. What a killed write leaves behind
(``.<name>.*.tmp`` / ``.old``) is finished, restored or removed by the next writer
(:func:`recover`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.paths import indexes_dir

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Written by every build beside the manifest: :data:`MARKER_FORMAT` and the manifest's sha256.
#: rag replaces a folder only when it proves that rag wrote it (``store.check_replaceable``).
MARKER = ".rag-index"
MARKER_FORMAT = "rag-index 1"
PASSAGES = "passages.jsonl"
BM25_DIR = "bm25"
METRIC = "inner_product"


def resolve_index_path(name_or_path: str) -> Path:
    """A name without a path separator is always ``indexes_dir() / name`` (even when a folder of
    that name exists here); anything with a separator (``./docs``, ``/data/idx``) is a path."""
    text = str(name_or_path)
    if "/" in text or os.sep in text or (os.altsep and os.altsep in text):
        return Path(text).expanduser()
    if text.strip() in ("", ".", ".."):
        raise RagError(f"{text!r} is not an index name: give a name (e.g. --name docs) or a path with a slash")
    return indexes_dir() / text


def marker_text(manifest: bytes) -> str:
    """What :data:`MARKER` holds for an index whose manifest is the bytes ``manifest``."""
    return f"{MARKER_FORMAT}\nmanifest-sha256 {hashlib.sha256(manifest).hexdigest()}\n"


def is_index(path: Path) -> bool:
    """Whether ``path`` is a directory that a rag build wrote (its manifest says so)."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "format_version" in manifest and "files" in manifest


@dataclass(frozen=True)
class IndexSummary:
    """One index under the index home, as its manifest describes it (nothing else is loaded)."""

    name: str
    passages: int
    documents: int
    embedder: str
    updated: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_indexes(home: Path | None = None) -> list[IndexSummary]:
    """The indexes under ``home`` (default ``indexes_dir()``), by name; folders that are not
    indexes and hidden entries are left out."""
    home = indexes_dir() if home is None else home
    out: list[IndexSummary] = []
    if not home.is_dir():
        return out
    for path in sorted(home.iterdir()):
        if path.name.startswith(".") or not is_index(path):
            continue
        m = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        embedder = m.get("embedder")
        out.append(
            IndexSummary(
                name=path.name,
                passages=int(m.get("passage_count", 0)),
                documents=int(m.get("document_count", 0)),
                embedder=str(embedder.get("name", "")) if isinstance(embedder, dict) else "",
                updated=str(m.get("updated", "")),
            )
        )
    return out


def lock_file(path: Path, kind: str = "") -> Path:
    return path.parent / f".{path.name}{kind}.lock"


@contextlib.contextmanager
def hold_lock(lock: Path, exclusive: bool, waiting: str) -> Iterator[bool]:
    """Hold ``flock`` on ``lock`` (created when missing); log ``waiting`` when it has to wait.

    Yields False, without locking, where the lock file cannot be created (a read-only folder):
    nothing can write there either.
    """
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("%s", waiting)
            fcntl.flock(fd, mode)
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Be the only writer of the index at ``path`` (others wait), and finish or clear what a
    killed write left beside it before writing."""
    with hold_lock(
        lock_file(path),
        exclusive=True,
        waiting=f"waiting for another rag process that is writing the index {path} (lock {lock_file(path)})",
    ):
        recover(path)
        yield


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    with hold_lock(lock_file(path, ".swap"), exclusive=False, waiting=f"waiting for the index {path} to be swapped in"):
        yield


def leftovers(path: Path) -> list[Path]:
    """Temporary (``.tmp``) and replaced (``.old``) copies of ``path`` that a killed write left."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.(tmp|old)")
    try:
        return sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_dir())
    except OSError:
        return []


def recover(path: Path) -> None:
    """Finish or undo a write of ``path`` that was killed, then remove its leftovers.

    Killed between its two renames, a write leaves no ``path`` but a complete new index
    (``.tmp`` with a manifest, moved into place) or the old one (``.old``, restored). Every other
    leftover is a partial or replaced copy and is removed. Call it only while holding the write lock.
    """
    left = leftovers(path)
    if not left:
        return
    if not path.exists():
        complete = [p for p in left if p.suffix == ".tmp" and is_index(p)]
        complete += [p for p in left if p.suffix == ".old" and is_index(p)]
        if complete:
            os.replace(complete[0], path)
            what = "finished an interrupted build of" if complete[0].suffix == ".tmp" else "restored"
            logger.warning("%s the index %s (from %s)", what, path, complete[0].name)
            left.remove(complete[0])
    for p in left:
        shutil.rmtree(p, ignore_errors=True)
        if p.exists():
            logger.warning("could not remove %s, left by an interrupted write of %s: remove it yourself", p, path)
        else:
            logger.warning("removed %s, left by an interrupted write of %s", p, path)
