"""The learned evidence scorer: a logistic regression on the features, and the reader's part.

Contract: :func:`learned_scores` takes the feature matrix (:func:`rag.evidence.features.sentence_features`)
and returns each candidate's log-odds of holding one of the question's short answers;
:func:`with_reader` adds whether a sentence holds what the reader answered;
:func:`learned_eligible` says which candidates may be chosen. The weights are data, not code:
``rag/evidence/weights.json``, written by the fitting scripts of ``experiments/evidence-choice/``
with their provenance (data, command, date), read once on first use (:func:`load_weights`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.evidence.features import FEATURE_NAMES

if TYPE_CHECKING:
    import numpy as np

#: The fitted weights shipped with the package.
WEIGHTS_FILE = Path(__file__).resolve().parent / "weights.json"
READER_KEYS = ("scale", "holds", "bias")


@dataclass(frozen=True)
class ScorerWeights:
    """The learned scorer's weights on :data:`FEATURE_NAMES` and its bias; the reader's
    ``scale``, ``holds`` and ``bias``; and where each came from."""

    learned: Mapping[str, float]
    bias: float
    reader: Mapping[str, float]
    provenance: Mapping[str, Any]


def read_weights(path: Path) -> ScorerWeights:
    """The weights in ``path`` (the format of ``weights.json``); :class:`RagError` when a feature
    or reader weight is missing or unknown."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        learned = {str(k): float(v) for k, v in data["learned"]["weights"].items()}
        bias = float(data["learned"]["bias"])
        reader = {str(k): float(v) for k, v in data["reader"]["weights"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RagError(f"cannot read the evidence scorer's weights from {path}: {exc}") from exc
    if set(learned) != set(FEATURE_NAMES):
        diff = sorted(set(learned) ^ set(FEATURE_NAMES))
        raise RagError(f"{path}: the learned weights do not match the features ({', '.join(diff)})")
    if set(reader) != set(READER_KEYS):
        raise RagError(f"{path}: the reader weights must be {', '.join(READER_KEYS)}")
    provenance = {part: data[part].get("provenance", {}) for part in ("learned", "reader")}
    return ScorerWeights(learned, bias, reader, provenance)


@functools.cache
def load_weights() -> ScorerWeights:
    """The packaged weights (:data:`WEIGHTS_FILE`), read once."""
    return read_weights(WEIGHTS_FILE)


def learned_scores(features: np.ndarray) -> np.ndarray:
    """The learned scorer's log-odds for each row of :func:`rag.evidence.features.sentence_features`."""
    import numpy as np

    w = load_weights()
    weights = np.array([w.learned[name] for name in FEATURE_NAMES])
    return np.asarray(features @ weights + w.bias, dtype=np.float64)


def with_reader(scores: Sequence[float], hits: Sequence[bool]) -> list[float]:
    """The learned log-odds ``scores`` with the reader's verdicts ``hits`` added: ``scale * score +
    holds * hit + bias`` with the packaged reader weights.

    >>> [round(x, 4) for x in with_reader([0.0, 0.0], [True, False])]
    [0.5502, -0.5055]
    """
    w = load_weights().reader
    return [w["scale"] * x + (w["holds"] if hit else 0.0) + w["bias"] for x, hit in zip(scores, hits, strict=True)]


def learned_eligible(scores: Sequence[float], whole: Sequence[bool], min_probability: float) -> list[bool]:
    """Which candidates the learned scorer may choose: whole sentences whose probability
    (``scores`` are log-odds) is at least ``min_probability``; when none is, the best whole one,
    so an answered question always has evidence.

    >>> learned_eligible([0.0, -5.0, 1.0], [True, True, False], 0.05)
    [True, False, False]
    >>> learned_eligible([-4.0, -5.0], [True, True], 0.05)
    [True, False]
    """
    floor = math.log(min_probability / (1.0 - min_probability)) if min_probability > 0 else -math.inf
    out = [ok and x >= floor for x, ok in zip(scores, whole, strict=True)]
    if not any(out) and any(whole):
        best = max((i for i, ok in enumerate(whole) if ok), key=lambda i: scores[i])
        out[best] = True
    return out
