"""Best-of-n by citation quality (ALCE's "rerank"): sample several answers, keep the one whose
statements are best supported by their citations.

The score of a sample comes from a judge *other than the evaluation judge* in the headline
configuration (see ``rag.citing.attribution``); this module only holds the choice, so that it is tested
without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import RagError
from rag.types import Statement


@dataclass(frozen=True)
class SampleScore:
    """How well one sample's citations hold: ``recall`` = supported statements / statements."""

    recall: float
    supported: int
    statements: int


def score_sample(statements: Sequence[Statement]) -> SampleScore:
    """The citation quality of a sample whose statements carry verdicts."""
    supported = sum(st.verdict == "supported" for st in statements)
    n = len(statements)
    return SampleScore(supported / n if n else 0.0, supported, n)


def best_sample(scores: Sequence[SampleScore]) -> int:
    """Index of the best sample: highest citation recall, then most supported statements, then the
    earliest sample (deterministic ties; sample 0 is the greedy answer)."""
    if not scores:
        raise RagError("best_sample needs at least one sample")
    return min(range(len(scores)), key=lambda i: (-scores[i].recall, -scores[i].supported, i))
