"""A loaded index (:class:`Index`: passages, BM25 and dense searchers, its embedder) and the
settings it is built with (:class:`IndexConfig`, saved in its manifest)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.indexing.bm25 import BM25Config, BM25Index
from rag.indexing.chunking import index_text
from rag.indexing.dense import DenseConfig, DenseIndex, Embedder, EmbedderLoadError
from rag.indexing.documents import ChunkConfig, Skipped
from rag.types import Passage


@dataclass(frozen=True)
class IndexConfig:
    """Everything an index is built with; saved in its manifest and read back from it.

    ``include_title``: BM25 and the embedder see ``title + "\\n" + text`` (see
    :func:`rag.indexing.chunking.index_text`); the passage text itself is stored unchanged.
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
        """The config an index was built with, from its manifest (:class:`RagError` when a
        setting is missing, unknown or of the wrong type)."""
        try:
            return cls(
                embedder=str(manifest["embedder"]["name"]),
                chunking=ChunkConfig(**manifest["chunking"]),
                bm25=BM25Config(**manifest["bm25"]),
                dense=DenseConfig(**manifest["dense"]["config"]),
                include_title=bool(manifest.get("include_title", True)),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise RagError(f"the manifest holds settings this rag cannot read ({type(exc).__name__}: {exc})") from exc


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
        skipped: Sequence[Skipped] = (),
    ) -> None:
        self.path = Path(path)
        #: inputs the build or addition that returned this index left out (empty when loaded)
        self.skipped = list(skipped)
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
            try:
                emb = Embedder(self.config.embedder, device=self.device)
            except EmbedderLoadError as exc:
                raise RagError(
                    f"the index at {self.path} was built with the embedder {exc.name!r}, which cannot be loaded "
                    f"({exc.reason}): rebuild the index (rag index PATH... --overwrite) with an embedder that loads"
                ) from exc
            if emb.dimension != self.dense.dimension:
                raise RagError(
                    f"embedder {self.config.embedder!r} gives {emb.dimension}-d vectors but the index at "
                    f"{self.path} holds {self.dense.dimension}-d ones: rebuild the index"
                )
            self._embedder = emb
        return self._embedder

    def texts(self) -> list[str]:
        """What BM25 and the embedder saw for each passage."""
        return index_texts_of(self.passages, self.config)

    def __len__(self) -> int:
        return len(self.passages)

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, passages={len(self)}, dense={self.dense.kind})"


def index_texts_of(passages: Sequence[Passage], config: IndexConfig) -> list[str]:
    """What BM25 and the embedder see for each passage (the title too with ``include_title``)."""
    return [index_text(p) if config.include_title else p.text for p in passages]
