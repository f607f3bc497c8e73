"""Rank fusion: reciprocal rank fusion and a weighted combination of normalised scores.

Pure functions over lists of :class:`~rag.types.Hit` (one list per retriever). They never touch
an index; :mod:`rag.retrieval` feeds them.

Conventions shared by both functions
------------------------------------
* A row's rank inside a ranking is the ``rank`` field of its ``Hit`` (1-based). If a row appears
  more than once in the same ranking only its best (smallest) rank / first occurrence counts.
* Weights must be finite and non-negative with a positive sum. A ranking whose weight is 0 is
  ignored entirely: rows that only it found are not returned (so weights ``(1, 0)`` give exactly
  the first ranking's order — weights are really applied, never silently dropped).
* Ties on the fused score are broken deterministically: first by the row's best rank in any
  (non-ignored) ranking, then by the smaller row number. Scores are compared after rounding to
  12 decimals so that sums taken in a different order do not break a true tie.
* The returned ``Hit``s carry the fused score and a new 1-based rank. ``limit`` cuts the list
  (``None`` keeps every row found); an empty input gives an empty list.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rag.errors import RagError
from rag.types import Hit

NORMS = ("minmax", "zscore")

_TIE_DECIMALS = 12


def _check_weights(n: int, weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * n
    w = [float(x) for x in weights]
    if len(w) != n:
        raise RagError(f"got {len(w)} weights for {n} rankings: give exactly one weight per ranking")
    if any(not math.isfinite(x) or x < 0 for x in w):
        raise RagError(f"weights must be finite and >= 0, got {list(weights)}")
    if n and sum(w) <= 0:
        raise RagError(f"weights must not all be 0, got {list(weights)}")
    return w


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise RagError(f"limit must be >= 0 or None, got {limit}")


def best_ranks(ranking: Sequence[Hit]) -> dict[int, int]:
    """Row -> best rank in one ranking (duplicates keep the smallest rank)."""
    out: dict[int, int] = {}
    for hit in ranking:
        if hit.rank < 1:
            raise RagError(f"ranks are 1-based, got rank {hit.rank} for row {hit.row}")
        if hit.row not in out or hit.rank < out[hit.row]:
            out[hit.row] = hit.rank
    return out


def _finish(scores: dict[int, float], best_rank: dict[int, int], limit: int | None) -> list[Hit]:
    order = sorted(
        scores,
        key=lambda row: (-round(scores[row], _TIE_DECIMALS), best_rank[row], row),
    )
    if limit is not None:
        order = order[:limit]
    return [Hit(row=row, score=float(scores[row]), rank=i) for i, row in enumerate(order, 1)]


def rrf(
    rankings: Sequence[Sequence[Hit]],
    k: int = 60,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[Hit]:
    """Reciprocal rank fusion (Cormack et al. 2009), optionally weighted.

    ``score(row) = sum_i w_i / (k + rank_i(row))`` with 1-based ranks; a row missing from ranking
    ``i`` contributes 0 for it. ``weights`` default to 1 each (they are *not* normalised: with
    weights ``(2, 2)`` every score doubles and the order is that of ``(1, 1)``).

    Edge cases: ``k`` must be >= 0 (``k = 0`` is allowed since ranks start at 1); an empty list of
    rankings or only empty rankings give ``[]``; rankings with weight 0 are ignored (see the module
    docstring); ties -> best single rank, then smaller row.

    Example: rankings ``[[a, b], [b, c]]``, ``k = 60`` -> ``b = 1/62 + 1/61``, ``a = 1/61``,
    ``c = 1/62``: order ``b, a, c``.
    """
    if k < 0:
        raise RagError(f"rrf k must be >= 0, got {k}")
    _check_limit(limit)
    w = _check_weights(len(rankings), weights)
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    for ranking, wi in zip(rankings, w, strict=True):
        if wi == 0:
            continue
        for row, rank in best_ranks(ranking).items():
            scores[row] = scores.get(row, 0.0) + wi / (k + rank)
            best[row] = min(best.get(row, rank), rank)
    return _finish(scores, best, limit)


def normalize_scores(scores: Sequence[float], norm: str = "minmax") -> list[float]:
    """Normalise one ranking's scores.

    ``"minmax"``: ``(s - min) / (max - min)`` into [0, 1]; if all scores are equal every one
    becomes 1.0 (each is as good as the best). ``"zscore"``: ``(s - mean) / std`` with the
    population standard deviation; if all scores are equal every one becomes 0.0. An empty input
    gives ``[]``. Non-finite scores raise ``ValueError``.
    """
    if norm not in NORMS:
        raise RagError(f"unknown norm {norm!r}: use one of {', '.join(NORMS)}")
    vals = [float(s) for s in scores]
    if any(not math.isfinite(v) for v in vals):
        raise RagError("scores must be finite numbers to be normalised")
    if not vals:
        return []
    if norm == "minmax":
        lo, hi = min(vals), max(vals)
        if hi - lo <= 0:
            return [1.0] * len(vals)
        return [(v - lo) / (hi - lo) for v in vals]
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
    if std <= 0:
        return [0.0] * len(vals)
    return [(v - mean) / std for v in vals]


def _missing_value(normed: Sequence[float], norm: str, constant: bool) -> float:
    """What a row absent from a ranking gets from it: the ranking's minimum normalised score.

    For a constant ranking (all scores equal) the minimum would equal every present row, which
    would erase the evidence of having been retrieved; there the absent row gets the bottom of the
    scale instead: 0.0 for min-max, -1.0 (one standard deviation below) for z-score.
    """
    if constant:
        return 0.0 if norm == "minmax" else -1.0
    return min(normed)


def weighted_fusion(
    rankings: Sequence[Sequence[Hit]],
    weights: Sequence[float],
    norm: str = "minmax",
    limit: int | None = None,
) -> list[Hit]:
    """Convex combination of per-ranking normalised scores.

    Each ranking's ``Hit.score`` values are normalised on their own (see
    :func:`normalize_scores`; higher must mean better), then ``score(row) = sum_i w_i * n_i(row)``
    with the weights divided by their sum (so they sum to 1: ``(3, 1)`` acts as ``(0.75, 0.25)``).

    A row missing from ranking ``i`` gets that ranking's minimum normalised score, i.e. it is
    treated as no better than the worst candidate that retriever returned (0.0 under min-max).
    If a ranking's scores are all equal its rows get 1.0 (min-max) / 0.0 (z-score) and rows
    missing from it 0.0 / -1.0. An empty ranking contributes 0 to every row. Rankings with weight
    0 are ignored; ties -> best single rank, then smaller row (see the module docstring).
    """
    if norm not in NORMS:
        raise RagError(f"unknown norm {norm!r}: use one of {', '.join(NORMS)}")
    _check_limit(limit)
    w = _check_weights(len(rankings), weights)
    total = sum(w)
    per_ranking: list[tuple[float, dict[int, float], float]] = []
    best: dict[int, int] = {}
    for ranking, wi in zip(rankings, w, strict=True):
        if wi == 0:
            continue
        first: dict[int, Hit] = {}
        for hit in sorted(ranking, key=lambda h: h.rank):
            if hit.rank < 1:
                raise RagError(f"ranks are 1-based, got rank {hit.rank} for row {hit.row}")
            first.setdefault(hit.row, hit)
        rows = list(first)
        raw = [first[r].score for r in rows]
        normed = normalize_scores(raw, norm)
        if rows:
            constant = max(raw) == min(raw)
            missing = _missing_value(normed, norm, constant)
        else:
            missing = 0.0
        per_ranking.append((wi / total, dict(zip(rows, normed, strict=True)), missing))
        for r in rows:
            best[r] = min(best.get(r, first[r].rank), first[r].rank)
    scores: dict[int, float] = {}
    for row in best:
        scores[row] = sum(wi * values.get(row, missing) for wi, values, missing in per_ranking)
    return _finish(scores, best, limit)
