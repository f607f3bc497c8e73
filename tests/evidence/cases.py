"""The radium passages the evidence tests share, and what they need of them.

The embedder is conftest's BowEmbedder (each text its set of content words, as a unit vector), so
every cosine is ``|A & B| / sqrt(|A| * |B|)`` of two content-word sets, worked out by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.evidence import EvidenceConfig, EvidenceSelection, candidate_evidence, sentence_features, titled
from rag.types import Passage

if TYPE_CHECKING:
    import numpy as np
    from conftest import BowEmbedder


QUESTION = "When was radium discovered?"  # content words: radium, discovered; asks for a date
REPEAT = "When radium was discovered is often asked."  # radium, discovered, often, asked
YEAR = "Radium was discovered in December 1898."  # radium, discovered, december, 1898
GLOW = "Radium glows faintly blue in the dark."  # radium, glows, faintly, blue, dark
SHED = "The Curies worked in a shed in Paris."  # curies, worked, shed, paris
QUESTION_ASKED = Passage("asked", f"{REPEAT} {GLOW}", "Radium")
ANSWERING = Passage("answers", f"{YEAR} {SHED}", "Curie")
TWO = [QUESTION_ASKED, ANSWERING]

# A page of records: list lines without a full stop, a line leading into the next, the last line.
RECORDS = Passage(
    "records",
    "Premier League records.\nMost own goals: 10, Richard Dunne\nThe leaders were:\nMost in a season: 4",
    "Premier League records",
)

COS_2_OF_4 = 2 / math.sqrt(2 * 4)  # the question against a 4-word sentence holding both its words

#: Every whole sentence may be chosen (no probability floor), at most 4 and 2 a passage: what is
#: chosen is decided by whole-ness, the limits and the duplicate rule, whatever the scores.
ALL = EvidenceConfig(max_sentences=4, per_passage=2, min_probability=0.0)


def texts(selection: EvidenceSelection) -> list[str]:
    """The chosen sentences, in choice order."""
    return [e.text for e in selection.evidence]


def features(embed: BowEmbedder, lexical: Sequence[float] = (0.1, 0.2, 0.3, 0.4)) -> np.ndarray:
    """The feature rows of TWO's four sentences for QUESTION (``lexical`` passed through)."""
    cands = candidate_evidence(TWO, 5)
    both = embed.encode([QUESTION, *(c.text for c in cands), *titled(TWO, cands)])
    vectors, title_vectors = both[: len(cands) + 1], both[len(cands) + 1 :]
    return sentence_features(QUESTION, TWO, cands, vectors[1:] @ vectors[0], lexical, title_vectors @ vectors[0])
