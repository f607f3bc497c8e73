"""The index directory: passages, BM25 and FAISS indexes, and a manifest that checks them.

Layout of ``indexes/<name>/``::

    manifest.json     format version, package version, embedder, metric, settings, counts,
                      source files with sha256, sha256 of every index file
    passages.jsonl    one passage per line (row i of both indexes is line i)
    bm25/             bm25s arrays (.npy) + vocabulary/params (JSON)
    dense.faiss       FAISS index of L2-normalised embeddings (inner product)
    dense.json        its kind and settings

Writes go to a temporary directory beside the target, moved into place only when complete.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag import __version__
from rag.device import resolve_device
from rag.errors import MissingFileError, RagError
from rag.files import iter_jsonl, sha256_file
from rag.indexing.bm25 import BM25Config, BM25Index
from rag.indexing.dense import DENSE_META, FAISS_FILE, DenseConfig, DenseIndex, Embedder
from rag.indexing.documents import ChunkConfig, chunk_documents, index_text, list_source_files, load_documents
from rag.paths import indexes_dir
from rag.types import Passage

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
BM25_DIR = "bm25"
METRIC = "inner_product"


@dataclass(frozen=True)
class IndexConfig:
    """Everything an index is built with; saved in its manifest and read back from it.

    ``include_title``: BM25 and the embedder see ``title + "\\n" + text`` (see
    :func:`rag.indexing.documents.index_text`); the passage text itself is stored unchanged.
    """

    embedder: str = "all-MiniLM-L6-v2"
    chunking: ChunkConfig = field(default_factory=ChunkConfig)
    bm25: BM25Config = field(default_factory=BM25Config)
    dense: DenseConfig = field(default_factory=DenseConfig)
    include_title: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> IndexConfig:
        """The config an index was built with, from its manifest."""
        return cls(
            embedder=manifest["embedder"]["name"],
            chunking=ChunkConfig(**manifest["chunking"]),
            bm25=BM25Config(**manifest["bm25"]),
            dense=DenseConfig(**manifest["dense"]["config"]),
            include_title=bool(manifest.get("include_title", True)),
        )


class Index:
    """A loaded index: passages (row ``i`` = BM25 row ``i`` = FAISS row ``i``) and both searchers."""

    def __init__(
        self,
        path: Path,
        config: IndexConfig,
        manifest: dict[str, Any],
        passages: list[Passage],
        bm25: BM25Index,
        dense: DenseIndex,
        device: str = "cpu",
        embedder: Embedder | None = None,
    ) -> None:
        self.path = Path(path)
        self.config = config
        self.manifest = manifest
        self.passages = passages
        self.bm25 = bm25
        self.dense = dense
        self.device = device
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The index's embedder, loaded on first use on the index's device."""
        if self._embedder is None:
            emb = Embedder(self.config.embedder, device=self.device)
            if emb.dimension != self.dense.dimension:
                raise RagError(
                    f"embedder {self.config.embedder!r} gives {emb.dimension}-d vectors but the index at "
                    f"{self.path} holds {self.dense.dimension}-d ones: rebuild the index"
                )
            self._embedder = emb
        return self._embedder

    def texts(self) -> list[str]:
        """What BM25 and the embedder saw for each passage."""
        return _index_texts(self.passages, self.config)

    def __len__(self) -> int:
        return len(self.passages)

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, passages={len(self)}, dense={self.dense.kind})"


def resolve_index_path(name_or_path: str) -> Path:
    """An existing folder, or anything with a path separator, is a path; else ``indexes_dir() / name``."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir() or "/" in text or os.sep in text or (os.altsep and os.altsep in text):
        return path
    return indexes_dir() / text


# --- helpers ---
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _index_texts(passages: Sequence[Passage], config: IndexConfig) -> list[str]:
    return [index_text(p) if config.include_title else p.text for p in passages]


def _source_entries(files: Sequence[Path]) -> list[dict[str, Any]]:
    return [{"path": str(f.resolve()), "sha256": sha256_file(f), "bytes": f.stat().st_size} for f in files]


def _check_unique(passages: Sequence[Passage]) -> None:
    seen: set[str] = set()
    for p in passages:
        if p.id in seen:
            raise RagError(f"duplicate passage id {p.id!r}: document ids must be unique across the index")
        seen.add(p.id)


def _rebuild_hint(path: Path) -> str:
    return f"rebuild it with `rag index PATH... --name {path.name} --overwrite`"


def _write_atomically(out_dir: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` in a fresh directory beside ``out_dir``, then move it into place.

    An existing ``out_dir`` is replaced only after the new one is complete; on any failure the
    temporary directory is removed and ``out_dir`` is left as it was.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; an index is an ordinary folder
        write(tmp)
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:8]}.old"
            os.replace(out_dir, old)
            try:
                os.replace(tmp, out_dir)
            except BaseException:
                os.replace(old, out_dir)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _save_all(
    tmp: Path, passages: Sequence[Passage], bm25: BM25Index, dense: DenseIndex, manifest: dict[str, Any]
) -> None:
    with (tmp / PASSAGES).open("w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
    bm25.save(tmp / BM25_DIR)
    dense.save(tmp)
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    manifest["files"] = {f.relative_to(tmp).as_posix(): sha256_file(f) for f in files}
    # The manifest goes last: a directory with a manifest is a complete index.
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def _manifest(
    config: IndexConfig,
    embedder: Embedder,
    dense: DenseIndex,
    passages: Sequence[Passage],
    documents: int,
    sources: list[dict[str, Any]],
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
    }


# --- public API ---
def build_index(
    paths: Sequence[str | Path],
    out_dir: Path,
    config: IndexConfig = IndexConfig(),
    *,
    device: str = "auto",
    show_progress: bool = True,
    overwrite: bool = False,
    batch_size: int = 64,
) -> Index:
    """Read ``paths``, chunk, embed and index them into the directory ``out_dir``.

    Raises ``ValueError`` when ``out_dir`` exists and ``overwrite`` is false, when the documents
    yield no passage, or on unsupported or unreadable input (file and line named).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise RagError(
            f"an index already exists at {out_dir}: pass overwrite=True (--overwrite) to "
            "replace it, or add documents to it with add_to_index (--add)"
        )
    dev = resolve_device(device)
    files = list_source_files(paths)
    docs = load_documents(paths)
    embedder = Embedder(config.embedder, device=dev)
    passages = chunk_documents(
        docs,
        config.chunking,
        embedder.tokenizer,
        max_tokens=embedder.max_seq_length,
        include_title=config.include_title,
    )
    if not passages:
        raise RagError(f"no passages to index: the documents in {', '.join(map(str, paths))} contain no text")
    _check_unique(passages)
    texts = _index_texts(passages, config)
    logger.info("embedding %d passages with %s on %s", len(texts), config.embedder, dev)
    vectors = embedder.encode(texts, batch_size=batch_size, show_progress=show_progress)
    bm25 = BM25Index.build(texts, config.bm25)
    dense = DenseIndex.build(vectors, config.dense, device="cpu")
    manifest = _manifest(config, embedder, dense, passages, len(docs), _source_entries(files))
    _write_atomically(out_dir, lambda tmp: _save_all(tmp, passages, bm25, dense, manifest))
    if dev != "cpu":
        dense = DenseIndex.load(out_dir, device=dev)
    return Index(out_dir, config, manifest, passages, bm25, dense, device=dev, embedder=embedder)


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        raise MissingFileError(f"no index at {path}: build one with `rag index PATH... --name {path.name}`")
    mpath = path / MANIFEST
    if not mpath.is_file():
        raise MissingFileError(f"{path} is not a complete rag index ({MANIFEST} is missing): {_rebuild_hint(path)}")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RagError(f"{mpath} is corrupted (not valid JSON: {exc}): {_rebuild_hint(path)}") from exc
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise RagError(
            f"index at {path} has format version {version}, but this rag reads format version "
            f"{FORMAT_VERSION}: {_rebuild_hint(path)}"
        )
    return manifest


def _check_files(path: Path, manifest: dict[str, Any], verify: bool) -> None:
    files = manifest.get("files") or {}
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
            out.append(Passage(**record))
    except TypeError as exc:  # a JSON object without a passage's fields
        raise RagError(f"{path / PASSAGES}:{where}: unreadable passage ({exc}): {_rebuild_hint(path)}") from exc
    except RagError as exc:  # a line that is not JSON (the message names the line)
        raise RagError(f"{exc}: {_rebuild_hint(path)}") from exc
    return out


def load_index(path: str | Path, *, mmap: bool = False, device: str = "auto", verify: bool = True) -> Index:
    """Load and check an index directory (a name resolves under ``indexes_dir()``).

    Checks: the directory and manifest exist, the format version matches, every listed file is
    present and (``verify``) matches its sha256, and the three parts agree in size. ``mmap``
    memory-maps the BM25 arrays and FAISS vectors.
    """
    path = path if isinstance(path, Path) else resolve_index_path(path)
    dev = resolve_device(device)
    manifest = _read_manifest(path)
    _check_files(path, manifest, verify)
    config = IndexConfig.from_manifest(manifest)
    passages = _read_passages(path)
    bm25 = BM25Index.load(path / BM25_DIR, mmap=mmap)
    dense = DenseIndex.load(path, mmap=mmap, device=dev)
    sizes = {
        "passages": len(passages),
        "bm25": len(bm25),
        "dense": dense.ntotal,
        "manifest": int(manifest.get("passage_count", -1)),
    }
    if len(set(sizes.values())) != 1:
        raise RagError(f"index at {path} is inconsistent (sizes {sizes}): {_rebuild_hint(path)}")
    return Index(path, config, manifest, passages, bm25, dense, device=dev)


def add_to_index(
    path: str | Path,
    paths: Sequence[str | Path],
    *,
    device: str = "auto",
    show_progress: bool = True,
    batch_size: int = 64,
) -> Index:
    """Append documents to an existing index, atomically.

    New passages are embedded and added to FAISS (old ones are not re-embedded); BM25 is
    rebuilt over all passage texts because document frequencies, and so every IDF, change. The
    manifest's counts and sources are updated. The result searches like a full rebuild. A source
    file already in the index, or a document id already present, raises ``ValueError``.
    """
    path = path if isinstance(path, Path) else resolve_index_path(path)
    dev = resolve_device(device)
    index = load_index(path, device="cpu")
    known = {s["path"]: s["sha256"] for s in index.manifest.get("sources", [])}
    files = list_source_files(paths)
    sources = _source_entries(files)
    for entry in sources:
        if entry["path"] in known:
            state = "unchanged" if known[entry["path"]] == entry["sha256"] else "changed since"
            raise RagError(
                f"{entry['path']} is already in the index at {path} ({state}): to re-index it, {_rebuild_hint(path)}"
            )
    docs = load_documents(paths)
    index.device = dev
    embedder = index.embedder
    new = chunk_documents(
        docs,
        index.config.chunking,
        embedder.tokenizer,
        max_tokens=embedder.max_seq_length,
        include_title=index.config.include_title,
    )
    if not new:
        raise RagError(f"no passages to add: the documents in {', '.join(map(str, paths))} contain no text")
    passages = index.passages + new
    _check_unique(passages)
    vectors = embedder.encode(_index_texts(new, index.config), batch_size=batch_size, show_progress=show_progress)
    index.dense.add(vectors)
    bm25 = BM25Index.build(_index_texts(passages, index.config), index.config.bm25)
    manifest = _manifest(
        index.config,
        embedder,
        index.dense,
        passages,
        int(index.manifest.get("document_count", 0)) + len(docs),
        list(index.manifest.get("sources", [])) + sources,
        created=index.manifest.get("created"),
    )
    _write_atomically(path, lambda tmp: _save_all(tmp, passages, bm25, index.dense, manifest))
    dense = index.dense if dev == "cpu" else DenseIndex.load(path, device=dev)
    return Index(path, index.config, manifest, passages, bm25, dense, device=dev, embedder=embedder)
