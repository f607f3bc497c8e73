"""Chunking and embedding on a Ray cluster (``rag index --engine ray``).

Two Ray Data stages over the documents the driver read (reading stays in one process, so the
rules that skip a file with the same bytes as another, or a repeated document id, hold exactly
as in a local build):

1. **chunk**: ``map_batches`` over the documents in tasks; each worker process loads the
   embedder's tokenizer once. Passages keep their document's position, so the driver puts them
   back in the order a local build gives.
2. **embed**: ``map_batches`` with a pool of ``workers`` actors (each loads the embedder once, on
   a GPU of its own with ``--device cuda``); each batch is written as a Parquet shard
   (``row``, ``vector`` as float32 bytes) under a scratch folder, and the driver merges the
   shards by row into one ``(n, d)`` array.

Everything after that (BM25, FAISS, the manifest, the atomic swap) is the local build's code, so
the index directory is the same format. Row ``i`` holds the same passage as in a local build; its
vector equals the local one up to float rounding (batches differ; see ``docs/scale.md``).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.cluster import RayEngine, connect, restarts
from rag.errors import RagError
from rag.indexing.chunking import chunk_documents
from rag.indexing.dense import Embedder
from rag.indexing.documents import ChunkConfig, Document, Skipped
from rag.indexing.readers.base import Block
from rag.models import resolve_embedder
from rag.types import Passage

logger = logging.getLogger(__name__)

CHUNK_BATCH = 256  # documents per chunking task
_TOKENIZERS: dict[str, Any] = {}  # per worker process: embedder name -> tokenizer


@dataclass(frozen=True)
class ChunkJob:
    """What a chunking task needs besides the documents (sent to every task)."""

    embedder: str
    chunking: ChunkConfig
    max_tokens: int
    include_title: bool


@dataclass(frozen=True)
class Embedded:
    """The result of the distributed stages: passages in local-build order, their vectors (row
    ``i`` for passage ``i``), what chunking skipped, and how many shards the vectors came in."""

    passages: list[Passage]
    vectors: np.ndarray
    skipped: list[Skipped]
    shards: int


def _tokenizer(embedder: str) -> Any:
    if embedder not in _TOKENIZERS:
        from transformers import AutoTokenizer

        _TOKENIZERS[embedder] = AutoTokenizer.from_pretrained(str(resolve_embedder(embedder)))
    return _TOKENIZERS[embedder]


def chunk_batch(batch: dict[str, Any], job: ChunkJob) -> dict[str, Any]:
    """Chunk one batch of documents (columns ``i``, ``id``, ``text``, ``title``, ``source``).

    Returns one row per passage and one per skipped document: ``i`` (the document's position),
    ``j`` (the passage's position within the batch's output), ``passage`` (its fields as a list,
    empty for a skip), ``skip_where`` / ``skip_reason`` (empty for a passage).
    """
    columns = (batch["id"], batch["text"], batch["title"], batch["source"], batch["blocks"])
    docs = [
        Document(str(id_), str(text), str(title), str(source), _blocks(str(blocks)))
        for id_, text, title, source, blocks in zip(*columns, strict=True)
    ]
    position = {d.id: int(i) for d, i in zip(docs, batch["i"], strict=True)}
    skipped: list[Skipped] = []
    passages = chunk_documents(
        docs,
        job.chunking,
        _tokenizer(job.embedder),
        max_tokens=job.max_tokens,
        include_title=job.include_title,
        on_skip=skipped.append,
    )
    rows_i: list[int] = []
    rows_p: list[dict[str, Any] | list[str]] = []
    rows_w: list[str] = []
    rows_r: list[str] = []
    for p in passages:
        rows_i.append(position[p.doc_id])
        rows_p.append(p.to_dict())
        rows_w.append("")
        rows_r.append("")
    # A document that gave no passage was skipped; the skips come in document order.
    produced = {p.doc_id for p in passages}
    for doc, s in zip([d for d in docs if d.id not in produced], skipped, strict=False):
        rows_i.append(position[doc.id])
        rows_p.append([])
        rows_w.append(s.where)
        rows_r.append(s.reason)
    return {
        "i": np.asarray(rows_i, dtype=np.int64),
        "j": np.arange(len(rows_i), dtype=np.int64),
        "passage": np.asarray([_pack(p) for p in rows_p], dtype=object),
        "skip_where": np.asarray(rows_w, dtype=object),
        "skip_reason": np.asarray(rows_r, dtype=object),
    }


def _pack(fields: dict[str, Any] | list[str]) -> str:
    return json.dumps(fields, ensure_ascii=False) if fields else ""


def _unpack(text: str) -> Passage:
    return Passage.from_dict(json.loads(text))


def _blocks(text: str) -> tuple[Block, ...] | None:
    """A document's blocks sent as JSON ("" for a document without blocks)."""
    return tuple(Block(**b) for b in json.loads(text)) if text else None


def _document_row(i: int, doc: Document) -> dict[str, Any]:
    blocks = json.dumps([asdict(b) for b in doc.blocks], ensure_ascii=False) if doc.blocks is not None else ""
    return {"i": i, "id": doc.id, "text": doc.text, "title": doc.title, "source": doc.source, "blocks": blocks}


class EmbedActor:
    """A Ray actor that loads the embedder once and embeds batches of ``row``/``text``.

    Its settings are class attributes of a subclass made by :func:`embed_actor` (constructor
    arguments would go through Ray's object store, which makes restarts fragile).
    """

    embedder = "all-MiniLM-L6-v2"
    device = "cpu"
    threads = 1

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(max(1, self.threads))
        self._embedder = Embedder(self.embedder, device=self.device, backend="torch")

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        vectors = self._embedder.encode([str(t) for t in batch["text"]], batch_size=64)
        return {
            "row": np.asarray(batch["row"], dtype=np.int64),
            "vector": np.asarray([v.tobytes() for v in vectors], dtype=object),
        }


def embed_actor(embedder: str, device: str, threads: int) -> type[EmbedActor]:
    """An :class:`EmbedActor` class with these settings."""
    return type("EmbedActor", (EmbedActor,), {"embedder": embedder, "device": device, "threads": threads})


def _chunk(ray: Any, documents: Sequence[Document], job: ChunkJob) -> tuple[list[Passage], list[Skipped]]:
    items = [_document_row(i, d) for i, d in enumerate(documents)]
    ds = ray.data.from_items(items).map_batches(
        chunk_batch, fn_kwargs={"job": job}, batch_size=CHUNK_BATCH, batch_format="numpy"
    )
    rows = sorted(ds.take_all(), key=lambda r: (int(r["i"]), int(r["j"])))
    passages: list[Passage] = []
    skipped: list[Skipped] = []
    for r in rows:
        if r["passage"]:
            passages.append(_unpack(str(r["passage"])))
        else:
            skipped.append(Skipped(str(r["skip_where"]), str(r["skip_reason"])))
            logger.warning("skipped %s", skipped[-1])
    return passages, skipped


def merge_shards(folder: Path, n: int, dimension: int) -> tuple[np.ndarray, int]:
    """Read every Parquet shard under ``folder`` into an ``(n, dimension)`` float32 array by
    ``row``; every row must appear exactly once. Returns the array and the number of shards."""
    import pyarrow.parquet as pq

    shards = sorted(folder.rglob("*.parquet"))
    out = np.zeros((n, dimension), dtype=np.float32)
    seen = np.zeros(n, dtype=bool)
    for shard in shards:
        table = pq.read_table(shard, columns=["row", "vector"])
        rows = table.column("row").to_numpy()
        vectors = table.column("vector").to_pylist()
        for r, v in zip(rows, vectors, strict=True):
            if seen[r]:
                raise RagError(f"embedding shard {shard.name} repeats row {r}: the distributed build is inconsistent")
            out[r] = np.frombuffer(v, dtype=np.float32)
            seen[r] = True
    if not seen.all():
        missing = int((~seen).sum())
        raise RagError(f"{missing} passages have no vector in the embedding shards: the distributed build failed")
    return out, len(shards)


def chunk_and_embed(
    documents: Sequence[Document],
    texts_of: Any,
    job: ChunkJob,
    engine: RayEngine,
    *,
    device: str,
    dimension: int,
    scratch: Path | None = None,
    batch_size: int = 256,
) -> Embedded:
    """Chunk ``documents`` and embed the passages on the cluster.

    ``texts_of(passages)`` gives what the embedder reads for each passage (the local build's
    rule). Shards go to a fresh folder under ``scratch`` (default: the system's temporary folder;
    on a cluster of several machines it must be a folder every node sees), removed afterwards.
    """
    ray = connect(engine)
    passages, skipped = _chunk(ray, documents, job)
    if not passages:
        return Embedded([], np.zeros((0, dimension), dtype=np.float32), skipped, 0)
    texts = texts_of(passages)
    # Longest first, so each batch holds passages of similar length (less padding), as locally.
    order = np.argsort([-len(t) for t in texts], kind="stable")
    items = [{"row": int(r), "text": texts[r]} for r in order]
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".rag-shards.", dir=scratch))
    try:
        ds = ray.data.from_items(items, override_num_blocks=max(engine.workers * 4, 1))
        with warnings.catch_warnings():  # Ray 2.6x warns on any extra actor option (max_restarts)
            warnings.simplefilter("ignore", DeprecationWarning)
            ds = ds.map_batches(
                embed_actor(job.embedder, device, engine.cpus_per_worker),
                batch_size=batch_size,
                batch_format="numpy",
                concurrency=engine.workers,
                num_cpus=engine.cpus_per_worker,
                num_gpus=engine.gpus_per_worker,
                **restarts(engine),
            )
        ds.write_parquet(str(folder))
        vectors, shards = merge_shards(folder, len(passages), dimension)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    logger.info("embedded %d passages on %d Ray workers in %d shards", len(passages), engine.workers, shards)
    return Embedded(passages, vectors, skipped, shards)
