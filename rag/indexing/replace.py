"""Whether a folder may be replaced: only what rag alone writes (its ``.rag-index`` marker, the
manifest's files and their checksums) is an index that ``--overwrite`` may replace; and whether
the target can be written at all (checked before any work)."""

from __future__ import annotations

import errno
import json
import logging
import os
import tempfile
from pathlib import Path

from rag.errors import RagError
from rag.files import sha256_file
from rag.indexing.dense import DENSE_META, FAISS_FILE
from rag.indexing.layout import (
    BM25_DIR,
    MANIFEST,
    MARKER,
    PASSAGES,
    is_index,
    marker_text,
)

logger = logging.getLogger(__name__)


def written_by_rag(rel: str) -> bool:
    """Whether rag writes a file of this name (relative, with ``/``) in an index folder."""
    return rel in (PASSAGES, FAISS_FILE, DENSE_META) or (rel.startswith(f"{BM25_DIR}/") and rel.count("/") == 1)


def _why_not_replaceable(path: Path) -> str | None:
    """Why rag may not replace the folder at ``path``; None when it holds exactly an index rag wrote.

    That is: a real folder (no link) whose manifest lists only files rag writes, holding those
    files, the manifest and the marker and nothing else, with a marker that matches the manifest.
    A folder without a marker (an index of an older rag) must moreover hold every listed file
    with its listed sha256. (With a marker, a listed file may be missing or changed: that is a
    damaged index, which ``--overwrite`` rebuilds.)
    """
    if path.is_symlink() or not path.is_dir():
        return "it is a link or not a folder"
    try:
        raw = (path / MANIFEST).read_bytes()
        manifest = json.loads(raw)
    except (OSError, ValueError):
        return f"its {MANIFEST} cannot be read"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(d, str) for d in files.values()):
        return f"its {MANIFEST} does not list its files as rag does"
    foreign = sorted(str(rel) for rel in files if not written_by_rag(str(rel)))
    if foreign:
        return f"its {MANIFEST} lists {foreign[0]!r}, which rag never writes"
    marker = path / MARKER
    has_marker = marker.exists() or marker.is_symlink()
    if has_marker:
        try:
            if marker.is_symlink() or marker.read_text(encoding="utf-8") != marker_text(raw):
                return f"its {MARKER} does not match its {MANIFEST}"
        except (OSError, UnicodeDecodeError):
            return f"its {MARKER} cannot be read"
    expected = {*files, MANIFEST, *((MARKER,) if has_marker else ())}
    folders = {rel.rsplit("/", 1)[0] for rel in files if "/" in rel}
    present: set[str] = set()
    for here, dirnames, filenames in os.walk(path):
        for name in sorted(dirnames + filenames):
            full = Path(here) / name
            rel = full.relative_to(path).as_posix()
            if full.is_symlink():
                return f"it holds a link, {rel!r}"
            if full.is_dir() and rel not in folders:
                return f"it holds a folder rag did not write, {rel!r}"
            if not full.is_dir():
                if rel not in expected:
                    return f"it holds a file rag did not write, {rel!r}"
                present.add(rel)
    if not has_marker:  # an index of an older rag: exactly the files its manifest lists, unchanged
        for rel in sorted(files):
            if rel not in present:
                return f"its file {rel!r} is missing"
            if sha256_file(path / rel) != files[rel]:
                return f"its file {rel!r} is not the one its {MANIFEST} lists"
    return None


def check_replaceable(path: Path) -> None:
    """Raise :class:`RagError` unless the folder at ``path`` is an index that rag wrote and holds
    nothing else (see :func:`_why_not_replaceable`): the only folders rag deletes or replaces."""
    why = _why_not_replaceable(path)
    if why is not None:
        raise RagError(
            f"{path} looks like a rag index, but {why}: rag replaces only a folder it wrote, and leaves this one "
            "as it is; choose another --name"
        )


def check_writable(out_dir: Path) -> None:
    """Fail before any work when nothing can be written where the index goes (a read-only or
    virtual file system such as /proc): the nearest existing folder above it takes a nameless
    temporary file."""
    folder = out_dir.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise RagError(f"cannot write the index at {out_dir} ({exc.strerror or exc}): nothing was changed") from exc


def not_written(out_dir: Path, exc: OSError) -> str:
    """One line for a write of the index at ``out_dir`` that failed and was undone."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full" if exc.errno == errno.ENOSPC else "the disk quota is used up"
        return f"{why}: the index at {out_dir} could not be written, and nothing was changed; free some space"
    return f"cannot write the index at {out_dir} ({exc.strerror or exc}): nothing was changed"


def check_target(out_dir: Path, overwrite: bool) -> None:
    """Refuse to write over anything that is not a rag index, and over an index without ``overwrite``."""
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if not is_index(out_dir):
        kind = "folder" if out_dir.is_dir() else "file"
        raise RagError(
            f"{out_dir} exists and is not a rag index (a {kind} without {MANIFEST}): rag never replaces it; "
            "choose another --name"
        )
    if not overwrite:
        raise RagError(
            f"an index already exists at {out_dir}: use --add to add documents to it, or --overwrite to rebuild it"
        )
    check_replaceable(out_dir)
