"""Keeping an index current: ``rag index DIR --update``.

Contract: :func:`update_index` takes an index and the paths it was built from, and makes the index
what a fresh build of those paths would be, reading only what changed: files not in the index are
added, files whose content hash differs are read again, and files the index holds under those
paths that are gone are dropped. The passages of unchanged files keep their vectors (nothing is
embedded twice), and every passage sits in the row a fresh build would give it. It holds the
index's write lock, writes atomically, and returns what changed (:class:`IndexChanges`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.device import resolve_device
from rag.errors import RagError
from rag.indexing.bm25 import BM25Index
from rag.indexing.dense import DenseIndex, Embedder
from rag.indexing.documents import Skipped, SourceFiles, gather_files, read_documents, shown_path
from rag.indexing.index import Index, index_texts_of
from rag.indexing.layout import is_index, resolve_index_path, writing
from rag.indexing.readers.base import ReadLimits
from rag.indexing.store import (
    check_replaceable,
    check_skipped,
    chunk_loaded,
    load_locked,
    make_manifest,
    save_all,
    write_atomically,
)
from rag.types import Passage


@dataclass(frozen=True)
class IndexChanges:
    """The files an update added, read again (changed) and dropped (removed), and how many it
    left as they were."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int

    def summary(self) -> str:
        """One line: ``2 added, 1 changed, 1 removed, 40 unchanged``."""
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged"
        )


def _under(path: str, roots: Sequence[Path]) -> bool:
    p = Path(path)
    return any(p == r or r in p.parents for r in roots)


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def update_index(
    path: str | Path,
    paths: Sequence[str | Path],
    *,
    device: str = "auto",
    strict: bool = False,
    limits: ReadLimits | None = None,
    batch_size: int = 64,
    show_progress: bool = True,
) -> tuple[Index, IndexChanges]:
    """Bring the index at ``path`` up to date with ``paths`` (see the module doc)."""
    path = path if isinstance(path, Path) else resolve_index_path(path)
    if not is_index(path):
        raise RagError(f"no rag index at {path}: build it first with `rag index PATH... --name {path.name}`")
    check_replaceable(path)  # before the lock: a refused folder gets nothing written beside it
    with writing(path):
        check_replaceable(path)  # the folder is replaced whole: nothing else may be in it
        index = load_locked(path)
        sources: list[dict[str, Any]] = list(index.manifest.get("sources", []))
        if any("documents" not in s for s in sources):
            raise RagError(f"the index at {path} does not record which documents each file gave: rebuild it once")
        found = gather_files(paths)
        roots = [Path(p).resolve() for p in paths]
        current = {str(f.resolve()): (f, root) for f, root in zip(found.files, found.roots, strict=True)}
        known = {s["path"]: s for s in sources}
        added, changed, same = [], [], []
        for key, (file, _) in current.items():
            if key not in known:
                added.append(key)
            elif _digest(file) != known[key]["sha256"]:
                changed.append(key)
            else:
                same.append(key)
        removed = [k for k in known if _under(k, roots) and k not in current]
        changes = IndexChanges(tuple(added), tuple(changed), tuple(removed), len(same))
        if not (added or changed or removed):
            return index, changes
        dropped = {doc for key in (*changed, *removed) for doc in known[key]["documents"]}
        kept_rows = [row for row, p in enumerate(index.passages) if p.doc_id not in dropped]
        kept = [index.passages[row] for row in kept_rows]
        to_read = [*added, *changed]
        loaded = read_documents(
            [],
            known_ids=[p.doc_id for p in kept],
            known_files={known[k]["sha256"]: shown_path(k) for k in same},
            limits=limits,
            found=SourceFiles([current[k][0] for k in to_read], [current[k][1] for k in to_read], list(found.skipped)),
        )
        skipped = list(loaded.skipped)
        check_skipped(skipped, strict)
        dev = resolve_device(device)
        embedder = Embedder(index.config.embedder, device=dev, backend="torch")  # as the build embedded
        new = chunk_loaded(loaded, index.config, embedder, skipped)
        check_skipped(skipped, strict)
        new_vectors = (
            embedder.encode(index_texts_of(new, index.config), batch_size=batch_size, show_progress=show_progress)
            if new
            else np.zeros((0, index.dense.dimension), dtype=np.float32)
        )
        old_vectors = index.dense.vectors()[kept_rows] if kept_rows else new_vectors[:0]
        entries = [s for s in sources if s["path"] not in set(changed) | set(removed)]
        entries += [e.to_dict() for e in loaded.sources]
        order = _fresh_order(entries, [str(f.resolve()) for f in found.files])
        passages, vectors = _in_order(order, entries, [*kept, *new], np.vstack([old_vectors, new_vectors]))
        bm25 = BM25Index.build(index_texts_of(passages, index.config), index.config.bm25)
        dense = DenseIndex.build(vectors, index.config.dense, device="cpu")
        before = [Skipped(**s) for s in index.manifest.get("skipped", []) if isinstance(s, dict)]
        manifest = make_manifest(
            index.config,
            embedder,
            dense,
            passages,
            len({p.doc_id for p in passages}),
            sorted(entries, key=lambda e: order.get(e["path"], (-1, 0))),
            [*before, *skipped],
            created=index.manifest.get("created"),
        )
        write_atomically(path, lambda tmp: save_all(tmp, passages, bm25, dense, manifest))
    result = Index(
        path, index.config, manifest, passages, bm25, dense, device="cpu", embedder=embedder, skipped=skipped
    )
    return result, changes


def _fresh_order(entries: Sequence[dict[str, Any]], files: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Each source file's place: files outside this update's paths first (as they were), then the
    files in the order a fresh build reads them."""
    place = {f: i for i, f in enumerate(files)}
    return {e["path"]: (place.get(e["path"], -1), n) for n, e in enumerate(entries)}


def _in_order(
    order: dict[str, tuple[int, int]],
    entries: Sequence[dict[str, Any]],
    passages: Sequence[Passage],
    vectors: np.ndarray,
) -> tuple[list[Passage], np.ndarray]:
    """``passages`` (and their vectors) sorted as a fresh build gives them: by their file's place,
    then by their document's place in the file; a document's chunks keep their order."""
    where: dict[str, tuple[int, int, int]] = {}
    for entry in entries:
        for i, doc in enumerate(entry["documents"]):
            where[doc] = (*order[entry["path"]], i)
    rows = sorted(range(len(passages)), key=lambda r: where.get(passages[r].doc_id, (-1, -1, -1)))
    return [passages[r] for r in rows], vectors[rows]
