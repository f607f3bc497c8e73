"""The index directory: passages, BM25 and FAISS indexes, and a manifest that checks them.

Layout of ``indexes/<name>/``::

    manifest.json     format version, package version, embedder, metric, settings, counts,
                      source files with sha256, sha256 of every index file
    .rag-index        "rag-index 1" and the manifest's sha256: rag wrote this folder
    passages.jsonl    one passage per line (row i of both indexes is line i)
    bm25/             bm25s arrays (.npy) + vocabulary/params (JSON)
    dense.faiss       FAISS index of L2-normalised embeddings (inner product)
    dense.json        its kind and settings

Writes go to a temporary directory beside the target, moved into place only when complete, under
the locks of :mod:`rag.indexing.layout`. A folder is replaced (``--overwrite``, ``--add``,
``--update``) only when it holds exactly what rag writes (:func:`check_replaceable`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag import __version__
from rag.cluster import RayEngine, is_local
from rag.device import resolve_device
from rag.errors import MissingFileError, RagError
from rag.files import iter_jsonl, sha256_file
from rag.indexing.bm25 import BM25Index
from rag.indexing.chunking import chunk_documents
from rag.indexing.dense import DENSE_META, FAISS_FILE, DenseIndex, Embedder
from rag.indexing.distributed import ChunkJob, chunk_and_embed
from rag.indexing.documents import (
    LoadedDocuments,
    Skipped,
    gather_files,
    read_documents,
    shown_path,
)
from rag.indexing.index import Index, IndexConfig, index_texts_of
from rag.indexing.layout import (
    BM25_DIR,
    FORMAT_VERSION,
    MANIFEST,
    MARKER,
    METRIC,
    PASSAGES,
    hold_lock,
    is_index,
    leftovers,
    lock_file,
    marker_text,
    reading,
    resolve_index_path,
    writing,
)
from rag.indexing.readers.base import ReadLimits
from rag.indexing.replace import check_replaceable, check_target, check_writable, not_written
from rag.paths import indexes_dir
from rag.types import Passage

logger = logging.getLogger(__name__)


# --- helpers ---
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _source_entries(loaded: LoadedDocuments) -> list[dict[str, Any]]:
    """The manifest's record of the files read: their hashes are those of the bytes parsed."""
    return [entry.to_dict() for entry in loaded.sources]


def _check_unique(passages: Sequence[Passage]) -> None:
    seen: set[str] = set()
    for p in passages:
        if p.id in seen:
            raise RagError(f"duplicate passage id {p.id!r}: document ids must be unique across the index")
        seen.add(p.id)


def _name_for(path: Path) -> str:
    """How to name the index at ``path`` on the command line: its name under ``indexes/``, or the path."""
    if path.parent.resolve() == indexes_dir().resolve():
        return path.name
    text = str(path)
    return text if "/" in text else f"./{text}"


def _rebuild_hint(path: Path) -> str:
    return f"rebuild it with `rag index PATH... --name {_name_for(path)} --overwrite`"


def check_skipped(skipped: Sequence[Skipped], strict: bool) -> None:
    if strict and skipped:
        more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
        raise RagError(f"--strict: {skipped[0]}{more} would be skipped; nothing was written")


def write_atomically(out_dir: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` in a fresh directory beside ``out_dir``, then move it into place.

    An existing ``out_dir`` is replaced only after the new one is complete; on any failure the
    temporary directory is removed and ``out_dir`` is left as it was. A failure to write (a full
    disk, say) is a :class:`RagError` that says so.
    """
    out_dir = Path(out_dir)
    tmp: Path | None = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; an index is an ordinary folder
        write(tmp)
        with hold_lock(
            lock_file(out_dir, ".swap"), exclusive=True, waiting=f"waiting for readers of {out_dir} to finish loading"
        ):
            if out_dir.exists():
                old = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:8]}.old"
                os.replace(out_dir, old)
                try:
                    os.replace(tmp, out_dir)
                except BaseException as exc:
                    try:
                        os.replace(old, out_dir)
                    except OSError:
                        raise RagError(
                            f"cannot write the index at {out_dir} ({exc}); the old index is at {old}, and the next "
                            "rag command that writes this index puts it back"
                        ) from exc
                    raise
            else:
                old = None
                os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, RagError):
            raise RagError(not_written(out_dir, exc)) from exc
        raise


def save_all(
    tmp: Path, passages: Sequence[Passage], bm25: BM25Index, dense: DenseIndex, manifest: dict[str, Any]
) -> None:
    with (tmp / PASSAGES).open("w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
    bm25.save(tmp / BM25_DIR)
    dense.save(tmp)
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    manifest["files"] = {f.relative_to(tmp).as_posix(): sha256_file(f) for f in files}
    text = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    (tmp / MARKER).write_text(marker_text(text), encoding="utf-8")
    # The manifest goes last: a directory with a manifest is a complete index.
    (tmp / MANIFEST).write_bytes(text)


def make_manifest(
    config: IndexConfig,
    embedder: Embedder,
    dense: DenseIndex,
    passages: Sequence[Passage],
    documents: int,
    sources: list[dict[str, Any]],
    skipped: Sequence[Skipped],
    created: str | None = None,
) -> dict[str, Any]:
    now = _now()
    return {
        "format_version": FORMAT_VERSION,
        "rag_version": __version__,
        "created": created or now,
        "updated": now,
        "embedder": {
            "name": config.embedder,
            "dimension": embedder.dimension,
            "max_seq_length": embedder.max_seq_length,
        },
        "metric": METRIC,
        "normalized": True,
        "include_title": config.include_title,
        "chunking": asdict(config.chunking),
        "bm25": asdict(config.bm25),
        "dense": {"kind": dense.kind, "config": asdict(config.dense)},
        "passage_count": len(passages),
        "document_count": documents,
        "sources": sources,
        "skipped": [s.to_dict() for s in skipped],
    }


# --- public API ---
def chunk_loaded(
    loaded: LoadedDocuments, config: IndexConfig, embedder: Embedder, skipped: list[Skipped]
) -> list[Passage]:
    return chunk_documents(
        loaded.documents,
        config.chunking,
        embedder.tokenizer,
        max_tokens=embedder.max_seq_length,
        include_title=config.include_title,
        on_skip=skipped.append,
    )


def _nothing_to_index(paths: Sequence[str | Path], skipped: Sequence[Skipped], verb: str) -> RagError:
    """No passage came of ``paths``: "contain no text" only when that is why (an unsupported or
    unreadable file is not empty), else how many inputs were skipped and the first reason."""
    where = ", ".join(shown_path(p) for p in paths)
    if not skipped:
        return RagError(f"no passages to {verb}: the documents in {where} contain no text")
    first = f"{len(skipped)} input(s) skipped, first: {skipped[0]}"
    if all(s.reason == "no text" for s in skipped):
        return RagError(f"no passages to {verb}: the documents in {where} contain no text; {first}")
    return RagError(f"no passages to {verb} from {where}: no text could be read; {first}")


def build_index(
    paths: Sequence[str | Path],
    out_dir: Path,
    config: IndexConfig = IndexConfig(),
    *,
    device: str = "auto",
    show_progress: bool = True,
    overwrite: bool = False,
    batch_size: int = 64,
    strict: bool = False,
    engine: RayEngine | None = None,
    limits: ReadLimits | None = None,
) -> Index:
    """Read ``paths``, chunk, embed and index them into the directory ``out_dir``.

    ``limits`` bound what one file may be (:class:`rag.indexing.readers.base.ReadLimits`).

    With ``engine`` (a :class:`rag.cluster.RayEngine`) chunking and embedding run on a Ray
    cluster (:mod:`rag.indexing.distributed`); the index written is the same format, with the
    same passages in the same rows.

    Inputs that cannot be indexed (see :func:`rag.indexing.documents.read_documents`) are skipped,
    logged and listed in ``Index.skipped`` and the manifest; with ``strict`` any skip is an error
    and nothing is written. Raises :class:`RagError` when ``out_dir`` exists and is not a rag
    index (it is never replaced), when it is an index and ``overwrite`` is false, or when the
    documents yield no passage. Holds the index's write lock while it works.
    """
    out_dir = Path(out_dir)
    check_target(out_dir, overwrite)  # cheap checks first: nothing loaded yet
    check_writable(out_dir)
    loaded = read_documents(paths, limits=limits)
    skipped = list(loaded.skipped)
    check_skipped(skipped, strict)
    if not loaded.documents:
        raise _nothing_to_index(paths, skipped, "index")
    dev = resolve_device(device)
    if engine is None:
        embedder = Embedder(config.embedder, device=dev, backend="torch")
        passages = chunk_loaded(loaded, config, embedder, skipped)
        check_skipped(skipped, strict)
        if not passages:
            raise _nothing_to_index(paths, skipped, "index")
        _check_unique(passages)
        texts = index_texts_of(passages, config)
        logger.info("embedding %d passages with %s on %s", len(texts), config.embedder, dev)
        vectors = embedder.encode(texts, batch_size=batch_size, show_progress=show_progress)
    else:
        embedder = Embedder(config.embedder, device="cpu")  # the driver's: tokenizer and dimension only
        job = ChunkJob(config.embedder, config.chunking, embedder.max_seq_length, config.include_title)
        done = chunk_and_embed(
            loaded.documents,
            lambda ps: index_texts_of(ps, config),
            job,
            engine,
            device=dev,
            dimension=embedder.dimension,
            scratch=None if is_local(engine) else out_dir.parent,  # a remote cluster's nodes must all see it
        )
        passages, vectors = done.passages, done.vectors
        skipped += done.skipped
        check_skipped(skipped, strict)
        if not passages:
            raise _nothing_to_index(paths, skipped, "index")
        _check_unique(passages)
        texts = index_texts_of(passages, config)
    bm25 = BM25Index.build(texts, config.bm25)
    dense = DenseIndex.build(vectors, config.dense, device="cpu")
    documents = len({p.doc_id for p in passages})
    manifest = make_manifest(config, embedder, dense, passages, documents, _source_entries(loaded), skipped)
    with writing(out_dir):
        check_target(out_dir, overwrite)  # again: another process may have written it meanwhile
        write_atomically(out_dir, lambda tmp: save_all(tmp, passages, bm25, dense, manifest))
    if dev != "cpu":
        dense = DenseIndex.load(out_dir, device=dev)
    return Index(out_dir, config, manifest, passages, bm25, dense, device=dev, embedder=embedder, skipped=skipped)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        raise MissingFileError(f"no index at {path}: build one with `rag index PATH... --name {_name_for(path)}`")
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise MissingFileError(
            f"{path} is not a rag index ({MANIFEST} is missing), and rag never replaces such a folder: "
            "build the index under another name (rag index PATH... --name NAME)"
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RagError(
            f"{mpath} is corrupted (not valid JSON: {exc}), so rag cannot tell that it wrote {path} and never "
            "replaces it: build the index under another name (rag index PATH... --name NAME)"
        ) from exc
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise RagError(
            f"index at {path} has format version {version}, but this rag reads format version "
            f"{FORMAT_VERSION}: {_rebuild_hint(path)}"
        )
    return manifest


def _check_files(path: Path, manifest: dict[str, Any], verify: bool) -> None:
    files = manifest.get("files") or {}
    if not isinstance(files, dict):
        raise RagError(f"{path / MANIFEST} lists its files wrongly: {_rebuild_hint(path)}")
    for required in (PASSAGES, FAISS_FILE, DENSE_META):
        if required not in files:
            raise RagError(f"{path / MANIFEST} lists no {required}: {_rebuild_hint(path)}")
    for rel, digest in files.items():
        fpath = path / rel
        if not fpath.is_file():
            raise MissingFileError(f"index at {path} is missing its file {rel}: {_rebuild_hint(path)}")
        if verify and sha256_file(fpath) != digest:
            raise RagError(
                f"index file {fpath} is corrupted (its sha256 does not match {MANIFEST}): {_rebuild_hint(path)}"
            )


def _read_passages(path: Path) -> list[Passage]:
    out: list[Passage] = []
    where = 0
    try:
        for lineno, record in iter_jsonl(path / PASSAGES):
            where = lineno
            out.append(Passage.from_dict(record))
    except (TypeError, KeyError, ValueError, AttributeError) as exc:  # a JSON object without a passage's fields
        raise RagError(f"{path / PASSAGES}:{where}: unreadable passage ({exc}): {_rebuild_hint(path)}") from exc
    except RagError as exc:  # a line that is not JSON (the message names the line)
        raise RagError(f"{exc}: {_rebuild_hint(path)}") from exc
    return out


def load_locked(path: Path) -> Index:
    """The index at ``path`` on the CPU, checked, for a writer that holds its write lock (no swap
    can happen meanwhile)."""
    return _load(path, mmap=False, dev="cpu", verify=True)


def _load(path: Path, mmap: bool, dev: str, verify: bool) -> Index:
    manifest = _read_manifest(path)
    _check_files(path, manifest, verify)
    try:
        config = IndexConfig.from_manifest(manifest)
    except RagError as exc:
        raise RagError(f"{path / MANIFEST}: {exc}: {_rebuild_hint(path)}") from exc
    passages = _read_passages(path)
    try:
        bm25 = BM25Index.load(path / BM25_DIR, mmap=mmap)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, RagError):
            raise
        raise RagError(f"the BM25 index in {path} cannot be read ({exc}): {_rebuild_hint(path)}") from exc
    try:
        dense = DenseIndex.load(path, mmap=mmap, device=dev)
    except (RuntimeError, OSError, ValueError, TypeError, KeyError) as exc:  # faiss raises RuntimeError
        if isinstance(exc, RagError):
            raise
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise RagError(f"the dense index in {path} cannot be read ({reason}): {_rebuild_hint(path)}") from exc
    sizes = {
        "passages": len(passages),
        "bm25": len(bm25),
        "dense": dense.ntotal,
        "manifest": int(manifest.get("passage_count", -1)),
    }
    if len(set(sizes.values())) != 1:
        raise RagError(f"index at {path} is inconsistent (sizes {sizes}): {_rebuild_hint(path)}")
    return Index(path, config, manifest, passages, bm25, dense, device=dev)


def load_index(path: str | Path, *, mmap: bool = False, device: str = "auto", verify: bool = True) -> Index:
    """Load and check an index directory (a name resolves under ``indexes_dir()``).

    Checks: the directory and manifest exist, the format version matches, every listed file is
    present and (``verify``) matches its sha256, and the three parts agree in size; anything
    wrong is a :class:`RagError` that says how to rebuild. ``mmap`` memory-maps the BM25 arrays
    and FAISS vectors. Loading holds the index's swap lock (shared), so a write in progress
    never shows half-swapped; an index that a killed write left moved aside is first put back.
    """
    path = path if isinstance(path, Path) else resolve_index_path(path)
    dev = resolve_device(device)
    if not path.exists() and leftovers(path):
        with writing(path):  # waits for a writer that is still at work, else recovers
            pass
    with reading(path):
        return _load(path, mmap, dev, verify)


def add_to_index(
    path: str | Path,
    paths: Sequence[str | Path],
    *,
    device: str = "auto",
    show_progress: bool = True,
    batch_size: int = 64,
    strict: bool = False,
    limits: ReadLimits | None = None,
) -> Index:
    """Append documents to an existing index, atomically, holding its write lock.

    New passages are embedded and added to FAISS (old ones are not re-embedded); BM25 is
    rebuilt over all passage texts because document frequencies, and so every IDF, change. The
    manifest's counts and sources are updated. The result searches like a full rebuild. A source
    file already in the index raises :class:`RagError`; a file with the same content as one in
    the index, or a document id already present, is skipped (an error with ``strict``).
    """
    path = path if isinstance(path, Path) else resolve_index_path(path)
    if path.exists() and not is_index(path):
        _read_manifest(path)  # says what is wrong with it
        raise RagError(f"{path} is not a rag index: rag adds only to an index it built")
    if path.exists():
        check_replaceable(path)  # before the lock: a refused folder gets nothing written beside it
    with writing(path):
        check_replaceable(path)  # the folder is replaced whole: nothing else may be in it
        index = load_locked(path)
        known = {s["path"]: s["sha256"] for s in index.manifest.get("sources", [])}
        for file in gather_files(paths).files:
            entry = str(file.resolve())
            if entry in known:
                raise RagError(
                    f"{shown_path(entry)} is already in the index at {path}: to re-index it, {_rebuild_hint(path)}"
                )
        loaded = read_documents(
            paths,
            known_ids=[p.doc_id for p in index.passages],
            known_files={digest: where for where, digest in known.items()},
            limits=limits,
        )
        skipped = list(loaded.skipped)
        check_skipped(skipped, strict)
        if not loaded.documents:
            raise _nothing_to_index(paths, skipped, "add")
        dev = resolve_device(device)
        index.device = dev
        embedder = Embedder(index.config.embedder, device=dev, backend="torch")  # as the build embedded
        new = chunk_loaded(loaded, index.config, embedder, skipped)
        check_skipped(skipped, strict)
        if not new:
            raise _nothing_to_index(paths, skipped, "add")
        passages = index.passages + new
        _check_unique(passages)
        vectors = embedder.encode(index_texts_of(new, index.config), batch_size=batch_size, show_progress=show_progress)
        index.dense.add(vectors)
        bm25 = BM25Index.build(index_texts_of(passages, index.config), index.config.bm25)
        before = [Skipped(**s) for s in index.manifest.get("skipped", []) if isinstance(s, dict)]
        manifest = make_manifest(
            index.config,
            embedder,
            index.dense,
            passages,
            int(index.manifest.get("document_count", 0)) + len({p.doc_id for p in new}),
            list(index.manifest.get("sources", [])) + _source_entries(loaded),
            before + skipped,
            created=index.manifest.get("created"),
        )
        write_atomically(path, lambda tmp: save_all(tmp, passages, bm25, index.dense, manifest))
    dense = index.dense if dev == "cpu" else DenseIndex.load(path, device=dev)
    return Index(path, index.config, manifest, passages, bm25, dense, device=dev, embedder=embedder, skipped=skipped)
