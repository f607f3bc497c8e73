"""Hybrid retrieval over an :class:`~rag.index.Index`: BM25, dense, or both fused.

The defaults of :class:`RetrievalConfig` (RRF, k = 5, weights bm25:dense = 1:3, 20 candidates
from each retriever) were chosen by measurement on the ASQA corpus: best recall@5 of 82 fusion
settings on the 648 ASQA dev questions outside pooled-300, then checked on pooled-300 (57.1 vs
dense 56.5 vs BM25 37.7). On that corpus BM25 is far behind dense and fusion gains are within
noise; see ``experiments/retrieval-fusion/README.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import RagError
from rag.indexing.store import Index
from rag.retrieval.fusion import NORMS, best_ranks, rrf, weighted_fusion
from rag.types import Hit, ScoredPassage

logger = logging.getLogger(__name__)

MODES = ("hybrid", "bm25", "dense")
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class RetrievalConfig:
    """How to retrieve.

    ``mode``: ``"hybrid"`` (both retrievers, fused), ``"bm25"`` or ``"dense"`` alone.
    ``fusion``: ``"rrf"`` (reciprocal rank fusion with constant ``rrf_k``) or ``"weighted"``
    (convex combination of ``norm``-normalised scores). ``weights`` are (bm25, dense) and apply to
    both fusion kinds (for RRF they multiply each retriever's ``1/(k + rank)``; a weight of 0
    drops that retriever). ``bm25_depth`` / ``dense_depth``: how many candidates each retriever
    contributes to the fusion; a request for more than ``depth`` passages raises the depth to ``k``
    so the top-k of a larger request always begins with the top-k of a smaller one.
    """

    mode: str = "hybrid"
    fusion: str = "rrf"
    rrf_k: int = 5
    weights: tuple[float, float] = (1.0, 3.0)
    norm: str = "minmax"
    bm25_depth: int = 20
    dense_depth: int = 20

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise RagError(f"unknown retrieval mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.fusion not in FUSIONS:
            raise RagError(f"unknown fusion {self.fusion!r}: use one of {', '.join(FUSIONS)}")
        if self.norm not in NORMS:
            raise RagError(f"unknown norm {self.norm!r}: use one of {', '.join(NORMS)}")
        if self.rrf_k < 0:
            raise RagError(f"rrf_k must be >= 0, got {self.rrf_k}")
        if len(self.weights) != 2:
            raise RagError(f"weights must be a pair (bm25, dense), got {self.weights!r}")
        if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
            raise RagError(f"weights must be >= 0 and not both 0, got {self.weights!r}")
        if self.bm25_depth < 1 or self.dense_depth < 1:
            raise RagError(f"depths must be >= 1, got bm25_depth={self.bm25_depth}, dense_depth={self.dense_depth}")
        # accept lists (e.g. from JSON) but keep the dataclass hashable
        object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form (weights as a list)."""
        return {
            "mode": self.mode,
            "fusion": self.fusion,
            "rrf_k": self.rrf_k,
            "weights": list(self.weights),
            "norm": self.norm,
            "bm25_depth": self.bm25_depth,
            "dense_depth": self.dense_depth,
        }


class Retriever:
    """Retrieves passages from an index with BM25, dense search or their fusion."""

    def __init__(self, index: Index, config: RetrievalConfig = RetrievalConfig()) -> None:
        self.index = index
        self.config = config

    # ------------------------------------------------------------------ public

    def retrieve(self, query: str, k: int) -> list[ScoredPassage]:
        """The top ``k`` passages for one query, best first.

        Each ``ScoredPassage`` carries the final score (fused score in hybrid mode, the
        retriever's own score otherwise), its 1-based rank, and its rank in the BM25 and dense
        candidate lists (``None`` when that retriever did not return it within its depth or was
        not run). Raises ``ValueError`` for an empty query or ``k < 1``.
        """
        return self.retrieve_many([query], k)[0]

    def retrieve_many(self, queries: Sequence[str], k: int) -> list[list[ScoredPassage]]:
        """:meth:`retrieve` for many queries; the query embeddings are computed in one batch."""
        if isinstance(queries, str):
            raise RagError("retrieve_many takes a list of queries, not one string")
        if k < 1:
            raise RagError(f"k must be >= 1, got {k}")
        for q in queries:
            if not isinstance(q, str) or not q.strip():
                raise RagError("every query must be a non-empty string")
        if not queries:
            return []
        n = len(self.index.passages)
        if n == 0:
            return [[] for _ in queries]
        bm25_lists, dense_lists = self.candidates(queries, k)
        out: list[list[ScoredPassage]] = []
        for i in range(len(queries)):
            b = bm25_lists[i] if bm25_lists is not None else None
            d = dense_lists[i] if dense_lists is not None else None
            out.append(self.fuse(b, d, k))
        return out

    def candidates(self, queries: Sequence[str], k: int) -> tuple[list[list[Hit]] | None, list[list[Hit]] | None]:
        """Each retriever's raw candidate lists (``None`` for a retriever the mode does not run).

        Exposed so that the evaluation can fuse one set of candidates in several ways.
        """
        cfg = self.config
        n = len(self.index.passages)
        bm25_lists = dense_lists = None
        if cfg.mode == "bm25" or (cfg.mode == "hybrid" and cfg.weights[0] > 0):
            depth = min(max(cfg.bm25_depth, k), n)
            bm25_lists = self.index.bm25.search_many(list(queries), depth)
        if cfg.mode == "dense" or (cfg.mode == "hybrid" and cfg.weights[1] > 0):
            depth = min(max(cfg.dense_depth, k), n)
            vectors = self.index.embedder.encode_queries(list(queries))
            dense_lists = self.index.dense.search(vectors, depth)
        return bm25_lists, dense_lists

    def fuse(self, bm25: list[Hit] | None, dense: list[Hit] | None, k: int) -> list[ScoredPassage]:
        """Combine candidate lists (as from :meth:`candidates`) into the top ``k`` passages.

        ``None`` for a list means that retriever was not run; with only one list its order is
        kept (ranks renumbered from 1). ``bm25_rank`` / ``dense_rank`` are the ranks in the lists.
        """
        cfg = self.config
        if cfg.mode == "bm25" or dense is None:
            fused = _rerank((bm25 or [])[:k])
        elif cfg.mode == "dense" or bm25 is None:
            fused = _rerank(dense[:k])
        elif cfg.fusion == "rrf":
            fused = rrf([bm25, dense], k=cfg.rrf_k, weights=cfg.weights, limit=k)
        else:
            fused = weighted_fusion([bm25, dense], weights=cfg.weights, norm=cfg.norm, limit=k)
        bm25_rank = best_ranks(bm25 or ())
        dense_rank = best_ranks(dense or ())
        passages = self.index.passages
        return [
            ScoredPassage(
                passage=passages[h.row],
                score=float(h.score),
                rank=h.rank,
                bm25_rank=bm25_rank.get(h.row),
                dense_rank=dense_rank.get(h.row),
            )
            for h in fused
        ]


def _rerank(hits: Sequence[Hit]) -> list[Hit]:
    """Renumber ranks 1..n in list order (a single retriever's list is already sorted)."""
    return [Hit(row=h.row, score=float(h.score), rank=i) for i, h in enumerate(hits, 1)]
